"""Rules that span sections: ids unique, and every name used refers to something that exists.

These run on the merged document before (and regardless of) model validation, so a wrong reference
is reported together with every other mistake, not only once the rest is fixed.
"""

from __future__ import annotations

from typing import Any

from upwatch.config.source import Path

NO_ESCALATION = "none"
ALL_MONITORS = "*"


def _names(section: Any) -> list[str]:
    return [str(k) for k in section] if isinstance(section, dict) else []


def _missing(kind: str, name: Any, known: list[str]) -> str:
    shown = sorted(known)[:8]
    listed = ", ".join(shown) + (", …" if len(known) > len(shown) else "")
    return f"no {kind} named '{name}' (known: {listed or 'none defined'})"


def check_references(doc: dict[str, Any]) -> list[tuple[Path, str]]:
    """Every broken reference and duplicate id in the merged document."""
    found = doc.get("monitors")
    monitors: list[Any] = found if isinstance(found, list) else []
    return [
        *_duplicate_ids(monitors),
        *_escalation_channels(doc.get("escalations"), _names(doc.get("channels"))),
        *_monitor_escalations(monitors, _names(doc.get("escalations"))),
        *_maintenance_monitors(doc.get("maintenance"), monitors),
        *_dependencies(monitors),
        *_slo_alert_policy(doc.get("slo_alerts"), _names(doc.get("escalations"))),
        *_status_page_names(doc),
    ]


def _duplicate_ids(monitors: list[Any]) -> list[tuple[Path, str]]:
    seen: dict[str, int] = {}
    problems: list[tuple[Path, str]] = []
    for i, monitor in enumerate(monitors):
        if not isinstance(monitor, dict) or not isinstance(monitor.get("id"), str):
            continue
        first = seen.setdefault(monitor["id"], i)
        if first != i:
            message = f"id '{monitor['id']}' is already used by monitors.{first}; ids are unique"
            problems.append((("monitors", i, "id"), message))
    return problems


def _escalation_channels(escalations: Any, channels: list[str]) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []
    if not isinstance(escalations, dict):
        return problems
    for name, steps in escalations.items():
        if name == NO_ESCALATION:
            message = "'none' is reserved: it means a monitor notifies no one"
            problems.append((("escalations", name), message))
        for s, step in enumerate(steps if isinstance(steps, list) else []):
            notify = step.get("notify") if isinstance(step, dict) else None
            for c, channel in enumerate(notify if isinstance(notify, list) else []):
                if channel not in channels:
                    path = ("escalations", name, s, "notify", c)
                    problems.append((path, _missing("channel", channel, channels)))
    return problems


def _monitor_escalations(monitors: list[Any], policies: list[str]) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []
    for i, monitor in enumerate(monitors):
        policy = monitor.get("escalation") if isinstance(monitor, dict) else None
        if policy is not None and policy != NO_ESCALATION and policy not in policies:
            message = _missing("escalation policy", policy, policies) + "; or use `none`"
            problems.append((("monitors", i, "escalation"), message))
    return problems


def _maintenance_monitors(windows: Any, monitors: list[Any]) -> list[tuple[Path, str]]:
    ids = list(
        dict.fromkeys(
            m["id"] for m in monitors if isinstance(m, dict) and isinstance(m.get("id"), str)
        )
    )
    problems: list[tuple[Path, str]] = []
    for w, window in enumerate(windows if isinstance(windows, list) else []):
        listed = window.get("monitors") if isinstance(window, dict) else None
        for m, monitor_id in enumerate(listed if isinstance(listed, list) else []):
            if monitor_id != ALL_MONITORS and monitor_id not in ids:
                message = _missing("monitor", monitor_id, ids) + "; or use '*' for all"
                problems.append((("maintenance", w, "monitors", m), message))
    return problems


def _ids(monitors: list[Any]) -> list[str]:
    return list(
        dict.fromkeys(
            m["id"] for m in monitors if isinstance(m, dict) and isinstance(m.get("id"), str)
        )
    )


def _parents(monitor: Any) -> list[Any]:
    listed = monitor.get("depends_on") if isinstance(monitor, dict) else None
    return listed if isinstance(listed, list) else []


def _dependencies(monitors: list[Any]) -> list[tuple[Path, str]]:
    """`depends_on` names known monitors, never the monitor itself, and forms no cycle."""
    ids = _ids(monitors)
    problems: list[tuple[Path, str]] = []
    graph: dict[str, list[str]] = {}
    for i, monitor in enumerate(monitors):
        own = monitor.get("id") if isinstance(monitor, dict) else None
        for d, parent in enumerate(_parents(monitor)):
            path = ("monitors", i, "depends_on", d)
            if parent == own:
                problems.append((path, "a monitor cannot depend on itself"))
            elif parent not in ids:
                problems.append((path, _missing("monitor", parent, ids)))
            elif isinstance(own, str):
                graph.setdefault(own, []).append(parent)
    cycle = _cycle(graph)
    if cycle:
        first = next(i for i, m in enumerate(monitors) if m.get("id") == cycle[0])
        loop = " → ".join([*cycle, cycle[0]])
        problems.append((("monitors", first, "depends_on"), f"dependency cycle: {loop}"))
    return problems


def _cycle(graph: dict[str, list[str]]) -> list[str]:
    """One cycle of `graph` (its monitors in order), or [] when there is none."""
    done: set[str] = set()
    for root in sorted(graph):
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, index = stack.pop()
            if index == 0:
                if node in on_path:
                    return path[path.index(node) :]
                if node in done:
                    continue
                path.append(node)
                on_path.add(node)
            children = graph.get(node, [])
            if index < len(children):
                stack.append((node, index + 1))
                stack.append((children[index], 0))
            else:
                done.add(node)
                on_path.discard(node)
                path.pop()
    return []


def _slo_alert_policy(section: Any, policies: list[str]) -> list[tuple[Path, str]]:
    policy = section.get("policy") if isinstance(section, dict) else None
    if isinstance(policy, str) and policy not in policies:
        return [(("slo_alerts", "policy"), _missing("escalation policy", policy, policies))]
    return []


def _status_page_names(doc: dict[str, Any]) -> list[tuple[Path, str]]:
    """`updates_policy` names a policy, `subscriptions.email_channel` an email channel."""
    page = doc.get("status_page")
    if not isinstance(page, dict):
        return []
    problems: list[tuple[Path, str]] = []
    policies = _names(doc.get("escalations"))
    policy = page.get("updates_policy")
    if isinstance(policy, str) and policy not in policies:
        message = _missing("escalation policy", policy, policies)
        problems.append((("status_page", "updates_policy"), message))
    subscriptions = page.get("subscriptions")
    name = subscriptions.get("email_channel") if isinstance(subscriptions, dict) else None
    found = doc.get("channels")
    channels: dict[str, Any] = found if isinstance(found, dict) else {}
    emails = [n for n, c in channels.items() if isinstance(c, dict) and c.get("type") == "email"]
    if isinstance(name, str) and name not in emails:
        problems.append(
            (
                ("status_page", "subscriptions", "email_channel"),
                _missing("email channel", name, emails),
            )
        )
    return problems
