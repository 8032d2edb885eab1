"""Engine and session factory: one `async_sessionmaker` per process, one session per unit of work."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
from sqlalchemy import CursorResult, Result, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# A pooled connection idle for longer than this is pinged before use (see `_check_out`).
PING_AFTER_IDLE_S = 30.0


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # The connection used last is handed out next: it has the statements prepared and the
        # types introspected that a unit of work just used (a first-in-first-out pool spreads
        # work over every connection, each paying that again; a collection's first claim took
        # 20-60 ms instead of 2 in bench/parse_members.py), and the others really sit idle, so
        # only those are pinged (`_check_out`) and the server may drop them.
        pool_use_lifo=True,
        connect_args={"server_settings": {"application_name": "tg-inviter"}},
    )
    event.listen(engine.sync_engine, "connect", _no_jit)
    event.listen(engine.sync_engine.pool, "checkin", _checked_in)
    event.listen(engine.sync_engine.pool, "checkout", _check_out)
    return engine


def _no_jit(dbapi_connection: Any, _record: Any) -> None:
    """No JIT on the product's connections: every statement here reads or writes a page of
    rows, and PostgreSQL compiles a plan estimated past `jit_above_cost` again on every
    execution (measured on the report's statement with a generic plan over a million
    targets: 31 ms with JIT, almost all of it compiling, 0.8 ms without). Set once per new
    connection, outside any transaction so that no rollback undoes it; a SET rather than a
    startup parameter, which a pooler in front of the server may refuse."""
    dbapi_connection.run_async(lambda conn: conn.execute("SET jit = off"))


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _check_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Instead of `pool_pre_ping`, which pings on every checkout (with asyncpg: BEGIN, `;`,
    ROLLBACK, three round trips per session, the bot paying them on every update): a
    connection the server closed (a restart, a terminated backend) is seen without a round
    trip, since asyncpg marks it closed as soon as the server's EOF arrives; only one that sat
    idle for a while, where a silent network loss could hide, is pinged. Either way a dead one
    is replaced (`DisconnectionError` makes the pool connect again)."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("closed by the server")
    idle_since = record.info.get("idle_since")
    if idle_since is not None and time.monotonic() - idle_since > PING_AFTER_IDLE_S:
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("no answer to a ping") from exc


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def affected_rows(result: Result[Any]) -> int:
    """The rows an UPDATE, DELETE or INSERT changed.

    `AsyncSession.execute` is typed as returning a plain `Result`; for these statements it is
    a `CursorResult`, the class that has `rowcount`.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of a data-changing statement: {type(result).__name__}")
    return result.rowcount


# What the database driver raises when PostgreSQL cannot be reached or drops the connection:
# a refused connect, a server starting up or shutting down (57P01/57P03), a connection closed
# under a statement. A refused statement (a constraint, a syntax error) is none of these.
_UNREACHABLE = (
    OSError,  # ConnectionRefusedError, ConnectionResetError, and TimeoutError
    asyncpg.exceptions.InterfaceError,  # "connection is closed"
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin/crash shutdown, cannot connect now
)


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) says the database is away rather than that it refused."""
    seen: BaseException | None = exc
    for _ in range(8):  # a wrapper's wrapper at most, in practice
        if seen is None:
            break
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, _UNREACHABLE):
            return True
        seen = seen.orig if isinstance(seen, DBAPIError) else seen.__cause__
    return False
