"""`GET /api/v1/campaigns/{id}/stream`: a campaign's status and counts as server-sent events.

The panel's progress bar is fed from here. `EventSource` cannot send an Authorization header,
so the panel reads the stream with `fetch()`; the stream is authenticated exactly like every
other API call (bearer token, `X-Workspace-Id`), and another workspace's campaign is a 404
before anything is streamed. The token is checked again before every read, so a logout (or the
token's expiry) ends the stream within a poll interval; the client then refreshes its token
and connects again.

Workers change campaigns in PostgreSQL, so the stream reads the campaign there about once a
second and sends an event only when something changed, a comment line as a heartbeat in
between (proxies drop silent connections), and a last `end` event once the campaign is done
or cancelled. It stops as soon as the client goes away or the process shuts down.

Events:
    event: campaign   data: CampaignProgressEvent (whenever status or counts change)
    event: end        data: {"reason": "finished" | "unauthorized" | "not_found"}
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from core.campaign_service import CampaignView
from core.campaigns import CampaignStatus
from core.errors import NotFound, Unauthorized
from core.logs import get_logger
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


class CampaignProgressEvent(BaseModel):
    """The data of one `campaign` event."""

    id: int
    status: CampaignStatusName
    waiting_reason: Literal["quota", "hours"] | None
    paused_reason: Literal["chat_full"] | None = None
    finished: bool = Field(description="done or cancelled: this is the last event")
    counts: Counts
    progress: Progress = Field(description="People with a final result, of all the campaign's people")
    finished_at: datetime | None


def setup(app: web.Application, config: StreamConfig | None = None) -> None:
    """Streams end when the process shuts down instead of holding it up."""
    app[STREAM_CONFIG] = config or StreamConfig()
    app[CLOSING] = asyncio.Event()

    async def close_streams(app: web.Application) -> None:
        app[CLOSING].set()

    app.on_shutdown.append(close_streams)


def _snapshot(view: CampaignView) -> CampaignProgressEvent:
    c = view.campaign
    return CampaignProgressEvent(
        id=c.id, status=c.status, waiting_reason=c.waiting_reason,  # type: ignore[arg-type]
        paused_reason=c.paused_reason,  # type: ignore[arg-type]
        finished=CampaignStatus(c.status).finished, counts=Counts(**view.counts),
        progress=Progress(done=view.finished_targets, total=view.total), finished_at=c.finished_at,
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


@routes.get("/api/v1/campaigns/{campaign_id}/stream",
            summary="Status and counts as server-sent events while they change; ends when the campaign is finished",
            response=CampaignProgressEvent, content_type="text/event-stream", workspace=True)
async def campaign_stream(request: web.Request) -> web.StreamResponse:
    claims = await require_auth(request)
    campaign_id = path_id(request, "campaign_id")
    service = request.app[CAMPAIGNS]
    sessionmaker = request.app[SESSIONMAKER]
    async with open_dal(sessionmaker) as dal:  # errors here are ordinary JSON errors
        workspace_id = await current_workspace(request, dal, claims.user_id)
        view = await service.view(dal, claims.user_id, workspace_id, campaign_id)

    config = request.app[STREAM_CONFIG]
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",  # nginx: pass events through at once
        "X-Content-Type-Options": "nosniff",
    })
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    last: CampaignProgressEvent | None = None
    sent_at = loop.time()
    sequence = 0
    try:
        await response.write(f"retry: {config.retry_ms}\n\n".encode())
        while True:
            snapshot = _snapshot(view)
            if snapshot != last:
                sequence += 1
                await response.write(_frame("campaign", snapshot.model_dump(mode="json"), event_id=sequence))
                last, sent_at = snapshot, loop.time()
            elif loop.time() - sent_at >= config.heartbeat_s:
                await response.write(b": keep-alive\n\n")
                sent_at = loop.time()
            if snapshot.finished:
                await response.write(_frame("end", {"reason": "finished"}))
                break
            if await _stopping(request.app, config.poll_s) or _gone(request):
                break
            try:
                claims = await require_auth(request)
                async with open_dal(sessionmaker) as dal:
                    view = await service.view(dal, claims.user_id, workspace_id, campaign_id)
            except Unauthorized:
                await response.write(_frame("end", {"reason": "unauthorized"}))
                break
            except NotFound:  # the caller left the workspace, or the campaign is gone
                await response.write(_frame("end", {"reason": "not_found"}))
                break
    except ConnectionResetError:  # the client went away between two writes
        log.info("campaign stream closed by the client", campaign_id=campaign_id)
    return response
