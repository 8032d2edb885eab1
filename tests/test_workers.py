"""The worker process starts, beats into Redis, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from redis.asyncio import Redis

from core.settings import PROJECT_ROOT
from workers.heartbeat import ALIVE_PREFIX


async def test_worker_process_beats_and_stops_on_sigterm(
    test_env: dict[str, str], redis: Redis, engine
) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, **test_env, "WORKER_HEARTBEAT_S": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workers",
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        key = None
        for _ in range(100):
            keys = [k async for k in redis.scan_iter(match=ALIVE_PREFIX + "*")]
            if keys:
                key = keys[0]
                break
            await asyncio.sleep(0.1)
        assert key is not None, "no heartbeat within 10 s"
        info = json.loads(await redis.get(key))
        assert info["worker"].endswith(f":{proc.pid}")
        first = info["beat_at"]
        await asyncio.sleep(1.5)
        assert json.loads(await redis.get(key))["beat_at"] != first
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0, out.decode()
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    assert [line["event"] for line in lines if line.get("logger") == "workers"] == [
        "worker started",
        "worker stopped",
    ]
    assert await redis.exists(key) == 0
