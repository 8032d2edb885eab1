"""Telegram's refusals read by whom they concern: account statuses, unconfirmed invites,
Telegram's error names kept, campaigns that pause themselves, chats resolved once per account

Revision ID: c4e8a1b2d3f5
Revises: b7d3e1f4a2c8
Create Date: 2026-12-06 01:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4e8a1b2d3f5"
down_revision: str | None = "b7d3e1f4a2c8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New enum values cannot be used in the transaction that adds them; nothing here does.
    op.execute("ALTER TYPE account_status ADD VALUE IF NOT EXISTS 'restricted' AFTER 'parked'")
    op.execute("ALTER TYPE account_status ADD VALUE IF NOT EXISTS 'frozen' AFTER 'restricted'")
    op.execute(
        "ALTER TYPE campaign_target_state ADD VALUE IF NOT EXISTS 'unconfirmed' AFTER 'sending'"
    )
    # Telegram's own error name of an attempt, verbatim, so that a new error can be seen.
    op.add_column("invite_events", sa.Column("error", sa.String(length=64), nullable=True))
    # The few attempts waiting for a membership check, found without walking a campaign.
    op.create_index(
        "ix_invite_events_unconfirmed",
        "invite_events",
        ["campaign_id", "tg_user_id"],
        postgresql_where=sa.text("outcome = 'unconfirmed'"),
    )
    # Why a campaign paused itself (e.g. the chat is full); cleared on resume.
    op.add_column("campaigns", sa.Column("paused_reason", sa.String(length=32), nullable=True))
    # When the account last met PEER_FLOOD: a second one soon after makes it `restricted`.
    op.add_column(
        "telegram_accounts",
        sa.Column("last_peer_flood_at", sa.DateTime(timezone=True), nullable=True),
    )
    # A chat as one account resolved it: Telegram's access hashes are per account, and
    # resolving a username again on every pass is what earns hours-long flood waits.
    op.create_table(
        "account_chats",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("access_hash", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=True),
        sa.Column(
            "resolved_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["account_id"], ["telegram_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "chat_id"),
    )


def downgrade() -> None:
    op.drop_table("account_chats")
    op.drop_column("telegram_accounts", "last_peer_flood_at")
    op.drop_column("campaigns", "paused_reason")
    op.drop_index("ix_invite_events_unconfirmed", table_name="invite_events")
    op.drop_column("invite_events", "error")
    # PostgreSQL cannot drop enum values: rows that use them go back to the nearest old one.
    op.execute("UPDATE campaign_targets SET state = 'sending' WHERE state = 'unconfirmed'")
    op.execute(
        "UPDATE telegram_accounts SET status = 'parked' WHERE status IN ('restricted', 'frozen')"
    )
