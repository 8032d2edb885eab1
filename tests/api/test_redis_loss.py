"""PostgreSQL is the source of truth for revocation and blocking; Redis only makes it fast
(DESIGN §4). An emptied Redis (`FLUSHDB` stands for "restarted without its data") brings no
revoked token back to life, and an unreachable Redis is a 503 with Retry-After, never a token
and never a 500."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.admin import build_admin_service
from core.auth import AuthService, build_auth_service
from core.dto import TelegramProfile
from core.settings import Settings
from core.users import register
from db.dal import open_dal
from db.kv import REDIS_DOWN, RedisNotifier, RedisThrottle
from tests.api.conftest import IssueCode, MakeUser
from webui_api.app import init_app
from workers.heartbeat import RedisWorkerRegistry


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_logout_is_still_refused_after_redis_lost_its_data(
    api: TestClient,
    make_user: MakeUser,
    login,
    redis: Redis,  # type: ignore[no-untyped-def]
) -> None:
    gone, kept = await login(await make_user()), await login(await make_user())
    assert (await api.post("/api/v1/auth/logout", headers=bearer(gone))).status == 200
    assert (await api.get("/api/v1/me", headers=bearer(gone))).status == 401

    await redis.flushdb()

    refused = await api.get("/api/v1/me", headers=bearer(gone))
    assert refused.status == 401
    assert (await refused.json())["error"]["code"] == "unauthorized"
    # A session that stands is found in PostgreSQL again: the flush logs nobody out.
    assert (await api.get("/api/v1/me", headers=bearer(kept))).status == 200
    # The answer for the logged-out one is back in Redis, so the next request is fast.
    assert await redis.exists(f"auth:revoked-sid:{await _sid(api, gone)}") == 1


async def _sid(api: TestClient, tokens: dict[str, str]) -> str:
    return str(jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"])


async def test_blocked_user_stays_out_after_redis_lost_its_data(
    api: TestClient,
    make_user: MakeUser,
    login,  # type: ignore[no-untyped-def]
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    auth_service: AuthService,
) -> None:
    async with open_dal(sessionmaker) as dal:
        root, _ = await register(
            dal, TelegramProfile(990_001, "root_admin", "Root", None, "en"), admin_ids=(990_001,)
        )
    eve = await make_user()
    tokens = await login(eve)
    assert (await api.get("/api/v1/campaigns", headers=bearer(tokens))).status == 200
    admin = build_admin_service(settings, sessions=auth_service, workers=RedisWorkerRegistry(redis))
    async with open_dal(sessionmaker) as dal:
        await admin.block(dal, root.id, eve.user.id)

    await redis.flushdb()

    for method, path, body in (
        ("GET", "/api/v1/campaigns", None),
        ("GET", "/api/v1/audiences", None),
        ("POST", "/api/v1/parse-tasks", {"source": "https://t.me/Lounge"}),
        ("GET", "/api/v1/me", None),
    ):
        resp = await api.request(method, path, json=body, headers=bearer(tokens))
        assert resp.status == 401, (path, await resp.text())
    refreshed = await api.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status == 401


async def test_block_written_only_to_postgresql_is_seen_within_a_second(
    api: TestClient,
    make_user: MakeUser,
    login,
    sessionmaker: async_sessionmaker[AsyncSession],  # type: ignore[no-untyped-def]
) -> None:
    """The revoked flag was never written (Redis unreachable at that moment, then back with
    its old data): the cached "session stands" answer lives at most a second."""
    mallory = await make_user()
    tokens = await login(mallory)
    assert (await api.get("/api/v1/me", headers=bearer(tokens))).status == 200
    async with open_dal(sessionmaker) as dal:
        await dal.set_user_blocked(mallory.user.id, True)
        await dal.commit()
    await asyncio.sleep(1.1)
    assert (await api.get("/api/v1/me", headers=bearer(tokens))).status == 401


# --- Redis down ------------------------------------------------------------------------------


class RedisServer:
    """A redis-server of this test's own on a free loopback port, without persistence: a
    restart brings it back empty, like a Redis that lost its data."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.workdir = port, workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for this test"
        self.proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        client = Redis.from_url(f"redis://127.0.0.1:{self.port}/0")
        try:
            for _ in range(100):
                try:
                    if await client.ping():
                        return
                except REDIS_DOWN:
                    await asyncio.sleep(0.05)
            raise AssertionError("redis-server did not start")
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def own_redis(free_port: int, tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port, tmp_path)
    yield server
    server.stop()


@pytest.fixture
async def api_on_own_redis(
    settings: Settings, own_redis: RedisServer, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[TestClient, IssueCode]]:
    own_redis.start()
    await own_redis.ready()
    ours = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{own_redis.port}/0"})
    redis = Redis.from_url(ours.redis_url)
    auth = build_auth_service(ours, RedisThrottle(redis), RedisNotifier(redis))

    async def issue(person) -> str:  # type: ignore[no-untyped-def]
        async with open_dal(sessionmaker) as dal:
            return (await auth.issue_code(dal, person.user)).code

    async with TestClient(TestServer(init_app(ours), host="127.0.0.1")) as client:
        yield client, issue
    await redis.aclose()


def assert_unavailable(status: int, headers, body: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
    assert status == 503, body
    assert body["error"]["code"] == "unavailable"
    assert body["error"]["trace_id"] and body["error"]["message"]
    assert int(headers["Retry-After"]) > 0
    assert body["error"]["details"]["retry_after"] == int(headers["Retry-After"])


async def test_redis_down_is_503_for_code_exchange_and_calls_then_works_again(
    api_on_own_redis: tuple[TestClient, IssueCode], own_redis: RedisServer, make_user: MakeUser
) -> None:
    api, issue = api_on_own_redis
    frank, grace = await make_user(), await make_user()
    code = await issue(frank)
    verified = await api.post(
        "/api/v1/auth/verify", json={"username": frank.username, "code": code}
    )
    assert verified.status == 200
    tokens = await verified.json()
    pending = await issue(grace)

    own_redis.stop()

    exchange = await api.post(
        "/api/v1/auth/verify", json={"username": grace.username, "code": pending}
    )
    assert_unavailable(exchange.status, exchange.headers, await exchange.json())
    for path in ("/api/v1/me", "/api/v1/campaigns"):
        call = await api.get(path, headers={**bearer(tokens), "Accept-Language": "ru"})
        body = await call.json()
        assert_unavailable(call.status, call.headers, body)
        assert "недоступен" in body["error"]["message"]
    logout = await api.post("/api/v1/auth/logout", headers=bearer(tokens))
    assert_unavailable(logout.status, logout.headers, await logout.json())

    own_redis.start()  # back, and empty
    await own_redis.ready()

    assert (await api.get("/api/v1/me", headers=bearer(tokens))).status == 200
    again = await api.post(
        "/api/v1/auth/verify", json={"username": grace.username, "code": pending}
    )
    assert again.status == 200, await again.text()
    assert (await api.post("/api/v1/auth/logout", headers=bearer(tokens))).status == 200
    assert (await api.get("/api/v1/me", headers=bearer(tokens))).status == 401
