"""`GET|POST /ack/{token}`: acknowledging an incident from the link in a message.

GET only shows the incident and an "Acknowledge" button: mail scanners and link previews fetch
every link in a message, and must not acknowledge anything. POST acknowledges: in ONE transaction
it sets `acknowledged_at` (if the incident is open and not yet acknowledged), cancels the steps
and reminders not yet sent, and enqueues `incident.acknowledged` to every channel told about the
incident. A second POST changes nothing. A tampered or expired token gets a 403 page.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog
from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse

from upwatch.engine.slo_alerts import SloAlert
from upwatch.notify.links import ACK_VALID_FOR, AckCheck, TokenProblem, check_ack_token
from upwatch.notify.render import environment, shipped_dir
from upwatch.notify.text import duration, utc
from upwatch.store import incident_effects as effects
from upwatch.store import slo_alerts
from upwatch.store.acks import AckSubject, ack_subject
from upwatch.web.context import AppContext

log = structlog.get_logger("upwatch.ack")
ACKNOWLEDGED_BY = "acknowledge link"


@dataclass(frozen=True, slots=True)
class Page:
    status: int
    tone: str  # error | down | warn | ok: the colour of the heading
    heading: str
    paragraphs: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    form: bool = False
    status_page_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


INVALID = Page(
    403,
    "error",
    "This acknowledge link is not valid",
    (
        "It may have been cut short or changed on the way. Open the link from the message "
        "again (all of it), or use the link in a newer message about the incident.",
    ),
)
TURNED_OFF = Page(
    403,
    "error",
    "Acknowledging is turned off",
    (
        "This upwatch has no secret key configured (UPWATCH_SECRET_KEY), so it cannot check "
        "acknowledge links.",
    ),
)
NOT_FOUND = Page(
    404,
    "error",
    "No such incident",
    ("The incident this link names is not in upwatch's database.",),
)
STARTING = Page(
    503,
    "warn",
    "upwatch is starting",
    ("Try again in a moment.",),
    headers={"Retry-After": "5"},
)


@functools.cache
def _templates() -> Environment:
    return environment([shipped_dir()])


def _html(page: Page) -> HTMLResponse:
    return render_page(page)


def render_page(page: Page, button: str | None = None) -> HTMLResponse:
    """A small self-contained page (the subscription links use it too); with `button`, a form
    that POSTs to the same address with that label."""
    extra = {} if button is None else {"button": button}
    body = (
        _templates()
        .get_template("ack.html")
        .render(
            title=page.heading,
            tone=page.tone,
            heading=page.heading,
            paragraphs=page.paragraphs,
            facts=page.facts,
            form=page.form or button is not None,
            status_page_url=page.status_page_url,
            **extra,
        )
    )
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", **page.headers}
    return HTMLResponse(body, status_code=page.status, headers=headers)


async def ack(request: Request) -> HTMLResponse:
    ctx: AppContext = request.app.state.ctx
    checked = _check_token(ctx, request.path_params["token"])
    if isinstance(checked, Page):
        return _html(checked)
    if ctx.engine is None:
        return _html(STARTING)
    assert checked.incident_id is not None
    posted = request.method == "POST"
    if checked.slo:
        return _html(await _slo_alert(ctx, checked.incident_id, posted=posted))
    if posted:
        return _html(await _acknowledge(ctx, checked.incident_id))
    async with ctx.engine.connect() as connection:
        subject = await ack_subject(connection, checked.incident_id)
    return _html(_describe(ctx, subject, posted=False))


def _check_token(ctx: AppContext, token: str) -> AckCheck | Page:
    secret_key = ctx.settings.secret_key
    if secret_key is None:
        return TURNED_OFF
    checked = check_ack_token(secret_key, token, ctx.clock())
    if checked.problem is TokenProblem.EXPIRED and checked.expires_at is not None:
        return _expired(checked.expires_at)
    if checked.problem is not None or checked.incident_id is None:
        return INVALID
    return checked


def _expired(expires_at: datetime) -> Page:
    days = ACK_VALID_FOR.days
    return Page(
        403,
        "error",
        "This acknowledge link has expired",
        (
            f"Acknowledge links work for {days} days; this one expired {utc(expires_at)}. "
            "Use the link in the latest message about the incident.",
        ),
    )


async def _acknowledge(ctx: AppContext, incident_id: int) -> Page:
    assert ctx.engine is not None
    now = ctx.clock()
    async with ctx.engine.begin() as connection:
        subject = await ack_subject(connection, incident_id)
        if subject is None:
            return NOT_FOUND
        done = await effects.acknowledge(connection, subject.incident, now, ACKNOWLEDGED_BY)
        if done is None:
            # Resolved or acknowledged already (perhaps a moment ago): say so, change nothing.
            return _describe(ctx, await ack_subject(connection, incident_id), posted=True)
    log.info(
        "incident acknowledged",
        incident=incident_id,
        monitor=done.incident.monitor_id,
        told=len(done.told),
    )
    return _acknowledged_now(ctx, replace(subject, incident=done.incident), list(done.told))


async def _slo_alert(ctx: AppContext, alert_id: int, *, posted: bool) -> Page:
    """The SLO alert a link names; POST acknowledges it (its reminders stop)."""
    assert ctx.engine is not None
    now = ctx.clock()
    async with ctx.engine.begin() as connection:
        found = await slo_alerts.find(connection, alert_id)
        if found is None:
            return NOT_FOUND
        alert, row = found
        done = posted and await slo_alerts.acknowledge(connection, alert, now)
    if done:
        log.info("slo alert acknowledged", alert=alert_id, monitor=alert.monitor_id)
    return _slo_page(ctx, alert, row, posted=posted, done=done)


def _slo_page(ctx: AppContext, alert: SloAlert, row: Any, *, posted: bool, done: bool) -> Page:
    monitor = ctx.loaded.shown().monitor(alert.monitor_id)
    name = alert.monitor_id if monitor is None else monitor.name
    words = SLO_WORDS.get(alert.kind, alert.kind)
    facts = (("Monitor", name), ("Alert", words), ("Since", utc(alert.opened_at)))
    link = _status_link(ctx, alert.monitor_id)
    late = 409 if posted else 200
    if row.resolved_at is not None:
        said = f"The alert on {name} cleared {utc(row.resolved_at)}: nothing left to acknowledge."
        return Page(late, "ok", "Already cleared", (said,), facts, status_page_url=link)
    if done:
        said = f"Reminders about this alert on {name} have stopped."
        return Page(200, "ok", "Acknowledged", (said,), facts, status_page_url=link)
    if row.acknowledged_at is not None or posted:
        said = f"It was acknowledged {utc(row.acknowledged_at or ctx.clock())}."
        return Page(late, "ok", "Already acknowledged", (said,), facts, status_page_url=link)
    said = "Acknowledge to stop the reminders; the alert clears by itself when the SLO recovers."
    return Page(200, "down", f"{name}: {words}", (said,), facts, form=True, status_page_url=link)


SLO_WORDS = {
    "slo.burn_fast": "Error budget burning fast",
    "slo.burn_slow": "Error budget burning",
    "slo.exhausted": "Error budget used up",
}


def _describe(ctx: AppContext, subject: AckSubject | None, *, posted: bool) -> Page:
    if subject is None:
        return NOT_FOUND
    incident, name = subject.incident, _name(ctx, subject)
    facts = _facts(ctx, subject)
    link = _status_link(ctx, incident.monitor_id)
    if incident.resolved_at is not None:
        paragraph = (
            f"{name} recovered {utc(incident.resolved_at)}, after "
            f"{duration(incident.resolved_at - incident.started_at)}: there is nothing left to "
            "acknowledge."
        )
        status = 409 if posted else 200
        return Page(status, "ok", "Already resolved", (paragraph,), facts, status_page_url=link)
    if incident.acknowledged_at is not None:
        paragraph = (
            f"Someone acknowledged it {utc(incident.acknowledged_at)}: escalation has stopped. "
            f"The incident stays open until {name} recovers."
        )
        return Page(200, "warn", "Already acknowledged", (paragraph,), facts, status_page_url=link)
    return Page(
        200,
        "down",
        f"{name} is DOWN",
        ("Acknowledge to stop the escalation: nobody else will be paged about this incident.",),
        facts,
        form=True,
        status_page_url=link,
    )


def _acknowledged_now(ctx: AppContext, subject: AckSubject, told: list[str]) -> Page:
    name = _name(ctx, subject)
    paragraphs = [
        f"Escalation and reminders for the incident on {name} have stopped. It stays open "
        f"until {name} recovers; everyone notified will be told when it does."
    ]
    if told:
        paragraphs.append(f"Telling {', '.join(told)} that it was acknowledged.")
    link = _status_link(ctx, subject.incident.monitor_id)
    facts = _facts(ctx, subject)
    return Page(200, "ok", "Acknowledged", tuple(paragraphs), facts, status_page_url=link)


def _name(ctx: AppContext, subject: AckSubject) -> str:
    monitor = ctx.loaded.shown().monitor(subject.incident.monitor_id)
    if monitor is not None:
        return monitor.name
    return subject.monitor_name or subject.incident.monitor_id


def _facts(ctx: AppContext, subject: AckSubject) -> tuple[tuple[str, str], ...]:
    incident = subject.incident
    end = incident.resolved_at or ctx.clock()
    facts = [
        ("Monitor", _name(ctx, subject)),
        ("Cause", incident.cause),
        ("Since", utc(incident.started_at)),
        ("Duration", duration(end - incident.started_at)),
    ]
    if incident.acknowledged_at is not None:
        facts.append(("Acknowledged", utc(incident.acknowledged_at)))
    if incident.resolved_at is not None:
        facts.append(("Resolved", utc(incident.resolved_at)))
    return tuple(facts)


def _status_link(ctx: AppContext, monitor_id: str) -> str:
    monitor = ctx.loaded.shown().monitor(monitor_id)
    return f"/monitors/{monitor_id}" if monitor is not None and monitor.public else "/"
