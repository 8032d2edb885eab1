"""teams and installation settings: the bot's current workspace, installation-wide limits

Revision ID: 8e2a4c6d9f10
Revises: 5d1f0c2a7b31
Create Date: 2026-11-23 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "8e2a4c6d9f10"
down_revision: str | None = "5d1f0c2a7b31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("current_workspace_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_users_current_workspace_id_workspaces"),
        "users",
        "workspaces",
        ["current_workspace_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_table(
        "installation_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["users.id"],
            name=op.f("fk_installation_settings_updated_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_installation_settings")),
    )


def downgrade() -> None:
    op.drop_table("installation_settings")
    op.drop_constraint(
        op.f("fk_users_current_workspace_id_workspaces"), "users", type_="foreignkey"
    )
    op.drop_column("users", "current_workspace_id")
