"""A change to a user's row is announced on the `users_changed` channel (the bot's sender cache)

Revision ID: a9c4e7b2d5f1
Revises: c7d1e9f3a5b2
Create Date: 2026-12-06 05:50:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a9c4e7b2d5f1"
down_revision: str | None = "c7d1e9f3a5b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The bot remembers the users it has just seen (db/sender_cache.py) and forgets one when
# PostgreSQL says its row changed. A trigger, not the code that writes users: a block from
# the panel or the bot, a role, /lang, a registration refreshed, an erasure, a hand-written
# UPDATE all go through it, and NOTIFY is sent when (and only if) the transaction commits
# (postgresql.org/docs/15/sql-notify.html). The payload is the Telegram id, the cache's key;
# a TRUNCATE announces '*' (forget everyone).
NOTIFY_FN = """
CREATE FUNCTION users_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('users_changed', '*');
    ELSE
        PERFORM pg_notify('users_changed', OLD.telegram_id::text);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(NOTIFY_FN)
    op.execute(
        "CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users "
        "FOR EACH ROW EXECUTE FUNCTION users_changed_notify()"
    )
    op.execute(
        "CREATE TRIGGER users_truncated AFTER TRUNCATE ON users "
        "FOR EACH STATEMENT EXECUTE FUNCTION users_changed_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_truncated ON users")
    op.execute("DROP TRIGGER users_changed ON users")
    op.execute("DROP FUNCTION users_changed_notify()")
