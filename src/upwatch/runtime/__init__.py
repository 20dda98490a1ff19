"""The daemon: lifecycle, scheduling, the result pipeline and health, wired together."""
