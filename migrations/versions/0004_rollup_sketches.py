"""rollups keep a mergeable latency sketch for percentiles

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 19:00:00

Additive and nullable: `latency_sketch` holds a DDSketch's bins as JSON text, and percentiles
(p50, p95, p99) are read from it when shown. `latency_hist`, `p50_ms` and `p95_ms` stay for one
release and are no longer written: the previous version, still running during a redeploy,
reads a row without them as "no percentiles". Rows without a sketch count as no data when
percentiles are merged over a window.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("rollups_hourly", "rollups_daily")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("latency_sketch", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("latency_sketch")
