"""Monitor state, incidents, escalation and maintenance as pure functions of (state, now)."""
