"""`/api/v1/admin/...`: the installation as its admins run it (a non-admin gets 403).

The role is checked by the use cases (`core.admin`) from storage on every request, not
from the token's `role` claim, so granting or revoking applies at the next request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime

from aiohttp import web

from core.admin import AdminService
from core.dto import AccountDTO, AccountStatus, UserDTO
from core.installation import LimitsView
from core.limits import InviteLimits
from db.dal import open_dal
from webui_api.admin_schemas import (
    AdminAccountList,
    AdminAccountOut,
    AdminUserList,
    AdminUserOut,
    InstallationStatsOut,
    LimitValues,
    MaxLimitsIn,
    MaxLimitsOut,
    WorkerOut,
)
from webui_api.http import (
    client_info,
    cursor_text,
    json_model,
    parse_body,
    path_id,
    require_auth,
)
from webui_api.keys import ADMIN, SESSIONMAKER
from webui_api.routing import CURSOR, ApiRoutes, limit, text

routes = ApiRoutes(tag="admin")
USER_LIMIT = limit(20)
ACCOUNT_LIMIT = limit(50)
USER_QUERY = text("q", "@name or a name prefix, or a Telegram id; empty: everyone", "@durov")
ACCOUNT_STATUS = text(
    "status", "Only accounts in this status", "active", enum=[s.value for s in AccountStatus]
)


def _user_out(user: UserDTO, admin: AdminService) -> AdminUserOut:
    return AdminUserOut(
        id=user.id,
        telegram_id=user.telegram_id,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        language=user.language,
        role=user.role.value,
        blocked=user.blocked,
        configured_admin=user.telegram_id in admin.configured_admins,
    )


def _values(limits: InviteLimits) -> LimitValues:
    return LimitValues(**asdict(limits))


def _limits_out(view: LimitsView) -> MaxLimitsOut:
    return MaxLimitsOut(
        configured=_values(view.configured),
        maximum=_values(view.maximum),
        effective=_values(view.effective),
        stored=view.stored,
    )


def _account_out(a: AccountDTO) -> AdminAccountOut:
    return AdminAccountOut(
        id=a.id,
        workspace_id=a.workspace_id,
        username=a.username,
        first_name=a.first_name,
        phone=a.phone_masked,
        status=a.status.value,
        status_reason=a.status_reason,
        cooldown_until=a.cooldown_until,
        last_checked_at=a.last_checked_at,
        created_at=a.created_at,
    )


@routes.get(
    "/api/v1/admin/stats",
    summary="Installation totals, today's invites and live workers",
    response=InstallationStatsOut,
    errors=(403,),
)
async def stats(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        found = await request.app[ADMIN].stats(dal, claims.user_id)
    c = found.counts
    return json_model(
        InstallationStatsOut(
            users=c.users,
            admins=c.admins,
            blocked=c.blocked,
            workspaces=c.workspaces,
            accounts=c.accounts,
            invites_today=c.invites_today,
            parse_tasks=c.parse_tasks,
            campaigns=c.campaigns,
            workers=[
                WorkerOut(
                    worker=w.worker,
                    started_at=datetime.fromisoformat(w.started_at),
                    beat_at=datetime.fromisoformat(w.beat_at),
                )
                for w in found.workers
            ],
        )
    )


@routes.get(
    "/api/v1/admin/users",
    summary="Users by username prefix (?q=@name) or Telegram id (?q=123)",
    response=AdminUserList,
    errors=(403,),
    query=(USER_LIMIT, CURSOR, USER_QUERY),
)
async def list_users(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    page_size = USER_LIMIT.read(request)
    cursor = CURSOR.read(request)
    admin = request.app[ADMIN]
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        page = await admin.users(
            dal, claims.user_id, USER_QUERY.read(request), cursor=cursor, limit=page_size
        )
    return json_model(
        AdminUserList(
            items=[_user_out(u, admin) for u in page.items], next_cursor=cursor_text(page)
        )
    )


def _user_change(action: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def change(request: web.Request) -> web.Response:
        claims = await require_auth(request)
        target = path_id(request, "user_id")
        admin = request.app[ADMIN]
        async with open_dal(request.app[SESSIONMAKER]) as dal:
            user = await getattr(admin, action)(
                dal, claims.user_id, target, ip=client_info(request).ip
            )
        return json_model(_user_out(user, admin))

    change.__name__ = f"{action}_user"
    return change


for _path, _action, _summary in (
    ("block", "block", "Block: the bot refuses them and their panel sessions end at once"),
    ("unblock", "unblock", "Let a blocked user in again"),
    ("grant-admin", "grant_admin", "Make the user an installation admin"),
    (
        "revoke-admin",
        "revoke_admin",
        "Take the admin role (not one's own, not a configured admin's)",
    ),
):
    routes.post(
        f"/api/v1/admin/users/{{user_id}}/{_path}",
        summary=_summary,
        response=AdminUserOut,
        errors=(403, 404),
    )(_user_change(_action))


@routes.get(
    "/api/v1/admin/limits",
    summary="Invite limits: settings, maximums, effective",
    response=MaxLimitsOut,
    errors=(403,),
)
async def get_limits(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        view = await request.app[ADMIN].limits_view(dal, claims.user_id)
    return json_model(_limits_out(view))


@routes.route(
    "PUT",
    "/api/v1/admin/limits",
    summary="Change some of the installation's maximum limits",
    request=MaxLimitsIn,
    response=MaxLimitsOut,
    errors=(403,),
    example={"daily_per_account": 30, "daily_per_chat": 200},
)
async def put_limits(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    body = await parse_body(request, MaxLimitsIn)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        view = await request.app[ADMIN].set_limits(
            dal, claims.user_id, body.model_dump(exclude_none=True), ip=client_info(request).ip
        )
    return json_model(_limits_out(view))


@routes.get(
    "/api/v1/admin/accounts",
    summary="Linked accounts of every workspace, by status (?status=)",
    response=AdminAccountList,
    errors=(403,),
    query=(ACCOUNT_LIMIT, CURSOR, ACCOUNT_STATUS),
)
async def list_accounts(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    page_size = ACCOUNT_LIMIT.read(request)
    cursor = CURSOR.read(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        page = await request.app[ADMIN].accounts(
            dal, claims.user_id, ACCOUNT_STATUS.read(request), cursor=cursor, limit=page_size
        )
    return json_model(
        AdminAccountList(items=[_account_out(a) for a in page.items], next_cursor=cursor_text(page))
    )
