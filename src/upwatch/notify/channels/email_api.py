"""Email through an HTTPS API, in each provider's own request format (Railway blocks outbound
SMTP below its Pro plan):

- Resend: https://resend.com/docs/api-reference/emails/send-email
- Postmark: https://postmarkapp.com/developer/api/email-api#send-a-single-email
- SendGrid: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from upwatch.notify.channels.http import post
from upwatch.notify.outcome import Outcome

if TYPE_CHECKING:
    import httpx

# The providers' own hosts; a channel's `api.api_base` replaces one (SendGrid's EU host
# https://api.eu.sendgrid.com, a relay), and the provider's path is appended to it.
API_BASES: Mapping[str, str] = {
    "resend": "https://api.resend.com",
    "postmark": "https://api.postmarkapp.com",
    "sendgrid": "https://api.sendgrid.com",
}


@dataclass(frozen=True, slots=True)
class Mail:
    """One rendered email, whatever carries it."""

    sender: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    headers: Mapping[str, str]  # Message-ID and friends


@dataclass(frozen=True, slots=True)
class ApiRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def resend(mail: Mail, api_key: str) -> ApiRequest:
    return ApiRequest(
        "/emails",
        {"Authorization": f"Bearer {api_key}"},
        {
            "from": mail.sender,
            "to": list(mail.to),
            "subject": mail.subject,
            "html": mail.html,
            "text": mail.text,
            "headers": dict(mail.headers),
        },
    )


def postmark(mail: Mail, api_key: str) -> ApiRequest:
    return ApiRequest(
        "/email",
        {"X-Postmark-Server-Token": api_key, "Accept": "application/json"},
        {
            "From": mail.sender,
            "To": ", ".join(mail.to),
            "Subject": mail.subject,
            "HtmlBody": mail.html,
            "TextBody": mail.text,
            "Headers": [{"Name": k, "Value": v} for k, v in mail.headers.items()],
            "MessageStream": "outbound",
        },
    )


def sendgrid(mail: Mail, api_key: str) -> ApiRequest:
    return ApiRequest(
        "/v3/mail/send",
        {"Authorization": f"Bearer {api_key}"},
        {
            "personalizations": [{"to": [{"email": address} for address in mail.to]}],
            "from": {"email": mail.sender},
            "subject": mail.subject,
            "content": [
                {"type": "text/plain", "value": mail.text},
                {"type": "text/html", "value": mail.html},
            ],
            "headers": dict(mail.headers),
        },
    )


PROVIDERS: dict[str, Callable[[Mail, str], ApiRequest]] = {
    "resend": resend,
    "postmark": postmark,
    "sendgrid": sendgrid,
}


async def send_api(
    http: httpx.AsyncClient,
    provider: str,
    api_key: str,
    mail: Mail,
    *,
    now: datetime,
    base: str | None = None,
) -> Outcome:
    request = PROVIDERS[provider](mail, api_key)
    url = (base or API_BASES[provider]).rstrip("/") + request.path
    headers = {"Content-Type": "application/json", **request.headers}
    body = json.dumps(request.body, ensure_ascii=False).encode()
    return await post(http, url, body, headers, now)
