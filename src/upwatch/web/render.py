"""Rendering public pages: one Jinja2 environment (autoescape on), and bodies that are compressed
and tagged once when rendered, then served as bytes.

Nothing here looks for secrets in the rendered text: what a template gets is already redacted
(`LoadedConfig.shown()`, and names, targets and causes as they were stored), see config/shown.py.

GZip happens here, once per rendering, not per request: a cached page is sent as the stored gzip
bytes with `Content-Encoding` set (starlette's GZipMiddleware leaves such responses alone).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import Response

from upwatch.web.pages_format import duration, milliseconds, percent

MIN_GZIP_BYTES = 500
HTML = "text/html; charset=utf-8"


def templates_dir() -> Path:
    """Inside the installed wheel (`upwatch/_templates`), else the checkout's `templates/`."""
    packaged = Path(str(resources.files("upwatch"))) / "_templates"
    if (packaged / "page").is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "templates"


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=True,  # every name, cause and announcement comes from config or a probed server
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


_ENV = _environment()
_ENV.globals.update(pct=percent, duration=duration, ms=milliseconds)


def render(name: str, **values: Any) -> str:
    return _ENV.get_template(name).render(**values)


@dataclass(frozen=True, slots=True)
class Body:
    """A rendered response body, ready to send compressed or not."""

    raw: bytes
    gzipped: bytes
    etag: str
    media_type: str

    @classmethod
    def of(cls, text: str, media_type: str) -> Body:
        raw = text.encode()
        packed = gzip.compress(raw, compresslevel=6, mtime=0) if len(raw) >= MIN_GZIP_BYTES else b""
        etag = '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'
        return cls(raw, packed, etag, media_type)


def respond(
    request: Request,
    body: Body,
    *,
    status: int = 200,
    cache_seconds: int = 15,
    headers: dict[str, str] | None = None,
) -> Response:
    """The body, gzipped when the client accepts it; 304 when the client has this version."""
    sent = {
        "ETag": body.etag,
        "Cache-Control": f"public, max-age={cache_seconds}" if cache_seconds else "no-store",
        "Vary": "Accept-Encoding",
        **(headers or {}),
    }
    if status == 200 and body.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=sent)
    content = body.raw
    if body.gzipped and "gzip" in request.headers.get("accept-encoding", ""):
        content = body.gzipped
        sent["Content-Encoding"] = "gzip"
    return Response(content, status_code=status, headers=sent, media_type=body.media_type)
