"""Redaction at the source: secrets are replaced in a value before it is shown, never searched
for in rendered output (a page holds `&amp;` where the value held `&`, so a search would miss the
escaped form, and would star an ordinary word that happened to be a secret's neighbour).

`redact` works on one value (a name, a cause, a message); `shown_config` is the config as any
page, message or command output may show it: every string holding a secret has it replaced.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic import BaseModel

from upwatch.config.models import Config

MASK = "********"


def escaped_forms(secret: str) -> set[str]:
    """`secret` as a library's text may spell it: raw, on one line, in a URL, HTML or JSON
    (a probe's error quotes the URL it requested, percent-encoded)."""
    return {
        secret,
        " ".join(secret.split()),
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        html.escape(secret),
        html.escape(secret, quote=False),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` (one value: a name, a cause, a message) with every secret in it, in any of its
    escaped forms, replaced by the mask."""
    # However short: a one-letter password is still never printed. The set holds no ordinary
    # word unless a `${VAR}` held one (config/secrets.py), so this stars nothing else.
    forms = {form for s in secrets for form in escaped_forms(s) if form}
    for secret in sorted(forms, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _redacted(value: Any, hide: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return hide(value)
    if isinstance(value, BaseModel):
        changes = {}
        for name in type(value).model_fields:
            old = getattr(value, name)
            new = _redacted(old, hide)
            if new is not old:
                changes[name] = new
        return value.model_copy(update=changes) if changes else value
    if isinstance(value, dict):
        items = {k: _redacted(v, hide) for k, v in value.items()}
        return items if any(items[k] is not value[k] for k in value) else value
    if isinstance(value, list | tuple):
        seq = [_redacted(v, hide) for v in value]
        if all(a is b for a, b in zip(seq, value, strict=True)):
            return value
        return seq if isinstance(value, list) else tuple(seq)
    return value


def shown_config(config: Config, secrets: Iterable[str]) -> Config:
    """`config` as it may be shown: the same object when nothing in it is secret."""
    found = frozenset(secrets)
    if not found:
        return config

    def hide(text: str) -> str:
        hidden = redact(text, found)
        return text if hidden == text else hidden

    shown: Config = _redacted(config, hide)
    return shown
