"""`GET /api/v1/limits`: the invite limits new campaigns of the workspace work under.

The panel draws each account's usage today against these; a campaign's own limits (if it has
any) come with its report.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from db.dal import open_dal
from webui_api.campaign_schemas import LimitsOut
from webui_api.http import current_workspace, json_model, require_auth
from webui_api.keys import CAMPAIGNS, SESSIONMAKER
from webui_api.routing import ApiRoutes

routes = ApiRoutes(tag="campaigns")


class LimitsResponse(LimitsOut):
    pause_min_s: int = Field(description="Shortest pause between two invites of one account")
    pause_max_s: int = Field(description="Longest pause between two invites of one account")


@routes.get("/api/v1/limits", summary="The invite limits of the workspace's new campaigns",
            response=LimitsResponse, errors=(404,))
async def limits(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        await current_workspace(request, dal, claims.user_id)
    found = request.app[CAMPAIGNS].limits
    return json_model(LimitsResponse(
        daily_per_account=found.daily_per_account, daily_per_chat=found.daily_per_chat,
        lifetime_per_chat=found.lifetime_per_chat, pause_min_s=found.pause_min_s,
        pause_max_s=found.pause_max_s,
    ))
