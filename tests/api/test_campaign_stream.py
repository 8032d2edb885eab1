"""`GET /api/v1/campaigns/{id}/stream`: events as the counts change, an end, tenancy, auth."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.campaigns import CampaignStatus
from core.settings import Settings
from db.dal_invites import InviteDal
from tests.api.conftest import Person
from tests.invites.conftest import make_audience
from webui_api.app import init_app
from webui_api.views.campaign_stream import STREAM_CONFIG, StreamConfig

Login = Callable[[Person], Awaitable[dict[str, str]]]
FRAME_TIMEOUT_S = 5.0


@pytest.fixture
async def client(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> AsyncIterator[TestClient]:
    app = init_app(settings)
    app[STREAM_CONFIG] = StreamConfig(poll_s=0.05, heartbeat_s=0.3, retry_ms=500)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


async def _campaign(
    sessionmaker: async_sessionmaker[AsyncSession], workspace_id: int, people: int
) -> int:
    audience = await make_audience(
        sessionmaker, workspace_id, "a", [(50_000 + i, f"p{i}", None, None) for i in range(people)]
    )
    async with sessionmaker() as session, session.begin():
        dal = InviteDal(session)
        campaign_id = await dal.create_campaign(workspace_id, "Grow", audience, "target_group")
        await dal.fill_targets(campaign_id)
        await dal.set_status(campaign_id, CampaignStatus.RUNNING, only_from=[CampaignStatus.DRAFT])
    return campaign_id


async def _settle(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int, n: int) -> None:
    """n pending people get a result, as a worker would record them."""
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text(
                """UPDATE campaign_targets SET state = 'invited'
                WHERE id IN (SELECT id FROM campaign_targets WHERE campaign_id = :c AND state = 'pending'
                             ORDER BY id LIMIT :n)"""
            ),
            {"c": campaign_id, "n": n},
        )


async def _finish(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int) -> None:
    async with sessionmaker() as session, session.begin():
        await InviteDal(session).set_status(
            campaign_id, CampaignStatus.DONE, only_from=[CampaignStatus.RUNNING]
        )


class Frames:
    """Server-sent events of one response, frame by frame."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.response.content.readuntil(b"\n\n"), FRAME_TIMEOUT_S)
        frame: dict[str, Any] = {"comment": [], "data": None}
        for line in raw.decode().strip("\n").split("\n"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                frame["comment"].append(value)
            elif name == "data":
                frame["data"] = json.loads(value)
            else:
                frame[name] = value
        return frame

    async def event(self) -> dict[str, Any]:
        """The next frame with an event, skipping heartbeats and the `retry:` line."""
        while True:
            frame = await self.next()
            if "event" in frame:
                return frame


async def test_stream_follows_counts_and_ends_when_done(
    client: TestClient,
    make_user: Any,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = await make_user("streamer")
    tokens = await login(owner)
    async with sessionmaker() as session:
        workspace_id = int(
            await session.scalar(
                text("SELECT workspace_id FROM memberships WHERE user_id = :u"),
                {"u": owner.user.id},
            )
        )
    campaign_id = await _campaign(sessionmaker, workspace_id, 5)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}

    async with client.get(f"/api/v1/campaigns/{campaign_id}/stream", headers=headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["Cache-Control"] == "no-store"
        frames = Frames(response)
        assert (await frames.next())["retry"] == "500"
        first = await frames.event()
        assert first["event"] == "campaign" and first["id"] == "1"
        assert first["data"]["status"] == "running" and first["data"]["finished"] is False
        assert first["data"]["counts"]["pending"] == 5
        assert first["data"]["progress"] == {"done": 0, "total": 5}

        # Nothing changes: only heartbeat comments, no event.
        beat = await frames.next()
        assert beat["comment"] == ["keep-alive"] and "event" not in beat

        await _settle(sessionmaker, campaign_id, 2)
        second = await frames.event()
        assert second["id"] == "2"
        assert second["data"]["counts"]["invited"] == 2 and second["data"]["progress"]["done"] == 2

        await _settle(sessionmaker, campaign_id, 3)
        third = await frames.event()
        assert third["data"]["progress"] == {"done": 5, "total": 5}

        await _finish(sessionmaker, campaign_id)
        last = await frames.event()
        assert last["data"]["status"] == "done" and last["data"]["finished"] is True
        assert last["data"]["finished_at"] is not None
        end = await frames.event()
        assert end["event"] == "end" and end["data"] == {"reason": "finished"}
        rest = await asyncio.wait_for(response.content.read(), FRAME_TIMEOUT_S)
        assert rest == b""  # the server closed the stream


async def test_stream_is_tenant_scoped_and_needs_a_token(
    client: TestClient,
    make_user: Any,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = await make_user("owner1")
    stranger = await make_user("stranger1")
    await login(owner)
    stranger_tokens = await login(stranger)
    async with sessionmaker() as session:
        workspace_id = int(
            await session.scalar(
                text("SELECT workspace_id FROM memberships WHERE user_id = :u"),
                {"u": owner.user.id},
            )
        )
    campaign_id = await _campaign(sessionmaker, workspace_id, 2)

    foreign = await client.get(
        f"/api/v1/campaigns/{campaign_id}/stream",
        headers={"Authorization": f"Bearer {stranger_tokens['access_token']}"},
    )
    assert foreign.status == 404
    assert (await foreign.json())["error"]["code"] == "not_found"
    missing = await client.get(
        "/api/v1/campaigns/999999/stream",
        headers={"Authorization": f"Bearer {stranger_tokens['access_token']}"},
    )
    assert missing.status == 404
    # Naming the owner's workspace does not help either.
    named = await client.get(
        f"/api/v1/campaigns/{campaign_id}/stream",
        headers={
            "Authorization": f"Bearer {stranger_tokens['access_token']}",
            "X-Workspace-Id": str(workspace_id),
        },
    )
    assert named.status == 404
    anonymous = await client.get(f"/api/v1/campaigns/{campaign_id}/stream")
    assert anonymous.status == 401


async def test_logout_ends_an_open_stream(
    client: TestClient,
    make_user: Any,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = await make_user("leaver")
    tokens = await login(owner)
    async with sessionmaker() as session:
        workspace_id = int(
            await session.scalar(
                text("SELECT workspace_id FROM memberships WHERE user_id = :u"),
                {"u": owner.user.id},
            )
        )
    campaign_id = await _campaign(sessionmaker, workspace_id, 3)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with client.get(f"/api/v1/campaigns/{campaign_id}/stream", headers=headers) as response:
        frames = Frames(response)
        assert (await frames.event())["event"] == "campaign"
        assert (await client.post("/api/v1/auth/logout", headers=headers)).status == 200
        end = await frames.event()
        assert end["event"] == "end" and end["data"] == {"reason": "unauthorized"}


async def test_panel_files_are_served_with_a_strict_policy(client: TestClient) -> None:
    page = await client.get("/")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["Cache-Control"] == "no-cache"
    assert '<script type="module" src="/assets/app.js"></script>' in await page.text()
    script = await client.get("/assets/app.js")
    assert script.headers["Content-Type"].startswith("text/javascript")
    again = await client.get("/assets/app.js", headers={"If-None-Match": script.headers["ETag"]})
    assert again.status == 304
    for bad in ("/assets/index.html", "/assets/..%2Fviews%2Fpanel.py", "/assets/nothing.js"):
        assert (await client.get(bad)).status == 404
