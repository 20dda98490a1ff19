"""upwatch: self-hosted synthetic monitoring, configured as code."""

__version__ = "0.1.0"
