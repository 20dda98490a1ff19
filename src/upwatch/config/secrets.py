"""Secrets written literally in the config: credentials count as secret wherever they come from.

`${VAR}` values are secret by origin (see interpolate.py); these are secret by what they are:
every URL credential (its password, a `?token=`), token, password, API key and webhook secret, a
URL that is itself the credential (a Slack webhook), and the values of sensitive headers. Nothing
else is: `X-Team: platform` or `Accept: text/html` are shown where they are shown, so this set
must never hold an ordinary word (redacting it would star that word everywhere).

Found by field name over the whole model, so a channel type added later is covered as long as
its credentials are named like credentials.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel

if TYPE_CHECKING:
    from upwatch.config.models import Config

# Header names whose value is a credential (compared lowercased, by substring).
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_SENSITIVE_HEADER_WORDS = ("token", "secret", "key", "password", "auth")
# Field names whose value is a credential: `token`, `bot_token`, `secret`, `password`,
# `api_key`, `routing_key`, `key_pem`... (`key_file` is a path, not a key).
_SECRET_FIELD_WORDS = ("token", "secret", "password", "key")


def is_sensitive_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in SENSITIVE_HEADERS or any(w in lowered for w in _SENSITIVE_HEADER_WORDS)


def url_credentials(url: str | None) -> Iterator[str]:
    """The password of a URL's userinfo (`smtp://user:pass@host`) and the values of query
    parameters named like credentials (`?api_key=...`, `?token=...`). The user name is an
    identifier, like basic_auth's `username` (as a secret it would star "probe" everywhere);
    no surface shows a URL's userinfo anyway."""
    if not url:
        return
    try:
        parts = urlsplit(url)
        found = [parts.password]
    except ValueError:  # not a URL after all
        return
    query = parse_qsl(parts.query, keep_blank_values=False)
    found.extend(value for name, value in query if is_sensitive_header(name))
    yield from (s for s in found if s)


def _is_secret_field(name: str) -> bool:
    return not name.endswith("_file") and any(w in name for w in _SECRET_FIELD_WORDS)


def is_url_field(name: str) -> bool:
    return name in ("url", "urls") or name.endswith("_url")


def strings_of(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_of(item)


def _field_secrets(name: str, value: Any, url_is_secret: bool) -> Iterator[str]:
    # A list of strings is judged by its field's name, like one string (`urls: [...]`).
    texts = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    if name == "headers" and isinstance(value, Mapping):
        yield from (str(v) for k, v in value.items() if is_sensitive_header(str(k)))
    elif isinstance(value, BaseModel | list | tuple | Mapping) and not texts:
        yield from _model_secrets(value)
    elif _is_secret_field(name):
        yield from strings_of(value)
    elif is_url_field(name):
        for url in strings_of(value):
            yield from url_credentials(url)
            if url_is_secret:
                yield url


def _model_secrets(value: Any) -> Iterator[str]:
    if isinstance(value, BaseModel):
        # A channel whose URL is the credential (whoever knows it can post) says so.
        url_is_secret = bool(getattr(type(value), "url_is_secret", False))
        for name in type(value).model_fields:
            yield from _field_secrets(name, getattr(value, name), url_is_secret)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _model_secrets(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _model_secrets(item)


def literal_secrets(config: Config) -> set[str]:
    """Every credential written in `config` (see the module docstring for what counts)."""
    return model_secrets(config)


def model_secrets(model: BaseModel) -> set[str]:
    """Every credential in one model and what it contains (a channel's config, the config)."""
    return {s for s in _model_secrets(model) if s}
