"""`/api/v1/accounts`: listing, disabling, unlinking — tenancy and roles enforced, sessions never shown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import build_account_service
from core.dto import AccountStatus, WorkspaceRole
from core.settings import Settings
from db.dal import open_dal
from db.models import InviteEvent, Membership, TelegramAccount
from gateway.telegram import TelegramGateway
from sandbox.server import SandboxServer
from sandbox.world import World
from sandbox.world.client import SandboxClientFactory
from tests.api.conftest import MakeUser, Person
from webui_api.app import init_app


@dataclass
class Env:
    api: TestClient
    world: World
    sandbox_url: str
    settings: Settings


@pytest.fixture
async def env(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis
) -> AsyncIterator[Env]:  # type: ignore[no-untyped-def]
    world = World()
    async with SandboxServer(world=world) as sandbox:
        port = int(sandbox.url.rsplit(":", 1)[1])
        configured = settings.model_copy(update={"sandbox_port": port})
        async with TestClient(TestServer(init_app(configured), host="127.0.0.1")) as api:
            yield Env(api, world, sandbox.url, configured)


async def _session_for(env: Env, tg_user_id: int, username: str) -> str:
    """A real authorized session in the sandbox world, made by QR login as the bot does."""
    env.world.put_users(
        [
            {
                "id": tg_user_id,
                "username": username,
                "first_name": username.title(),
                "phone": f"+7999{tg_user_id:07d}",
            }
        ]
    )
    login = TelegramGateway(SandboxClientFactory(env.sandbox_url)).qr_login()
    token = await login.token()
    waiter = asyncio.create_task(login.wait(10))
    await asyncio.sleep(0.05)
    env.world.scan_qr(token.url, tg_user_id)
    await waiter
    session = login.session_string()
    await login.close()
    return session


async def _link(
    env: Env,
    sessionmaker: async_sessionmaker[AsyncSession],
    person: Person,
    tg_user_id: int,
    username: str,
) -> tuple[int, str]:
    session = await _session_for(env, tg_user_id, username)
    service = build_account_service(env.settings, None)
    from core.telegram import AccountInfo

    async with open_dal(sessionmaker) as dal:
        ws = (await dal.list_workspaces(person.user.id))[0].id
        account, _ = await service.link(
            dal,
            person.user.id,
            ws,
            AccountInfo(tg_user_id, username, username.title(), f"+7999{tg_user_id:07d}"),
            session,
        )
    return account.id, session


async def _login(env: Env, person: Person, issue_code) -> dict[str, str]:  # type: ignore[no-untyped-def]
    code = await issue_code(person)
    resp = await env.api.post(
        "/api/v1/auth/verify", json={"username": person.username, "code": code}
    )
    token = (await resp.json())["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_list_pages_and_hides_sessions(
    env: Env, sessionmaker, make_user: MakeUser, issue_code
) -> None:  # type: ignore[no-untyped-def]
    owner = await make_user()
    sessions = []
    for i in range(3):
        _, session = await _link(env, sessionmaker, owner, 61_000 + i, f"acct{i}")
        sessions.append(session)
    auth = await _login(env, owner, issue_code)
    first = await env.api.get("/api/v1/accounts?limit=2", headers=auth)
    assert first.status == 200
    body = await first.json()
    assert [set(item) for item in body["items"]] == [
        {
            "id",
            "username",
            "first_name",
            "phone",
            "status",
            "status_reason",
            "cooldown_until",
            "usage_today",
        }
    ] * 2
    assert body["items"][0]["phone"] == "+7********00"
    assert body["items"][0]["status"] == "active"
    assert body["next_cursor"]
    second = await (
        await env.api.get(f"/api/v1/accounts?limit=2&cursor={body['next_cursor']}", headers=auth)
    ).json()
    assert [i["username"] for i in body["items"] + second["items"]] == ["acct0", "acct1", "acct2"]
    assert second["next_cursor"] is None
    raw = await first.text() + str(second)
    assert all(s not in raw and s[1:30] not in raw for s in sessions)
    assert [i["usage_today"] for i in body["items"]] == [0, 0]

    # today's usage is what the invite limits count: events that spent quota since 00:00 UTC
    first_id = body["items"][0]["id"]
    now = datetime.now(UTC)
    async with sessionmaker() as s, s.begin():
        ws = await s.scalar(
            select(TelegramAccount.workspace_id).where(TelegramAccount.id == first_id)
        )
        for at, counted in (
            (now, True),
            (now, True),
            (now, False),
            (now - timedelta(days=1, hours=1), True),
        ):
            s.add(
                InviteEvent(
                    at=at,
                    workspace_id=ws,
                    account_id=first_id,
                    chat_id=1,
                    tg_user_id=7,
                    outcome="invited",
                    counted=counted,
                )
            )
    again = await (await env.api.get("/api/v1/accounts?limit=2", headers=auth)).json()
    assert [i["usage_today"] for i in again["items"]] == [2, 0]

    bad = await env.api.get("/api/v1/accounts?limit=1000", headers=auth)
    error = (await bad.json())["error"]
    assert bad.status == 400 and error["details"]["field"] == "limit"
    assert error["message"] == "Limit: must be a whole number from 1 to 100."


async def test_disable_enable_and_foreign_is_404(
    env: Env, sessionmaker, make_user: MakeUser, issue_code
) -> None:  # type: ignore[no-untyped-def]
    owner, stranger = await make_user(), await make_user()
    account_id, _ = await _link(env, sessionmaker, owner, 62_000, "mine")
    auth = await _login(env, owner, issue_code)
    off = await env.api.post(f"/api/v1/accounts/{account_id}/disable", headers=auth)
    assert (await off.json())["status"] == "disabled"
    on = await env.api.post(f"/api/v1/accounts/{account_id}/enable", headers=auth)
    assert (await on.json())["status"] == "active"

    other = await _login(env, stranger, issue_code)
    foreign = await env.api.post(f"/api/v1/accounts/{account_id}/disable", headers=other)
    missing = await env.api.post("/api/v1/accounts/999999/disable", headers=other)
    assert foreign.status == missing.status == 404
    assert (await env.api.get("/api/v1/accounts", headers=other)).status == 200
    assert (await (await env.api.get("/api/v1/accounts", headers=other)).json())["items"] == []
    assert (await env.api.delete(f"/api/v1/accounts/{account_id}", headers=other)).status == 404
    async with sessionmaker() as s:
        assert (await s.get(TelegramAccount, account_id)).status is AccountStatus.ACTIVE  # type: ignore[union-attr]


async def test_unlink_logs_out_and_only_the_owner_may(
    env: Env, sessionmaker, make_user: MakeUser, issue_code
) -> None:  # type: ignore[no-untyped-def]
    owner, manager = await make_user(), await make_user()
    account_id, session = await _link(env, sessionmaker, owner, 63_000, "leaving")
    async with sessionmaker() as s, s.begin():
        ws = await s.scalar(
            select(TelegramAccount.workspace_id).where(TelegramAccount.id == account_id)
        )
        s.add(Membership(workspace_id=ws, user_id=manager.user.id, role=WorkspaceRole.MANAGER))
    as_manager = await _login(env, manager, issue_code)
    refused = await env.api.delete(
        f"/api/v1/accounts/{account_id}?workspace_id={ws}", headers=as_manager
    )
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "forbidden"
    # the manager still sees and steers it
    listed = await (
        await env.api.get(f"/api/v1/accounts?workspace_id={ws}", headers=as_manager)
    ).json()
    assert [i["id"] for i in listed["items"]] == [account_id]

    as_owner = await _login(env, owner, issue_code)
    done = await env.api.delete(f"/api/v1/accounts/{account_id}", headers=as_owner)
    assert done.status == 200, await done.text()
    assert await done.json() == {"ok": True, "logged_out": True}
    assert [c.method for c in env.world.calls("LogOutRequest")] != []
    async with sessionmaker() as s:
        assert await s.get(TelegramAccount, account_id) is None
    # the session is dead in Telegram too
    from core.telegram import AccountUnauthorized

    with pytest.raises(AccountUnauthorized):
        async with TelegramGateway(SandboxClientFactory(env.sandbox_url)).account(
            session
        ) as client:
            await client.me()


async def test_restricted_and_frozen_accounts_are_listed_with_telegrams_reason(
    env: Env, sessionmaker, redis, make_user: MakeUser, issue_code
) -> None:  # type: ignore[no-untyped-def]
    """The statuses the health check gives from @SpamBot and help.getAppConfig, as the API
    and the panel read them."""
    from core.spambot import SPAMBOT_LIMITED
    from db.leases import LeaseStore
    from workers.health import check_all_accounts

    owner = await make_user()
    banned_in_channel, _ = await _link(env, sessionmaker, owner, 64_000, "limited")
    peer_flooded, _ = await _link(env, sessionmaker, owner, 64_001, "flooded")
    frozen, _ = await _link(env, sessionmaker, owner, 64_002, "icy")
    service = build_account_service(env.settings, None)
    async with open_dal(sessionmaker) as dal:  # what the invite engine records
        await service.change_status(
            dal, banned_in_channel, AccountStatus.RESTRICTED, "USER_BANNED_IN_CHANNEL"
        )
        await service.change_status(
            dal,
            peer_flooded,
            AccountStatus.PARKED,
            "PEER_FLOOD",
            cooldown_until=datetime.now(UTC) - timedelta(minutes=1),
        )
    limit_end = datetime(2031, 6, 20, 11, 49, tzinfo=UTC)
    env.world.put_user(64_000, spam_limited_until="forever")
    env.world.put_user(64_001, spam_limited_until=limit_end)
    env.world.put_user(64_002, frozen_until=datetime(2031, 3, 1, 12, 30, tzinfo=UTC))
    counts = await check_all_accounts(
        sessionmaker=sessionmaker,
        service=service,
        gateway=TelegramGateway(SandboxClientFactory(env.sandbox_url)),
        leases=LeaseStore(sessionmaker, "api-test", ttl_s=30),
        flood_buffer_s=60,
    )
    assert counts == {"restricted": 2, "frozen": 1}

    auth = await _login(env, owner, issue_code)
    listed = await (await env.api.get("/api/v1/accounts", headers=auth)).json()
    by_id = {
        i["id"]: (i["status"], i["status_reason"], i["cooldown_until"]) for i in listed["items"]
    }
    assert by_id == {
        banned_in_channel: ("restricted", "USER_BANNED_IN_CHANNEL", None),
        peer_flooded: ("restricted", SPAMBOT_LIMITED, "2031-06-20T11:49:00Z"),
        frozen: ("frozen", "frozen_until:2031-03-01T12:30Z", None),
    }

    # the API document names every status, and says what the reason holds
    doc = await (await env.api.get("/api/v1/openapi.json")).json()
    account = doc["components"]["schemas"]["AccountOut"]["properties"]
    assert account["status"]["enum"] == [s.value for s in AccountStatus]
    assert "USER_BANNED_IN_CHANNEL" in account["status_reason"]["description"]
