"""Benchmarks for upwatch: `make bench` runs them; results are reported in docs/benchmarks.md."""
