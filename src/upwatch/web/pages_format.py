"""How the status page writes numbers, durations and times for people (not for programs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def duration(seconds: float) -> str:
    """`6m 55s`, `1h 2m`, `3d 4h`: the two largest units, so a glance is enough."""
    left = max(0, int(seconds))
    if left == 0:
        return "0s"
    parts = []
    for unit, size in _UNITS:
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
        elif parts:
            parts.append("")  # a skipped unit still counts towards the two shown
        if len(parts) == 2:
            break
    return " ".join(p for p in parts if p)


def percent(value: float | None) -> str:
    """`99.52%`, `100%`; an em dash when there is nothing to measure yet."""
    if value is None:
        return "—"
    if value >= 100:
        return "100%"
    return f"{value:.2f}%"


def milliseconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value / 1000:.1f} s".replace(".0 s", " s")
    return f"{round(value)} ms"


@dataclass(frozen=True, slots=True)
class Clockface:
    """Times in the status page's time zone, labelled with it (`Nov 22, 08:12 UTC`)."""

    tz: tzinfo

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def zone(self, at: datetime) -> str:
        return self.local(at).tzname() or ""

    def time(self, at: datetime | None) -> str:
        if at is None:
            return "—"
        local = self.local(at)
        return f"{local:%b} {local.day}, {local:%H:%M} {local.tzname() or ''}".rstrip()

    def clock(self, at: datetime) -> str:
        local = self.local(at)
        return f"{local:%H:%M} {local.tzname() or ''}".rstrip()

    def span(self, start: datetime, end: datetime) -> str:
        """`Dec 1, 02:00 – 04:00 UTC`, or both dates when the span crosses midnight."""
        a, b = self.local(start), self.local(end)
        if a.date() == b.date():
            return f"{a:%b} {a.day}, {a:%H:%M} – {self.clock(end)}"
        return f"{self.time(start)} – {self.time(end)}"

    def day(self, value: date) -> str:
        return f"{value:%a}, {value:%b} {value.day}, {value.year}"

    def iso(self, at: datetime) -> str:
        return self.local(at).isoformat(timespec="seconds")
