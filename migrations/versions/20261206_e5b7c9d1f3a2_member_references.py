"""Audience members keep their two references by triggers and per-statement checks

Revision ID: e5b7c9d1f3a2
Revises: c7d2e9f4a1b3
Create Date: 2026-12-06 15:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e5b7c9d1f3a2"
down_revision: str | None = "c7d2e9f4a1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# audience_members is the table a collection writes a row a person into, a million at a
# time. Its two foreign keys checked every row against the same parent: PostgreSQL 15 runs
# one lookup per inserted row and key (3.4 µs for the audience, 3.3 µs for the account, of
# about 18-20 µs a row; bench/README.md). The writers now check each parent once per
# statement and hold it with FOR KEY SHARE, the lock a foreign key's check takes
# (db/dal_parsing.py `_WRITE`, db/dal_audiences.py `add_members`), and these triggers do what
# ON DELETE did:
# - an audience deleted (or truncated) takes its members with it (was ON DELETE CASCADE);
# - an account deleted leaves the people it saw without a seer (was ON DELETE SET NULL), and
#   without the access hash it was given, which no other account can use.
# Each runs its statement with a snapshot taken after the deletion's row locks were granted,
# so the rows of a writer that held the parent until its commit are seen and handled.
FUNCTIONS = (
    """
CREATE FUNCTION audience_members_follow_audience() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN  -- not TRUNCATE: the table may be in the same command
        DELETE FROM audience_members;
    ELSE
        DELETE FROM audience_members WHERE audience_id = OLD.id;
    END IF;
    RETURN NULL;
END $$
""",
    """
CREATE FUNCTION audience_members_forget_seer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audience_members SET seen_by_account_id = NULL, access_hash = NULL
     WHERE seen_by_account_id = OLD.id;
    RETURN NULL;
END $$
""",
)
TRIGGERS = (
    (
        "CREATE TRIGGER audience_members_follow AFTER DELETE ON audiences "
        "FOR EACH ROW EXECUTE FUNCTION audience_members_follow_audience()"
    ),
    (
        "CREATE TRIGGER audience_members_follow_truncate AFTER TRUNCATE ON audiences "
        "FOR EACH STATEMENT EXECUTE FUNCTION audience_members_follow_audience()"
    ),
    (
        "CREATE TRIGGER audience_members_forget_seer AFTER DELETE ON telegram_accounts "
        "FOR EACH ROW EXECUTE FUNCTION audience_members_forget_seer()"
    ),
)


def upgrade() -> None:
    op.drop_constraint(
        "fk_audience_members_audience_id_audiences", "audience_members", type_="foreignkey"
    )
    op.drop_constraint(
        "fk_audience_members_seen_by_account_id_telegram_accounts",
        "audience_members",
        type_="foreignkey",
    )
    for statement in (*FUNCTIONS, *TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER audience_members_forget_seer ON telegram_accounts")
    op.execute("DROP TRIGGER audience_members_follow_truncate ON audiences")
    op.execute("DROP TRIGGER audience_members_follow ON audiences")
    op.execute("DROP FUNCTION audience_members_forget_seer()")
    op.execute("DROP FUNCTION audience_members_follow_audience()")
    op.create_foreign_key(
        "fk_audience_members_audience_id_audiences",
        "audience_members",
        "audiences",
        ["audience_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "fk_audience_members_seen_by_account_id_telegram_accounts",
        "audience_members",
        "telegram_accounts",
        ["seen_by_account_id"],
        ["id"],
        ondelete="SET NULL",
    )
