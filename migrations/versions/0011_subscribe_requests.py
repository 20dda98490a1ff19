"""subscribe requests: the limit per client address shared by every worker and instance

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscribe_requests",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_subscribe_requests_client_at", "subscribe_requests", ["client", "at"])
    op.create_index("ix_subscribe_requests_at", "subscribe_requests", ["at"])


def downgrade() -> None:
    op.drop_table("subscribe_requests")
