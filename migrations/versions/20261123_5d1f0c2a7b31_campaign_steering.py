"""campaign steering: progress message, trace id, username-only targets

Revision ID: 5d1f0c2a7b31
Revises: ccf90e743c6b
Create Date: 2026-11-23 18:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d1f0c2a7b31"
down_revision: str | None = "ccf90e743c6b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("notify_chat_id", sa.BigInteger(), nullable=True))
    op.add_column("campaigns", sa.Column("notify_message_id", sa.BigInteger(), nullable=True))
    op.add_column("campaigns", sa.Column("trace_id", sa.String(length=32), nullable=True))
    op.add_column("campaigns", sa.Column("waiting_reason", sa.String(length=32), nullable=True))
    # People imported by username only have no id until an account resolves them.
    op.alter_column("campaign_targets", "tg_user_id", existing_type=sa.BigInteger(), nullable=True)
    op.create_index(
        "ux_campaign_targets_username",
        "campaign_targets",
        ["campaign_id", sa.text("lower(username)")],
        unique=True,
        postgresql_where=sa.text("tg_user_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ux_campaign_targets_username", table_name="campaign_targets")
    op.execute("DELETE FROM campaign_targets WHERE tg_user_id IS NULL")
    op.alter_column("campaign_targets", "tg_user_id", existing_type=sa.BigInteger(), nullable=False)
    op.drop_column("campaigns", "waiting_reason")
    op.drop_column("campaigns", "trace_id")
    op.drop_column("campaigns", "notify_message_id")
    op.drop_column("campaigns", "notify_chat_id")
