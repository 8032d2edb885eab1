"""Installation-wide opt-outs: people who told the bot never to be invited

Revision ID: f3b9c2d4e6a8
Revises: e1f2a3b4c5d6
Create Date: 2026-12-06 03:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3b9c2d4e6a8"
down_revision: str | None = "e1f2a3b4c5d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Keyed by the Telegram id alone: the claim and the fill look a person up by it in
    # every workspace, and a person is on the list once however often they ask.
    op.create_table(
        "global_opt_outs",
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tg_user_id", name=op.f("pk_global_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("global_opt_outs")
