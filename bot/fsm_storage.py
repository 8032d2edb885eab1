"""FSM state in Redis, remembered by the bot process for the chats it has just seen.

aiogram's FSM middleware reads the chat's state (`raw_state`) before every update, whether
or not a handler filters on it (aiogram/fsm/middleware.py: `await context.get_state()`
under the event lock): one Redis round trip before even `/help` is answered. The bot is the
only writer of FSM state (one process: one long poll or one webhook per token) and every
write goes through this storage, so what it wrote or last read is still what Redis holds:
"no flow" is read from Redis once per chat and then answered from memory, and every write
goes to Redis first and to memory after it succeeded. Only "no flow" is remembered: a chat
in a flow (a wizard step) reads its state from Redis on every update, so that the state and
its data (`get_data`, never remembered) always come from the same Redis — an emptied Redis
ends the flow at once instead of leaving a remembered step whose data is gone. Most updates
come from chats in no flow (commands, buttons), which is what the memory saves. A remembered
state is forgotten after `STATE_MEMORY_S` (a state changed by hand is seen again within a
minute) and the oldest are dropped beyond `STATE_MEMORY_MAX` chats.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

STATE_MEMORY_S = 60.0
STATE_MEMORY_MAX = 10_000


class SharedRedisStorage(RedisStorage):
    """FSM storage on a Redis client the composition root owns, with the states it read or
    wrote remembered for a while (see the module's docstring).

    aiogram closes the storage when polling stops; the stock storage would then close the
    shared client under the notice consumer and everyone else still using it.
    """

    def __init__(self, redis: Redis) -> None:
        super().__init__(redis)
        self._states: OrderedDict[StorageKey, tuple[str | None, float]] = OrderedDict()
        self._writes = 0

    async def get_state(self, key: StorageKey) -> str | None:
        known = self._states.get(key)
        now = time.monotonic()
        if known is not None and known[1] > now:
            return known[0]
        writes = self._writes
        state = await super().get_state(key)
        # A write that began while Redis answered may have overtaken this read's answer:
        # then what was read is not remembered.
        if writes == self._writes:
            self._remember(key, state, now)
        return state

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        # Forgotten first: if Redis refuses the write, the next read asks Redis again.
        self._writes += 1
        self._states.pop(key, None)
        await super().set_state(key, state)
        value = state.state if isinstance(state, State) else state
        self._remember(key, value, time.monotonic())

    def _remember(self, key: StorageKey, state: str | None, now: float) -> None:
        if state is not None:  # a flow's step: read with its data from Redis every time
            self._states.pop(key, None)
            return
        self._states[key] = (state, now + STATE_MEMORY_S)
        self._states.move_to_end(key)
        while len(self._states) > STATE_MEMORY_MAX:
            self._states.popitem(last=False)

    async def close(self) -> None:
        return None
