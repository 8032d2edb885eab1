"""`GET /api/v1/campaigns/{id}/stream`: a campaign's status and counts as server-sent events.

The panel's progress bar is fed from here. `EventSource` cannot send an Authorization header,
so the panel reads the stream with `fetch()`; the stream is authenticated exactly like every
other API call (bearer token, `X-Workspace-Id`), and another workspace's campaign is a 404
before anything is streamed. The token is checked again before every read, so a logout (or the
token's expiry) ends the stream within a poll interval; the client then refreshes its token
and connects again.

Workers change campaigns in PostgreSQL, so the campaign is read there about once a second
and the stream sends an event only when something changed, a comment line as a heartbeat in
between (proxies drop silent connections), and a last `end` event once the campaign is done
or cancelled. It stops as soon as the client goes away or the process shuts down.

The reading is shared: a process has one `CampaignFeed`, which reads every campaign that
some stream follows in one pass per poll (two statements, the counts from the counters
tables), whatever the number of campaigns and viewers. Each stream then checks its own
caller (token, membership: one primary-key lookup) and sends what changed.

Events:
    event: campaign   data: CampaignProgressEvent (whenever status or counts change)
    event: end        data: {"reason": "finished" | "unauthorized" | "not_found"}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from core.campaign_service import CampaignView
from core.campaigns import CampaignStatus
from core.errors import NotFound, Unauthorized
from core.logs import get_logger
from core.users import require_workspace
from db.dal import open_dal
from webui_api.campaign_schemas import CampaignStatusName, Counts
from webui_api.http import current_workspace, path_id, require_auth
from webui_api.keys import CAMPAIGNS, SESSIONMAKER
from webui_api.routing import ApiRoutes
from webui_api.schemas import Progress

log = get_logger("webui_api.stream")
routes = ApiRoutes(tag="campaigns")


@dataclass(frozen=True, slots=True)
class StreamConfig:
    poll_s: float = 1.0  # how often the campaign is read from PostgreSQL
    heartbeat_s: float = 15.0  # a comment line after this long without an event
    retry_ms: int = 3000  # the client's reconnection delay, sent as `retry:`


STREAM_CONFIG = web.AppKey("campaign_stream_config", StreamConfig)
CLOSING = web.AppKey("campaign_streams_closing", asyncio.Event)


class CampaignFeed:
    """The process's one reader of the campaigns its streams follow.

    A task runs while anybody follows: each pass reads all followed campaigns at once, keeps
    the views, and wakes every stream; none of them reads the campaign itself. A failed read
    keeps the last views (the streams go on with them) and is logged once per failure.
    """

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._followers: Counter[int] = Counter()
        self._views: dict[int, CampaignView] = {}
        self._pass = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reads = 0  # passes that read PostgreSQL (for tests and benchmarks)

    def follow(self, campaign_id: int, view: CampaignView) -> None:
        self._followers[campaign_id] += 1
        self._views.setdefault(campaign_id, view)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def leave(self, campaign_id: int) -> None:
        self._followers[campaign_id] -= 1
        if self._followers[campaign_id] <= 0:
            del self._followers[campaign_id]
            self._views.pop(campaign_id, None)

    def view(self, campaign_id: int) -> CampaignView | None:
        """The latest read; None once the campaign is gone."""
        return self._views.get(campaign_id)

    async def next_pass(self, timeout: float) -> None:
        """Wait for the next read (or `timeout`, or the process shutting down)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._pass.wait(), timeout)

    def _wake(self) -> None:
        self._pass.set()
        self._pass = asyncio.Event()

    async def _run(self) -> None:
        app = self._app
        try:
            while True:
                # No await between this check and the end: a stream that follows afterwards
                # sees no task and starts one.
                if not self._followers or app[CLOSING].is_set():
                    self._task = None
                    return
                if await _stopping(app, app[STREAM_CONFIG].poll_s):
                    continue
                ids = list(self._followers)
                try:
                    async with open_dal(app[SESSIONMAKER]) as dal:
                        views = await app[CAMPAIGNS].views_by_id(dal, ids)
                # PostgreSQL away for a moment: the streams go on.
                except Exception as exc:  # noqa: BLE001
                    log.warning("campaign feed read failed", error=type(exc).__name__)
                else:
                    self.reads += 1
                    for campaign_id in ids:
                        if campaign_id in self._followers:
                            if campaign_id in views:
                                self._views[campaign_id] = views[campaign_id]
                            else:
                                self._views.pop(campaign_id, None)
                self._wake()
        finally:
            self._task = None
            self._wake()


