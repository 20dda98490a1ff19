"""Storage: SQLAlchemy models, migrations, and the queries the daemon and pages run."""
