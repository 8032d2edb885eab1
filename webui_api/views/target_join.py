"""`POST /api/v1/campaigns/{id}/join`: one of the workspace's accounts joins the campaign's
target (owner only), then the pre-flight runs again (`gateway/target_join.py`).

The pre-flight lists the accounts that could (`preflight.can_join`): not in the chat, named
by a username or an invite link. A chat that asks its admins to accept newcomers answers
`requested`; the pre-flight shows the account as not a member until they do.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from db.dal import open_dal
from gateway.target_join import TargetJoiner
from webui_api.campaign_schemas import CampaignOut
from webui_api.http import (
    current_workspace,
    json_model,
    language,
    parse_body,
    path_id,
    require_auth,
)
from webui_api.keys import PLANNER, SESSIONMAKER
from webui_api.routing import ApiRoutes
from webui_api.views.campaigns import campaign_view_out

routes = ApiRoutes(tag="campaigns")


class JoinIn(BaseModel):
    account_id: int = Field(description="The account that joins (one of `preflight.can_join`)")


class JoinOut(BaseModel):
    outcome: Literal["joined", "requested"] = Field(
        description="joined, or requested: the chat's admins have to accept the account"
    )
    message: str = Field(description="What happened, in the caller's language")
    campaign: CampaignOut = Field(description="The campaign, with the pre-flight run again")


@routes.post(
    "/api/v1/campaigns/{campaign_id}/join",
    summary="Let one of the accounts join the target chat, then check again (owner only)",
    request=JoinIn,
    response=JoinOut,
    errors=(403,),
    workspace=True,
    example={"account_id": 1},
)
async def join_target(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    campaign_id = path_id(request, "campaign_id")
    body = await parse_body(request, JoinIn)
    app = request.app
    async with open_dal(app[SESSIONMAKER]) as dal:  # closed before Telegram is asked
        workspace_id = await current_workspace(request, dal, claims.user_id)
    joiner = TargetJoiner(app[PLANNER])
    result = await joiner.join(claims.user_id, workspace_id, campaign_id, body.account_id)
    async with open_dal(app[SESSIONMAKER]) as dal:
        out = await campaign_view_out(request, dal, claims.user_id, workspace_id, campaign_id)
    return json_model(
        JoinOut(outcome=result.outcome, message=result.sentence(language(request)), campaign=out)
    )
