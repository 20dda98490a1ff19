"""Probes: each turns a monitor definition into a ProbeResult."""
