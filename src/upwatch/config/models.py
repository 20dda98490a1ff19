"""The monitors.yaml language (version 1) as pydantic models.

These models see the document *after* `defaults` were merged into each monitor and keys that do not
apply to a monitor's type were dropped (see `merge.py`), so every model forbids unknown keys.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from upwatch.config.cron import CronError, split_crontab
from upwatch.config.durations import Duration
from upwatch.config.fields import (
    SLUG_RE,
    FieldError,
    HttpUrl,
    Instant,
    Name,
    Slug,
    Strict,
)
from upwatch.config.regex import compile_re2
from upwatch.config.tokens import MAX_LENGTH as MAX_TOKEN_LENGTH
from upwatch.notify.channels.base import ChannelConfig
from upwatch.notify.channels.registry import CHANNEL_MODELS

_SLUG = re.compile(SLUG_RE)
_STATUS_CLASS = re.compile(r"^[1-5]xx$")
MIB = 1024 * 1024


def _crontab(value: str | None) -> str | None:
    if value is not None:
        try:
            split_crontab(value)
        except CronError as exc:
            raise ValueError(str(exc)) from None
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "unknown time zone; use an IANA name such as UTC or Europe/Berlin"
        ) from None
    return value


# ---- monitors -------------------------------------------------------------------------------


def _status_codes(value: list[int | str]) -> list[int | str]:
    for item in value:
        if isinstance(item, int) and not 100 <= item <= 599:
            raise ValueError("status codes are between 100 and 599")
        if isinstance(item, str) and not _STATUS_CLASS.match(item):
            raise ValueError('status classes are written "1xx" to "5xx"')
    if not value:
        raise ValueError("list at least one status code or class")
    return value


def _regex_compiles(value: str | None) -> str | None:
    if value is not None:
        compile_re2(value)  # RegexError (a ValueError) says what RE2 refused and where
    return value


StatusList = Annotated[list[int | str], AfterValidator(_status_codes)]


class TcpExpect(Strict):
    """Expectations every probe type understands: a slow answer is DEGRADED, not DOWN."""

    response_time_under: Duration | None = None
    """Slowest acceptable answer, as a duration (`500ms`, `2s`); a slower answer makes the
    monitor DEGRADED, not DOWN."""


class DnsExpect(TcpExpect):
    records: Annotated[list[str], Field(min_length=1)] | None = None
    """Records the answer must contain, written as in a zone file (`203.0.113.10`, `10
    mail.example.com`); others may be present too. A missing one makes the monitor DOWN."""


class HttpExpect(TcpExpect):
    """What an HTTP answer must look like; hard keys make it DOWN, soft ones DEGRADED."""

    status: StatusList = Field(default_factory=lambda: list[int | str](["2xx"]))
    """Accepted status codes (`200`) or classes (`"2xx"` to `"5xx"`) of the final response after
    redirects; another status makes the monitor DOWN."""
    body_contains: str | None = None
    """Text the response body must contain, else the monitor is DOWN; only the first `max_body`
    bytes are read."""
    body_not_contains: str | None = None
    """Text the response body must not contain, else the monitor is DOWN."""
    body_regex: Annotated[str | None, AfterValidator(_regex_compiles)] = None
    """A regular expression in RE2 syntax that must match somewhere in the body, else the monitor
    is DOWN."""
    json_paths: dict[str, Any] | None = Field(default=None, alias="json")
    """Values the JSON body must hold, keyed by dotted path (`checks.database: ok`); a mismatch
    makes the monitor DOWN."""
    cert_valid_for: Duration | None = None
    """Least time the HTTPS certificate must remain valid, as a duration (`14d`); closer to
    expiry is DEGRADED and notified."""

    def status_matches(self, code: int) -> bool:
        for item in self.status:
            if isinstance(item, int) and item == code:
                return True
            if isinstance(item, str) and str(code)[0] == item[0]:
                return True
        return False


EXPECT_TYPES: dict[str, type[TcpExpect] | None] = {
    "http": HttpExpect,
    "tcp": TcpExpect,
    "dns": DnsExpect,
    "heartbeat": None,
}


class BasicAuth(Strict):
    username: str
    """User name sent with HTTP Basic authentication."""
    password: str
    """Password sent with HTTP Basic authentication; write it as `${VAR}` to keep it out of the
    file."""


class TlsOptions(Strict):
    """Per-monitor TLS: extra trust, a client certificate, the name to verify. Files or PEM text.

    The loader resolves relative `*_file` paths against the config file's folder and checks that
    they can be read, so by the time a probe sees these they are absolute.
    """

    ca_file: str | None = None
    """Path to a PEM file of CA certificates to trust in addition to the system's; relative to
    the config file's folder."""
    ca_pem: str | None = None
    """The same CA certificates as PEM text, usually from `${VAR}`; instead of `ca_file`."""
    cert_file: str | None = None
    """Path to the PEM client certificate to present; relative to the config file's folder."""
    cert_pem: str | None = None
    """The client certificate as PEM text, usually from `${VAR}`; instead of `cert_file`."""
    key_file: str | None = None
    """Path to the PEM private key of the client certificate (needs `cert_file` or `cert_pem`)."""
    key_pem: str | None = None
    """The client certificate's private key as PEM text, usually from `${VAR}`; instead of
    `key_file`."""
    server_name: Annotated[str, Field(min_length=1)] | None = None
    """Host name to send (SNI) and to verify the certificate against, when it differs from the
    URL's."""

    @model_validator(mode="after")
    def _one_source_each(self) -> TlsOptions:
        for name in ("ca", "cert", "key"):
            if getattr(self, f"{name}_file") is not None and getattr(self, f"{name}_pem"):
                message = f"give either {name}_file or {name}_pem, not both"
                raise FieldError(f"{name}_file", message, judges=())
        has_cert = self.cert_file is not None or self.cert_pem is not None
        has_key = self.key_file is not None or self.key_pem is not None
        if has_key and not has_cert:
            message = "a client key needs its certificate (cert_file or cert_pem)"
            raise FieldError("key_file" if self.key_file else "key_pem", message, judges=())
        return self

    @property
    def has_client_certificate(self) -> bool:
        return self.cert_file is not None or self.cert_pem is not None


