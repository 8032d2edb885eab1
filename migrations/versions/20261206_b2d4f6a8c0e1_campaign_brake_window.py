"""Where the automatic brake's window starts again, kept with the campaign

Revision ID: b2d4f6a8c0e1
Revises: a1c3e5f7b9d2
Create Date: 2026-12-06 04:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b2d4f6a8c0e1"
down_revision: str | None = "a1c3e5f7b9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Set when the brake pauses a campaign: results and retention checks up to then no longer
    # count, so a person who resumes it gets a fresh window (core/brake.py).
    op.add_column("campaigns", sa.Column("brake_after_event_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "campaigns", sa.Column("brake_after_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("campaigns", "brake_after_at")
    op.drop_column("campaigns", "brake_after_event_id")
