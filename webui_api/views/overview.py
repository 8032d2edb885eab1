"""`GET /api/v1/overview`: the dashboard's figures, each counted in one place.

People by result are the sum of the counters every campaign's page reads (`Counts` of
`GET /api/v1/campaigns/{id}`), over all the workspace's campaigns, finished ones too; so a
workspace with one campaign sees the very numbers of that campaign's page. Today's figures
come from the invite journal and say what they count: invite calls that spent an account's
daily quota (what the limits count, the sum of the accounts' `usage_today`) and people added.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from db.dal import open_dal
from webui_api.campaign_schemas import Counts
from webui_api.http import current_workspace, json_model, require_auth
from webui_api.keys import CAMPAIGNS, SESSIONMAKER
from webui_api.routing import ApiRoutes

routes = ApiRoutes(tag="campaigns")


class TodayOut(BaseModel):
    since: datetime = Field(description="00:00 UTC today: the day the limits count")
    attempts: int = Field(
        description="Invite calls that spent an account's daily quota since `since`"
    )
    added: int = Field(description="People added to a chat by an invite since `since`")


class OverviewOut(BaseModel):
    counts: Counts = Field(
        description="People of all the workspace's campaigns by result: the sum of each campaign's `counts`"
    )
    today: TodayOut


@routes.get(
    "/api/v1/overview",
    summary="The dashboard's figures: people by result over all campaigns, invites today",
    response=OverviewOut,
    workspace=True,
)
async def overview(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        found = await request.app[CAMPAIGNS].overview(dal, claims.user_id, workspace_id)
    return json_model(
        OverviewOut(
            counts=Counts(**found.counts),
            today=TodayOut(
                since=found.since, attempts=found.attempts_today, added=found.added_today
            ),
        )
    )
