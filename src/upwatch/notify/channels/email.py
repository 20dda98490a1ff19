"""Email: multipart text + HTML, over SMTP (aiosmtplib) or an HTTPS email API.

`smtp://user:pass@host:587` upgrades with STARTTLS when the server offers it and insists on it
when credentials are given (a password never crosses the network in clear); `smtps://...:465`
is TLS from the first byte. The `Message-ID` derives from the outbox key, so a retry after a lost
answer is recognisably the same message.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Annotated, ClassVar, Literal
from urllib.parse import unquote, urlsplit

import aiosmtplib
from pydantic import Field, field_validator, model_validator

from upwatch.config.fields import Email, FieldError, HttpUrl, Strict
from upwatch.notify.channels.base import ChannelConfig, SendContext
from upwatch.notify.channels.email_api import Mail, send_api
from upwatch.notify.channels.http import network_cause
from upwatch.notify.message import Message
from upwatch.notify.outcome import Outcome

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


class EmailApi(Strict):
    provider: Literal["resend", "postmark", "sendgrid"]
    """HTTPS email service to send through."""
    api_key: Annotated[str, Field(min_length=1)]
    """API key of the email service; write it as `${VAR}`, it is a secret."""
    api_base: HttpUrl | None = None
    """Scheme and host to send to instead of the provider's own, such as SendGrid's EU host
    `https://api.eu.sendgrid.com`; the provider's path (`/v3/mail/send`) is appended."""


class EmailChannel(ChannelConfig):
    doc_intro: ClassVar[str] = (
        "Sends mail over SMTP (`smtp_url`) or through an HTTPS email API (`api`), one of the two."
    )
    doc_example: ClassVar[str] = """\
channels:
  oncall-email: {type: email, smtp_url: "${SMTP_URL}", from: upwatch@example.com,
                 to: [oncall@example.com]}
  mail-api: {type: email, api: {provider: resend, api_key: "${RESEND_API_KEY}"},
             from: upwatch@example.com, to: [team@example.com]}
"""
    doc_parts: ClassVar[tuple[tuple[str, type[Strict], str, str], ...]] = (
        (
            "email api",
            EmailApi,
            "The HTTPS email API of an email channel, for hosts that block outbound SMTP.",
            """\
channels:
  mail-api: {type: email, api: {provider: postmark, api_key: "${POSTMARK_TOKEN}"},
             from: upwatch@example.com, to: [team@example.com]}
  mail-eu:
    type: email
    api: {provider: sendgrid, api_key: "${SENDGRID_API_KEY}",
          api_base: "https://api.eu.sendgrid.com"}
    from: upwatch@example.com
    to: [team@example.com]
""",
        ),
    )
    type: Literal["email"]
    """Channel type: `email` sends mail over SMTP (`smtp_url`) or an HTTPS API (`api`)."""
    smtp_url: str | None = None
    """SMTP server as `smtp://user:pass@host:587` (STARTTLS) or `smtps://user:pass@host:465`
    (implicit TLS); or give `api`."""
    api: EmailApi | None = None
    """An HTTPS email API to send through instead of SMTP (`provider`, `api_key`, optional
    `api_base`)."""
    from_: Email = Field(alias="from")
    """Sender address of the messages."""
    to: Annotated[list[Email], Field(min_length=1)]
    """Recipient addresses; at least one."""

    def secret_values(self) -> set[str]:
        # The whole SMTP URL too: aiosmtplib's errors may quote it.
        return super().secret_values() | ({self.smtp_url} if self.smtp_url else set())

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


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return SmtpTarget(
        host=parts.hostname or "localhost",
        port=parts.port or DEFAULT_PORTS.get(scheme, 587),
        implicit_tls=scheme == "smtps",
        username=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password),
    )


