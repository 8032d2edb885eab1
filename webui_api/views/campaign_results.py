"""A campaign's plan and results, and drafts as people change them (issue 16):

- `GET …/{id}/plan`: the next attempt (`core/schedule.py`) and the expected finish;
- `GET …/{id}/attempts.csv`, `GET …/{id}/follow-up.csv`: the results, streamed
  (`core/campaign_exports.py`);
- `PATCH …/{id}`: a draft's name, audience, target, start, hours and limits, with the checks
  of a creation (the target found by the accounts before anything is written); a new
  target, audience or limits run the pre-flight again in the same request;
- `DELETE …/{id}` and `POST /api/v1/campaign-deletions`: drafts, one or many, all or none
  (`core/campaign_drafts.py`: the owner any draft, a manager their own).

Any member of the workspace reads and edits; another workspace's campaign is a 404.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from core import campaign_drafts as drafts
from core.campaign_exports import attempts_csv, follow_up_csv
from core.campaign_service import parse_hours, parse_start_at, public_counts
from core.dto import CampaignDTO
from core.errors import DomainError
from core.schedule import campaign_schedule
from db.dal import open_dal
from db.dal_drafts import DraftsSql
from db.dal_history import HistorySql
from webui_api.campaign_schemas import CampaignOut
from webui_api.history_schemas import CampaignEdit, CampaignPlanOut, DraftsDelete, DraftsDeleted
from webui_api.http import (
    csv_response,
    current_workspace,
    json_model,
    language,
    parse_body,
    path_id,
    require_auth,
)
from webui_api.keys import CAMPAIGNS, CHATS, PLANNER, SESSIONMAKER
from webui_api.routing import ApiRoutes
from webui_api.views.campaigns import _limits_out, _view_out

routes = ApiRoutes(tag="campaigns")


@routes.get(
    "/api/v1/campaigns/{campaign_id}/plan",
    summary="When the engine may next invite for it, and the UTC day it should be done",
    response=CampaignPlanOut,
    workspace=True,
)
async def campaign_plan(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    campaign_id = path_id(request, "campaign_id")
    service = request.app[CAMPAIGNS]
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        campaign = await service.get(dal, claims.user_id, workspace_id, campaign_id)
        counts = public_counts(await dal.counts(campaign.id))
        plan = await campaign_schedule(
            dal, HistorySql(dal.session), campaign, counts, service.limits
        )
        limits = await service.effective_limits(dal, campaign)
    return json_model(
        CampaignPlanOut(
            next_attempt_at=plan.next_attempt_at,
            to_invite=plan.to_invite,
            accounts=plan.accounts,
            days_to_finish=plan.days_to_finish,
            finish_by=plan.finish_by,
            limits=_limits_out(limits),
            own_limits={k: int(v) for k, v in (campaign.limits or {}).items()},
        )
    )


def _export(
    build: Callable[..., Awaitable[tuple[CampaignDTO, AsyncIterator[bytes]]]], name: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A handler streaming one of a campaign's CSV files (`core.campaign_exports`)."""

    async def export(request: web.Request) -> web.StreamResponse:
        claims = await require_auth(request)
        campaign_id = path_id(request, "campaign_id")
        async with open_dal(request.app[SESSIONMAKER]) as dal:
            workspace_id = await current_workspace(request, dal, claims.user_id)
            campaign, rows = await build(
                request.app[CAMPAIGNS],
                dal,
                claims.user_id,
                workspace_id,
                campaign_id,
                language(request),
            )
            return await csv_response(request, f"campaign-{campaign.id}-{name}.csv", rows)

    export.__name__ = f"export_{name.replace('-', '_')}"
    return export


routes.get(
    "/api/v1/campaigns/{campaign_id}/attempts.csv",
    summary="Every attempt as CSV: time, person, account, outcome and reason (codes and words)",
    errors=(404,),
    content_type="text/csv",
    workspace=True,
)(_export(attempts_csv, "attempts"))
routes.get(
    "/api/v1/campaigns/{campaign_id}/follow-up.csv",
    summary="The people whose privacy refused the invite, with the invite link to send them, as CSV",
    errors=(404,),
    content_type="text/csv",
    workspace=True,
)(_export(follow_up_csv, "follow-up"))


def _edit_of(body: CampaignEdit) -> drafts.DraftEdit:
    given = body.model_fields_set
    now = datetime.now(UTC)
    return drafts.DraftEdit(
        name=body.name,
        audience_id=body.audience_id,
        target=body.target,
        start_at=("start_at" in given, parse_start_at(body.start_at, now)),
        active_hours=("active_hours" in given, parse_hours(body.active_hours)),
        limits=(
            "limits" in given,
            body.limits.model_dump(exclude_none=True) if body.limits else None,
        ),
    )


@routes.route(
    "PATCH",
    "/api/v1/campaigns/{campaign_id}",
    summary="Change a draft (name, audience, target, start, hours, limits); a refused change changes nothing",
    request=CampaignEdit,
    response=CampaignOut,
    workspace=True,
    example={
        "name": "Spring, second wave",
        "active_hours": "10-20",
        "limits": {"pause_min_s": 900},
    },
)
async def edit_campaign(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    campaign_id = path_id(request, "campaign_id")
    body = await parse_body(request, CampaignEdit)
    edit = _edit_of(body)
    service = request.app[CAMPAIGNS]
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        campaign, values = await drafts.check_edit(
            service, dal, claims.user_id, workspace_id, campaign_id, edit
        )
    if "target_ref" in values:
        # As for a creation: the accounts find the chat before anything is written.
        await request.app[CHATS].check_target(claims.user_id, workspace_id, values["target_ref"])
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        await drafts.apply_edit(dal, DraftsSql(dal.session), claims.user_id, campaign, values)
        await dal.commit()
    if drafts.needs_preflight(values):
        # Should Telegram refuse now, the edit stays and the draft shows no pre-flight: a
        # start asks for one (`POST …/preflight` runs it again).
        with contextlib.suppress(DomainError):
            await request.app[PLANNER].preflight(claims.user_id, workspace_id, campaign_id)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        out = await _view_out(request, dal, claims.user_id, workspace_id, campaign_id)
    return json_model(out)


async def _delete(request: web.Request, ids: list[int]) -> list[int]:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        deleted = await drafts.delete_drafts(
            dal, DraftsSql(dal.session), claims.user_id, workspace_id, ids
        )
        await dal.commit()
    return deleted


@routes.route(
    "DELETE",
    "/api/v1/campaigns/{campaign_id}",
    summary="Delete a draft (the owner any, a manager their own)",
    response=DraftsDeleted,
    errors=(403,),
    workspace=True,
)
async def delete_campaign(request: web.Request) -> web.Response:
    campaign_id = path_id(request, "campaign_id")
    return json_model(DraftsDeleted(deleted=await _delete(request, [campaign_id])))


@routes.post(
    "/api/v1/campaign-deletions",
    summary="Delete drafts, all or none (the owner any, a manager their own)",
    request=DraftsDelete,
    response=DraftsDeleted,
    errors=(403,),
    workspace=True,
    example={"ids": [12, 13]},
)
async def delete_campaigns(request: web.Request) -> web.Response:
    body = await parse_body(request, DraftsDelete)
    return json_model(DraftsDeleted(deleted=await _delete(request, body.ids)))
