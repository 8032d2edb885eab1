"""Fixtures for the simulated world: a small seeded `World` and logged-in real Telethon clients.

Every client made through `accounts` is disconnected at teardown, so no Telethon task
outlives its test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from telethon import TelegramClient, errors

from sandbox.server import SandboxServer
from sandbox.world import InProcessClientFactory, World
from sandbox.world.model import MessageSpec, PostSpec

ME, OTHER = 100, 101
"""Two accounts: ME creates the chats below, OTHER is a second linked account."""
ALICE, BOB, CAROL, DAVE, ERIN, FRANK, GHOST = 201, 202, 203, 204, 205, 206, 207
LOUNGE, NEWS_CHAT, NEWS, TARGET, OLD_GROUP = 900001, 900002, 900003, 900004, 900005
PASSWORD = "s3cret"

ClientFactory = Callable[[str | None], TelegramClient]
Scan = Callable[[str, int], Awaitable[None]]


def seed(world: World) -> World:
    world.put_users(
        [
            {"id": ME, "first_name": "Worker", "username": "worker", "phone": "+10000000100"},
            {"id": OTHER, "first_name": "Helper", "username": "helper", "phone": "+10000000101"},
            {"id": ALICE, "first_name": "Alice", "username": "alice", "last_seen": "online"},
            {"id": BOB, "first_name": "Bob", "username": "bob", "invite_outcome": "privacy"},
            {"id": CAROL, "first_name": "Carol", "username": "carol",
             "invite_outcome": "missing_invitee"},
            {"id": DAVE, "first_name": "Dave", "username": "dave", "invite_outcome": "not_mutual"},
            {"id": ERIN, "first_name": "Erin", "username": "erin",
             "invite_outcome": "too_many_channels"},
            {"id": FRANK, "first_name": "Frank", "username": "frank",
             "invite_outcome": "deactivated"},
            {"id": GHOST, "first_name": "Ghost", "deleted": True},
        ]
    )  # fmt: skip
    world.put_chat(
        LOUNGE,
        "megagroup",
        "Lounge",
        username="lounge",
        creator=ME,
        members=[ME, OTHER, ALICE, GHOST],
        admins={OTHER: ["invite_users", "pin_messages"]},
        messages=[MessageSpec(ALICE, "hello"), MessageSpec(OTHER, "hi"), MessageSpec(ALICE, "bye")],
    )
    world.put_chat(NEWS_CHAT, "megagroup", "News chat", username="news_chat", members=[ME])
    world.put_chat(
        NEWS,
        "channel",
        "News",
        username="news",
        creator=ME,
        members=[ME, ALICE],
        linked_chat=NEWS_CHAT,
        posts=[
            PostSpec(
                42,
                "first post",
                comments=(
                    MessageSpec(ALICE, "c1"),
                    MessageSpec(BOB, "c2"),
                    MessageSpec(ALICE, "c3"),
                ),
            ),
            PostSpec(43, "quiet post"),
        ],
    )
    world.put_chat(TARGET, "megagroup", "Target", creator=ME, members=[ME, OTHER])
    world.put_chat(OLD_GROUP, "group", "Old group", creator=ME, members=[ME, ALICE])
    return world


@pytest.fixture
def world() -> World:
    return seed(World())


class Accounts:
    """Makes clients through one factory and logs them in by QR, as the product does."""

    def __init__(self, factory: ClientFactory, scan: Scan) -> None:
        self.factory = factory
        self.scan = scan
        self.made: list[TelegramClient] = []

    def client(self, session: str | None = None) -> TelegramClient:
        client = self.factory(session)
        self.made.append(client)
        return client

    async def login(
        self, user_id: int, password: str | None = None, client: TelegramClient | None = None
    ) -> TelegramClient:
        client = client or self.client()
        if not client.is_connected():
            await client.connect()
        qr = await client.qr_login()
        waiter = asyncio.create_task(qr.wait(timeout=5))
        await asyncio.sleep(0.02)  # qr.wait() must be listening when the phone scans
        await self.scan(qr.url, user_id)
        try:
            await waiter
        except errors.SessionPasswordNeededError:
            if password is None:
                raise
            await client.sign_in(password=password)
        return client

    async def close(self) -> None:
        for client in self.made:
            if client.is_connected():
                await client.disconnect()


@pytest.fixture
async def accounts(world: World) -> AsyncIterator[Accounts]:
    async def scan(url: str, user_id: int) -> None:
        world.scan_qr(url, user_id)

    made = Accounts(InProcessClientFactory(world), scan)
    yield made
    await made.close()


@pytest.fixture
async def me(accounts: Accounts) -> TelegramClient:
    return await accounts.login(ME)


# --- the same world over loopback, through the control API -----------------------------------
@pytest.fixture
async def sandbox(world: World) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(world=world) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call_json(
    http: aiohttp.ClientSession, method: str, url: str, body: Any = None, status: int = 200
) -> Any:
    """One control-API request; its JSON answer, after checking the status."""
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    async with http.request(method, url, **kwargs) as response:
        answer = await response.json()
        assert response.status == status, answer
        return answer
