"""monitor states remember the last success that counted toward recovery

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:40:00

Additive and nullable: a state without it counts the next success, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "monitor_states",
        sa.Column("last_success_counted_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("monitor_states", "last_success_counted_at")
