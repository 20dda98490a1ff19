// upwatch on Railway, as infrastructure as code: `railway config plan`, then `railway config apply`
// (Railway CLI 5.42.1 or newer, Node.js 22+, after `npm ci --prefix .railway`).
//
// One of two ways to configure the service; the other is ../railway.json. They don't mix: Railway
// will not manage a service from this file while a railway.json is read for it, so delete
// ../railway.json from your repository when you take this route. docs/deploy-railway.md has both.
import { defineRailway, github, postgres, preserve, project, service } from "railway/iac";

/** Your copy of the upwatch repository: its Dockerfile and monitors.yaml are what Railway builds. */
const REPOSITORY = "your-org/upwatch";
const BRANCH = "main";
/** Where upwatch listens; the public domain and the health check use it. */
const PORT = 8080;
/**
 * Seconds between Railway's SIGTERM and SIGKILL to the old deployment. upwatch stops probing,
 * flushes its results and releases its leases within a few seconds of SIGTERM; 15 leaves room.
 */
const DRAINING_SECONDS = 15;

export default defineRailway(() => {
  const db = postgres("Postgres");

  const upwatch = service("upwatch", {
    source: github(REPOSITORY, { branch: BRANCH }),
    // The Dockerfile carries the start command (`upwatch run`): set none here, since a start
    // command would replace the image's entrypoint.
    build: { builder: "DOCKERFILE", dockerfilePath: "Dockerfile" },
    // 503 until the config is loaded, the database migrated and the scheduler ticking; then 200.
    // Railway switches traffic (and stops the old deployment) only once it answers 200.
    healthcheck: "/healthz",
    healthcheckTimeout: 300,
    deploy: {
      // A scheduler stalled for 120 s makes upwatch exit 1; this brings it back.
      restartPolicyType: "ON_FAILURE",
      restartPolicyMaxRetries: 10,
      drainingSeconds: DRAINING_SECONDS,
    },
    env: {
      DATABASE_URL: db.env.DATABASE_URL,
      PORT: String(PORT),
      RAILWAY_DEPLOYMENT_DRAINING_SECONDS: String(DRAINING_SECONDS),
      // Secrets: named here, never written here. preserve() keeps the value set in Railway's
      // dashboard. Every ${VAR} without a default in monitors.yaml must be set, or `upwatch run`
      // exits 2 and the deployment never turns healthy (the previous one keeps running).
      UPWATCH_SECRET_KEY: preserve(),
      SLACK_WEBHOOK_URL: preserve(),
      SMTP_URL: preserve(),
      PAGER_WEBHOOK_URL: preserve(),
      WEBHOOK_SECRET: preserve(),
      BACKUP_PING_TOKEN: preserve(),
    },
  });

  return project("upwatch", { resources: [db, upwatch] });
});
