"""`/api/v1/me` and the caller's workspaces (the tenancy entry point for later resources)."""

from __future__ import annotations

from aiohttp import web

from core.dto import WorkspaceRef
from core.errors import Unauthorized
from core.users import require_workspace, workspaces_of
from db.dal import open_dal
from webui_api.http import json_model, path_id, require_auth
from webui_api.keys import SESSIONMAKER
from webui_api.routing import ApiRoutes
from webui_api.schemas import MeResponse, WorkspaceOut

routes = ApiRoutes(tag="me")


def _workspace_out(w: WorkspaceRef) -> WorkspaceOut:
    return WorkspaceOut(id=w.id, name=w.name, role=w.role.value, personal=w.personal)


@routes.get("/api/v1/me", summary="The logged-in user and their workspaces", response=MeResponse)
async def me(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        user = await dal.get_user(claims.user_id)
        if user is None or user.blocked:
            raise Unauthorized("user unavailable")
        workspaces = await workspaces_of(dal, user.id)
    return json_model(
        MeResponse(
            id=user.id,
            telegram_id=user.telegram_id,
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
            language=user.language,
            role=user.role.value,
            workspaces=[_workspace_out(w) for w in workspaces],
        )
    )


@routes.get(
    "/api/v1/workspaces/{workspace_id}",
    summary="One of the caller's workspaces; another's is 404",
    response=WorkspaceOut,
    errors=(404,),
)
async def workspace(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    workspace_id = path_id(request, "workspace_id")
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        await require_workspace(dal, claims.user_id, workspace_id)
        found = next(w for w in await workspaces_of(dal, claims.user_id) if w.id == workspace_id)
    return json_model(_workspace_out(found))
