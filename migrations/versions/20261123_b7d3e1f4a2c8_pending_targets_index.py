"""pending campaign targets: a partial index for the claim

Revision ID: b7d3e1f4a2c8
Revises: 8e2a4c6d9f10
Create Date: 2026-11-23 20:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d3e1f4a2c8"
down_revision: str | None = "8e2a4c6d9f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A claim takes the first pending target of a campaign; without this index it walks past
    # every target already done, which grows with the campaign.
    op.create_index(
        "ix_campaign_targets_pending",
        "campaign_targets",
        ["campaign_id", "id"],
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_targets_pending", table_name="campaign_targets")
