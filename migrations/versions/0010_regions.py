"""regions: each instance's region, the regions' latest results, region availability

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Additive only: an older release still running during a redeploy ignores all of it.
    op.add_column("instances", sa.Column("region", sa.String(64), nullable=True))
    op.create_table(
        "region_votes",
        sa.Column("monitor_id", sa.String(64), primary_key=True),
        sa.Column("region", sa.String(64), primary_key=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("public_cause", sa.Text(), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_region_votes_written_at", "region_votes", ["written_at"])
    op.create_table(
        "regions",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("regions")
    op.drop_index("ix_region_votes_written_at", table_name="region_votes")
    op.drop_table("region_votes")
    op.drop_column("instances", "region")
