"""`/api/v1/campaigns`: invite campaigns as the panel steers them (DESIGN §7).

The rules live in `core/campaign_service.py`, the pre-flight (Telegram asked through every
linked account, each under its lease) in `gateway/campaigns.py`. Any member of the
workspace, owner or manager, may do all of this; another workspace's campaign is a 404.

Creating a campaign first finds the target with the workspace's accounts
(`gateway/chats.py`): no such chat (`target_no_such_chat`), a link to a chat none of them is
in (`target_not_member`) or a person (`target_is_person`) is a 400 and nothing is written —
a draft the client never learnt the id of could only clutter the list. Then it runs the
pre-flight in the same request, so the answer already tells which accounts will invite and
how many people are left to invite. Should the pre-flight still refuse the target (it
changed in between, or Telegram failed), the new draft is removed again: a failed check
saves nothing (the audit log keeps `campaign.discard`). A chat the accounts are in but may
not add people to, or an audience with nobody left to invite, is not an error: the draft
stays, its pre-flight says why (`ready: false`, `warnings`), a start is refused with the
sentence of `core.campaigns.start_problem`, and `POST …/preflight` checks again once that
is fixed.

A refused step (pausing a draft, resuming a finished campaign) is a 400 naming it in
`details.problem` (`transition`, `not_paused`, …): `TransitionNotAllowed` is the domain's
`InvalidInput`, mapped to 400 by the status table of `webui_api/http.py`, as for the
collection tasks' controls. A start the pre-flight does not allow (`preflight_missing`,
`target_not_found`, `no_eligible_accounts`, `nobody_to_invite`: `core.campaigns.
start_problem`) is a 409 `not_startable` whose message is the problem's sentence.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from core.campaign_service import (
    CampaignService,
    CampaignView,
    campaign_start_problem,
    parse_hours,
    parse_start_at,
)
from core.campaigns import CampaignStatus
from core.dto import CampaignDTO
from core.errors import DomainError, InvalidInput
from core.i18n import has_text, refusal_message, t
from core.interfaces import Dal
from core.limits import InviteLimits
from core.logs import current_trace_id
from db.dal import open_dal
from webui_api.campaign_schemas import (
    CampaignCreate,
    CampaignList,
    CampaignOut,
    CampaignReportOut,
    Counts,
    EventList,
    LimitsOut,
    PreflightOut,
    TargetOut,
)
from webui_api.http import (
    current_workspace,
    cursor_text,
    json_model,
    json_rows,
    language,
    parse_body,
    path_id,
    require_auth,
)
from webui_api.keys import CAMPAIGNS, CHATS, PLANNER, SESSIONMAKER
from webui_api.routing import CURSOR, ApiRoutes, Param, limit
from webui_api.schemas import Progress

routes = ApiRoutes(tag="campaigns")
LIST_LIMIT = limit(20)
EVENT_LIMIT = limit(50)
REPORT_LIMIT = limit(50)  # the follow-up page: 50 like every list, up to 100
Control = Callable[[CampaignService, Dal, int, int, int], Awaitable[CampaignDTO]]


# --- shaping -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _text(lang: str, prefix: str, code: str | None) -> str | None:
    """The catalog's sentence for a code (a list page asks for the same few codes again and
    again: 100 follow-ups name three reasons)."""
    key = f"{prefix}.{code}"
    return t(lang, key) if code is not None and has_text(key) else None


def _texts(lang: str, prefix: str, codes: Iterable[str]) -> dict[str, str]:
    """`{code: sentence}` for the codes the catalog has a sentence for."""
    return {code: text for code in codes if (text := _text(lang, prefix, code)) is not None}


def _limits_out(limits: InviteLimits) -> LimitsOut:
    return LimitsOut(
        daily_per_account=limits.daily_per_account,
        daily_per_chat=limits.daily_per_chat,
        lifetime_per_chat=limits.lifetime_per_chat,
        daily_per_target=limits.daily_per_target,
        pause_min_s=limits.pause_min_s,
        pause_max_s=limits.pause_max_s,
    )


def _preflight_out(lang: str, stored: dict[str, Any]) -> PreflightOut | None:
    """The stored pre-flight (`Planner.preflight`) with the sentences for its codes."""
    if not stored:
        return None
    return PreflightOut.model_validate(
        stored
        | {
            "exclusion_texts": _texts(
                lang, "campaign.exclusion", sorted(set(stored["excluded"].values()))
            ),
            "warning_texts": _texts(lang, "campaign.warning", stored["warnings"]),
        }
    )


def _target(c: CampaignDTO) -> dict[str, Any]:
    """A `TargetOut` as plain data."""
    return {
        "ref": c.target_ref,
        "chat_id": c.target_chat_id,
        "kind": c.target_kind,
        "title": c.target_title,
    }


def _progress(view: CampaignView) -> dict[str, int]:
    """A `Progress` as plain data."""
    return {"done": view.finished_targets, "total": view.total}


def _campaign_out(lang: str, view: CampaignView) -> CampaignOut:
    c = view.campaign
    hours = None if c.active_from_hour is None else f"{c.active_from_hour}-{c.active_to_hour}"
    # The one rule `start` refuses with, so the panel disables Start and says why.
    problem = campaign_start_problem(c) if c.status == CampaignStatus.DRAFT else None
    return CampaignOut(
        id=c.id,
        name=c.name,
        status=c.status,  # type: ignore[arg-type]
        waiting_reason=c.waiting_reason,  # type: ignore[arg-type]
        paused_reason=c.paused_reason,  # type: ignore[arg-type]
        audience_id=c.audience_id,
        target=TargetOut.model_validate(_target(c)),
        invite_link=c.invite_link,
        start_at=c.start_at,
        active_hours=hours,
        created_at=c.created_at,
        started_at=c.started_at,
        finished_at=c.finished_at,
        preflight=_preflight_out(lang, c.preflight),
        start_problem=problem,
        start_problem_text=refusal_message(lang, {"problem": problem}) if problem else None,
        counts=Counts(**view.counts),
        progress=Progress.model_validate(_progress(view)),
    )


def _item(view: CampaignView) -> dict[str, Any]:
    """A `CampaignItem` as plain data (`json_rows`)."""
    c = view.campaign
    return {
        "id": c.id,
        "name": c.name,
        "status": c.status,
        "waiting_reason": c.waiting_reason,
        "paused_reason": c.paused_reason,
        "target": _target(c),
        "counts": view.counts,
        "progress": _progress(view),
        "created_at": c.created_at,
    }


def _read_statuses(request: web.Request) -> list[str] | None:
    """`?status=running,paused`: only campaigns in these statuses."""
    raw = request.query.get("status")
    if not raw:
        return None
    allowed = [s.value for s in CampaignStatus]
    wanted = [part.strip() for part in raw.split(",")]
    if not set(wanted) <= set(allowed):
        raise InvalidInput(
            "status", field="status", problem="campaign_status", allowed=", ".join(allowed)
        )
    return wanted


_NAMES = "|".join(s.value for s in CampaignStatus)
STATUSES = Param(
    "status",
    {"type": "string", "pattern": f"^({_NAMES})(,({_NAMES}))*$"},
    "Only campaigns in these statuses, separated by commas",
    "running,paused",
    _read_statuses,
)


async def _view_out(
    request: web.Request, dal: Dal, user_id: int, workspace_id: int, campaign_id: int
) -> CampaignOut:
    view = await request.app[CAMPAIGNS].view(dal, user_id, workspace_id, campaign_id)
    return _campaign_out(language(request), view)


campaign_view_out = _view_out  # for other views that answer with the campaign


# --- creating and looking --------------------------------------------------------------------
@routes.post(
    "/api/v1/campaigns",
    summary="Create a draft and run its pre-flight through the linked accounts",
    request=CampaignCreate,
    response=CampaignOut,
    status=201,
    workspace=True,
    example={
        "name": "Spring",
        "audience_id": 1,
        "target": "@my_group",
        "start_at": "now",
        "active_hours": "9-21",
        "limits": {"daily_per_target": 40, "pause_min_s": 900},
    },
)
async def create_campaign(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    body = await parse_body(request, CampaignCreate)
    start_at = parse_start_at(body.start_at, datetime.now(UTC))
    active_hours = parse_hours(body.active_hours)
    service = request.app[CAMPAIGNS]
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
    # One account finds the chat before anything is written: an unknown chat, or a link to
    # one the accounts are not in, is refused without a draft left behind.
    target = await request.app[CHATS].check_target(claims.user_id, workspace_id, body.target)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        draft = await service.create(
            dal,
            claims.user_id,
            workspace_id,
            name=body.name,
            audience_id=body.audience_id,
            target=target,
            start_at=start_at,
            active_hours=active_hours,
            limits=body.limits.model_dump(exclude_none=True) if body.limits else None,
            trace_id=current_trace_id(),
        )
        await dal.commit()
    try:
        await request.app[PLANNER].preflight(claims.user_id, workspace_id, draft.id)
    except DomainError:  # the client never learns this draft's id: a failed check saves nothing
        async with open_dal(request.app[SESSIONMAKER]) as dal:
            await service.discard(dal, claims.user_id, workspace_id, draft.id)
            await dal.commit()
        raise
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        out = await _view_out(request, dal, claims.user_id, workspace_id, draft.id)
    return json_model(out, status=201)


@routes.get(
    "/api/v1/campaigns",
    summary="Campaigns of the workspace, newest first (?status=running,paused)",
    response=CampaignList,
    query=(LIST_LIMIT, CURSOR, STATUSES),
    workspace=True,
)
async def list_campaigns(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    page_size = LIST_LIMIT.read(request)
    before_id = CURSOR.read(request) or None
    statuses = STATUSES.read(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        page = await request.app[CAMPAIGNS].list(
            dal,
            claims.user_id,
            workspace_id,
            before_id=before_id,
            limit=page_size,
            statuses=statuses,
        )
    return json_rows({"items": [_item(v) for v in page.items], "next_cursor": cursor_text(page)})


@routes.get(
    "/api/v1/campaigns/{campaign_id}",
    summary="One campaign with its pre-flight, counts and progress",
    response=CampaignOut,
    workspace=True,
)
async def get_campaign(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    campaign_id = path_id(request, "campaign_id")
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        out = await _view_out(request, dal, claims.user_id, workspace_id, campaign_id)
    return json_model(out)


@routes.post(
    "/api/v1/campaigns/{campaign_id}/preflight",
    summary="Check the target and the accounts again (draft, scheduled or paused)",
    response=CampaignOut,
    workspace=True,
)
async def preflight_campaign(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    campaign_id = path_id(request, "campaign_id")
    async with open_dal(request.app[SESSIONMAKER]) as dal:  # closed before Telegram is asked
        workspace_id = await current_workspace(request, dal, claims.user_id)
    await request.app[PLANNER].preflight(claims.user_id, workspace_id, campaign_id)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        out = await _view_out(request, dal, claims.user_id, workspace_id, campaign_id)
    return json_model(out)


@routes.get(
    "/api/v1/campaigns/{campaign_id}/report",
    summary="Counts, reasons, each account's part and the follow-up list (paged by ?cursor=)",
    response=CampaignReportOut,
    query=(CURSOR, REPORT_LIMIT),
    workspace=True,
)
async def campaign_report(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    campaign_id = path_id(request, "campaign_id")
    after = CURSOR.read(request)
    page_size = REPORT_LIMIT.read(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        report = await request.app[CAMPAIGNS].report(
            dal,
            claims.user_id,
            workspace_id,
            campaign_id,
            follow_up_after=after,
            follow_up_limit=page_size,
        )
    lang = language(request)
    limits = _limits_out(report.limits).model_dump()
    return json_rows(
        {
            "counts": report.counts,
            "reasons": report.reasons,
            "reason_texts": _texts(lang, "reason", report.reasons),
            "accounts": [
                {
                    "id": u.account_id,
                    "label": u.label,
                    "invited": u.invited,
                    "failed": u.failed,
                    "attempts": u.attempts,
                    "today": u.today,
                    "today_in_chat": u.today_in_chat,
                    "limits": limits,
                }
                for u in report.accounts
            ],
            "follow_up": {
                "invite_link": report.campaign.invite_link,
                "items": [
                    {
                        "user_id": f.tg_user_id,
                        "username": f.username,
                        "first_name": f.first_name,
                        "reason": f.reason,
                        "reason_text": _text(lang, "reason", f.reason),
                    }
                    for f in report.follow_up
                ],
                "next_cursor": None
                if report.follow_up_next is None
                else str(report.follow_up_next),
            },
        }
    )


@routes.get(
    "/api/v1/campaigns/{campaign_id}/events",
    summary="Invite attempts, oldest first, by cursor",
    response=EventList,
    query=(CURSOR, EVENT_LIMIT),
    workspace=True,
)
async def campaign_events(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    campaign_id = path_id(request, "campaign_id")
    after = CURSOR.read(request)
    page_size = EVENT_LIMIT.read(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        page = await request.app[CAMPAIGNS].events(
            dal, claims.user_id, workspace_id, campaign_id, after_id=after, limit=page_size
        )
    lang = language(request)
    return json_rows(
        {
            "items": [
                {
                    "id": e.id,
                    "at": e.at,
                    "account": None
                    if e.account_id is None
                    else {"id": e.account_id, "label": e.account_label},
                    "user": {"id": e.tg_user_id, "username": e.username},
                    "outcome": e.outcome,
                    "reason": e.reason,
                    "reason_text": _text(lang, "reason", e.reason),
                    "error": e.error,
                }
                for e in page.items
            ],
            "next_cursor": cursor_text(page),
        }
    )


# --- steering --------------------------------------------------------------------------------
def _control(
    name: str, action: Control, status: int
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def control(request: web.Request) -> web.Response:
        claims = await require_auth(request)
        campaign_id = path_id(request, "campaign_id")
        async with open_dal(request.app[SESSIONMAKER]) as dal:
            workspace_id = await current_workspace(request, dal, claims.user_id)
            campaign = await action(
                request.app[CAMPAIGNS], dal, claims.user_id, workspace_id, campaign_id
            )
            await dal.commit()
            out = await _view_out(request, dal, claims.user_id, workspace_id, campaign.id)
        return json_model(out, status=status)

    control.__name__ = f"{name}_campaign"
    return control


_CONTROLS: tuple[tuple[str, Control, int, str], ...] = (
    (
        "start",
        CampaignService.start,
        200,
        (
            "Start now (running) or at the start time (scheduled); needs a pre-flight with an account that may invite. "
            "A manager's campaign of more people than APPROVAL_THRESHOLD waits for the owner instead (approval)"
        ),
    ),
    (
        "approve",
        CampaignService.approve,
        200,
        "The owner lets a campaign that waits for approval start",
    ),
    (
        "reject",
        CampaignService.reject,
        200,
        "The owner sends a campaign that waits for approval back as a draft",
    ),
    ("pause", CampaignService.pause, 200, "Pause; nobody is invited until it is resumed"),
    ("resume", CampaignService.resume, 200, "Continue a paused campaign where it stopped"),
    ("cancel", CampaignService.cancel, 200, "Stop for good; the results stay"),
    (
        "duplicate",
        CampaignService.duplicate,
        201,
        "A new draft with the same audience, target and hours (its pre-flight runs again)",
    ),
)
_OWNERS_ONLY = ("approve", "reject")
for _name, _action, _status, _summary in _CONTROLS:
    routes.post(
        f"/api/v1/campaigns/{{campaign_id}}/{_name}",
        summary=_summary,
        response=CampaignOut,
        status=_status,
        workspace=True,
        # A start the pre-flight does not allow: 409 `not_startable`, with its sentence.
        errors=((403,) if _name in _OWNERS_ONLY else ()) + ((409,) if _name == "start" else ()),
    )(_control(_name, _action, _status))