def compose(message: Message, channel: EmailChannel, ctx: SendContext) -> Mail:
    domain = channel.from_.rpartition("@")[2]
    headers = {
        "Message-ID": message.message_id(domain),
        "X-Upwatch-Event": str(message.event),
        "Auto-Submitted": "auto-generated",  # RFC 3834: no vacation replies to alerts
    }
    if message.incident is not None:  # mail clients thread every message of one incident
        headers["References"] = f"<upwatch-incident-{message.incident.id}@{domain}>"
    return Mail(
        sender=channel.from_,
        to=tuple(channel.to),
        subject=ctx.renderer.subject(message),
        text=ctx.renderer.text(message),
        html=ctx.renderer.html(message),
        headers=headers,
    )


def mime(mail: Mail, ctx: SendContext) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = mail.subject
    email["From"] = mail.sender
    email["To"] = ", ".join(mail.to)
    email["Date"] = format_datetime(ctx.clock())
    for name, value in mail.headers.items():
        email[name] = value
    email.set_content(mail.text)
    email.add_alternative(mail.html, subtype="html")
    return email


async def send(message: Message, channel: EmailChannel, ctx: SendContext) -> Outcome:
    mail = compose(message, channel, ctx)
    if channel.api is not None:
        api = channel.api
        return await send_api(
            ctx.http, api.provider, api.api_key, mail, now=ctx.clock(), base=api.api_base
        )
    assert channel.smtp_url is not None  # the config model requires one or the other
    return await send_smtp(mime(mail, ctx), parse_smtp_url(channel.smtp_url), ctx)


async def send_smtp(email: EmailMessage, target: SmtpTarget, ctx: SendContext) -> Outcome:
    credentials = target.username is not None
    try:
        _, answer = await aiosmtplib.send(
            email,
            hostname=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.implicit_tls,
            # None: STARTTLS when offered; True: refuse to go on without it (credentials).
            start_tls=False if target.implicit_tls else (True if credentials else None),
            tls_context=ctx.smtp_tls or ssl.create_default_context(),
            timeout=ctx.smtp_timeout,
        )
    except aiosmtplib.SMTPException as exc:
        return smtp_failure(exc, credentials=credentials)
    except ssl.SSLError:
        return Outcome.retry("TLS with the SMTP server failed (is its certificate trusted?)")
    except OSError as exc:
        cause = network_cause(exc) or exc.strerror or "network error"
        return Outcome.retry(f"could not reach the SMTP server: {cause}")
    return Outcome.delivered(None, f"SMTP {answer.strip()[:120]}")


def smtp_failure(exc: aiosmtplib.SMTPException, *, credentials: bool) -> Outcome:
    """SMTP reply codes: 5xx is permanent, 4xx is "try again later" (RFC 5321 §4.2.1)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        error = "the SMTP server refused every recipient: " + "; ".join(
            f"{r.code} {r.message}" for r in exc.recipients
        )
        return _by_code(min(codes, default=550), error)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return Outcome.give_up(f"SMTP authentication failed ({exc.code} {exc.message})")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _by_code(exc.code, f"SMTP server answered {exc.code} {exc.message}")
    return _connection_failure(exc, credentials=credentials)


def _connection_failure(exc: aiosmtplib.SMTPException, *, credentials: bool) -> Outcome:
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | aiosmtplib.SMTPConnectTimeoutError):
        return Outcome.retry("the SMTP server did not answer in time")
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        cause = network_cause(exc) or "the connection failed or was closed"
        return Outcome.retry(f"could not talk to the SMTP server: {cause}")
    if "STARTTLS" in str(exc) and credentials:
        return Outcome.give_up(
            "the SMTP server does not offer STARTTLS; upwatch does not send a password "
            "unencrypted (use smtps:// or a server with STARTTLS)"
        )
    return Outcome.retry(f"SMTP error: {exc}")


def _by_code(code: int, error: str) -> Outcome:
    return Outcome.give_up(error) if 500 <= code < 600 else Outcome.retry(error)
