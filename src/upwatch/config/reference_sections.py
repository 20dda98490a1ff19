"""The sections of docs/configuration.md: which model each documents, an intro and an example.

Everything a table says about a key comes from the models; this file holds only the prose around
the tables and the examples, which the tests load as configs so they stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from upwatch.config import models
from upwatch.notify.channels.registry import CHANNEL_TYPES


@dataclass(frozen=True, slots=True)
class Section:
    """One heading of the reference: the keys of `model` (minus `skip`), an intro, an example."""

    title: str
    model: type[BaseModel] | None  # None: an intro and an example, no table
    intro: str
    example: str
    level: int = 2
    skip: tuple[str, ...] = ()


def _channel_sections() -> tuple[Section, ...]:
    """One section per channel type, from the channel's own module (and its nested models)."""
    found: list[Section] = []
    for name, channel in CHANNEL_TYPES.items():
        model = channel.model
        found.append(Section(f"{name} channels", model, model.doc_intro, model.doc_example, 3))
        found += [Section(t, m, intro, ex, 4) for t, m, intro, ex in model.doc_parts]
    return tuple(found)


CHANNEL_SECTIONS = _channel_sections()
_COMMON = tuple(f.alias or n for n, f in models.MonitorBase.model_fields.items())

SECTIONS = (
    Section(
        "Top level",
        models.Config,
        "Only `version` and `monitors` are required; every other section may be left out.",
        """\
version: 1
status_page: {title: Acme Status}
defaults: {interval: 60s, escalation: default}
channels:
  team-slack: {type: slack, webhook_url: "${SLACK_WEBHOOK_URL}"}
escalations:
  default: [{after: 0s, notify: [team-slack]}]
maintenance:
  - {name: Weekly DB maintenance, monitors: [api], cron: "0 3 * * SUN", duration: 30m}
announcements:
  - {title: Scheduled upgrade, body: The API is read-only from 03:00 to 03:30 UTC.}
monitors:
  - {id: api, name: Public API, url: "https://api.example.com/health"}
notifications: {templates_dir: ./notify-templates}
retention: {raw: 30d, rollups: 400d}
slo_alerts: {policy: default}
""",
    ),
    Section(
        "defaults",
        None,
        "Keys merged into every monitor before it is checked: a monitor's own keys win, `expect` "
        "merges key by key (a monitor's `expect.status` replaces the default list), and `null` "
        "removes a default. A key that does not apply to a monitor's type (an HTTP expectation on "
        "a tcp monitor) is ignored for that monitor. Any monitor key but `id`, `type` and "
        "`depends_on` may be set here; each is described under monitors.",
        """\
defaults:
  interval: 60s
  timeout: 10s
  retry_interval: 20s
  expect: {status: ["2xx"], response_time_under: 5s}
  escalation: default
  severity: critical
""",
    ),
    Section(
        "monitors",
        models.MonitorBase,
        "Each entry of `monitors` is one monitor. `type` picks what it probes (`http` when left "
        "out); these keys apply to every type. A monitor whose `id` leaves the file is archived: "
        "no longer probed or shown, its history kept, and restored if the id comes back.",
        """\
monitors:
  - id: api
    name: Public API
    group: Core services
    description: The JSON API behind the apps
    url: https://api.example.com/health
    interval: 5m
    timeout: 10s
    failure_threshold: 3
    recovery_threshold: 1
    retry_interval: 20s
    escalation: critical
    severity: critical
    depends_on: [database]
    flapping: {changes: 6, within: 30m}
    regions: [us-west, eu-west, asia-southeast]
    confirm: 2
    slo: {target: 99.9%, window: 30d}
    tags: [api, eu]
    public: true
    paused: false
  - {id: database, name: Database, type: tcp, host: db.internal, port: 5432}
""",
    ),
    Section(
        "http monitors",
        models.HttpMonitor,
        "Requests `url` and judges the final answer (after redirects) against `expect`. Every "
        "probe opens its own connection; cookies set during its redirects stay within it.",
        """\
monitors:
  - id: login
    name: Login
    type: http
    url: https://app.example.com/api/login
    method: POST
    headers: {Accept: application/json}
    basic_auth: {username: probe, password: "${PROBE_PASSWORD}"}
    json: {user: probe}
    follow_redirects: true
    max_redirects: 5
    verify_tls: true
    max_body: 1048576
    expect: {status: [200]}
  - id: webhook-intake
    name: Webhook intake
    url: https://hooks.internal/ping
    method: PUT
    body: ping
    tls: {ca_file: certs/internal-ca.pem}
""",
        level=3,
        skip=_COMMON,
    ),
    Section(
        "tcp monitors",
        models.TcpMonitor,
        "Up when a TCP connection to `host`:`port` opens within the timeout.",
        """\
monitors:
  - {id: database, name: Database, type: tcp, host: db.internal, port: 5432, interval: 30s,
     expect: {response_time_under: 500ms}}
""",
        level=3,
        skip=_COMMON,
    ),
    Section(
        "dns monitors",
        models.DnsMonitor,
        "Resolves `hostname` and is down when the lookup fails or misses `expect.records`.",
        """\
monitors:
  - id: dns-apex
    name: DNS
    type: dns
    hostname: example.com
    record_type: A
    nameserver: 1.1.1.1
    port: 53
    expect: {records: ["203.0.113.10"]}
""",
        level=3,
        skip=_COMMON,
    ),
    Section(
        "heartbeat monitors",
        models.HeartbeatMonitor,
        "Pushed to rather than probed: a job calls `/ping/{id}/{token}` when it succeeds (or "
        "`/ping/{id}/{token}/fail`). No check-in within `interval` + `grace` of the last one is a "
        "down result that confirms an incident at once.",
        """\
monitors:
  - id: nightly-backup
    name: Nightly backup
    type: heartbeat
    token: "${BACKUP_PING_TOKEN}"
    interval: 24h
    grace: 1h
    public: false
""",
        level=3,
        skip=_COMMON,
    ),
    Section(
        "expect (http)",
        models.HttpExpect,
        "What a good HTTP answer looks like. A missed `status`, body or `json` expectation makes "
        "the monitor DOWN; a missed `response_time_under` or `cert_valid_for` makes it DEGRADED.",
        """\
monitors:
  - id: api
    name: Public API
    url: https://api.example.com/health
    expect:
      status: [200, 204, "3xx"]
      body_contains: '"ok"'
      body_not_contains: maintenance
      body_regex: '"version":\\s*"\\d+\\.\\d+'
      json: {status: healthy, "checks.database": ok}
      response_time_under: 2s
      cert_valid_for: 14d
""",
        level=3,
    ),
    Section(
        "expect (tcp)",
        models.TcpExpect,
        "A tcp monitor knows one expectation; HTTP and DNS keys are ignored for it.",
        """\
monitors:
  - {id: database, name: Database, type: tcp, host: db.internal, port: 5432,
     expect: {response_time_under: 500ms}}
""",
        level=3,
    ),
    Section(
        "expect (dns)",
        models.DnsExpect,
        "Expectations on a DNS answer; HTTP keys are ignored for a dns monitor.",
        """\
monitors:
  - {id: dns-apex, name: DNS, type: dns, hostname: example.com,
     expect: {records: ["203.0.113.10"], response_time_under: 1s}}
""",
        level=3,
    ),
    Section(
        "slo",
        models.Slo,
        "A service level objective. The SLI is the monitor's uptime (incident time outside "
        "maintenance is bad time; degraded counts as good). Budget = (100 % − target) × window; "
        "burn over a span W = bad time in the last W ÷ ((100 % − target) × W), so burn 1 spends "
        "the budget exactly over the window. Budget, budget left and burn over 1h, 6h and 3d are "
        "shown on the monitor's page, in the JSON API and in `/metrics`; alerts go through "
        "`slo_alerts`: "
        "`slo.burn_fast` when burn is above 14.4 over both 1h and 5m, `slo.burn_slow` "
        "above 6 over both 6h and 30m, `slo.exhausted` when no budget is left, each followed by "
        "`slo.resolved` when its condition clears.",
        """\
monitors:
  - id: api
    name: Public API
    url: https://api.example.com/health
    slo: {target: 99.9%, window: 30d}
""",
        level=3,
    ),
    Section(
        "regions and confirm",
        None,
        "Probing from several places: each instance probes from the region its `UPWATCH_REGION` "
        "names (default `RAILWAY_REPLICA_REGION`, else `default`), optionally from the local "
        "address `UPWATCH_SOURCE_ADDRESS`. A monitor with `regions` is probed once per interval "
        "from each listed region; a probe round is down only when `confirm` of them (default a "
        "majority) have a latest result, no older than 2 × interval, that is down, and "
        "`failure_threshold` counts such rounds. One region down alone is stored and shown per "
        "region on the monitor's page and in `/api/v1/monitors/{id}`, and never pages. The "
        "incident's cause names the regions that saw it (`down from us-west and eu-west: timed "
        "out after 10s`). A region with no live instance votes unknown: while fewer listed "
        "regions are live than `confirm`, the live ones decide (a warning is logged once), and "
        "after 30 s of silence one `region.unavailable` goes to the first step of the `default` "
        "policy (else of the first monitor listing the region), `region.available` when it is "
        "back; a region vanishing never pages. Without `regions` a monitor is probed once per "
        "interval by whichever instance holds it, in any region. `check` refuses a `confirm` "
        "above the number of regions, a region listed twice, and regions on a heartbeat.",
        """\
defaults:
  regions: [us-west, eu-west, asia-southeast]
  confirm: 2
monitors:
  - {id: api, name: Public API, url: "https://api.example.com/health"}
  - {id: eu-shop, name: EU shop, url: "https://shop.example.eu/", regions: [eu-west], confirm: 1}
""",
        level=3,
    ),
    Section(
        "flapping",
        models.Flapping,
        "Flap damping, off unless set (also in `defaults`). A change is an incident opened or "
        "resolved. When `changes` of them fall within `within`, the monitor is FLAPPING: one "
        "`monitor.flapping` goes to the first step of its policy and no incident message is sent "
        "while it lasts (incidents are still recorded). After `within` without a change it "
        "settles with one `monitor.settled` naming its state; if that is down, the open incident "
        "escalates from then. An episode costs at most ⌈changes / 2⌉ opened messages, one "
        "flapping and one settled.",
        """\
defaults:
  flapping: {changes: 6, within: 30m}
monitors:
  - {id: flaky, name: Flaky service, url: "https://flaky.example.com/"}
""",
        level=3,
    ),
    Section(
        "basic_auth",
        models.BasicAuth,
        "HTTP Basic credentials of an http monitor.",
        """\
monitors:
  - id: admin
    name: Admin
    url: https://admin.example.com/health
    basic_auth: {username: probe, password: "${ADMIN_PROBE_PASSWORD}"}
""",
        level=3,
    ),
    Section(
        "tls",
        models.TlsOptions,
        "TLS settings of an http monitor. Each file key has a `*_pem` twin that takes the PEM text "
        "itself (from `${VAR}`, where a file cannot be committed); give one of the two. `ca_file` "
        "adds to the default trust (the system's and certifi's), it does not replace it.",
        """\
monitors:
  - id: internal-api
    name: Internal API
    url: https://api.internal:8443/health
    tls:
      ca_file: certs/internal-ca.pem
      cert_file: certs/probe.pem
      key_file: certs/probe-key.pem
      server_name: api.internal
  - id: partner-api
    name: Partner API
    url: https://partner.example.com/health
    tls:
      ca_pem: "${PARTNER_CA_PEM}"
      cert_pem: "${PARTNER_CLIENT_CERT}"
      key_pem: "${PARTNER_CLIENT_KEY}"
""",
        level=3,
    ),
    Section(
        "channels",
        None,
        "`channels` maps a name (lowercase letters, digits, `-`, `_`) to where a message goes; "
        "escalation steps name channels in `notify`. `type` picks the kind, and each kind has the "
        "keys below. Secrets (webhook URLs, passwords, API keys) belong in `${VAR}`.",
        """\
channels:
  team-slack: {type: slack, webhook_url: "${SLACK_WEBHOOK_URL}"}
  oncall-email: {type: email, smtp_url: "${SMTP_URL}", from: upwatch@example.com,
                 to: [oncall@example.com]}
  pager: {type: webhook, url: https://hooks.example.com/upwatch, secret: "${WEBHOOK_SECRET}"}
""",
    ),
    *CHANNEL_SECTIONS,
    Section(
        "escalations",
        models.EscalationStep,
        "`escalations` maps a policy name to its steps; a monitor names its policy in "
        "`escalation`. Step k fires `after` the incident started (never before it is confirmed); "
        "a step with `severities` fires only for monitors of those severities; "
        "acknowledgement and resolution cancel every step and reminder not yet sent.",
        """\
escalations:
  default:
    - {after: 0s, notify: [team-slack]}
  critical:
    - {after: 0s, notify: [team-slack]}
    - {after: 2m, notify: [oncall-email, pager], repeat_every: 30m, severities: [critical]}
""",
    ),
    Section(
        "slo_alerts",
        models.SloAlerts,
        "SLO alerts (`slo.burn_fast`, `slo.burn_slow`, `slo.exhausted`) go through this escalation "
        "policy like an incident: its steps, reminders and acknowledgement apply, and each alert "
        "ends with `slo.resolved`. Without `slo_alerts`, SLOs are shown and no SLO alert is sent.",
        """\
channels:
  team-slack: {type: slack, webhook_url: "${SLACK_WEBHOOK_URL}"}
escalations:
  slo-burn: [{after: 0s, notify: [team-slack]}]
slo_alerts: {policy: slo-burn}
monitors:
  - {id: api, name: API, url: "https://api.example.com/", slo: {target: 99.9%}}
""",
    ),
    Section(
        "maintenance",
        models.MaintenanceWindow,
        "Planned windows: results are still stored, but no incident is confirmed and no step "
        "fires inside one. A window is recurring (`cron` + `duration`) or one-off (`start` + "
        "`end`).",
        """\
maintenance:
  - {name: Weekly DB maintenance, monitors: [database], cron: "0 3 * * SUN", duration: 30m}
  - {name: Migration, monitors: ["*"], start: 2026-12-01T02:00:00Z, end: 2026-12-01T04:00:00Z}
""",
    ),
    Section(
        "announcements",
        models.Announcement,
        "Notes written by people, shown on the status page between `start` and `end`.",
        """\
announcements:
  - title: Degraded EU latency
    body: We are working with our provider.
    severity: minor
    start: 2026-11-22T08:00:00Z
    end: 2026-11-23T08:00:00Z
""",
    ),
    Section(
        "status_page",
        models.StatusPage,
        "The public page served at `/`.",
        """\
status_page:
  title: Acme Status
  description: Live status of Acme's public services
  public_url: https://status.example.com
  show_urls: false
  timezone: Europe/Berlin
  auto_refresh: 60s
  updates_policy: status-updates
  subscriptions: {email_channel: status-mail}
channels:
  team-slack: {type: slack, webhook_url: "${SLACK_WEBHOOK_URL}"}
  status-mail: {type: email, api: {provider: resend, api_key: "${RESEND_API_KEY}"},
                from: status@example.com, to: [team@example.com]}
escalations:
  status-updates: [{after: 0s, notify: [team-slack]}]
""",
    ),
    Section(
        "subscriptions",
        models.Subscriptions,
        "Visitors subscribe to public incidents by email on the status page: a confirmation link "
        "first (double opt-in), then `incident.opened`, `incident.updated` and "
        "`incident.resolved` of public monitors, each with a one-click unsubscribe link. "
        "Addresses are never shown anywhere.",
        """\
status_page:
  subscriptions: {email_channel: status-mail}
channels:
  status-mail: {type: email, smtp_url: "${SMTP_URL}", from: status@example.com,
                to: [team@example.com]}
""",
        level=3,
    ),
    Section(
        "notifications",
        models.Notifications,
        "Messages are rendered from Jinja2 templates shipped with upwatch; a folder of your own "
        "overrides them file by file.",
        """\
notifications: {templates_dir: ./notify-templates}
""",
    ),
    Section(
        "retention",
        models.Retention,
        "How long the database keeps history; older rows are pruned in the background.",
        """\
retention: {raw: 30d, rollups: 400d}
""",
    ),
)
