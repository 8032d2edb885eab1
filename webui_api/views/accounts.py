"""`/api/v1/accounts`: the workspace's linked Telegram accounts (never their sessions)."""

from __future__ import annotations

from aiohttp import web

from core.dto import AccountDTO
from db.dal import open_dal
from gateway.accounts import unlink_account
from webui_api.http import (
    current_workspace,
    cursor_text,
    json_model,
    path_id,
    require_auth,
)
from webui_api.keys import ACCOUNTS, GATEWAY, LEASES, SESSIONMAKER
from webui_api.routing import CURSOR, ApiRoutes, limit
from webui_api.schemas import AccountList, AccountOut, UnlinkResponse

routes = ApiRoutes(tag="accounts")
LIMIT = limit(50)


def _out(account: AccountDTO) -> AccountOut:
    return AccountOut(
        id=account.id,
        username=account.username,
        first_name=account.first_name,
        phone=account.phone_masked,
        status=account.status.value,
        status_reason=account.status_reason,
        cooldown_until=account.cooldown_until,
        usage_today=account.usage_today,
    )


@routes.get(
    "/api/v1/accounts",
    summary="Linked accounts of the workspace, by cursor",
    response=AccountList,
    query=(CURSOR, LIMIT),
    workspace=True,
)
async def list_accounts(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    cursor = CURSOR.read(request)
    page_size = LIMIT.read(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        page = await request.app[ACCOUNTS].page(
            dal, claims.user_id, workspace_id, cursor=cursor, limit=page_size
        )
    return json_model(
        AccountList(items=[_out(a) for a in page.items], next_cursor=cursor_text(page))
    )


async def _set_enabled(request: web.Request, enabled: bool) -> web.Response:
    claims = await require_auth(request)
    account_id = path_id(request, "account_id")
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        account = await request.app[ACCOUNTS].set_enabled(
            dal, claims.user_id, workspace_id, account_id, enabled=enabled
        )
    return json_model(_out(account))


@routes.post(
    "/api/v1/accounts/{account_id}/disable",
    summary="Stop using an account",
    response=AccountOut,
    workspace=True,
)
async def disable_account(request: web.Request) -> web.Response:
    return await _set_enabled(request, False)


@routes.post(
    "/api/v1/accounts/{account_id}/enable",
    summary="Use a disabled account again",
    response=AccountOut,
    workspace=True,
)
async def enable_account(request: web.Request) -> web.Response:
    return await _set_enabled(request, True)


@routes.route(
    "DELETE",
    "/api/v1/accounts/{account_id}",
    summary="Unlink: log the session out of Telegram and forget it (owner only)",
    response=UnlinkResponse,
    errors=(403, 404, 409),
    workspace=True,
)
async def unlink(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    account_id = path_id(request, "account_id")
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
    logged_out = await unlink_account(
        service=request.app[ACCOUNTS],
        gateway=request.app[GATEWAY],
        leases=request.app[LEASES],
        sessionmaker=request.app[SESSIONMAKER],
        user_id=claims.user_id,
        workspace_id=workspace_id,
        account_id=account_id,
    )
    return json_model(UnlinkResponse(logged_out=logged_out))
