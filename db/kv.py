"""Redis side of the storage: counters, flags and the bot's notification stream.

Everything here is short-lived by design (rate limits, lockouts, revoked sessions,
messages on their way to the bot); PostgreSQL stays the source of truth.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable, Coroutine
from functools import wraps
from typing import Any, NamedTuple, ParamSpec, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import EncodableT, FieldT

from core.errors import Unavailable
from core.logs import current_trace_id

NOTIFY_STREAM = "bot:notifications"
NOTIFY_GROUP = "bot"
NOTIFY_MAXLEN = 10_000


# What redis-py raises when the server cannot be reached or stops answering (a restart,
# a refused connection, a dropped socket); a refused command (READONLY, OOM) is not this.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
T = TypeVar("T")
P = ParamSpec("P")
# A Redis that hangs (a lost packet, a stopped VM) must become a quick "unavailable", not a
# request that waits: connecting and each answer are bounded. Blocking reads (the bot's
# notice stream) wait up to their own block time on top.
REDIS_CONNECT_TIMEOUT_S = 2.0
REDIS_ANSWER_TIMEOUT_S = 5.0


def connect_redis(url: str, *, blocking_s: float = 0.0) -> Redis:
    """The process's Redis client, with bounded waits (`blocking_s`: the longest BLOCK used)."""
    return Redis.from_url(
        url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
        socket_timeout=REDIS_ANSWER_TIMEOUT_S + blocking_s,
    )


def _fail_closed(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Login limits and revocation cannot be checked without Redis: the caller gets
    `Unavailable` (503, "try again"), never an answer that skips the check."""

    @wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except REDIS_DOWN as exc:
            raise Unavailable(message="redis unreachable") from exc

    return wrapper


class RedisThrottle:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @_fail_closed
    async def hit(self, key: str, window_s: int) -> tuple[int, int]:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_s, nx=True)
            pipe.ttl(key)
            count, _, ttl = await pipe.execute()
        return int(count), max(int(ttl), 0)

    @_fail_closed
    async def peek(self, key: str) -> tuple[int, int]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.ttl(key)
            raw, ttl = await pipe.execute()
        return int(raw or 0), max(int(ttl), 0)

    @_fail_closed
    async def set_flag(self, key: str, ttl_s: int) -> None:
        await self._redis.set(key, b"1", ex=ttl_s)

    @_fail_closed
    async def flag_ttl(self, key: str) -> int:
        ttl = await self._redis.ttl(key)
        return max(int(ttl), 0)

    @_fail_closed
    async def clear(self, key: str) -> None:
        await self._redis.delete(key)

    @_fail_closed
    async def flags_left_ms(self, *keys: str) -> list[int]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.pttl(key)
            ttls = await pipe.execute()
        return [max(int(ttl), 0) for ttl in ttls]


class RedisNotifier:
    """Puts notices on a stream that the bot process reads with a consumer group.

    A stream (not pub/sub) so that a notice sent while the bot restarts is delivered later.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def notify(self, telegram_id: int, kind: str, payload: dict[str, str]) -> None:
        fields: dict[FieldT, EncodableT] = {
            "telegram_id": str(telegram_id),
            "kind": kind,
            "payload": json.dumps(payload),
        }
        trace = current_trace_id()
        if trace:  # the bot's lines about this notice carry the sender's trace
            fields["trace_id"] = trace
        await self._redis.xadd(NOTIFY_STREAM, fields, maxlen=NOTIFY_MAXLEN, approximate=True)


async def ensure_notify_group(redis: Redis) -> None:
    try:
        await redis.xgroup_create(NOTIFY_STREAM, NOTIFY_GROUP, id="0", mkstream=True)
    except Exception as exc:  # BUSYGROUP: the group exists already
        if "BUSYGROUP" not in str(exc):
            raise


class Notice(NamedTuple):
    entry_id: str
    telegram_id: int
    kind: str
    payload: dict[str, str]
    trace_id: str | None  # the trace of the work that sent it


async def read_notifications(
    redis: Redis, consumer: str, *, block_ms: int = 2000
) -> AsyncGenerator[Notice, None]:
    """Yield notices: first this consumer's unacknowledged ones, then new ones.

    `block_ms` stays well below the client's socket timeout (5 s by default in redis-py),
    or an idle stream would look like a broken connection.
    """
    await ensure_notify_group(redis)
    start = "0"
    while True:
        reply = await redis.xreadgroup(
            NOTIFY_GROUP, consumer, {NOTIFY_STREAM: start}, count=50, block=block_ms
        )
        entries = _stream_entries(reply)
        if start != ">" and not entries:
            start = ">"  # history of this consumer done: now only new entries
            continue
        for entry, data in entries:
            if start != ">":
                start = entry
            yield Notice(
                entry,
                int(data["telegram_id"]),
                data["kind"],
                json.loads(data.get("payload", "{}")),
                data.get("trace_id"),
            )


def _stream_entries(reply: object) -> list[tuple[str, dict[str, str]]]:
    """The entries of the one stream read by XREADGROUP, decoded.

    redis-py types the reply as the union of its RESP2 and RESP3 shapes; this client speaks
    RESP2: `[[stream, [(entry_id, {field: value}), ...]]]`, or nothing when the read timed out.
    """
    if not reply:
        return []
    if not isinstance(reply, list):
        raise TypeError(f"unexpected XREADGROUP reply: {type(reply).__name__}")
    return [
        (_text(entry_id), {_text(k): _text(v) for k, v in fields.items()})
        for entry_id, fields in reply[0][1]
    ]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def ack_notification(redis: Redis, entry_id: str) -> None:
    await redis.xack(NOTIFY_STREAM, NOTIFY_GROUP, entry_id)
