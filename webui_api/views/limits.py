"""The workspace's figures for the panel's dashboard and accounts page.

`GET /api/v1/limits`: the invite limits new campaigns of the workspace work under (the
configured ones under the admins' maximums); the panel draws each account's usage today
against these, and a campaign's own limits come with its report.
`GET /api/v1/invites/today`: the workspace's attempts since 00:00 UTC by outcome.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, Field

from core.installation import effective_limits
from core.limits import day_start
from db.dal import open_dal
from webui_api.campaign_schemas import LimitsOut
from webui_api.http import current_workspace, json_model, require_auth
from webui_api.keys import CAMPAIGNS, SESSIONMAKER
from webui_api.routing import ApiRoutes

routes = ApiRoutes(tag="campaigns")


class LimitsResponse(LimitsOut):
    pause_min_s: int = Field(description="Shortest pause between two invites of one account")
    pause_max_s: int = Field(description="Longest pause between two invites of one account")


@routes.get(
    "/api/v1/limits",
    summary="The invite limits of the workspace's new campaigns",
    response=LimitsResponse,
    workspace=True,
)
async def limits(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        await current_workspace(request, dal, claims.user_id)
        found = await effective_limits(dal, request.app[CAMPAIGNS].limits)
    return json_model(
        LimitsResponse(
            daily_per_account=found.daily_per_account,
            daily_per_chat=found.daily_per_chat,
            lifetime_per_chat=found.lifetime_per_chat,
            pause_min_s=found.pause_min_s,
            pause_max_s=found.pause_max_s,
        )
    )


OUTCOMES = ("invited", "already_member", "unconfirmed", "failed", "skipped", "retry")


class InvitesToday(BaseModel):
    since: datetime = Field(description="00:00 UTC today: the day the limits count")
    outcomes: dict[str, int] = Field(description="Attempts by outcome: " + ", ".join(OUTCOMES))
    total: int


@routes.get(
    "/api/v1/invites/today",
    summary="The workspace's invite attempts today (UTC) by outcome",
    response=InvitesToday,
    workspace=True,
)
async def invites_today(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    since = day_start(datetime.now(UTC))
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        found = await dal.invites_today(workspace_id, since)
    outcomes = {name: found.get(name, 0) for name in OUTCOMES}
    return json_model(InvitesToday(since=since, outcomes=outcomes, total=sum(outcomes.values())))
