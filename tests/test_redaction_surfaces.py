"""Redaction at the source, over every surface: secrets (with `&<>"` in them, so an escaped form
differs from the raw one) appear on none, in no form; ordinary config values (`X-Team: platform`,
`Accept: text/html`) are not secrets and are shown as written, never starred.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import markupsafe
import pytest
import structlog
from starlette.routing import Route

from tests.daemon_helpers import free_port
from tests.page_data import client
from tests.store_helpers import T0, Harness, MakeHarness, down, outbox, up
from upwatch.cli import main
from upwatch.config.loader import LoadedConfig, load_config
from upwatch.notify.channels.base import SendContext
from upwatch.notify.channels.email import EmailChannel
from upwatch.notify.channels.email import compose as compose_mail
from upwatch.notify.channels.slack import payload as slack_payload
from upwatch.notify.channels.webhook import document as webhook_document
from upwatch.notify.compose import compose
from upwatch.notify.render import Renderer
from upwatch.runtime.logs import configure_logging
from upwatch.store.deliveries import Delivery
from upwatch.web.app import routes

SPECIAL = 's3cr&t<"x>'  # every secret carries it: raw, HTML, URL and JSON forms all differ
ENV = {
    "API_TOKEN": SPECIAL + "envbearer",
    "URL_PASS": SPECIAL + "urlpass",
    "SLACK_TOKEN": SPECIAL + "slacktoken",
    "SMTP_PASS": SPECIAL + "smtppass",
    "HOOK_TOKEN": SPECIAL + "hooktoken",
    "VENDOR": "v3ndor&<x>" + "fromenv",  # an ordinary-looking value, secret by origin
}
LITERAL_KEY = SPECIAL + "literalkey"  # X-Api-Key written in the file
LITERAL_BASIC = SPECIAL + "literalbasic"
HB_TOKEN = "Hb7tok3nQz81xPpLiteral"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"distinctive-webhook-signing-key").decode()
SECRETS = (*ENV.values(), LITERAL_KEY, LITERAL_BASIC, HB_TOKEN, WEBHOOK_SECRET)
# Each secret's tail has no special character: it survives any escaping, so finding none of
# these anywhere proves no form of the secret is there.
TAILS = (*(s.removeprefix(SPECIAL) for s in SECRETS), "Hb7tok3n", "ZGlzdGluY3")
ORDINARY = {"X-Team": "platform", "Accept": "text/html", "User-Agent": "acme-probe/1.0 (ops)"}

CONFIG = f"""\
version: 1
status_page:
  title: Acme platform status
  description: Run by the platform team; answers in text/html and JSON
  public_url: https://status.acme.test
  show_urls: true
channels:
  team-slack: {{type: slack, webhook_url: "https://hooks.slack.test/services/T1/B2/${{SLACK_TOKEN}}"}}
  oncall-email:
    type: email
    smtp_url: "smtp://bot:${{SMTP_PASS}}@mail.acme.test:587"
    from: upwatch@acme.test
    to: [oncall@acme.test]
  pager:
    type: webhook
    url: https://hooks.acme.test/upwatch
    secret: {WEBHOOK_SECRET}
    headers: {{X-Hook-Token: "${{HOOK_TOKEN}}", X-Team: platform}}
escalations:
  page:
    - {{after: 0s, notify: [team-slack, oncall-email, pager]}}
announcements:
  - title: Work by our vendor
    body: "Planned work by ${{VENDOR}} for the platform team"
    severity: minor
    start: "{(T0 - timedelta(hours=1)).isoformat()}"
    end: "{(T0 + timedelta(days=1)).isoformat()}"
monitors:
  - id: api
    name: Platform API
    group: platform
    description: Serves text/html to the platform team
    url: "https://probe:${{URL_PASS}}@api.acme.test/health"
    escalation: page
    headers:
      Authorization: "Bearer ${{API_TOKEN}}"
      X-Api-Key: '{LITERAL_KEY}'
      X-Team: platform
      Accept: text/html
      User-Agent: acme-probe/1.0 (ops)
  - id: web
    name: Website
    group: platform
    url: https://www.acme.test/
    escalation: page
    basic_auth: {{username: probe, password: '{LITERAL_BASIC}'}}
  - {{id: backup, name: Backup, type: heartbeat, token: {HB_TOKEN}, interval: 1h}}