FEED = web.AppKey("campaign_feed", CampaignFeed)


class CampaignProgressEvent(BaseModel):
    """The data of one `campaign` event."""

    id: int
    status: CampaignStatusName
    waiting_reason: Literal["quota", "hours"] | None
    paused_reason: (
        Literal["chat_full", "brake_privacy", "brake_left", "brake_peer_flood"] | None
    ) = None
    finished: bool = Field(description="done or cancelled: this is the last event")
    counts: Counts
    progress: Progress = Field(
        description="People with a final result, of all the campaign's people"
    )
    finished_at: datetime | None


def setup(app: web.Application, config: StreamConfig | None = None) -> None:
    """Streams end when the process shuts down instead of holding it up."""
    app[STREAM_CONFIG] = config or StreamConfig()
    app[CLOSING] = asyncio.Event()
    app[FEED] = CampaignFeed(app)

    async def close_streams(app: web.Application) -> None:
        app[CLOSING].set()
        app[FEED]._wake()

    app.on_shutdown.append(close_streams)


def _snapshot(view: CampaignView) -> CampaignProgressEvent:
    c = view.campaign
    return CampaignProgressEvent(
        id=c.id,
        status=c.status,  # type: ignore[arg-type]
        waiting_reason=c.waiting_reason,  # type: ignore[arg-type]
        paused_reason=c.paused_reason,  # type: ignore[arg-type]
        finished=CampaignStatus(c.status).finished,
        counts=Counts(**view.counts),
        progress=Progress(done=view.finished_targets, total=view.total),
        finished_at=c.finished_at,
    )


def _frame(event: str, data: dict[str, Any], *, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _stopping(app: web.Application, seconds: float) -> bool:
    """Wait for the next poll; True when the process shuts down meanwhile."""
    try:
        await asyncio.wait_for(app[CLOSING].wait(), seconds)
    except TimeoutError:
        return False
    return True


@routes.get(
    "/api/v1/campaigns/{campaign_id}/stream",
    summary="Status and counts as server-sent events while they change; ends when the campaign is finished",
    response=CampaignProgressEvent,
    content_type="text/event-stream",
    workspace=True,
)
async def campaign_stream(request: web.Request) -> web.StreamResponse:
    claims = await require_auth(request)
    campaign_id = path_id(request, "campaign_id")
    service = request.app[CAMPAIGNS]
    sessionmaker = request.app[SESSIONMAKER]
    async with open_dal(sessionmaker) as dal:  # errors here are ordinary JSON errors
        workspace_id = await current_workspace(request, dal, claims.user_id)
        view = await service.view(dal, claims.user_id, workspace_id, campaign_id)

    config = request.app[STREAM_CONFIG]
    feed = request.app[FEED]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: pass events through at once
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    last: CampaignProgressEvent | None = None
    sent_at = loop.time()
    sequence = 0
    feed.follow(campaign_id, view)
    try:
        await response.write(f"retry: {config.retry_ms}\n\n".encode())
        while True:
            snapshot = _snapshot(view)
            if snapshot != last:
                sequence += 1
                await response.write(
                    _frame("campaign", snapshot.model_dump(mode="json"), event_id=sequence)
                )
                last, sent_at = snapshot, loop.time()
            elif loop.time() - sent_at >= config.heartbeat_s:
                await response.write(b": keep-alive\n\n")
                sent_at = loop.time()
            if snapshot.finished:
                await response.write(_frame("end", {"reason": "finished"}))
                break
            await feed.next_pass(config.poll_s * 2 + 1)
            if request.app[CLOSING].is_set() or _gone(request):
                break
            try:
                claims = await require_auth(request)
                async with open_dal(sessionmaker) as dal:
                    await require_workspace(dal, claims.user_id, workspace_id)
                fresh = feed.view(campaign_id)
                if fresh is None:
                    raise NotFound("campaign", campaign_id=campaign_id)
                view = fresh
            except Unauthorized:
                await response.write(_frame("end", {"reason": "unauthorized"}))
                break
            except NotFound:  # the caller left the workspace, or the campaign is gone
                await response.write(_frame("end", {"reason": "not_found"}))
                break
    except ConnectionResetError:  # the client went away between two writes
        log.info("campaign stream closed by the client", campaign_id=campaign_id)
    finally:
        feed.leave(campaign_id)
    return response
