"""Channel types: one module each (its config model and its `send`), listed in `registry`."""