"""


def forms(secret: str) -> set[str]:
    """Every spelling of `secret` a surface could carry."""
    return {
        secret,
        html.escape(secret),
        html.escape(secret, quote=False),
        str(markupsafe.escape(secret)),
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }


def leaks(text: str) -> list[str]:
    found = [f for s in SECRETS for f in forms(s) if f in text]
    return found + [t for t in TAILS if t in text]


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedConfig:
    path = tmp_path / "monitors.yaml"
    path.write_text(CONFIG)
    return load_config(str(path), environ=ENV)


def test_the_secrets_are_exactly_the_contract_s(loaded: LoadedConfig) -> None:
    literal = {LITERAL_KEY, LITERAL_BASIC, HB_TOKEN, WEBHOOK_SECRET}
    slack_url = f"https://hooks.slack.test/services/T1/B2/{ENV['SLACK_TOKEN']}"
    bearer = f"Bearer {ENV['API_TOKEN']}"  # the Authorization header's whole value
    assert loaded.secrets == {*ENV.values(), *literal, slack_url, bearer}
    for word in (*ORDINARY.values(), "https://hooks.acme.test/upwatch"):
        assert word not in loaded.secrets


def _cause(loaded: LoadedConfig) -> str:
    # What a probe library may say: the URL as it was requested, the header it sent.
    url = f"https://probe:{quote(ENV['URL_PASS'])}@api.acme.test/health"
    return f"GET {url} failed ({ENV['API_TOKEN']} / {LITERAL_KEY}); X-Team: platform"


async def _seed(make_harness: MakeHarness, loaded: LoadedConfig) -> Harness:
    harness = await make_harness(loaded, start=T0 - timedelta(hours=2))
    at = T0 - timedelta(minutes=30)
    harness.submit("web", up(at))
    harness.submit("backup", up(at))
    for minutes in (10, 9, 8):
        result = down(T0 - timedelta(minutes=minutes), _cause(loaded), f"refused {LITERAL_KEY}")
        # As the service submits a probe's result: causes redacted before they are stored.
        harness.submit("api", result.redacted(loaded.redact))
    assert await harness.flush(T0)
    return harness


def _paths(ids: list[str]) -> Iterator[str]:
    """Every GET route of the app, for every monitor, plus the query variants."""
    for route in routes():
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        if "{token" in route.path:
            continue  # check-ins and acknowledgements answer yes or no, and change state
        if "{" not in route.path:
            yield route.path
            continue
        for monitor_id in ids:
            yield route.path.replace("{id}", monitor_id).replace("{monitor_id}", monitor_id)
    for monitor_id in ids:
        yield f"/monitors/{monitor_id}?range=7d"
        yield f"/badge/{monitor_id}/uptime.svg?window=24h"


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_no_surface_shows_a_secret_and_ordinary_words_are_not_starred(
    make_harness: MakeHarness,
    loaded: LoadedConfig,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("debug", "json", loaded.secrets)
    harness = await _seed(make_harness, loaded)
    ids = [m.id for m in loaded.config.monitors]
    answers: dict[str, httpx.Response] = {}
    async with client(harness) as public:
        for path in _paths(ids):
            answers[path] = await public.get(path)
    async with client(harness, metrics_token="m3trics-t0ken-value") as private:
        answers["/metrics (token)"] = await private.get(
            "/metrics", headers={"Authorization": "Bearer m3trics-t0ken-value"}
        )

    assert answers["/"].status_code == 200
    for path, answer in answers.items():
        assert not leaks(answer.text), (path, leaks(answer.text))
        assert "Acme ******** status" not in answer.text, path
    page = answers["/"].text
    assert "Acme platform status" in page
    assert "Run by the platform team; answers in text/html and JSON" in page
    assert "Planned work by ******** for the platform team" in page  # ${VENDOR}, at the source
    assert 'type="text/html"' in answers["/feed.atom"].text
    detail = answers["/monitors/api"].text
    assert "Serves text/html to the platform team" in detail
    assert "X-Team: platform" in detail  # the full cause (show_urls), redacted where it held one
    assert "Platform API" in answers["/api/v1/monitors/api"].text
    assert "platform" in answers["/api/v1/monitors/api"].json()["group"]

    messages = await _notifications(harness, loaded)
    assert len(messages) >= 3  # one per channel of the step
    for text in messages:
        assert not leaks(text), leaks(text)
    assert any("Platform API" in text and "X-Team: platform" in text for text in messages)

    logging.getLogger("httpx").warning(
        "HTTP Request: GET %s", f"https://probe:{quote(ENV['URL_PASS'])}@api.acme.test/health"
    )
    structlog.get_logger("upwatch.test").error(
        "a library said", detail=json.dumps({"auth": ENV["API_TOKEN"], "X-Team": "platform"})
    )
    logs = capsys.readouterr().out
    assert '"path": "/monitors/api"' in logs or "/monitors/api" in logs  # the access log ran
    assert not leaks(logs), leaks(logs)
    assert "platform" in logs

    await _command_output(harness, loaded, capsys)


async def _notifications(harness: Harness, loaded: LoadedConfig) -> list[str]:
    """Every message the outbox holds, rendered as each channel would send it."""
    rows = await outbox(harness.engine)
    renderer = Renderer.for_config(loaded)
    async with httpx.AsyncClient() as http:
        ctx = SendContext(http, renderer, lambda: T0)
        rendered: list[str] = []
        for row in rows:
            message = compose(_delivery(row), loaded, (), "an-ack-signing-key-for-tests")
            channel = loaded.config.channels[row.channel]
            rendered += [
                renderer.subject(message),
                renderer.text(message),
                renderer.html(message),
                renderer.slack(message),
                json.dumps(slack_payload(message, ctx)),
                json.dumps(webhook_document(message)),
            ]
            if isinstance(channel, EmailChannel):
                mail = compose_mail(message, channel, ctx)
                rendered += [mail.subject, mail.text, mail.html or ""]
    return rendered


def _delivery(row: object) -> Delivery:
    def get(name: str) -> object:
        return getattr(row, name)

    return Delivery(
        id=int(str(get("id"))),
        key=str(get("key")),
        event=str(get("event")),
        channel=str(get("channel")),
        monitor_id="api",
        incident_id=get("incident_id"),  # type: ignore[arg-type]
        payload=get("payload"),  # type: ignore[arg-type]
        event_at=get("event_at"),  # type: ignore[arg-type]
        created_at=get("created_at"),  # type: ignore[arg-type]
        attempts=1,
        monitor_name=None,
        monitor_group=None,
        monitor_public=True,
    )


async def _command_output(
    harness: Harness, loaded: LoadedConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check` (valid and invalid), `status` and `probe`: what they print holds no secret."""
    url = harness.engine.url.render_as_string(hide_password=False)
    env = {**ENV, "DATABASE_URL": url}
    broken = Path(loaded.path).with_name("broken.yaml")
    broken.write_text(
        Path(loaded.path).read_text().replace("interval: 1h", "interval: ${URL_PASS}")
    )
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        codes = [
            await asyncio.to_thread(main, ["check", "-c", loaded.path]),
            await asyncio.to_thread(main, ["check", "-c", str(broken)]),
            await asyncio.to_thread(main, ["status", "-c", loaded.path]),
            await asyncio.to_thread(main, ["status", "--json", "-c", loaded.path]),
        ]
    out, err = capsys.readouterr()
    assert codes == [0, 2, 0, 0], (codes, out, err)
    assert "broken.yaml" in err  # the problem is reported, without the value
    assert "Platform API" in out
    assert not leaks(out + err), leaks(out + err)


def test_probe_output_holds_no_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()  # nothing listens: the probe fails and prints its cause
    path = tmp_path / "monitors.yaml"
    path.write_text(
        "version: 1\nmonitors:\n"
        f"  - id: local\n    name: Local platform API\n"
        f'    url: "http://probe:${{URL_PASS}}@127.0.0.1:{port}/x/${{VENDOR}}?token=${{API_TOKEN}}"\n'
        f"    headers: {{X-Api-Key: '{LITERAL_KEY}', X-Team: platform}}\n"
    )
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENV.items():
            patch.setenv(name, value)
        code = main(["probe", "local", "-c", str(path)])
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    assert "Local platform API" in out
    assert f"127.0.0.1:{port}" in out
    assert not leaks(out + err), leaks(out + err)
