"""`depends_on`: no page while a monitor this one needs is failing.

While any parent's latest result is down (confirmed or not) or the parent is in maintenance, the
dependent's incident is recorded and shown ("while database is down") but fires no step. When
every parent is up again and the incident is still open, its steps fire from that moment (step
k at that moment + after_k). A flapping hold is left alone: flap damping decides when it ends.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from upwatch.engine.flapping import HOLD as FLAPPING
from upwatch.engine.model import Incident
from upwatch.probes.result import ProbeState

PREFIX = "depends_on:"


def holding_parent(
    parents: Sequence[str],
    latest: Mapping[str, ProbeState | None],
    in_maintenance: Collection[str],
) -> str | None:
    """The first parent (in the config's order) that holds the dependent's pages, if any."""
    for parent in parents:
        if parent in in_maintenance or latest.get(parent) is ProbeState.DOWN:
            return parent
    return None


def hold(incident_held_by: str | None, parent: str | None) -> str | None:
    """The incident's new `held_by` given the parent that holds it now (None: none does)."""
    if incident_held_by == FLAPPING:
        return incident_held_by
    return None if parent is None else PREFIX + parent


def held_parent(held_by: str | None) -> str | None:
    """The parent named by a `depends_on:` hold, for "while database is down"."""
    if held_by is None or not held_by.startswith(PREFIX):
        return None
    return held_by.removeprefix(PREFIX)


def apply_hold(incident: Incident, parent: str | None, now: datetime) -> Incident:
    """`incident` held by `parent`, or released at `now` when it was held and no parent is."""
    after = hold(incident.held_by, parent)
    if after == incident.held_by:
        return incident
    if after is None:
        return replace(incident, held_by=None, escalate_from=now)
    return replace(incident, held_by=after)
