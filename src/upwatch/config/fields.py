"""The building blocks of the monitors.yaml models: strict models, common value types, and the
error a rule about several fields raises. Shared by the config models and the channel modules
(which describe their own config), so neither imports the other's module to get them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SLUG_RE = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+$")


def _aware(value: datetime) -> datetime:
    # A time written without an offset is UTC, whatever status_page.timezone says.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/?#]+", value, re.IGNORECASE):
        raise ValueError("must be an http:// or https:// URL")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("must be an email address such as oncall@example.com")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
Email = Annotated[str, AfterValidator(_email)]
Slug = Annotated[str, Field(pattern=SLUG_RE)]
Name = Annotated[str, Field(min_length=1)]
Instant = Annotated[datetime, AfterValidator(_aware)]


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        str_strip_whitespace=False,
        use_attribute_docstrings=True,  # each field's docstring is its description in the schema
    )


class FieldError(ValueError):
    """A rule about one field, checked with its neighbours; the loader reports it at `field`.

    `judges` names the fields whose values the rule looks at (by default `field` alone; none for a
    rule about which keys are present): while one of them still waits for an environment variable
    (`check --no-env`), the rule cannot be judged.
    """

    def __init__(
        self, field: str | None, message: str, judges: tuple[str, ...] | None = None
    ) -> None:
        super().__init__(message)
        self.field = field  # None: the field being validated, from a field validator
        if judges is None:
            judges = (field,) if field else ()
        self.judges = judges
