"""Fixtures for the parse engine: a simulated world, linked accounts, tasks and an engine.

Tasks are inserted the way the bot and the API create them (the `parse_tasks` row is the
interface between them and the workers); the engine runs with the speed delays off.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import build_account_service
from core.dto import TelegramProfile
from core.parsing import Filters, ParseStatus
from core.settings import Settings
from core.telegram import AccountInfo
from core.users import register
from db.dal import open_dal
from db.kv import NOTIFY_STREAM, RedisNotifier
from db.leases import LeaseStore
from db.models import Audience, AudienceMember, ParseTask
from gateway.telegram import TelegramGateway
from sandbox.world import InProcessClientFactory, World
from workers.parsing import EngineConfig, ParseEngine

OWNER_TG = 555
FIRST_NAMES = [
    "Anna",
    "Boris",
    "Clara",
    "Denis",
    "Elena",
    "Fedor",
    "Gleb",
    "Hanna",
    "Igor",
    "Julia",
    "Kirill",
    "Lena",
    "Maxim",
    "Nina",
    "Oleg",
    "Pavel",
    "Roman",
    "Sofia",
    "Timur",
    "Ulyana",
    "Vera",
    "Yuri",
    "Zoya",
    "Мария",
    "Иван",
    "Ольга",
    "Пётр",
]
LAST_NAMES = [
    "Smith",
    "Ivanov",
    "Petrova",
    "Quinn",
    "Walker",
    "Xu",
    "Young",
    "Бойко",
    "Жуков",
    "Орлова",
    "Kuznets",
    "Lebed",
    "Novak",
    "3rd",
    "Egorov",
]

USERNAME_STEMS = [
    "cat",
    "dog",
    "fox",
    "owl",
    "bee",
    "elk",
    "yak",
    "gnu",
    "hen",
    "ram",
    "jay",
    "koi",
]


def person_spec(user_id: int, **extra: Any) -> dict[str, Any]:
    """A user with a varied name (searchable by prefix) and, for most, a username."""
    n = user_id
    spec: dict[str, Any] = {
        "id": user_id,
        "first_name": FIRST_NAMES[n % len(FIRST_NAMES)],
        "last_name": LAST_NAMES[(n // 7) % len(LAST_NAMES)],
        "last_seen": ("online", "recently", "week", "month", "long_ago")[n % 5],
        "premium": n % 11 == 0,
        "photo": n % 3 == 0,
    }
    if n % 4:
        spec["username"] = f"{USERNAME_STEMS[(n // 5) % len(USERNAME_STEMS)]}_{user_id}"
    spec.update(extra)
    return spec


@dataclass
class Setup:
    world: World
    gateway: TelegramGateway
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    redis: Redis
    user_id: int = 0
    workspace_id: int = 0
    accounts: dict[int, int] = field(default_factory=dict)  # Telegram id -> account id

    async def owner(self) -> None:
        async with open_dal(self.sessionmaker) as dal:
            user, _ = await register(dal, TelegramProfile(OWNER_TG, "boss", "Boss", None, "en"), ())
            self.user_id = user.id
            self.workspace_id = (await dal.list_workspaces(user.id))[0].id

    async def link(self, *tg_ids: int) -> dict[int, int]:
        """Log the accounts in by QR (as the bot does) and link them to the workspace."""
        if not self.user_id:
            await self.owner()
        service = build_account_service(self.settings, None)
        for tg_id in tg_ids:
            if tg_id not in self.world.users:
                self.world.put_users(
                    [{"id": tg_id, "username": f"acc{tg_id}", "first_name": "Acc"}]
                )
            login = self.gateway.qr_login()
            token = await login.token()
            assert token is not None
            waiter = asyncio.create_task(login.wait(5))
            await asyncio.sleep(0.02)
            self.world.scan_qr(token.url, tg_id)
            await waiter
            async with open_dal(self.sessionmaker) as dal:
                account, _ = await service.link(
                    dal,
                    self.user_id,
                    self.workspace_id,
                    AccountInfo(tg_id, f"acc{tg_id}", "Acc", None),
                    login.session_string(),
                )
            await login.close()
            self.accounts[tg_id] = account.id
        return self.accounts

    async def task(
        self,
        source: str,
        kind: str = "members",
        *,
        audience: str | None = None,
        speed: str = "fast",
        priority: int = 1,
        posts: int = 100,
        days: int = 30,
        post_id: int | None = None,
        filters: Filters | None = None,
    ) -> int:
        """A queued task, filling the audience named `audience` (default: the source)."""
        name = audience or source
        async with self.sessionmaker() as session, session.begin():
            found = await session.scalar(
                select(Audience).where(
                    Audience.workspace_id == self.workspace_id, Audience.name == name
                )
            )
            if found is None:
                found = Audience(
                    workspace_id=self.workspace_id,
                    name=name,
                    source=source,
                    size=0,
                    created_by_user_id=self.user_id,
                )
                session.add(found)
                await session.flush()
            task = ParseTask(
                workspace_id=self.workspace_id,
                created_by_user_id=self.user_id,
                kind=kind,
                source=source,
                audience_id=found.id,
                speed=speed,
                priority=priority,
                params={
                    "posts": posts,
                    "days": days,
                    "post_id": post_id,
                    "filters": (filters or Filters()).to_json(),
                },
                status=ParseStatus.QUEUED,
            )
            session.add(task)
            await session.flush()
            return task.id

    async def row(self, task_id: int) -> ParseTask:
        async with self.sessionmaker() as session:
            found = await session.get(ParseTask, task_id)
            assert found is not None
            return found

    async def members(self, task_id: int) -> set[int]:
        task = await self.row(task_id)
        async with self.sessionmaker() as session:
            rows = await session.scalars(
                select(AudienceMember.tg_user_id).where(
                    AudienceMember.audience_id == task.audience_id
                )
            )
            return set(rows)

    async def audience_size(self, task_id: int) -> int:
        task = await self.row(task_id)
        async with self.sessionmaker() as session:
            size = await session.scalar(
                select(Audience.size).where(Audience.id == task.audience_id)
            )
            return int(size or 0)

    async def set_status(self, task_id: int, status: ParseStatus) -> None:
        """What the bot and the API do to pause, resume and cancel."""
        async with self.sessionmaker() as session, session.begin():
            task = await session.get(ParseTask, task_id)
            assert task is not None
            task.status = status
            if status is ParseStatus.QUEUED:
                task.not_before = None

    async def notices(self) -> list[tuple[int, str, dict[str, str]]]:
        entries = await self.redis.xrange(NOTIFY_STREAM)
        return [
            (int(f[b"telegram_id"]), f[b"kind"].decode(), json.loads(f[b"payload"]))
            for _, f in entries
        ]

    def engine(self, **config: Any) -> ParseEngine:
        settings = self.settings
        return ParseEngine(
            sessionmaker=self.sessionmaker,
            gateway=self.gateway,
            service=build_account_service(settings, RedisNotifier(self.redis)),
            leases=LeaseStore(self.sessionmaker, "parse-test", ttl_s=30),
            notifier=RedisNotifier(self.redis),
            owner="parse-test",
            config=EngineConfig(**{"delay_scale": 0.0, **config}),
        )


@pytest.fixture
async def setup(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, redis: Redis
) -> AsyncIterator[Setup]:
    world = World()
    yield Setup(
        world, TelegramGateway(InProcessClientFactory(world)), sessionmaker, settings, redis
    )


def put_people(world: World, ids: Iterable[int], **extra: Any) -> None:
    world.put_users([person_spec(i, **extra) for i in ids])
