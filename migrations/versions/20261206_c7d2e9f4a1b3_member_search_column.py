"""Member search reads a stored, lower-cased search text

Revision ID: c7d2e9f4a1b3
Revises: b4e8d1f6a3c9
Create Date: 2026-12-06 14:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c7d2e9f4a1b3"
down_revision: str | None = "b4e8d1f6a3c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# db.models.MEMBER_SEARCH_TEXT as it was when this revision was written.
_TEXT = "(coalesce(username, '') || ' ' || first_name || ' ' || coalesce(last_name, ''))"
# bench/api_scale.py builds it again after loading a million members.
SEARCH_INDEX = (
    "CREATE INDEX ix_audience_members_search ON audience_members "
    "USING gin (search_text gin_trgm_ops)"
)


def upgrade() -> None:
    # A trigram index finds candidates; each is then checked against the pattern. The check
    # was ILIKE over the expression: concatenate, lower-case text and pattern, match, for
    # every candidate. Stored lower-cased, the check is a plain LIKE over a column. Measured
    # on a 1,000,000-member audience (server CPU per statement): a rare `q` with 1,120
    # candidates 0.93 -> 0.43 ms, a common one 0.27 -> 0.13 ms, one that walks the primary
    # key 4.5 -> 1.4 ms. Adding the column rewrites the table once.
    op.drop_index("ix_audience_members_search", table_name="audience_members")
    op.execute(
        f"ALTER TABLE audience_members ADD COLUMN search_text text "
        f"GENERATED ALWAYS AS (lower({_TEXT})) STORED"
    )
    op.execute(SEARCH_INDEX)


def downgrade() -> None:
    op.drop_index("ix_audience_members_search", table_name="audience_members")
    op.drop_column("audience_members", "search_text")
    op.execute(
        "CREATE INDEX ix_audience_members_search ON audience_members USING gin "
        f"({_TEXT} gin_trgm_ops)"
    )
