"""Campaigns that wait for the owner's approval

Revision ID: a1c3e5f7b9d2
Revises: f3a7c9e2b841
Create Date: 2026-12-06 03:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a1c3e5f7b9d2"
down_revision: str | None = "f3a7c9e2b841"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A manager's start of a campaign larger than APPROVAL_THRESHOLD waits here for the owner.
    # (PostgreSQL 12+ adds an enum value inside a transaction; it is only used later.)
    op.execute("ALTER TYPE campaign_status ADD VALUE IF NOT EXISTS 'approval' AFTER 'draft'")


def downgrade() -> None:
    # PostgreSQL cannot drop one value of an enum: rebuild the type without it, the waiting
    # campaigns back to drafts.
    op.execute("UPDATE campaigns SET status = 'draft' WHERE status = 'approval'")
    op.execute("ALTER TYPE campaign_status RENAME TO campaign_status_old")
    op.execute(
        "CREATE TYPE campaign_status AS ENUM "
        "('draft', 'scheduled', 'running', 'paused', 'waiting', 'done', 'cancelled')"
    )
    op.execute("ALTER TABLE campaigns ALTER COLUMN status DROP DEFAULT")
    op.execute(
        "ALTER TABLE campaigns ALTER COLUMN status TYPE campaign_status "
        "USING status::text::campaign_status"
    )
    op.execute("DROP TYPE campaign_status_old")
