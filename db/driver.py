"""Reads that go straight through the driver (asyncpg) under a SQLAlchemy session.

The pages of the API and the bot read a few rows per statement; through the session each
statement costs 130-260 µs of CPU more than asyncpg alone (measured: a one-row membership
read 335 µs as an ORM select, 207 µs as `text()`, 73 µs through the driver), and a page makes
four to eight of them. These helpers run a statement on the session's own connection:

- as a unit of work's first statements they need no transaction: the asyncpg adapter sends
  its BEGIN before the first statement that goes through SQLAlchemy, so a request that only
  reads this way sends no BEGIN and no ROLLBACK at all (each statement sees the data as of
  its own start, which is what a page showing live counters can use);
- later in a transaction they read inside it, like any other statement of the session;
- like a statement through the session, they first send what the session holds unsent
  (objects added or changed since its last flush: SQLAlchemy's autoflush), so a read sees
  what the same unit of work wrote.

Errors are asyncpg's own; `db.engine.database_unreachable` knows them. Rows are
`asyncpg.Record`s (read by key: `row["id"]`); json and jsonb come back decoded, as SQLAlchemy
set the connection's codecs when it opened it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


async def driver_of(connection: AsyncConnection) -> Any:
    """The asyncpg connection under a SQLAlchemy one."""
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def driver(session: AsyncSession) -> Any:
    """The asyncpg connection under `session` (checked out from the pool if need be), once
    the session sent what it holds unsent, as its autoflush would."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        await session.flush()
    return await driver_of(await session.connection())


async def fetch(session: AsyncSession, sql: str, *args: Any) -> list[Any]:
    return list(await (await driver(session)).fetch(sql, *args))


async def fetchrow(session: AsyncSession, sql: str, *args: Any) -> Any:
    return await (await driver(session)).fetchrow(sql, *args)


async def fetchval(session: AsyncSession, sql: str, *args: Any) -> Any:
    return await (await driver(session)).fetchval(sql, *args)


def page_under(rows: list[Any], key: str) -> list[Any] | None:
    """The rows of `<parent> LEFT JOIN LATERAL (<page>) ON true`, one statement that checks
    the parent and reads its page (a campaign's events, an audience's members): no row means
    no parent (None); one row whose `key` is null, an empty page. The statement orders its
    rows outside the lateral part too: SQL promises the order of a join's output only to an
    ORDER BY of the statement itself."""
    if not rows:
        return None
    return [] if rows[0][key] is None else rows


def row_limit(rows: int) -> str:
    """`LIMIT <rows>` to write into a page's statement instead of a parameter.

    Statements through the driver are prepared once per connection, and after five
    executions PostgreSQL keeps a generic plan when it estimates it as cheap as the custom
    ones, or else plans every execution again. A `LIMIT $n` is an unknown to that estimate (it
    assumes a tenth of the rows), so a page's statement was planned on every call: 0.2-0.3
    ms of the server's CPU for a one-row page of events, measured on a million-event campaign,
    against 0.1 ms for the whole statement of `/me`. With the number in the text, each page
    size is its own prepared statement (pages read 2 to 101 rows, a client uses one or two
    sizes, and the exports read 1,000 or 5,000 a batch). Not for a statement whose best plan
    depends on a searched text: there a custom plan per call keeps it on the right index."""
    return f"LIMIT {int(rows)}"
