"""Monitor state, incidents, escalation and maintenance as pure functions of (state, now).

Nothing here reads the clock, the database or the network: every function takes the time it
judges, and the store persists the plain values of `model`.

- `model`: ShownState, Incident, MonitorState, Notice, Transition, EscalationProgress.
- `context`: MonitorContext, the per-monitor config an evaluation needs (`context_for`).
- `state`: apply_result, check_in, on_tick, pause, archive, resume, shown_state.
- `heartbeat`: check-ins and deadlines; `notices`: monitor.degraded / certificate.expiring.
- `escalation`: due_notices, next_due, acknowledged_notices, resolved_notices.
- `maintenance`: MaintenanceSchedule (cron windows in the page's time zone).
- `uptime`: uptime and daily bars from intervals; `phase`: probe phases and shards.
- `payload`: the JSON `data` of a Notice.
"""