Severity = Literal["critical", "error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "error", "warning", "info")


def _percent(value: Any) -> Any:
    # `99.9%` as YAML writes it, or the plain number 99.9.
    if isinstance(value, str) and value.strip().endswith("%"):
        return value.strip()[:-1].strip()
    return value


class Slo(Strict):
    target: Annotated[float, BeforeValidator(_percent), Field(gt=0, lt=100)]
    """Share of the window the monitor must be up, as a percentage below 100 (`99.9%`); the
    error budget is (100 % − target) × window."""
    window: Duration = timedelta(days=30)
    """Rolling window the target applies to, as a duration from `1d` to `400d`."""

    @field_validator("window")
    @classmethod
    def _window_span(cls, value: timedelta) -> timedelta:
        if not timedelta(days=1) <= value <= timedelta(days=400):
            raise ValueError("must be from 1d to 400d")
        return value

    @property
    def bad_fraction(self) -> float:
        """The share of time that may be bad: 0.001 for 99.9 %."""
        return 1 - self.target / 100


class Flapping(Strict):
    changes: Annotated[int, Field(ge=2, le=100)]
    """Confirmed changes (incident opened or resolved), 2 to 100, that make a monitor FLAPPING
    when they all fall within `within`."""
    within: Duration
    """The span those changes must fall within, as a duration from `1m` to `1d`; a monitor
    settles after this long without a change."""

    @field_validator("within")
    @classmethod
    def _within_span(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=1) <= value <= timedelta(days=1):
            raise ValueError("must be from 1m to 1d")
        return value


class MonitorBase(Strict):
    id: Slug
    """Stable identifier: lowercase letters, digits, `-` and `_`, up to 64 characters; history is
    kept under it."""
    name: Name
    """Name shown on the status page and in notifications; renaming keeps the history."""
    group: str | None = None
    """Group heading the monitor is listed under on the status page."""
    description: str | None = None
    """Short text shown with the monitor on its page."""
    interval: Duration = timedelta(seconds=60)
    """Time between probes, as a duration (`30s`, `5m`); at least `1s`. For a heartbeat, the
    expected time between check-ins."""
    timeout: Duration = timedelta(seconds=10)
    """How long one probe may take before it counts as down, as a duration; more than 0 and at
    most `interval`."""
    failure_threshold: Annotated[int, Field(ge=1, le=100)] = 3
    """Consecutive down results (1 to 100) that confirm an incident; heartbeat misses confirm at
    once."""
    recovery_threshold: Annotated[int, Field(ge=1, le=100)] = 1
    """Consecutive results that are not down (1 to 100), of distinct probe slots at least half of
    `retry_interval` (or of `interval`, if shorter) apart, that resolve an open incident. A
    heartbeat recovers on one check-in unless it sets this itself (`defaults` do not apply)."""
    retry_interval: Duration = timedelta(seconds=20)
    """Time between probes while the last result was down, as a duration, counted from the start
    of the probe that failed (a probe that times out does not push the next one later); at least
    `1s`, never longer than `interval`."""
    escalation: str | None = None
    """Name of the escalation policy that notifies for this monitor; `none` (or no policy)
    notifies no one."""
    severity: Severity = "critical"
    """How serious an outage of this monitor is: `critical`, `error`, `warning` or `info`; sent
    in every message, and escalation steps may fire only for some severities."""
    depends_on: list[Slug] = Field(default_factory=list)
    """Ids of monitors this one needs: while any of them is down or in maintenance, this
    monitor's incidents are recorded and shown but page no one."""
    flapping: Flapping | None = None
    """Flap damping, off unless set: `{changes: 6, within: 30m}` makes the monitor FLAPPING
    (one message, then none per change) when that many changes fall within that span."""
    regions: Annotated[list[Slug], Field(min_length=1, max_length=16)] | None = None
    """Regions that probe this monitor (`[us-west, eu-west]`), each by the instances whose
    `UPWATCH_REGION` it names; an outage is confirmed only when `confirm` of them see it down.
    Left out: probed once per interval from whichever instance holds it, in any region."""
    confirm: Annotated[int, Field(ge=1, le=16)] | None = None
    """How many of `regions` must see the monitor down for a probe round to count as down (1 to
    the number of regions); default a majority. Needs `regions`."""
    slo: Slo | None = None
    """Service level objective: `{target: 99.9%, window: 30d}`; its budget and burn rates are
    shown, and alerted on through `slo_alerts`."""
    tags: list[str] = Field(default_factory=list)
    """Free-form labels for grouping and filtering monitors."""
    public: bool = True
    """Whether the monitor appears on the public status page, badges, feed and API; `false` keeps
    it private."""
    paused: bool = False
    """Whether probing is paused; a paused monitor is shown as PAUSED and its open incident is
    resolved."""

    # Field validators, not one model check: each runs even when a neighbour (the url) is wrong,
    # so every timing mistake is reported in the same run.
    @field_validator("interval", "retry_interval")
    @classmethod
    def _at_least_a_second(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout_within_interval(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be greater than 0")
        interval = info.data.get("interval")  # absent when the interval itself is wrong
        if interval is not None and value > interval:
            message = "must not be longer than the interval"
            raise FieldError(None, message, judges=("timeout", "interval"))
        return value

    @field_validator("regions")
    @classmethod
    def _distinct_regions(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists a region twice")
        return value

    @field_validator("confirm")
    @classmethod
    def _confirm_within_regions(cls, value: int | None, info: ValidationInfo) -> int | None:
        regions = info.data.get("regions")
        if value is not None and not regions and "regions" in info.data:
            raise FieldError(None, "needs `regions` (K of N regions)", judges=("confirm",))
        if value is not None and regions and value > len(regions):
            message = f"must be from 1 to the number of regions ({len(regions)})"
            raise FieldError(None, message, judges=("confirm", "regions"))
        return value

    @property
    def quorum(self) -> int:
        """How many listed regions must agree on down (`confirm`, default a majority)."""
        count = len(self.regions or ())
        return self.confirm if self.confirm is not None else count // 2 + 1

    @property
    def escalation_policy(self) -> str | None:
        """The policy name that notifies, or None when the monitor notifies no one."""
        return None if self.escalation in (None, "none") else self.escalation

    @property
    def effective_retry_interval(self) -> timedelta:
        return min(self.retry_interval, self.interval)


class HttpMonitor(MonitorBase):
    type: Literal["http"] = "http"
    """Monitor type: `http` (the default when `type` is left out) probes a URL."""
    url: HttpUrl
    """The `http://` or `https://` URL to request."""
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    """HTTP method of the request."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers, name to value; dropped on a redirect to another origin except
    `Accept`, `Accept-Language` and `User-Agent`."""
    basic_auth: BasicAuth | None = None
    """Credentials for HTTP Basic authentication (`username`, `password`)."""
    body: str | None = None
    """Request body sent as text; give either `body` or `json`, not both."""
    json_body: Any = Field(default=None, alias="json")
    """Request body sent as JSON (any YAML value); give either `body` or `json`, not both."""
    follow_redirects: bool = True
    """Whether redirects are followed; expectations are judged on the final response."""
    max_redirects: Annotated[int, Field(ge=0, le=50)] = 5
    """Most redirects followed for one probe (0 to 50); one more makes the probe fail."""
    verify_tls: bool = True
    """Whether the HTTPS certificate is verified; `false` turns verification off whatever `tls`
    says."""
    tls: TlsOptions | None = None
    """Extra TLS trust, a client certificate, or the name to verify (see the tls section)."""
    max_body: Annotated[int, Field(ge=0)] = MIB
    """Most bytes of the response body read and matched, in bytes (default 1 MiB = 1048576)."""
    expect: HttpExpect = Field(default_factory=HttpExpect)
    """What a good answer looks like (see the expect section); by default any 2xx status."""

    @model_validator(mode="after")
    def _one_body(self) -> HttpMonitor:
        if self.body is not None and self.json_body is not None:
            raise FieldError("body", "give either body or json, not both", judges=())
        return self


class TcpMonitor(MonitorBase):
    type: Literal["tcp"]
    """Monitor type: `tcp` is up when a TCP connection to `host`:`port` opens."""
    host: Annotated[str, Field(min_length=1)]
    """Host name or IP address to connect to."""
    port: Annotated[int, Field(ge=1, le=65535)]
    """TCP port to connect to (1 to 65535)."""
    expect: TcpExpect = Field(default_factory=TcpExpect)
    """Expectations on the connection (`response_time_under`)."""


class DnsMonitor(MonitorBase):
    type: Literal["dns"]
    """Monitor type: `dns` resolves `hostname` and checks the answer."""
    hostname: Annotated[str, Field(min_length=1)]
    """Domain name to resolve."""
    record_type: Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS"] = "A"
    """DNS record type to ask for."""
    nameserver: str | None = None
    """Name server to ask, by IP address or host name; the system's resolver when left out."""
    port: Annotated[int, Field(ge=1, le=65535)] = 53
    """Port of the name server (1 to 65535)."""
    expect: DnsExpect = Field(default_factory=DnsExpect)
    """Expectations on the answer (`records`, `response_time_under`)."""


class HeartbeatMonitor(MonitorBase):
    type: Literal["heartbeat"]
    """Monitor type: `heartbeat` waits for check-ins at `/ping/{id}/{token}` instead of probing."""
    token: Annotated[str, Field(min_length=8, max_length=MAX_TOKEN_LENGTH)]
    """Secret part of the check-in URL, 8 to 256 characters (16 or more recommended); write it as
    `${VAR}`."""
    grace: Duration = timedelta(minutes=5)
    """Extra time after `interval` before a missing check-in counts as down, as a duration
    (`1h`)."""

    @field_validator("regions")
    @classmethod
    def _not_probed(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            raise ValueError("a heartbeat is not probed, so it has no regions: leave it out")
        return value


def _monitor_type(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type", "http"))
    return str(getattr(value, "type", "http"))


Monitor = Annotated[
    Annotated[HttpMonitor, Tag("http")]
    | Annotated[TcpMonitor, Tag("tcp")]
    | Annotated[DnsMonitor, Tag("dns")]
    | Annotated[HeartbeatMonitor, Tag("heartbeat")],
    Discriminator(_monitor_type),
]
MONITOR_TYPES: dict[str, type[MonitorBase]] = {
    "http": HttpMonitor,
    "tcp": TcpMonitor,
    "dns": DnsMonitor,
    "heartbeat": HeartbeatMonitor,
}

# ---- channels -------------------------------------------------------------------------------
# Each channel type's model lives in its module (upwatch/notify/channels/); the union is derived
# from the registry there.
if TYPE_CHECKING:
    Channel = ChannelConfig
else:
    Channel = Annotated[Union[tuple(CHANNEL_MODELS.values())], Field(discriminator="type")]  # noqa: UP007

# ---- escalation, maintenance, page -----------------------------------------------------------


class EscalationStep(Strict):
    after: Duration = timedelta(0)
    """How long after the incident started this step fires, as a duration (`0s`, `2m`)."""
    notify: Annotated[list[str], Field(min_length=1)]
    """Names of the channels this step sends to; at least one."""
    repeat_every: Duration | None = None
    """Resend this step at this interval while the incident is open and unacknowledged, as a
    duration; at least `1m`."""
    severities: Annotated[list[Severity], Field(min_length=1)] | None = None
    """Severities this step fires for (`[critical]`); every severity when left out."""

    @field_validator("repeat_every")
    @classmethod
    def _repeat_not_tiny(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(minutes=1):
            raise ValueError("must be at least 1m")
        return value


class MaintenanceWindow(Strict):
    name: Name
    """Name shown on the status page while the window is announced or running."""
    monitors: Annotated[list[str], Field(min_length=1)]
    """Ids of the monitors the window covers; `"*"` covers every monitor."""
    cron: Annotated[str | None, AfterValidator(_crontab)] = None
    """Start of a recurring window, as a 5-field crontab (`0 3 * * SUN`) in
    `status_page.timezone`; needs `duration`."""
    duration: Duration | None = None
    """Length of each recurring window, as a duration (`30m`, `2h`); needs `cron`."""
    start: Instant | None = None
    """Start of a one-off window, as an ISO 8601 date-time (UTC when no offset is given); needs
    `end`."""
    end: Instant | None = None
    """End of a one-off window, as an ISO 8601 date-time after `start`."""

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceWindow:
        recurring = self.cron is not None or self.duration is not None
        one_off = self.start is not None or self.end is not None
        if recurring and one_off:
            raise FieldError(
                "cron", "give either cron + duration or start + end, not both", judges=()
            )
        if recurring and (self.cron is None or self.duration is None):
            missing = "duration" if self.duration is None else "cron"
            raise FieldError(missing, "a recurring window needs both cron and duration", judges=())
        if not recurring and (self.start is None or self.end is None):
            missing = "end" if self.start is not None else "start"
            raise FieldError(
                missing, "a one-off window needs start and end (or cron + duration)", judges=()
            )
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise FieldError("end", "must be after start", judges=("end", "start"))
        return self


class Announcement(Strict):
    title: Name
    """Headline of the announcement on the status page."""
    body: str = ""
    """Text under the headline."""
    severity: Literal["info", "minor", "major", "critical"] = "info"
    """How serious the announcement is; sets its label and colour on the status page."""
    start: Instant | None = None
    """When the announcement starts being shown, as an ISO 8601 date-time; at once when left out."""
    end: Instant | None = None
    """When the announcement stops being shown, as an ISO 8601 date-time; never (until removed
    from the file) when left out."""


class Subscriptions(Strict):
    email_channel: Slug
    """Name of the email channel that sends subscribers their confirmation link and the
    incident messages they subscribed to."""


class StatusPage(Strict):
    title: str = "Status"
    """Title of the status page."""
    description: str | None = None
    """Text shown under the title."""
    public_url: HttpUrl | None = None
    """Public address of the status page (`https://status.example.com`), the base of links in
    notifications."""
    show_urls: bool = False
    """Whether probed URLs and host names are shown publicly; they stay private unless `true`."""
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    """IANA time zone (`UTC`, `Europe/Berlin`) for times on the page and for maintenance cron
    expressions."""
    auto_refresh: Duration | None = None
    """Reload the status page in the browser this often, as a duration of at least `10s`
    (`60s`); no automatic reload when left out."""
    updates_policy: Slug | None = None
    """Escalation policy through which written updates of hand-declared incidents are sent
    (`incident.updated`): the channels of its first step that fires for the incident's severity
    (an update informs, it does not page). Updates of monitors' incidents go to every channel
    already told."""
    subscriptions: Subscriptions | None = None
    """Email subscriptions to public incidents (`{email_channel: NAME}`), with double opt-in
    and one-click unsubscribe; off when left out."""

    @field_validator("auto_refresh")
    @classmethod
    def _refresh_not_tiny(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(seconds=10):
            raise ValueError("must be at least 10s")
        return value


class Notifications(Strict):
    templates_dir: str | None = None
    """Folder of Jinja2 templates that override the shipped notification templates, relative to
    the config file's folder."""


class SloAlerts(Strict):
    policy: Slug
    """Escalation policy that SLO alerts (`slo.burn_fast`, `slo.burn_slow`, `slo.exhausted`) go
    through; without `slo_alerts` SLOs are shown and no SLO alert is sent."""


class Retention(Strict):
    raw: Duration = timedelta(days=30)
    """How long individual probe results are kept, as a duration (`30d`)."""
    rollups: Duration = timedelta(days=400)
    """How long hourly and daily summaries (uptime bars, percentiles) are kept, as a duration
    (`400d`)."""


class Config(Strict):
    version: Literal[1]
    """Version of the monitors.yaml language; always `1`."""
    status_page: StatusPage = Field(default_factory=StatusPage)
    """Title, address and display settings of the status page."""
    channels: dict[Slug, Channel] = Field(default_factory=dict)
    """Where notifications go, by channel name (lowercase letters, digits, `-`, `_`)."""
    escalations: dict[Slug, Annotated[list[EscalationStep], Field(min_length=1)]] = Field(
        default_factory=dict
    )
    """Escalation policies by name: each a list of steps saying who is notified when."""
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)
    """Planned maintenance windows, during which no incident is confirmed or notified."""
    announcements: list[Announcement] = Field(default_factory=list)
    """Notes written by people, shown on the status page while current."""
    monitors: list[Monitor]
    """What to watch: one entry per monitor, of type http, tcp, dns or heartbeat."""
    notifications: Notifications = Field(default_factory=Notifications)
    """Settings of notification messages."""
    retention: Retention = Field(default_factory=Retention)
    """How long history is kept in the database."""
    slo_alerts: SloAlerts | None = None
    """Where alerts about monitors' SLOs go (`{policy: slo-burn}`)."""

    def monitor(self, monitor_id: str) -> MonitorBase | None:
        return next((m for m in self.monitors if m.id == monitor_id), None)
