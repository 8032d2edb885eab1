"""Campaign counters kept by the statements that record results; member search by trigrams

Revision ID: d9a4f2c7e1b6
Revises: c4e8a1b2d3f5
Create Date: 2026-12-06 03:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d9a4f2c7e1b6"
down_revision: str | None = "c4e8a1b2d3f5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Statement-level triggers with transition tables: every statement that writes targets or
# events (one invite's settle-and-claim, a fill of a million people) adds its net change once,
# in the same statement, so no path can forget it and nothing ever recounts a campaign.
# Each connection adds to rows of its own (`shard` = its backend's pid): two workers never
# wait on each other's counter rows, and no transaction can deadlock on them. Readers sum the
# shards. A campaign deleted with its rows is skipped (its counters went with it).
# PostgreSQL allows transition tables only on single-event triggers, hence three of each.
TARGET_COUNTS_FN = """
CREATE FUNCTION campaign_target_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO campaign_target_counts AS c (campaign_id, shard, state, reason, n)
        SELECT d.campaign_id, pg_backend_pid(), d.state, d.reason, sum(d.n)
          FROM (SELECT campaign_id, state::text AS state, coalesce(reason, '') AS reason, 1 AS n
                  FROM new_rows) AS d
         GROUP BY d.campaign_id, d.state, d.reason ORDER BY 1, 3, 4
        ON CONFLICT (campaign_id, state, reason, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO campaign_target_counts AS c (campaign_id, shard, state, reason, n)
        SELECT d.campaign_id, pg_backend_pid(), d.state, d.reason, sum(d.n)
          FROM (SELECT campaign_id, state::text AS state, coalesce(reason, '') AS reason, 1 AS n
                  FROM new_rows
                UNION ALL
                SELECT campaign_id, state::text, coalesce(reason, ''), -1 FROM old_rows) AS d
         WHERE EXISTS (SELECT 1 FROM campaigns k WHERE k.id = d.campaign_id)
         GROUP BY d.campaign_id, d.state, d.reason HAVING sum(d.n) <> 0 ORDER BY 1, 3, 4
        ON CONFLICT (campaign_id, state, reason, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO campaign_target_counts AS c (campaign_id, shard, state, reason, n)
        SELECT d.campaign_id, pg_backend_pid(), d.state, d.reason, -count(*)
          FROM (SELECT campaign_id, state::text AS state, coalesce(reason, '') AS reason
                  FROM old_rows) AS d
         WHERE EXISTS (SELECT 1 FROM campaigns k WHERE k.id = d.campaign_id)
         GROUP BY d.campaign_id, d.state, d.reason ORDER BY 1, 3, 4
        ON CONFLICT (campaign_id, state, reason, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$
"""

# Per campaign and account: what `account_usage` shows (invited, failed, attempts that
# spent the quota). An event's outcome changes once (an unconfirmed attempt checked).
_ACCOUNT_DELTA = """
        INSERT INTO campaign_account_counts AS c (campaign_id, account_id, shard, invited, failed, attempts)
        SELECT d.campaign_id, d.account_id, pg_backend_pid(),
               sum(d.sign * (d.outcome IN ('invited', 'already_member'))::int),
               sum(d.sign * (d.outcome IN ('failed', 'skipped'))::int),
               sum(d.sign * d.counted::int)
          FROM ({rows}) AS d
         WHERE d.campaign_id IS NOT NULL AND d.account_id IS NOT NULL
           AND EXISTS (SELECT 1 FROM campaigns k WHERE k.id = d.campaign_id)
         GROUP BY d.campaign_id, d.account_id ORDER BY 1, 2
        ON CONFLICT (campaign_id, account_id, shard) DO UPDATE
           SET invited = c.invited + EXCLUDED.invited, failed = c.failed + EXCLUDED.failed,
               attempts = c.attempts + EXCLUDED.attempts;"""
_NEW_EVENTS = "SELECT campaign_id, account_id, outcome, counted, 1 AS sign FROM new_rows"
_OLD_EVENTS = "SELECT campaign_id, account_id, outcome, counted, -1 AS sign FROM old_rows"
ACCOUNT_COUNTS_FN = f"""
CREATE FUNCTION campaign_account_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN{_ACCOUNT_DELTA.format(rows=_NEW_EVENTS)}
    ELSIF TG_OP = 'UPDATE' THEN{_ACCOUNT_DELTA.format(rows=_NEW_EVENTS + " UNION ALL " + _OLD_EVENTS)}
    ELSE{_ACCOUNT_DELTA.format(rows=_OLD_EVENTS)}
    END IF;
    RETURN NULL;
END $$
"""


# The counters of the rows already there, as the triggers would have kept them.
BACKFILL = [
    """INSERT INTO campaign_target_counts (campaign_id, shard, state, reason, n)
       SELECT campaign_id, 0, state::text, coalesce(reason, ''), count(*)
         FROM campaign_targets GROUP BY 1, 3, 4""",
    """INSERT INTO campaign_account_counts (campaign_id, account_id, shard, invited, failed, attempts)
       SELECT campaign_id, account_id, 0,
              count(*) FILTER (WHERE outcome IN ('invited', 'already_member')),
              count(*) FILTER (WHERE outcome IN ('failed', 'skipped')),
              count(*) FILTER (WHERE counted)
         FROM invite_events WHERE campaign_id IS NOT NULL AND account_id IS NOT NULL
        GROUP BY 1, 2""",
]


# db.models.MEMBER_SEARCH_TEXT, the expression member searches match (bench/api_scale.py
# builds it again after loading a million members).
SEARCH_INDEX = (
    "CREATE INDEX ix_audience_members_search ON audience_members USING gin "
    "((coalesce(username, '') || ' ' || first_name || ' ' || coalesce(last_name, '')) gin_trgm_ops)"
)


def _triggers(table: str, function: str) -> list[str]:
    return [
        (
            f"CREATE TRIGGER {table}_counts_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        ),
        (
            f"CREATE TRIGGER {table}_counts_upd AFTER UPDATE ON {table} "
            f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        ),
        (
            f"CREATE TRIGGER {table}_counts_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "campaign_target_counts",
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), server_default="", nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "state", "reason", "shard"),
    )
    op.create_table(
        "campaign_account_counts",
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("invited", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "account_id", "shard"),
    )
    op.execute(TARGET_COUNTS_FN)
    op.execute(ACCOUNT_COUNTS_FN)
    # The backfill runs in the migration's transaction, before any writer sees the triggers.
    op.execute("LOCK TABLE campaign_targets, invite_events IN SHARE MODE")
    for statement in _triggers("campaign_targets", "campaign_target_counts_apply"):
        op.execute(statement)
    for statement in _triggers("invite_events", "campaign_account_counts_apply"):
        op.execute(statement)
    for statement in BACKFILL:
        op.execute(statement)

    # Member search: `q` matches usernames and names anywhere (ILIKE '%q%'), which only a
    # trigram index serves without walking the audience. One index over one expression (the
    # DAL matches the same expression): every index is paid for by each collected row.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(SEARCH_INDEX)


def downgrade() -> None:
    op.drop_index("ix_audience_members_search", table_name="audience_members")
    for table in ("campaign_targets", "invite_events"):
        for suffix in ("ins", "upd", "del"):
            op.execute(f"DROP TRIGGER {table}_counts_{suffix} ON {table}")
    op.execute("DROP FUNCTION campaign_account_counts_apply()")
    op.execute("DROP FUNCTION campaign_target_counts_apply()")
    op.drop_table("campaign_account_counts")
    op.drop_table("campaign_target_counts")
