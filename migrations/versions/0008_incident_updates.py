"""Written incident updates and hand-declared incidents

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 20:00:00

A declared incident is an `incidents` row with `declared` true, a `title`, and no `monitor_id`
(that column names the monitor whose downtime the row is, and a declared incident is nobody's
downtime: uptime, SLOs and the evaluator read monitor incidents only). The monitors it names are
rows of `incident_monitors`, a link table rather than a JSON list, so "the incidents of monitor X"
stays one indexed query on SQLite and PostgreSQL alike. What people write about any incident is
in `incident_updates`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("declared", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.alter_column("monitor_id", existing_type=sa.String(64), nullable=True)
    op.create_table(
        "incident_updates",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("incident_id", BIG_ID, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_index("ix_incident_updates_incident", "incident_updates", ["incident_id", "at"])
    op.create_table(
        "incident_monitors",
        sa.Column("incident_id", BIG_ID, sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("monitor_id", sa.String(64), sa.ForeignKey("monitors.id"), primary_key=True),
    )
    op.create_index("ix_incident_monitors_monitor", "incident_monitors", ["monitor_id"])


def downgrade() -> None:
    op.drop_index("ix_incident_monitors_monitor", "incident_monitors")
    op.drop_table("incident_monitors")
    op.drop_index("ix_incident_updates_incident", "incident_updates")
    op.drop_table("incident_updates")
    op.execute("DELETE FROM incidents WHERE declared")
    with op.batch_alter_table("incidents") as batch:
        batch.alter_column("monitor_id", existing_type=sa.String(64), nullable=False)
        batch.drop_column("declared")
        batch.drop_column("title")
