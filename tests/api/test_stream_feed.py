"""Campaign streams share one reader per process: viewers do not multiply the reads.

Six viewers of one campaign and one of another: every pass of the feed reads both campaigns
with one statement for the counts, whatever the number of viewers, and every viewer still
gets each change; a viewer who leaves the workspace is ended by its own check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.test_campaign_stream import Frames, Login, _campaign, _settle, client  # noqa: F401
from webui_api.views.campaign_stream import FEED


@pytest.fixture
def counts_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Statements that read the campaign counters, from any engine of this process: those
    sent through SQLAlchemy and those sent straight through the driver (`db.driver`)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM campaign_target_counts" in statement:
            seen.append(statement)

    driver_execute = asyncpg.Connection._execute

    async def driver_record(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        record(None, None, query)
        return await driver_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "_execute", driver_record)
    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


async def test_viewers_share_one_read_per_pass(
    client: TestClient,
    make_user: Any,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
    counts_reads: list[str],
) -> None:
    owner = await make_user("viewer")
    tokens = await login(owner)
    async with sessionmaker() as session:
        workspace_id = int(
            await session.scalar(
                text("SELECT workspace_id FROM memberships WHERE user_id = :u"),
                {"u": owner.user.id},
            )
        )
    big = await _campaign(sessionmaker, workspace_id, 30)
    other = await _campaign_named(sessionmaker, workspace_id)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    feed = client.server.app[FEED]

    responses = [
        await client.get(f"/api/v1/campaigns/{big}/stream", headers=headers) for _ in range(6)
    ]
    responses.append(await client.get(f"/api/v1/campaigns/{other}/stream", headers=headers))
    streams = [Frames(r) for r in responses]
    try:
        for frames in streams:
            first = await frames.event()
            assert first["event"] == "campaign"
        reads_before, statements_before = feed.reads, len(counts_reads)
        await asyncio.sleep(1.0)  # about 20 passes at the test's 0.05 s poll
        passes = feed.reads - reads_before
        assert passes >= 5
        # One counts statement per pass for both campaigns and all seven viewers (the
        # opening view of each viewer was read before the window). A pass under way when
        # the window opens or closes may be counted on one side only: one either way, never
        # the seven a read per viewer would make.
        assert abs(len(counts_reads) - statements_before - passes) <= 1
        await _settle(sessionmaker, big, 4)
        for frames in streams[:6]:
            changed = await frames.event()
            assert changed["data"]["counts"]["invited"] == 4
    finally:
        for response in responses:
            response.close()
    # Once nobody follows, the feed stops reading.
    for _ in range(100):
        if feed._task is None:
            break
        await asyncio.sleep(0.05)
    assert feed._task is None
    idle = feed.reads
    await asyncio.sleep(0.3)
    assert feed.reads == idle


async def _campaign_named(sessionmaker: async_sessionmaker[AsyncSession], workspace_id: int) -> int:
    from core.campaigns import CampaignStatus
    from db.dal_invites import InviteDal

    async with sessionmaker() as session, session.begin():
        dal = InviteDal(session)
        audience = await session.scalar(
            text("SELECT id FROM audiences WHERE workspace_id = :ws LIMIT 1"), {"ws": workspace_id}
        )
        campaign_id = await dal.create_campaign(workspace_id, "Other", audience, "other_group")
        await dal.fill_targets(campaign_id)
        await dal.set_status(campaign_id, CampaignStatus.RUNNING, only_from=[CampaignStatus.DRAFT])
    return campaign_id


async def test_a_viewer_who_left_the_workspace_is_ended_alone(
    client: TestClient,
    make_user: Any,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner, manager = await make_user("boss2"), await make_user("helper2")
    owner_tokens, manager_tokens = await login(owner), await login(manager)
    async with sessionmaker() as session, session.begin():
        workspace_id = int(
            await session.scalar(
                text("SELECT workspace_id FROM memberships WHERE user_id = :u"),
                {"u": owner.user.id},
            )
        )
        await session.execute(
            text(
                "INSERT INTO memberships (workspace_id, user_id, role) VALUES (:ws, :u, 'manager')"
            ),
            {"ws": workspace_id, "u": manager.user.id},
        )
    campaign_id = await _campaign(sessionmaker, workspace_id, 3)
    url = f"/api/v1/campaigns/{campaign_id}/stream"
    ws_header = {"X-Workspace-Id": str(workspace_id)}
    mine = await client.get(
        url, headers={"Authorization": f"Bearer {owner_tokens['access_token']}"} | ws_header
    )
    theirs = await client.get(
        url, headers={"Authorization": f"Bearer {manager_tokens['access_token']}"} | ws_header
    )
    try:
        owner_frames, manager_frames = Frames(mine), Frames(theirs)
        assert (await owner_frames.event())["event"] == "campaign"
        assert (await manager_frames.event())["event"] == "campaign"
        async with sessionmaker() as session, session.begin():
            await session.execute(
                text("DELETE FROM memberships WHERE user_id = :u AND workspace_id = :ws"),
                {"u": manager.user.id, "ws": workspace_id},
            )
        end = await manager_frames.event()
        assert end["event"] == "end" and end["data"] == {"reason": "not_found"}
        await _settle(sessionmaker, campaign_id, 1)
        assert (await owner_frames.event())["data"]["counts"]["invited"] == 1
    finally:
        mine.close()
        theirs.close()
