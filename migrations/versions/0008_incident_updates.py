"""written incident updates and hand-declared incidents

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 20:00:00

Placeholder: filled by the status-page work (a no-op until then).
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    return None


def downgrade() -> None:
    return None
