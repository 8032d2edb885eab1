"""Every status an account took, when and why: the history of the accounts' pages

Revision ID: c7d1e9f3a5b2
Revises: b2d4f6a8c0e1
Create Date: 2026-12-06 05:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c7d1e9f3a5b2"
down_revision: str | None = "b2d4f6a8c0e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A trigger, not the code that changes a status: statuses are written by the account service,
# by linking again and by the campaign watch's one UPDATE that ends every elapsed cool-down,
# and a row written in the same statement cannot be forgotten by any of them. A flood wait
# met again while resting (cooldown → cooldown, a later end) is a row too: it is an event.
STATUS_FN = """
CREATE FUNCTION account_status_changes_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT'
       OR NEW.status IS DISTINCT FROM OLD.status
       OR NEW.status_reason IS DISTINCT FROM OLD.status_reason
       OR NEW.cooldown_until IS DISTINCT FROM OLD.cooldown_until THEN
        INSERT INTO account_status_changes (account_id, workspace_id, status, reason, until)
        VALUES (NEW.id, NEW.workspace_id, NEW.status::text, NEW.status_reason, NEW.cooldown_until);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "account_status_changes",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "account_id",
            sa.BigInteger(),
            sa.ForeignKey("telegram_accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "workspace_id",
            sa.BigInteger(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        # The statement's own clock: two changes in one transaction keep their order.
        sa.Column(
            "at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("until", postgresql.TIMESTAMP(timezone=True), nullable=True),
    )
    # The history reads one account's last days, or every account of a workspace for them.
    op.create_index(
        "ix_account_status_changes_account_at", "account_status_changes", ["account_id", "at"]
    )
    op.execute(STATUS_FN)
    op.execute(
        """CREATE TRIGGER account_status_changes_insert AFTER INSERT ON telegram_accounts
           FOR EACH ROW EXECUTE FUNCTION account_status_changes_record()"""
    )
    op.execute(
        """CREATE TRIGGER account_status_changes_update
           AFTER UPDATE OF status, status_reason, cooldown_until ON telegram_accounts
           FOR EACH ROW EXECUTE FUNCTION account_status_changes_record()"""
    )
    # Where each account stands now, so that its history starts somewhere.
    op.execute(
        """INSERT INTO account_status_changes (account_id, workspace_id, at, status, reason, until)
           SELECT id, workspace_id, updated_at, status::text, status_reason, cooldown_until
             FROM telegram_accounts"""
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER account_status_changes_update ON telegram_accounts")
    op.execute("DROP TRIGGER account_status_changes_insert ON telegram_accounts")
    op.execute("DROP FUNCTION account_status_changes_record()")
    op.drop_table("account_status_changes")
