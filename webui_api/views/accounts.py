"""`/api/v1/accounts`: the workspace's linked Telegram accounts (never their sessions)."""

from __future__ import annotations

from aiohttp import web

from core.dto import AccountDTO
from db.dal import open_dal
from gateway.accounts import unlink_account
from webui_api.http import current_workspace, cursor_text, json_model, path_id, query_cursor, query_int, require_auth
from webui_api.keys import ACCOUNTS, GATEWAY, LEASES, SESSIONMAKER
from webui_api.routing import ApiRoutes
from webui_api.schemas import AccountList, AccountOut, UnlinkResponse

routes = ApiRoutes(tag="accounts")


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


@routes.get("/api/v1/accounts", summary="Linked accounts of the workspace, by cursor", response=AccountList, errors=(404,))
async def list_accounts(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    cursor = query_cursor(request)
    limit = query_int(request, "limit", default=50, low=1, high=100)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        page = await request.app[ACCOUNTS].page(dal, claims.user_id, workspace_id, cursor=cursor, limit=limit)
    return json_model(AccountList(items=[_out(a) for a in page.items], next_cursor=cursor_text(page)))


async def _set_enabled(request: web.Request, enabled: bool) -> web.Response:
    claims = await require_auth(request)
    account_id = path_id(request, "account_id")
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        account = await request.app[ACCOUNTS].set_enabled(
            dal, claims.user_id, workspace_id, account_id, enabled=enabled
        )
    return json_model(_out(account))


@routes.post("/api/v1/accounts/{account_id}/disable", summary="Stop using an account", response=AccountOut, errors=(404,))
async def disable_account(request: web.Request) -> web.Response:
    return await _set_enabled(request, False)


@routes.post("/api/v1/accounts/{account_id}/enable", summary="Use a disabled account again", response=AccountOut, errors=(404,))
async def enable_account(request: web.Request) -> web.Response:
    return await _set_enabled(request, True)


@routes.route(
    "DELETE",
    "/api/v1/accounts/{account_id}",
    summary="Unlink: log the session out of Telegram and forget it (owner only)",
    response=UnlinkResponse,
    errors=(403, 404, 409),
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
