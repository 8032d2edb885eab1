"""`/api/v1/campaigns/{id}/retention` (whether the people a campaign added stayed a day and a
week) and `/api/v1/erasures` (the owner erases one person from the workspace).

The rules are `core/retention.py` and `core/erasure.py`. Retention figures are for any member
of the workspace; erasing is the owner's (a manager's request is a 403, another workspace's
campaign a 404).
"""

from __future__ import annotations

from aiohttp import web

from core import erasure
from core.retention import CampaignRetention, campaign_retention
from core.retention import RetentionFigures as Figures
from db.dal import open_dal
from webui_api.http import current_workspace, json_model, parse_body, path_id, require_auth
from webui_api.keys import SESSIONMAKER
from webui_api.retention_schemas import (
    AudienceRetentionOut,
    CampaignRetentionOut,
    ErasureCreate,
    ErasureOut,
    RetentionFigures,
)
from webui_api.routing import ApiRoutes

routes = ApiRoutes(tag="retention")


def _figures(f: Figures) -> RetentionFigures:
    return RetentionFigures(**f.as_json())


def retention_out(report: CampaignRetention) -> CampaignRetentionOut:
    return CampaignRetentionOut(
        campaign_id=report.campaign_id,
        figures=_figures(report.figures),
        audiences=[
            AudienceRetentionOut(
                audience_id=a.audience_id, name=a.name, figures=_figures(a.figures)
            )
            for a in report.audiences
        ],
    )


@routes.get(
    "/api/v1/campaigns/{campaign_id}/retention",
    summary="How many people the campaign added stayed a day and a week, in all and per source audience",
    response=CampaignRetentionOut,
    errors=(404,),
    workspace=True,
)
async def get_retention(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    campaign_id = path_id(request, "campaign_id")
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        report = await campaign_retention(dal, claims.user_id, workspace_id, campaign_id)
    return json_model(retention_out(report))


@routes.post(
    "/api/v1/erasures",
    summary="Erase one person from the workspace, keeping only an opt-out entry (owner only)",
    request=ErasureCreate,
    response=ErasureOut,
    errors=(403,),
    status=201,
    workspace=True,
    example={"person": "@alice"},
)
async def create_erasure(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    body = await parse_body(request, ErasureCreate)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        await erasure.check_erase(dal, claims.user_id, workspace_id)
        result = await erasure.erase(
            dal, claims.user_id, workspace_id, erasure.parse_person(body.person)
        )
    return json_model(
        ErasureOut(
            people=result.people,
            opted_out=result.opted_out,
            removed=result.removed,
            total=result.total,
        ),
        status=201,
    )
