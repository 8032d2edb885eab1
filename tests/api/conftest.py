"""API test fixtures: the real application on 127.0.0.1 with real PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.auth import AuthService, build_auth_service
from core.dto import TelegramProfile, UserDTO
from core.settings import Settings
from core.users import register
from db.dal import open_dal
from db.kv import RedisNotifier, RedisThrottle
from webui_api.app import init_app


@pytest.fixture
async def api(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> AsyncIterator[TestClient]:
    server = TestServer(init_app(settings), host="127.0.0.1")
    async with TestClient(server) as client:
        yield client


@pytest.fixture
def auth_service(settings: Settings, redis: Redis) -> AuthService:
    return build_auth_service(settings, RedisThrottle(redis), RedisNotifier(redis))


@dataclass
class Person:
    user: UserDTO
    username: str


MakeUser = Callable[..., Awaitable[Person]]
IssueCode = Callable[[Person], Awaitable[str]]


@pytest.fixture
def make_user(sessionmaker: async_sessionmaker[AsyncSession]) -> MakeUser:
    counter = iter(range(1, 10_000))

    async def make(username: str | None = None, *, telegram_id: int | None = None) -> Person:
        n = next(counter)
        tg_id = telegram_id or 700_000 + n
        name = username or f"person{n:03d}"
        async with open_dal(sessionmaker) as dal:
            user, _ = await register(
                dal, TelegramProfile(tg_id, name, f"Person {n}", None, "en"), admin_ids=()
            )
        return Person(user=user, username=name)

    return make


@pytest.fixture
def issue_code(
    sessionmaker: async_sessionmaker[AsyncSession], auth_service: AuthService
) -> IssueCode:
    async def issue(person: Person) -> str:
        async with open_dal(sessionmaker) as dal:
            issued = await auth_service.issue_code(dal, person.user)
        return issued.code

    return issue


@pytest.fixture
def login(api: TestClient, issue_code: IssueCode) -> Callable[[Person], Awaitable[dict[str, str]]]:
    async def do(person: Person) -> dict[str, str]:
        code = await issue_code(person)
        resp = await api.post(
            "/api/v1/auth/verify", json={"username": person.username, "code": code}
        )
        assert resp.status == 200, await resp.text()
        return await resp.json()

    return do
