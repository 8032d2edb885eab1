"""A Redis that hangs is a quick "unavailable", never a request that waits for ever."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.errors import Unavailable
from db import kv


async def test_a_silent_redis_is_unavailable_within_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accept, read nothing, answer nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(kv, "REDIS_ANSWER_TIMEOUT_S", 0.3)
    client = kv.connect_redis(f"redis://127.0.0.1:{port}/0")
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await kv.RedisThrottle(client).hit("auth:ip-fail:127.0.0.1", 60)
        assert time.monotonic() - started < 2.0
        assert accepted  # it did reach the server, which never answered
    finally:
        await client.aclose()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
