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
from webui_api.http import current_workspace, cursor_text, json_model, query_cursor, query_int, require_auth
from webui_api.keys import SESSIONMAKER
from webui_api.routing import ApiRoutes

routes = ApiRoutes(tag="audit")


def _entry_out(e: AuditEntry) -> AuditEntryOut:
    actor = ActorOut(id=e.actor_user_id, username=e.actor_username) if e.actor_user_id is not None else None
    return AuditEntryOut(id=e.id, at=e.at, actor=actor, action=e.action, workspace_id=e.workspace_id,
                         details=e.details, ip=e.ip, trace_id=e.trace_id)


def _everything(request: web.Request) -> bool:
    raw = request.query.get("all", "0")
    if raw not in ("0", "1"):
        raise InvalidInput("all", field="all", problem="integer_range", low=0, high=1)
    return raw == "1"


@routes.get("/api/v1/audit", summary="Audit log of the workspace (owner), or of everything (?all=1, admins)",
            response=AuditList, errors=(403, 404))
async def list_audit(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    limit = query_int(request, "limit", default=50, low=1, high=100)
    cursor = query_cursor(request)
    everything = _everything(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = None if everything else await current_workspace(request, dal, claims.user_id)
        page = await audit_log(dal, claims.user_id, workspace_id, everything=everything, cursor=cursor, limit=limit)
    return json_model(AuditList(items=[_entry_out(e) for e in page.items], next_cursor=cursor_text(page)))
