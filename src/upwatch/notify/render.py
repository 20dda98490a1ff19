"""Rendering messages from Jinja2 templates: shipped under `templates/notify/`, overridable.

`notifications.templates_dir` (relative to the config file) may hold files with the same names as
the shipped ones; a user's file wins. A user's template that fails to render is logged and the
shipped one used instead: a typo in a template must not swallow an alert at 3 a.m.

HTML templates (`*.html`) are autoescaped; text templates are not (they are not markup). Slack's
mrkdwn escapes with the `slack` filter.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import structlog
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)

from upwatch.config.loader import LoadedConfig
from upwatch.notify import text
from upwatch.notify.message import Message

log = structlog.get_logger("upwatch.notify")
SUBJECT, EMAIL_TEXT, EMAIL_HTML, SLACK = "subject.txt", "email.txt", "email.html", "slack.txt"
# Plain-text parts rendered first and handed to every template as strings, so HTML escapes them
# (a macro imported from a text template into an HTML one would bypass autoescaping).
PARTS = ("headline", "advice", "footer")


def templates_root() -> Path:
    """The shipped templates: inside the installed wheel, else the checkout's top level."""
    packaged = Path(str(resources.files("upwatch"))) / "_templates"
    if (packaged / "notify").is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "templates"


def shipped_dir() -> Path:
    return templates_root() / "notify"


def user_dir(loaded: LoadedConfig) -> Path | None:
    """`notifications.templates_dir`, relative to the config file's directory."""
    configured = loaded.config.notifications.templates_dir
    if configured is None:
        return None
    return Path(loaded.path).resolve().parent / configured


def environment(directories: list[Path]) -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(d) for d in directories]),
        autoescape=select_autoescape(("html", "htm"), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        utc=text.utc,
        duration=text.duration,
        slack=text.slack_escape,
        one_line=text.one_line,
        clip=text.clip,
    )
    return env


class Renderer:
    def __init__(self, user_templates: Path | None = None) -> None:
        self.shipped = environment([shipped_dir()])
        self.user = None if user_templates is None else environment([user_templates, shipped_dir()])

    @classmethod
    def for_config(cls, loaded: LoadedConfig) -> Renderer:
        return cls(user_dir(loaded))

    def render(self, name: str, message: Message) -> str:
        context = message.template_context()
        for part in PARTS:
            context[part] = text.one_line(self._render(f"{part}.txt", context))
        return self._render(name, context)

    def _render(self, name: str, context: dict[str, Any]) -> str:
        if self.user is not None:
            try:
                return self.user.get_template(name).render(context)
            except TemplateError as exc:
                log.error(
                    "notification template failed; using the shipped one",
                    template=name,
                    error=f"{type(exc).__name__}: {exc.message or ''}"[:300],
                )
        return self.shipped.get_template(name).render(context)

    def subject(self, message: Message) -> str:
        return text.one_line(self.render(SUBJECT, message))

    def text(self, message: Message) -> str:
        return self.render(EMAIL_TEXT, message).strip() + "\n"

    def html(self, message: Message) -> str:
        return self.render(EMAIL_HTML, message)

    def slack(self, message: Message) -> str:
        return self.render(SLACK, message).strip()
