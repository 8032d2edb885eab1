"""`python -m launcher run` (what `make run` runs) starts every process, brings back one
that stops alone, and stops them all."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from core.settings import PROJECT_ROOT
from tests.sandbox_helpers import SandboxChat
from workers.heartbeat import ALIVE_PREFIX

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _marked_pids(marker: str) -> list[int]:
    """Processes still running with our marker in their environment."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"TG_INVITER_TEST_MARKER={marker}".encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


async def _read_until(
    stream: asyncio.StreamReader, needle: str, seen: list[str], timeout: float
) -> None:
    async def read() -> None:
        while True:
            raw = await stream.readline()
            if not raw:
                raise AssertionError("the run command ended early:\n" + "".join(seen))
            seen.append(raw.decode(errors="replace"))
            if needle in seen[-1]:
                return

    await asyncio.wait_for(read(), timeout)


async def _worker_pid(redis: Redis, *, other_than: set[int], seen: list[str]) -> int:
    """The pid of a worker beating in Redis (its key ends with it), other than those given."""
    for _ in range(150):
        keys = [
            k.decode() if isinstance(k, bytes) else k
            async for k in redis.scan_iter(match=ALIVE_PREFIX + "*")
        ]
        fresh = {int(key.rsplit(":", 1)[1]) for key in keys} - other_than
        if fresh:
            return fresh.pop()
        await asyncio.sleep(0.1)
    raise AssertionError("no worker heartbeat:\n" + "".join(seen))


async def test_run_starts_everything_and_sigterm_stops_everything(
    test_env: dict[str, str],
    engine,
    redis: Redis,  # type: ignore[no-untyped-def]
) -> None:
    api_port, sandbox_port = _free_port(), _free_port()
    marker = uuid.uuid4().hex
    env = {
        **os.environ,
        **test_env,
        "API_PORT": str(api_port),
        "SANDBOX_PORT": str(sandbox_port),
        "SANDBOX": "auto",
        "WORKER_HEARTBEAT_S": "1",
        "TG_INVITER_TEST_MARKER": marker,
    }
    env.pop("BOT_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "launcher",
        "run",
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    try:
        await _read_until(proc.stdout, "panel on", seen, timeout=90)
        output = "".join(seen)
        assert output.count("Telegram is simulated") == 1, output
        assert f"127.0.0.1:{sandbox_port}" in output

        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{api_port}/ready") as resp:
                assert resp.status == 200
            chat = SandboxChat(f"http://127.0.0.1:{sandbox_port}", http)
            await chat.send(
                5001, "/start", username="run_check", first_name="Run", language_code="en"
            )
            reply = await chat.wait_for(5001, lambda m: "/help" in (m["text"] or ""), timeout=30)
            assert reply["from"] == "bot"
        worker = await _worker_pid(redis, other_than=set(), seen=seen)
        others = set(_marked_pids(marker)) - {worker}
        assert len(others) >= 4  # launcher, sandbox, api, bot

        # What `kill <pid>` of the worker does: it stops cleanly and comes back alone.
        os.kill(worker, signal.SIGTERM)
        await _read_until(
            proc.stdout, "tg-inviter: workers exited with code 0; restarting in 1 s", seen, 30
        )
        restarted = await _worker_pid(redis, other_than={worker}, seen=seen)
        assert set(_marked_pids(marker)) - {restarted} == others
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{api_port}/ready") as resp,
        ):
            assert resp.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
        seen.append(rest.decode(errors="replace"))
    assert proc.returncode == 0, "".join(seen)
    for _ in range(50):
        if not _marked_pids(marker):
            break
        await asyncio.sleep(0.1)
    assert _marked_pids(marker) == [], "child processes left behind"
    assert [k async for k in redis.scan_iter(match=ALIVE_PREFIX + "*")] == []
