"""Invites into one target chat per UTC day across a workspace's accounts

Revision ID: e1f2a3b4c5d6
Revises: d9a4f2c7e1b6
Create Date: 2026-12-06 03:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1f2a3b4c5d6"
down_revision: str | None = "d9a4f2c7e1b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One row per workspace, chat and day: the claim reserves a place with an upsert whose
    # WHERE re-checks the latest row under its lock, so accounts claiming at once can never
    # take the chat past its cap (INVITE_DAILY_PER_TARGET).
    op.create_table(
        "target_day_counts",
        sa.Column(
            "workspace_id",
            sa.BigInteger(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("chat_id", sa.BigInteger(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("sent", sa.Integer(), nullable=False, server_default="0"),
    )
    # Today's attempts that spent quota, so that an upgrade in the middle of a day keeps
    # counting from where the journal stands.
    op.execute("""
        INSERT INTO target_day_counts (workspace_id, chat_id, day, sent)
        SELECT workspace_id, chat_id, (at AT TIME ZONE 'UTC')::date, count(*)
          FROM invite_events
         WHERE counted AND at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
         GROUP BY 1, 2, 3
    """)


def downgrade() -> None:
    op.drop_table("target_day_counts")
