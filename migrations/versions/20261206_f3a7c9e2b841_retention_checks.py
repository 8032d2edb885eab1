"""Retention: whether invited people stayed a day and a week; notices before unused audiences go

Revision ID: f3a7c9e2b841
Revises: f3b9c2d4e6a8
Create Date: 2026-12-06 03:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3a7c9e2b841"
down_revision: str | None = "f3b9c2d4e6a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A person becomes `invited` in one of several statements of the invite engine (the settle
# after a call, the membership check of an unconfirmed call); a row trigger on that one
# change writes the retention row in the same statement, so no path can forget it. The WHEN
# clause is evaluated without calling the function: other target updates pay nothing.
RETENTION_FN = """
CREATE FUNCTION retention_checks_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO retention_checks (campaign_id, tg_user_id, workspace_id, chat_id, audience_id,
                                  account_id, added_at)
    SELECT c.id, NEW.tg_user_id, c.workspace_id, c.target_chat_id, c.audience_id,
           NEW.account_id, clock_timestamp()
      FROM campaigns c
     WHERE c.id = NEW.campaign_id AND c.target_chat_id IS NOT NULL AND NEW.tg_user_id IS NOT NULL
    ON CONFLICT (campaign_id, tg_user_id) DO NOTHING;
    RETURN NULL;
END $$
"""
RETENTION_TRIGGER = """
CREATE TRIGGER campaign_targets_retention AFTER UPDATE OF state ON campaign_targets
FOR EACH ROW WHEN (NEW.state = 'invited' AND OLD.state IS DISTINCT FROM 'invited')
EXECUTE FUNCTION retention_checks_add()
"""


def upgrade() -> None:
    op.create_table(
        "retention_checks",
        sa.Column(
            "campaign_id",
            sa.BigInteger(),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tg_user_id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.BigInteger(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "audience_id",
            sa.BigInteger(),
            sa.ForeignKey("audiences.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stayed_day", sa.Boolean(), nullable=True),
        sa.Column("stayed_week", sa.Boolean(), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tries", sa.SmallInteger(), nullable=False, server_default="0"),
    )
    # The job's way to the people due for a check: only rows with a check still to come.
    op.create_index(
        "ix_retention_checks_due",
        "retention_checks",
        ["added_at"],
        postgresql_where=sa.text("stayed_week IS NULL"),
    )
    op.create_index(
        "ix_retention_checks_workspace", "retention_checks", ["workspace_id", "tg_user_id"]
    )
    op.execute(RETENTION_FN)
    op.execute(RETENTION_TRIGGER)
    # When the owner was told that an unused audience is about to be deleted.
    op.add_column(
        "audiences", sa.Column("retention_notice_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("audiences", "retention_notice_at")
    op.execute("DROP TRIGGER IF EXISTS campaign_targets_retention ON campaign_targets")
    op.execute("DROP FUNCTION IF EXISTS retention_checks_add()")
    op.drop_index("ix_retention_checks_workspace", table_name="retention_checks")
    op.drop_index("ix_retention_checks_due", table_name="retention_checks")
    op.drop_table("retention_checks")
