from pathlib import Path

from upwatch.config.loader import load_config

CONFIG = """
version: 1
channels:
  slack: {type: slack, webhook_url: "https://hooks.slack.test/services/T1/B2/literal-slack-token"}
  mail: {type: email, smtp_url: "smtp://bot:literal-smtp-pass@mail.test:587",
         from: a@b.test, to: [c@d.test]}
  hook: {type: webhook, url: "https://hooks.test/x", secret: "whsec_bGl0ZXJhbC13ZWJob29r"}
monitors:
  - {id: api, name: API, url: "https://u:literal-url-pass@api.test/",
     headers: {Authorization: "Bearer literal-bearer-token"},
     basic_auth: {username: u, password: literal-basic-pass}}
  - {id: beat, name: Beat, type: heartbeat, token: literal-ping-token}
"""


def test_credentials_written_literally_are_secrets_too(tmp_path: Path) -> None:
    path = tmp_path / "monitors.yaml"
    path.write_text(CONFIG)

    loaded = load_config(str(path), environ={})

    text = " ".join(
        [
            "https://hooks.slack.test/services/T1/B2/literal-slack-token",
            "literal-smtp-pass whsec_bGl0ZXJhbC13ZWJob29r literal-url-pass",
            "Bearer literal-bearer-token literal-basic-pass literal-ping-token",
        ]
    )
    assert "literal" not in loaded.redact(text)
    assert "api" in loaded.redact("monitor api is down")  # ordinary words survive


def test_the_status_page_address_from_a_variable_stays_a_working_link(tmp_path: Path) -> None:
    # On Railway the address is ${RAILWAY_PUBLIC_DOMAIN}: it is the link in every message, so
    # it is published, not a secret; other variables still are.
    path = tmp_path / "monitors.yaml"
    path.write_text(
        "version: 1\n"
        "status_page: {public_url: 'https://${DOMAIN}'}\n"
        "monitors:\n"
        "  - {id: api, name: API, url: 'https://api.test/', headers: {X-Key: '${KEY}'}}\n"
    )

    loaded = load_config(str(path), environ={"DOMAIN": "status.acme.test", "KEY": "k3y-value"})

    assert loaded.redact("see https://status.acme.test/ack/1") == (
        "see https://status.acme.test/ack/1"
    )
    assert "k3y-value" not in loaded.redact("X-Key: k3y-value")
