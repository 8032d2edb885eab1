"""`POST /api/v1/search` against a sandbox world served over loopback, as in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.i18n import t
from core.settings import Settings
from gateway.telegram import TelegramGateway
from sandbox.server import SandboxServer
from sandbox.world import World
from sandbox.world.client import SandboxClientFactory
from tests.api.conftest import IssueCode, MakeUser, Person
from tests.search_world import EXPECTED, NEWS, link_account, seed_communities
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
    world = seed_communities(World())
    async with SandboxServer(world=world) as sandbox:
        port = int(sandbox.url.rsplit(":", 1)[1])
        configured = settings.model_copy(update={"sandbox_port": port})
        async with TestClient(TestServer(init_app(configured), host="127.0.0.1")) as api:
            yield Env(api, world, sandbox.url, configured)


async def _auth(env: Env, person: Person, issue_code: IssueCode) -> dict[str, str]:
    code = await issue_code(person)
    resp = await env.api.post(
        "/api/v1/auth/verify", json={"username": person.username, "code": code}
    )
    return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}


async def test_search_finds_groups_and_commentable_channels(
    env: Env,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    issue_code: IssueCode,
) -> None:
    owner = await make_user()
    auth = await _auth(env, owner, issue_code)

    # Without a linked account there is nobody to search as.
    refused = await env.api.post("/api/v1/search", json={"keywords": "crypto"}, headers=auth)
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["code"] == "no_accounts"
    assert error["message"] == t("en", "error.no_accounts")
    ru = await env.api.post(
        "/api/v1/search", json={"keywords": "crypto"}, headers=auth | {"Accept-Language": "ru"}
    )
    assert (await ru.json())["error"]["message"] == t("ru", "error.no_accounts")

    gateway = TelegramGateway(SandboxClientFactory(env.sandbox_url))
    ws = (await (await env.api.get("/api/v1/me", headers=auth)).json())["workspaces"][0]["id"]
    await link_account(env.world, gateway, sessionmaker, env.settings, owner.user.id, ws)

    resp = await env.api.post("/api/v1/search", json={"keywords": "crypto"}, headers=auth)
    assert resp.status == 200, await resp.text()
    items = (await resp.json())["items"]
    assert [i["username"] for i in items] == EXPECTED
    assert set(items[0]) == {
        "chat_id",
        "username",
        "title",
        "kind",
        "members",
        "recent_commenters",
        "score",
    }
    news = next(i for i in items if i["chat_id"] == NEWS)
    assert (news["kind"], news["members"], news["recent_commenters"]) == ("channel", 25, 4)
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)


async def test_bad_bodies_and_foreign_workspaces(
    env: Env, make_user: MakeUser, issue_code: IssueCode
) -> None:
    owner, stranger = await make_user(), await make_user()
    auth = await _auth(env, owner, issue_code)
    for body in (
        {},
        {"keywords": "ab"},
        {"keywords": "x" * 65},
        {"keywords": "crypto", "extra": 1},
    ):
        resp = await env.api.post("/api/v1/search", json=body, headers=auth)
        assert resp.status == 400, body
    punctuation = await env.api.post("/api/v1/search", json={"keywords": "!?!?"}, headers=auth)
    assert punctuation.status == 400
    error = (await punctuation.json())["error"]
    assert error["details"] == {
        "field": "keywords",
        "problem": "keywords_length",
        "min": 3,
        "max": 64,
    }
    assert error["message"] == "Search words: 3 to 64 characters."

    other = await _auth(env, stranger, issue_code)
    ws = (await (await env.api.get("/api/v1/me", headers=auth)).json())["workspaces"][0]["id"]
    foreign = await env.api.post(
        f"/api/v1/search?workspace_id={ws}", json={"keywords": "crypto"}, headers=other
    )
    assert foreign.status == 404
    assert (await env.api.post("/api/v1/search", json={"keywords": "crypto"})).status == 401
