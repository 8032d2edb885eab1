"""audiences and parse tasks

Revision ID: a96cade4d2b9
Revises: 95c3eb22f704
Create Date: 2026-11-23 11:26:16.465662+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a96cade4d2b9"
down_revision: str | None = "95c3eb22f704"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audiences",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
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
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_audiences_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_audiences_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audiences")),
    )
    op.create_index(op.f("ix_audiences_workspace_id"), "audiences", ["workspace_id"], unique=False)
    op.create_table(
        "audience_usernames",
        sa.Column("audience_id", sa.BigInteger(), nullable=False),
        sa.Column("username_lower", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=True),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            name=op.f("fk_audience_usernames_audience_id_audiences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "audience_id", "username_lower", name=op.f("pk_audience_usernames")
        ),
    )
    op.create_index(
        "uq_audiences_workspace_name",
        "audiences",
        ["workspace_id", sa.literal_column("lower(name)")],
        unique=True,
    )
    op.create_table(
        "audience_members",
        sa.Column("audience_id", sa.BigInteger(), nullable=False),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=True),
        sa.Column("first_name", sa.String(length=128), nullable=False),
        sa.Column("last_name", sa.String(length=128), nullable=True),
        sa.Column(
            "last_seen",
            sa.Enum("online", "recently", "week", "month", "long_ago", "unknown", name="last_seen"),
            nullable=False,
        ),
        sa.Column("premium", sa.Boolean(), nullable=False),
        sa.Column("photo", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=True),
        sa.Column("seen_by_account_id", sa.BigInteger(), nullable=True),
        sa.Column("access_hash", sa.BigInteger(), nullable=True),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            name=op.f("fk_audience_members_audience_id_audiences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["seen_by_account_id"],
            ["telegram_accounts.id"],
            name=op.f("fk_audience_members_seen_by_account_id_telegram_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("audience_id", "tg_user_id", name=op.f("pk_audience_members")),
    )
    op.create_table(
        "parse_tasks",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "kind", sa.Enum("members", "comments", "authors", name="parse_kind"), nullable=False
        ),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("source_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("source_title", sa.String(length=256), nullable=True),
        sa.Column("audience_id", sa.BigInteger(), nullable=False),
        sa.Column("speed", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued", "running", "paused", "done", "failed", "cancelled", name="parse_status"
            ),
            nullable=False,
        ),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("cursor", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("progress_done", sa.BigInteger(), nullable=False),
        sa.Column("progress_total", sa.BigInteger(), nullable=True),
        sa.Column("collected", sa.BigInteger(), nullable=False),
        sa.Column("new_members", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.BigInteger(), nullable=False),
        sa.Column("found_by_search", sa.BigInteger(), nullable=False),
        sa.Column("accounts_used", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("claimed_by", sa.String(length=96), nullable=True),
        sa.Column("claim_epoch", sa.BigInteger(), nullable=False),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notify_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("notify_message_id", sa.BigInteger(), nullable=True),
        sa.Column("trace_id", sa.String(length=32), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            name=op.f("fk_parse_tasks_audience_id_audiences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_parse_tasks_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_parse_tasks_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parse_tasks")),
    )
    op.create_index(
        op.f("ix_parse_tasks_audience_id"), "parse_tasks", ["audience_id"], unique=False
    )
    op.create_index(
        "ix_parse_tasks_queue", "parse_tasks", ["status", "priority", "id"], unique=False
    )
    op.create_index(
        op.f("ix_parse_tasks_workspace_id"), "parse_tasks", ["workspace_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("audience_usernames")
    op.drop_index(op.f("ix_parse_tasks_workspace_id"), table_name="parse_tasks")
    op.drop_index("ix_parse_tasks_queue", table_name="parse_tasks")
    op.drop_index(op.f("ix_parse_tasks_audience_id"), table_name="parse_tasks")
    op.drop_table("parse_tasks")
    op.drop_table("audience_members")
    op.drop_index("uq_audiences_workspace_name", table_name="audiences")
    op.drop_index(op.f("ix_audiences_workspace_id"), table_name="audiences")
    op.drop_table("audiences")
    for name in ("parse_status", "parse_kind", "last_seen"):
        op.execute(f"DROP TYPE IF EXISTS {name}")
