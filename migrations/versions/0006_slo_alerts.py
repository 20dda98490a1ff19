"""SLO alerts: one row per alert, open until its condition clears

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slo_alerts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("monitor_id", sa.String(64), sa.ForeignKey("monitors.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("policy_name", sa.String(64), nullable=True),
        sa.Column("policy", sa.JSON(), nullable=True),
        sa.Column("progress", sa.JSON(), nullable=True),
    )
    op.create_index("ix_slo_alerts_monitor_open", "slo_alerts", ["monitor_id", "resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_slo_alerts_monitor_open", "slo_alerts")
    op.drop_table("slo_alerts")
