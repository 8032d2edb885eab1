"""What one update costs the database and Redis, through the real Dispatcher and its middlewares.

A known sender whose name, username and language did not change comes from the bot's sender
cache: no statement, no connection checkout, nothing written; a change is written at once; an
admin's block, a role or a language chosen with /lang applies at the very next update, since
PostgreSQL announces every change to a user's row and the cache forgets it (`db.sender_cache`).
Without a listening connection the cache knows nobody and the row is read every time. The
chat's FSM state is read from Redis once and then answered from the bot's memory, which every
state written through the bot updates (`bot.fsm_storage`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.fsm.storage.base import StorageKey
from redis.asyncio import Redis
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.fsm_storage import SharedRedisStorage
from bot.handlers.campaigns import CampaignWizard
from core.admin import build_admin_service
from core.auth import build_auth_service
from core.dto import TelegramProfile
from core.i18n import t
from core.settings import Settings
from core.users import register
from db.dal import SqlDal
from db.kv import RedisNotifier, RedisThrottle
from db.sender_cache import SenderCache
from tests.bot.conftest import BOT_ID, TgUser
from workers.heartbeat import RedisWorkerRegistry


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
    assert await anna.reply_to("/help") == t("en", "help")
    # The sender was remembered when the first update read it: the next ones need no database.
    assert statements.seen == []
    assert statements.checkouts <= 1
    statements.checkouts = 0
    assert await anna.reply_to("/help") == t("en", "help")
    assert statements.checkouts == 0

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


async def _execute(sessionmaker: async_sessionmaker[AsyncSession], sql: str) -> Any:
    async with sessionmaker() as session, session.begin():
        result = await session.execute(text(sql))
        return result.scalar() if result.returns_rows else None


async def test_a_block_from_the_panel_applies_at_the_next_update(
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
    senders: SenderCache,
    settings: Settings,
    redis: Redis,
) -> None:
    """The panel's block is written by another process; the bot's cache holds the user."""
    admin_tg, cleo_tg = 880_010, 880_011
    cleo = make_user(cleo_tg, username="cleo_u", first_name="Cleo")
    await cleo.send("/start")
    assert await cleo.reply_to("/help") == t("en", "help")
    assert senders.get(cleo_tg) is not None
    async with sessionmaker() as session:
        dal = SqlDal(session)
        admin, _ = await register(
            dal, TelegramProfile(admin_tg, "adm", "A", None, "en"), [admin_tg]
        )
        target = await dal.get_user_by_telegram_id(cleo_tg)
        assert target is not None
        service = build_admin_service(
            settings.model_copy(update={"admin_telegram_ids": [admin_tg]}),
            sessions=build_auth_service(settings, RedisThrottle(redis), RedisNotifier(redis)),
            workers=RedisWorkerRegistry(redis),
        )
        await service.block(dal, admin.id, target.id)
    calls = await cleo.send("/help")
    assert [c.text for c in calls] == [t("en", "blocked")]  # type: ignore[attr-defined]


async def test_without_its_listening_connection_the_cache_knows_nobody(
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
    senders: SenderCache,
    statements: Statements,
) -> None:
    dora = make_user(880_012, username="dora_u", first_name="Dora")
    await dora.send("/start")
    await dora.send("/help")
    assert senders.get(880_012) is not None
    # The server ends the listening session (a restart, an administrator): announcements made
    # until a new one listens are lost, so nothing remembered may be trusted meanwhile.
    ended = await _execute(
        sessionmaker,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 'tg-inviter-listen' AND datname = current_database()",
    )
    assert ended == 1
    for _ in range(200):
        if not senders.listening:
            break
        await asyncio.sleep(0.01)
    assert not senders.listening
    assert senders.get(880_012) is None
    await _execute(sessionmaker, "UPDATE users SET blocked = true WHERE telegram_id = 880012")
    statements.checkouts = 0
    calls = await dora.send("/help")
    assert [c.text for c in calls] == [t("en", "blocked")]  # type: ignore[attr-defined]
    assert statements.checkouts == 1  # read from PostgreSQL
    # Listening again (a new connection within a second), the cache works as before.
    await senders.wait_listening()
    await _execute(sessionmaker, "UPDATE users SET blocked = false WHERE telegram_id = 880012")
    assert await dora.reply_to("/help") == t("en", "help")
    statements.checkouts = 0
    assert await dora.reply_to("/help") == t("en", "help")
    assert statements.checkouts == 0


async def test_a_row_read_while_its_change_is_announced_is_not_kept(
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
    senders: SenderCache,
) -> None:
    emil = make_user(880_013, username="emil_u", first_name="Emil")
    await emil.send("/start")
    await _execute(sessionmaker, "TRUNCATE users CASCADE")  # forgets everyone
    await senders.settled()
    assert senders.get(880_013) is None
    await emil.send("/start")
    mark = senders.mark()
    async with sessionmaker() as session:
        stale = await SqlDal(session).get_user_by_telegram_id(880_013)
    assert stale is not None and not stale.blocked
    await _execute(sessionmaker, "UPDATE users SET blocked = true WHERE telegram_id = 880013")
    await senders.settled()
    senders.put(stale, mark)  # read before the block, handed in after it was announced
    assert senders.get(880_013) is None
    calls = await emil.send("/help")
    assert [c.text for c in calls] == [t("en", "blocked")]  # type: ignore[attr-defined]


async def test_the_chat_state_is_read_from_redis_once(
    make_user: Callable[..., TgUser],
    dispatcher: Dispatcher,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[str] = []
    real_get = redis.get

    async def counting_get(name: Any) -> Any:
        reads.append(name if isinstance(name, str) else name.decode())
        return await real_get(name)

    monkeypatch.setattr(redis, "get", counting_get)
    fedor = make_user(880_014, username="fedor_u", first_name="Fedor")
    await fedor.send("/start")
    for _ in range(3):
        assert await fedor.reply_to("/help") == t("en", "help")
    assert len([r for r in reads if r.endswith(":state")]) == 1

    # A flow's step is read from Redis with its data every time; the end of the flow (no
    # state) is what the next update sees without reading Redis.
    storage = dispatcher.storage
    assert isinstance(storage, SharedRedisStorage)
    key = StorageKey(bot_id=BOT_ID, chat_id=880_014, user_id=880_014)
    await storage.set_state(key, "Flow:step")
    assert await redis.get(storage.key_builder.build(key, "state")) == b"Flow:step"
    assert await storage.get_state(key) == "Flow:step"
    await storage.set_state(key, None)
    assert await storage.get_state(key) is None
    # the check above, and the flow's step: no more
    assert len([r for r in reads if r.endswith(":state")]) == 3


async def test_an_emptied_redis_ends_a_flow_at_once(
    make_user: Callable[..., TgUser], dispatcher: Dispatcher, redis: Redis
) -> None:
    """Redis emptied in the middle of /campaign_new: the next message is outside any flow
    (the hint), never a wizard step whose data is gone."""
    gina = make_user(880_016, username="gina_u", first_name="Gina")
    await gina.send("/start")
    storage = dispatcher.storage
    assert isinstance(storage, SharedRedisStorage)
    key = StorageKey(bot_id=BOT_ID, chat_id=880_016, user_id=880_016)
    # Step 2 of the wizard, as the bot writes it (the state through its own storage).
    await storage.set_state(key, CampaignWizard.target)
    await storage.set_data(key, {"ws": 1, "audience_id": 1, "audience": "Fans"})
    await redis.flushdb()
    assert await gina.reply_to("@some_group") == t("en", "outside_flow")


async def test_a_state_read_overtaken_by_a_write_is_not_remembered(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = StorageKey(bot_id=BOT_ID, chat_id=880_015, user_id=880_015)
    await SharedRedisStorage(redis).set_state(key, "Flow:one")
    storage = SharedRedisStorage(redis)  # a bot that has not seen this chat yet
    real_get = redis.get
    read, go_on = asyncio.Event(), asyncio.Event()

    async def slow_get(name: Any) -> Any:
        value = await real_get(name)
        read.set()
        await go_on.wait()  # the answer is on its way back while the write happens
        return value

    monkeypatch.setattr(redis, "get", slow_get)
    reader = asyncio.create_task(storage.get_state(key))
    await read.wait()
    monkeypatch.setattr(redis, "get", real_get)
    await storage.set_state(key, "Flow:two")
    go_on.set()
    assert await reader == "Flow:one"  # what Redis held when it was asked
    assert await storage.get_state(key) == "Flow:two"  # the write, not the overtaken read
    assert await redis.get(storage.key_builder.build(key, "state")) == b"Flow:two"
