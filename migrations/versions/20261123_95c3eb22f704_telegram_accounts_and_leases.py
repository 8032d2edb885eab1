"""telegram accounts and leases

Revision ID: 95c3eb22f704
Revises: 2b2b537731a9
Create Date: 2026-11-23 10:59:23.133537+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "95c3eb22f704"
down_revision: str | None = "2b2b537731a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_accounts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.BigInteger(), nullable=False),
        sa.Column("added_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=True),
        sa.Column("first_name", sa.String(length=128), nullable=False),
        sa.Column("phone_masked", sa.String(length=32), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "cooldown",
                "parked",
                "unauthorized",
                "banned",
                "disabled",
                name="account_status",
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.String(length=64), nullable=True),
        sa.Column("cooldown_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_key_id", sa.String(length=16), nullable=False),
        sa.Column("session_nonce", sa.LargeBinary(length=12), nullable=False),
        sa.Column("session_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["added_by_user_id"],
            ["users.id"],
            name=op.f("fk_telegram_accounts_added_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_telegram_accounts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_accounts")),
        sa.UniqueConstraint(
            "workspace_id", "tg_user_id", name=op.f("uq_telegram_accounts_workspace_id")
        ),
    )
    op.create_index(
        op.f("ix_telegram_accounts_workspace_id"),
        "telegram_accounts",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "account_leases",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(length=96), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column(
            "acquired_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "heartbeat_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["telegram_accounts.id"],
            name=op.f("fk_account_leases_account_id_telegram_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_leases")),
    )
    op.create_index(
        op.f("ix_account_leases_expires_at"), "account_leases", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_account_leases_expires_at"), table_name="account_leases")
    op.drop_table("account_leases")
    op.drop_index(op.f("ix_telegram_accounts_workspace_id"), table_name="telegram_accounts")
    op.drop_table("telegram_accounts")
    op.execute("DROP TYPE IF EXISTS account_status")
