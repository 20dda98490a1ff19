// upwatch on Railway, as infrastructure as code: `railway config plan`, then `railway config apply`
// (Railway CLI 5.42.1 or newer, Node.js 22+, after `npm ci --prefix .railway`). Read the plan
// before every apply: apply makes the project match this file, so what it does not state is
// planned away.
//
// Since 2026-12-01 Railway no longer reads the repository's railway.json (nor railway.toml): it
// is inert, kept as a record, and this file (or the dashboard) is how the service is set up.
// docs/deploy-railway.md has both routes, and "Several regions" for REGIONS below.
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
/**
 * Where the service's replicas run: Railway region → number of replicas there. Empty (the
 * default): one replica in the project's default region, as a single-region upwatch runs.
 *
 * Set it to probe from several regions, e.g.
 *
 *   const REGIONS: Readonly<Record<string, number>> = {
 *     "us-west2": 1,
 *     "europe-west4-drams3a": 1,
 *     "asia-southeast1-eqsg3a": 1,
 *   };
 *
 * Every replica runs the same image on the same Postgres; Railway tells each one its region in
 * RAILWAY_REPLICA_REGION, which upwatch probes from (set no UPWATCH_REGION here: it would be the
 * same for every replica). The `regions:` of monitors.yaml name these same keys, letter for
 * letter: check a replica's RAILWAY_REPLICA_REGION, or upwatch's "monitoring" log line, which
 * names the region it probes from. A second replica in a region shares that region's probes and
 * keeps it live while the other restarts; one per region is enough to vote.
 */
const REGIONS: Readonly<Record<string, number>> = {};

/** `deploy.multiRegionConfig`: replicas per region (the SDK's `regions:` shorthand makes the same). */
function multiRegion(regions: Readonly<Record<string, number>>) {
  return Object.fromEntries(
    Object.entries(regions).map(([region, replicas]) => [region, { numReplicas: replicas }]),
  );
}

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
      // Left out while REGIONS is empty: the service keeps Railway's single-region placement.
      ...(Object.keys(REGIONS).length > 0 ? { multiRegionConfig: multiRegion(REGIONS) } : {}),
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
