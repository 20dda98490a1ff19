"""incidents remember severity and holds; monitor states remember flapping

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 19:30:00

Additive and nullable: an incident without a severity is critical (the default), one without a
hold escalates as before; a state without `flapping_since` is not flapping. Recent changes of a
flap-damped monitor live in the state's `extra` JSON.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("severity", sa.String(16), nullable=True))
        batch.add_column(sa.Column("held_by", sa.String(80), nullable=True))
        batch.add_column(sa.Column("escalate_from", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "monitor_states",
        sa.Column("flapping_since", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("monitor_states", "flapping_since")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("escalate_from")
        batch.drop_column("held_by")
        batch.drop_column("severity")
