"""Two API processes share Redis: a logout on one is honoured by the other within 1 s."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from core.settings import PROJECT_ROOT
from tests.api.conftest import IssueCode, MakeUser

pytestmark = pytest.mark.e2e


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _wait_ready(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        try:
            async with session.get(url + "/ready") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never became ready")


@pytest.fixture
async def two_apis(test_env: dict[str, str], engine) -> AsyncIterator[list[str]]:  # type: ignore[no-untyped-def]
    procs, urls = [], []
    for _ in range(2):
        port = _port()
        env = {**os.environ, **test_env, "API_PORT": str(port), "API_HOST": "127.0.0.1"}
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "webui_api",
                cwd=PROJECT_ROOT,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        yield urls
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(p.wait(), 10) for p in procs]
        assert codes == [0, 0]


async def test_logout_on_one_process_is_seen_by_the_other(
    two_apis: list[str], make_user: MakeUser, issue_code: IssueCode
) -> None:
    a, b = two_apis
    person = await make_user()
    code = await issue_code(person)
    async with aiohttp.ClientSession() as http:
        await _wait_ready(http, a)
        await _wait_ready(http, b)
        async with http.post(
            a + "/api/v1/auth/verify", json={"username": person.username, "code": code}
        ) as r:
            assert r.status == 200
            tokens = await r.json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        async with http.get(b + "/api/v1/me", headers=auth) as r:
            assert r.status == 200
        async with http.post(a + "/api/v1/auth/logout", headers=auth) as r:
            assert r.status == 200
        logged_out = time.monotonic()
        async with http.get(b + "/api/v1/me", headers=auth) as r:
            refused_after = time.monotonic() - logged_out
            assert r.status == 401
        assert refused_after < 1.0
        async with http.post(
            b + "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        ) as r:
            assert r.status == 401
