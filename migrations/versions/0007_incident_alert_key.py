"""Incidents: the key of their one alert in an on-call service (PagerDuty's dedup_key)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: incidents opened before this revision have none (their channels derive a key
    # from the incident id instead).
    op.add_column("incidents", sa.Column("alert_key", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("incidents", "alert_key")
