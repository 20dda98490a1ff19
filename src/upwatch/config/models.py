"""The monitors.yaml language (version 1) as pydantic models.

These models see the document *after* `defaults` were merged into each monitor and keys that do not
apply to a monitor's type were dropped (see `merge.py`), so every model forbids unknown keys.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from upwatch.config.cron import CronError, split_crontab
from upwatch.config.durations import Duration
from upwatch.config.regex import compile_re2
from upwatch.config.tokens import MAX_LENGTH as MAX_TOKEN_LENGTH

SLUG_RE = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_SLUG = re.compile(SLUG_RE)
_STATUS_CLASS = re.compile(r"^[1-5]xx$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+$")
MIB = 1024 * 1024


def _aware(value: datetime) -> datetime:
    # A time written without an offset is UTC, whatever status_page.timezone says.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


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


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/?#]+", value, re.IGNORECASE):
        raise ValueError("must be an http:// or https:// URL")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("must be an email address such as oncall@example.com")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
Email = Annotated[str, AfterValidator(_email)]
Slug = Annotated[str, Field(pattern=SLUG_RE)]
Name = Annotated[str, Field(min_length=1)]
Instant = Annotated[datetime, AfterValidator(_aware)]


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, str_strip_whitespace=False
    )


# ---- monitors -------------------------------------------------------------------------------


class FieldError(ValueError):
    """A rule about one field, checked with its neighbours; the loader reports it at `field`.

    `judges` names the fields whose values the rule looks at (by default `field` alone; none for a
    rule about which keys are present): while one of them still waits for an environment variable
    (`check --no-env`), the rule cannot be judged.
    """

    def __init__(
        self, field: str | None, message: str, judges: tuple[str, ...] | None = None
    ) -> None:
        super().__init__(message)
        self.field = field  # None: the field being validated, from a field validator
        if judges is None:
            judges = (field,) if field else ()
        self.judges = judges


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


class DnsExpect(TcpExpect):
    records: Annotated[list[str], Field(min_length=1)] | None = None


class HttpExpect(TcpExpect):
    """What an HTTP answer must look like; hard keys make it DOWN, soft ones DEGRADED."""

    status: StatusList = Field(default_factory=lambda: list[int | str](["2xx"]))
    body_contains: str | None = None
    body_not_contains: str | None = None
    body_regex: Annotated[str | None, AfterValidator(_regex_compiles)] = None
    json_paths: dict[str, Any] | None = Field(default=None, alias="json")
    cert_valid_for: Duration | None = None

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
    password: str


class TlsOptions(Strict):
    """Per-monitor TLS: extra trust, a client certificate, the name to verify. Files or PEM text.

    The loader resolves relative `*_file` paths against the config file's folder and checks that
    they can be read, so by the time a probe sees these they are absolute.
    """

    ca_file: str | None = None
    ca_pem: str | None = None
    cert_file: str | None = None
    cert_pem: str | None = None
    key_file: str | None = None
    key_pem: str | None = None
    server_name: Annotated[str, Field(min_length=1)] | None = None

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


class MonitorBase(Strict):
    id: Slug
    name: Name
    group: str | None = None
    description: str | None = None
    interval: Duration = timedelta(seconds=60)
    timeout: Duration = timedelta(seconds=10)
    failure_threshold: Annotated[int, Field(ge=1, le=100)] = 3
    recovery_threshold: Annotated[int, Field(ge=1, le=100)] = 1
    retry_interval: Duration = timedelta(seconds=20)
    escalation: str | None = None
    tags: list[str] = Field(default_factory=list)
    public: bool = True
    paused: bool = False

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

    @property
    def escalation_policy(self) -> str | None:
        """The policy name that notifies, or None when the monitor notifies no one."""
        return None if self.escalation in (None, "none") else self.escalation

    @property
    def effective_retry_interval(self) -> timedelta:
        return min(self.retry_interval, self.interval)


class HttpMonitor(MonitorBase):
    type: Literal["http"] = "http"
    url: HttpUrl
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    basic_auth: BasicAuth | None = None
    body: str | None = None
    json_body: Any = Field(default=None, alias="json")
    follow_redirects: bool = True
    max_redirects: Annotated[int, Field(ge=0, le=50)] = 5
    verify_tls: bool = True
    tls: TlsOptions | None = None
    max_body: Annotated[int, Field(ge=0)] = MIB
    expect: HttpExpect = Field(default_factory=HttpExpect)

    @model_validator(mode="after")
    def _one_body(self) -> HttpMonitor:
        if self.body is not None and self.json_body is not None:
            raise FieldError("body", "give either body or json, not both", judges=())
        return self


class TcpMonitor(MonitorBase):
    type: Literal["tcp"]
    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)]
    expect: TcpExpect = Field(default_factory=TcpExpect)


class DnsMonitor(MonitorBase):
    type: Literal["dns"]
    hostname: Annotated[str, Field(min_length=1)]
    record_type: Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS"] = "A"
    nameserver: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 53
    expect: DnsExpect = Field(default_factory=DnsExpect)


class HeartbeatMonitor(MonitorBase):
    type: Literal["heartbeat"]
    token: Annotated[str, Field(min_length=8, max_length=MAX_TOKEN_LENGTH)]
    grace: Duration = timedelta(minutes=5)


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


class SlackChannel(Strict):
    type: Literal["slack"]
    webhook_url: HttpUrl


class EmailApi(Strict):
    provider: Literal["resend", "postmark", "sendgrid"]
    api_key: Annotated[str, Field(min_length=1)]


class EmailChannel(Strict):
    type: Literal["email"]
    smtp_url: str | None = None
    api: EmailApi | None = None
    from_: Email = Field(alias="from")
    to: Annotated[list[Email], Field(min_length=1)]

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^smtps?://[^\s/]+", value):
            raise ValueError("must be smtp://user:pass@host:587 or smtps://user:pass@host:465")
        return value

    @model_validator(mode="after")
    def _one_transport(self) -> EmailChannel:
        if self.smtp_url is not None and self.api is not None:
            raise FieldError("smtp_url", "give either smtp_url or api, not both", judges=())
        if self.smtp_url is None and self.api is None:
            raise FieldError(
                "smtp_url",
                "an email channel needs smtp_url (smtp://user:pass@host:587) "
                "or api ({provider: resend, api_key: ...}) to send through",
                judges=(),
            )
        return self


class WebhookChannel(Strict):
    type: Literal["webhook"]
    url: HttpUrl
    secret: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("secret")
    @classmethod
    def _standard_webhooks_secret(cls, value: str | None) -> str | None:
        if value is not None and not _is_whsec(value):
            raise ValueError("must be whsec_ followed by base64 (Standard Webhooks)")
        return value


def _is_whsec(value: str) -> bool:
    # Signing decodes the key, so a secret that is not whole base64 would only fail at delivery.
    key = value.removeprefix("whsec_")
    if key == value or not key:
        return False
    try:
        return bool(b64decode(key, validate=True))
    except binascii.Error:
        return False


Channel = Annotated[SlackChannel | EmailChannel | WebhookChannel, Field(discriminator="type")]

# ---- escalation, maintenance, page -----------------------------------------------------------


class EscalationStep(Strict):
    after: Duration = timedelta(0)
    notify: Annotated[list[str], Field(min_length=1)]
    repeat_every: Duration | None = None

    @field_validator("repeat_every")
    @classmethod
    def _repeat_not_tiny(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(minutes=1):
            raise ValueError("must be at least 1m")
        return value


class MaintenanceWindow(Strict):
    name: Name
    monitors: Annotated[list[str], Field(min_length=1)]
    cron: Annotated[str | None, AfterValidator(_crontab)] = None
    duration: Duration | None = None
    start: Instant | None = None
    end: Instant | None = None

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
    body: str = ""
    severity: Literal["info", "minor", "major", "critical"] = "info"
    start: Instant | None = None
    end: Instant | None = None


class StatusPage(Strict):
    title: str = "Status"
    description: str | None = None
    public_url: HttpUrl | None = None
    show_urls: bool = False
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"


class Notifications(Strict):
    templates_dir: str | None = None


class Retention(Strict):
    raw: Duration = timedelta(days=30)
    rollups: Duration = timedelta(days=400)


class Config(Strict):
    version: Literal[1]
    status_page: StatusPage = Field(default_factory=StatusPage)
    channels: dict[Slug, Channel] = Field(default_factory=dict)
    escalations: dict[Slug, Annotated[list[EscalationStep], Field(min_length=1)]] = Field(
        default_factory=dict
    )
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)
    announcements: list[Announcement] = Field(default_factory=list)
    monitors: list[Monitor]
    notifications: Notifications = Field(default_factory=Notifications)
    retention: Retention = Field(default_factory=Retention)

    def monitor(self, monitor_id: str) -> MonitorBase | None:
        return next((m for m in self.monitors if m.id == monitor_id), None)
