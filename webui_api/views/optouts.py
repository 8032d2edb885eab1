"""`/api/v1/opt-outs`: the people a workspace never invites.

Any member reads the list (and its CSV); the owner adds and removes people, one at a time
or from CSV. People who opted out of the whole installation themselves (/optout to the bot)
are not on this list and cannot be taken off by anyone: the engine and the pre-flight skip
both lists. The rules are `core.optouts`.
"""

from __future__ import annotations

from aiohttp import web

from core import optouts
from core.errors import InvalidInput
from db.dal import open_dal
from db.dal_optouts import OptOutDal
from webui_api.http import (
    csv_response,
    current_workspace,
    cursor_text,
    json_model,
    parse_body,
    path_id,
    read_body,
    require_auth,
)
from webui_api.keys import SESSIONMAKER
from webui_api.optout_schemas import OptOutAdd, OptOutAdded, OptOutImportOut, OptOutList, OptOutOut
from webui_api.routing import CURSOR, ApiRoutes, RawBody, limit

routes = ApiRoutes(tag="opt-outs")
LIMIT = limit(50)
BASE = "/api/v1/opt-outs"
CSV_UPLOAD = RawBody(
    content={
        "text/csv": {
            "schema": {"type": "string", "format": "binary"},
            "example": "user_id,username\n777000,\n,durov\n",
        }
    },
    max_bytes=optouts.IMPORT_MAX_BYTES,
    description=f"UTF-8 CSV as the body: a `user_id` and/or `username` column with a header (as the "
    f"export writes it), or one id or @username per line; at most {optouts.IMPORT_MAX_BYTES} "
    f"bytes (more: 413)",
)


@routes.get(
    BASE,
    summary="People the workspace never invites, by Telegram id (any member)",
    response=OptOutList,
    query=(LIMIT, CURSOR),
    workspace=True,
)
async def list_opt_outs(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    page_size = LIMIT.read(request)
    cursor = CURSOR.read(request) or None
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        page, total = await optouts.workspace_list(
            OptOutDal(dal.session), claims.user_id, workspace_id, cursor=cursor, limit=page_size
        )
    return json_model(
        OptOutList(
            items=[
                OptOutOut(
                    user_id=e.tg_user_id,
                    username=e.username,
                    reason=e.reason,
                    created_at=e.created_at,
                )
                for e in page.items
            ],
            total=total,
            next_cursor=cursor_text(page),
        )
    )


@routes.post(
    BASE,
    summary="Never invite this person from the workspace (owner only); by id, or by a "
    "username one of the workspace's audiences has",
    request=OptOutAdd,
    response=OptOutAdded,
    errors=(403,),
    status=201,
    workspace=True,
    example={"user_id": 777000},
)
async def add_opt_out(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    body = await parse_body(request, OptOutAdd)
    if (body.user_id is None) == (body.username is None):
        raise InvalidInput("user_id", field="user_id", problem="optout_bad_person")
    raw = str(body.user_id) if body.user_id is not None else str(body.username)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        tg_user_id, added = await optouts.add(
            OptOutDal(dal.session), claims.user_id, workspace_id, raw
        )
    return json_model(OptOutAdded(user_id=tg_user_id, added=added), status=201)


@routes.route(
    "DELETE",
    BASE + "/{user_id}",
    summary="Take a person off the workspace's list (owner only)",
    errors=(403, 404),
    status=204,
    workspace=True,
)
async def remove_opt_out(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    tg_user_id = path_id(request, "user_id")
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        await optouts.remove(OptOutDal(dal.session), claims.user_id, workspace_id, str(tg_user_id))
    return web.Response(status=204)


@routes.get(
    BASE + "/export.csv",
    summary="The workspace's list as CSV (any member); the import reads it back",
    content_type="text/csv",
    workspace=True,
)
async def export_opt_outs(request: web.Request) -> web.StreamResponse:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        rows = await optouts.export_csv(OptOutDal(dal.session), claims.user_id, workspace_id)
        return await csv_response(request, "opt-outs.csv", rows)


@routes.post(
    BASE + "/import",
    summary="Add people from CSV (owner only); bad lines are reported by number",
    response=OptOutImportOut,
    errors=(403,),
    body=CSV_UPLOAD,
    workspace=True,
)
async def import_opt_outs(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    if (request.content_length or 0) > optouts.IMPORT_MAX_BYTES:
        raise web.HTTPRequestEntityTooLarge(optouts.IMPORT_MAX_BYTES, request.content_length or 0)
    data = await read_body(request)
    if len(data) > optouts.IMPORT_MAX_BYTES:
        raise web.HTTPRequestEntityTooLarge(optouts.IMPORT_MAX_BYTES, len(data))
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        report = await optouts.import_csv(
            OptOutDal(dal.session), claims.user_id, workspace_id, data
        )
    return json_model(OptOutImportOut.model_validate(report, from_attributes=True))
