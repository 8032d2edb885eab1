"""What one update costs the database, through the real Dispatcher and its middlewares.

A known sender whose name, username and language did not change is read once, outside a
transaction, and nothing is written (no BEGIN, INSERT, UPDATE or commit); a change is written at once; an admin's block or a
language chosen with /lang applies at the very next update (the row is read every time,
never cached). One session, one connection checkout and no ping per update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.i18n import t
from tests.bot.conftest import TgUser


class Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.checkouts = 0

    def writes(self) -> list[str]:
        return [
            s for s in self.seen if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE", "COMMIT")
        ]


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[Statements]:
    found = Statements()

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        found.seen.append(statement.strip())

    def on_commit(_conn: Any) -> None:
        found.seen.append("COMMIT")

    def on_checkout(*_args: Any) -> None:
        found.checkouts += 1

    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Engine, "commit", on_commit)
    event.listen(engine.sync_engine.pool, "checkout", on_checkout)
    yield found
    event.remove(Engine, "before_cursor_execute", on_execute)
    event.remove(Engine, "commit", on_commit)
    event.remove(engine.sync_engine.pool, "checkout", on_checkout)


async def test_an_unchanged_sender_is_read_and_not_written(
    make_user: Callable[..., TgUser],
    statements: Statements,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    anna = make_user(880_001, username="anna_u", first_name="Anna")
    await anna.send("/start")  # registers: written
    assert statements.writes()

    statements.seen.clear()
    statements.checkouts = 0
    assert await anna.reply_to("/help") == t("en", "help")
    # The sender's row is read straight through the driver before any transaction: nothing
    # goes through SQLAlchemy (no BEGIN, no statement, no commit or rollback to send).
    assert statements.seen == []
    assert statements.checkouts == 1  # one session, one connection, no ping

    # A new username (or name, or client language) is written at the next update.
    anna.username = "anna_new"
    statements.seen.clear()
    await anna.send("/help")
    assert any(s.startswith("INSERT INTO users") for s in statements.writes())
    async with sessionmaker() as session:
        assert (
            await session.scalar(text("SELECT username FROM users WHERE telegram_id = 880001"))
            == "anna_new"
        )


async def test_a_block_and_a_language_choice_apply_at_the_next_update(
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    boris = make_user(880_002, username="boris_u", first_name="Boris")
    await boris.send("/start")
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "UPDATE users SET language = 'ru', language_explicit = true "
                "WHERE telegram_id = 880002"
            )
        )
    assert await boris.reply_to("/help") == t("ru", "help")  # the client still says "en"
    async with sessionmaker() as session, session.begin():
        await session.execute(text("UPDATE users SET blocked = true WHERE telegram_id = 880002"))
    calls = await boris.send("/help")
    assert [c.text for c in calls] == [t("ru", "blocked")]  # type: ignore[attr-defined]
