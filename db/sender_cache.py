"""The bot's memory of the users it has just seen, forgotten the moment PostgreSQL says a row
changed.

The bot needs its sender's row before every update (the blocked-user gate, the language, the
role). Reading it costs a round trip to PostgreSQL per update; most updates come from
someone whose row has not changed since their last one. The migration `a9c4e7b2d5f1` makes
every UPDATE or DELETE of a user (and a TRUNCATE of the table) announce the Telegram id on
the `users_changed` channel when its transaction commits, whoever wrote it: the panel's
block, the bot's /lang, an admin's role change, a hand-written statement. This cache
LISTENs on one connection of its own and drops an entry as soon as the announcement
arrives, so a block applies to the very next update the bot takes after the commit.

It answers only while it is listening: before the first LISTEN, and from the moment the
connection is lost until a new one listens again, it knows nobody and every update reads
PostgreSQL. A connection that is lost without a word (a dead network) is found by a ping
every `PING_EVERY_S`; an entry is also forgotten `SENDER_MEMORY_S` after it was read, which
bounds what any unforeseen gap could cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from core.dto import UserDTO
from core.logs import get_logger
from core.validation import is_number

log = get_logger(__name__)

CHANNEL = "users_changed"
SENDER_MEMORY_S = 30.0
SENDER_MEMORY_MAX = 10_000
PING_EVERY_S = 10.0
PING_TIMEOUT_S = 5.0
RECONNECT_MAX_S = 10.0


class SenderCache:
    """Registered users by Telegram id (see the module's docstring).

    A reader takes `mark()` before it reads a row and hands it to `put()`: a row read while
    a change was announced (or while the listening connection was replaced) is not kept,
    since the read may have seen the row before the change.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        memory_s: float = SENDER_MEMORY_S,
        max_size: int = SENDER_MEMORY_MAX,
    ) -> None:
        self._engine = engine
        self._memory_s = memory_s
        self._max_size = max_size
        self._users: OrderedDict[int, tuple[UserDTO, float]] = OrderedDict()
        self._generation = 0
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._query = asyncio.Lock()  # one query at a time on the connection (ping, settled)

    # --- reading and remembering --------------------------------------------------------------
    def get(self, telegram_id: int) -> UserDTO | None:
        if not self._listening.is_set():
            return None
        found = self._users.get(telegram_id)
        if found is None:
            return None
        user, until = found
        if until <= time.monotonic():
            del self._users[telegram_id]
            return None
        return user

    def mark(self) -> int:
        return self._generation

    def put(self, user: UserDTO, mark: int) -> None:
        if not self._listening.is_set() or mark != self._generation:
            return
        self._users[user.telegram_id] = (user, time.monotonic() + self._memory_s)
        self._users.move_to_end(user.telegram_id)
        while len(self._users) > self._max_size:
            self._users.popitem(last=False)

    def _forget(self, telegram_id: int | None) -> None:
        self._generation += 1
        if telegram_id is None:
            self._users.clear()
        else:
            self._users.pop(telegram_id, None)

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._forget(int(payload) if is_number(payload) else None)

    # --- listening ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen in the background (connecting again whenever the connection is lost)."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="sender-cache")

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def wait_listening(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._listening.wait(), timeout)

    async def settled(self) -> None:
        """Returns once every change committed before the call has been applied here.

        PostgreSQL delivers pending notifications to a listening session before it answers
        its next query, and the driver runs the callbacks in the order the messages came.
        Tests use it to stand for what the network gives in production: an update that
        follows a commit reaches the bot after the commit's announcement.
        """
        connection = self._connection
        if connection is None or not self._listening.is_set():
            return
        async with self._query:
            await connection.fetchval("SELECT 1")
        await asyncio.sleep(0)

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                await self._listen_once()
                log.warning("sender cache: the listening connection was closed")
                delay = 0.5
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("sender cache: not listening", error=type(exc).__name__)
            finally:
                self._listening.clear()
                self._forget(None)
                await self._drop_connection()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)

    async def _listen_once(self) -> None:
        """LISTEN on a new connection and return when it is lost."""
        lost = asyncio.Event()
        connection = await self._connect()
        self._connection = connection
        connection.add_termination_listener(lambda _c: lost.set())
        await connection.add_listener(CHANNEL, self._on_notify)
        # Rows read before LISTEN took effect may have missed an announcement.
        self._forget(None)
        self._listening.set()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), PING_EVERY_S)
            if not lost.is_set():
                async with self._query:
                    await connection.fetchval("SELECT 1", timeout=PING_TIMEOUT_S)

    async def _connect(self) -> asyncpg.Connection:
        # The engine's own URL and driver arguments: the same server, user and TLS settings.
        _args, params = self._engine.dialect.create_connect_args(self._engine.url)
        return await asyncpg.connect(
            **params, server_settings={"application_name": "tg-inviter-listen"}
        )

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), PING_TIMEOUT_S)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._listening.clear()
        self._forget(None)
        await self._drop_connection()
