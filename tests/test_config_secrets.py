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
