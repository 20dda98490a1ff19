"""email subscriptions to public incidents

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 20:00:00

Placeholder: filled by the status-page work (a no-op until then).
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    return None


def downgrade() -> None:
    return None
