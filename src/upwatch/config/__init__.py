"""monitors.yaml: loading with line numbers, interpolation, models and errors."""
