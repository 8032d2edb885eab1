"""Engine and session factory: one `async_sessionmaker` per process, one session per unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Result
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": "tg-inviter"}},
    )


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
