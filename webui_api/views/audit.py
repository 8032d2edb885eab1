"""`/api/v1/audit`: security and configuration events, newest first.

A workspace's owner reads that workspace's events (a manager gets 403); an admin adds
`?all=1` for the whole installation's log.
"""

from __future__ import annotations

from aiohttp import web

from core.admin import audit_log
from core.errors import InvalidInput
from core.installation import AuditEntry
from db.dal import open_dal
from webui_api.admin_schemas import ActorOut, AuditEntryOut, AuditList
from webui_api.http import current_workspace, cursor_text, json_model, require_auth
from webui_api.keys import SESSIONMAKER
from webui_api.routing import CURSOR, ApiRoutes, Param, limit

routes = ApiRoutes(tag="audit")


def _entry_out(e: AuditEntry) -> AuditEntryOut:
    actor = (
        ActorOut(id=e.actor_user_id, username=e.actor_username)
        if e.actor_user_id is not None
        else None
    )
    return AuditEntryOut(
        id=e.id,
        at=e.at,
        actor=actor,
        action=e.action,
        workspace_id=e.workspace_id,
        details=e.details,
        ip=e.ip,
        trace_id=e.trace_id,
    )


def _everything(request: web.Request) -> bool:
    raw = request.query.get("all", "0")
    if raw not in ("0", "1"):
        raise InvalidInput("all", field="all", problem="integer_range", low=0, high=1)
    return raw == "1"


LIMIT = limit(50)
EVERYTHING = Param(
    "all",
    {"type": "string", "enum": ["0", "1"], "default": "0"},
    "1: the whole installation's log (admins only; the workspace is then not used)",
    "1",
    _everything,
)


@routes.get(
    "/api/v1/audit",
    summary="Audit log of the workspace (owner), or of everything (?all=1, admins)",
    response=AuditList,
    errors=(403,),
    query=(LIMIT, CURSOR, EVERYTHING),
    workspace=True,
)
async def list_audit(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    page_size = LIMIT.read(request)
    cursor = CURSOR.read(request)
    everything = EVERYTHING.read(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = None if everything else await current_workspace(request, dal, claims.user_id)
        page = await audit_log(
            dal, claims.user_id, workspace_id, everything=everything, cursor=cursor, limit=page_size
        )
    return json_model(
        AuditList(items=[_entry_out(e) for e in page.items], next_cursor=cursor_text(page))
    )
