"""rollups keep a mergeable latency sketch for percentiles

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 19:00:00

Placeholder: filled by the percentile work (a no-op until then).
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    return None


def downgrade() -> None:
    return None
