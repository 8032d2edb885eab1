"""`/api/v1/parse-tasks` and `/api/v1/audiences`: collecting people and using what was collected."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage

from core.audiences import (
    IMPORT_MAX_BYTES,
    MAX_AUDIENCE_NAME,
    AudienceService,
    ImportReport,
    MemberQuery,
)
from core.dto import AudienceDTO, MemberDTO, ParseTaskDTO
from core.errors import InvalidInput
from core.i18n import has_text, t
from core.logs import current_trace_id
from core.parsing import Filters, LastSeen, Priority, task_note
from core.people import CampaignPlace, person_status
from core.validation import text_problem
from db.dal import open_dal
from webui_api.http import (
    csv_response,
    current_workspace,
    cursor_text,
    json_model,
    json_rows,
    language,
    parse_body,
    path_id,
    read_body,
    require_auth,
)
from webui_api.keys import SESSIONMAKER, SOURCE_CHECK
from webui_api.people_schemas import (
    AudienceCreatedOut,
    PersonCampaignOut,
    PersonOptOutOut,
    PersonStatusOut,
    RetentionOut,
)
from webui_api.routing import CURSOR, ApiRoutes, RawBody, flag, limit, text
from webui_api.schemas import (
    AudienceList,
    AudienceOut,
    ImportReportOut,
    MemberList,
    MemberOut,
    OkResponse,
    ParseTaskCreate,
    ParseTaskList,
    ParseTaskOut,
    Progress,
)

routes = ApiRoutes(tag="audiences")
service = AudienceService()
TASK_LIMIT = limit(20)
LIMIT = limit(50)
MEMBER_QUERY = text(
    "q", "Username, name or Telegram id (spaces and a leading @ ignored)", "durov", max_length=64
)
LAST_SEEN = text(
    "last_seen", "Only people last seen so", "recently", enum=[v.value for v in LastSeen]
)
WITH_USERNAME = flag("username", "Only people with a username")
PREMIUM = flag("premium", "Only Telegram Premium users")
PHOTO = flag("photo", "Only people with a profile photo")
PERSON_LIMIT = limit(20)
AUDIENCE_NAME = text(
    "name",
    "The new audience's name (a form may carry it as its `name` field instead)",
    "Imported people",
    max_length=MAX_AUDIENCE_NAME,
)
CSV_UPLOAD = RawBody(
    content={
        "text/csv": {
            "schema": {"type": "string", "format": "binary"},
            "example": "user_id,username\n777000,\n,durov\n",
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
    },
    max_bytes=IMPORT_MAX_BYTES,
    description=f"UTF-8 CSV (columns user_id and/or username), as the body or as the file of a form; "
    f"at most {IMPORT_MAX_BYTES} bytes (more: 413)",
)


NEW_AUDIENCE_UPLOAD = RawBody(
    content={
        "text/csv": {
            "schema": {"type": "string", "format": "binary"},
            "example": "user_id,username\n777000,\n,durov\n",
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "name": {"type": "string", "maxLength": MAX_AUDIENCE_NAME},
                    "file": {"type": "string", "format": "binary"},
                },
            }
        },
    },
    max_bytes=IMPORT_MAX_BYTES,
    description="The CSV as for an import (the body, or the `file` of a form with the "
    "audience's `name`)",
)


def _member(m: MemberDTO) -> dict[str, Any]:
    """A `MemberOut` as plain data (`json_rows`)."""
    return {
        "user_id": m.user_id,
        "username": m.username,
        "first_name": m.first_name,
        "last_name": m.last_name,
        "last_seen": m.last_seen,
        "premium": m.premium,
        "photo": m.photo,
        "source": m.source,
    }


def _member_query(request: web.Request) -> MemberQuery:
    return MemberQuery.parse(
        MEMBER_QUERY.read(request),
        LAST_SEEN.read(request),
        with_username=WITH_USERNAME.read(request),
        premium=PREMIUM.read(request),
        photo=PHOTO.read(request),
    )


def _task_out(task: ParseTaskDTO, lang: str) -> ParseTaskOut:
    return ParseTaskOut(
        id=task.id,
        status=task.status,  # type: ignore[arg-type]
        kind=task.kind,
        source=task.source,
        source_title=task.source_title,
        audience_id=task.audience_id,
        speed=task.speed,
        priority=Priority(task.priority).name.lower(),  # type: ignore[arg-type]
        progress=Progress(done=task.progress_done, total=task.progress_total),
        collected=task.collected,
        new=task.new_members,
        skipped=task.skipped,
        found_by_search=task.found_by_search,
        accounts_used=len(task.accounts_used),
        error=task.error,
        note=task_note(lang, task.status, task.error),
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
    )


def _audience_out(a: AudienceDTO) -> AudienceOut:
    return AudienceOut(
        id=a.id,
        name=a.name,
        source=a.source,
        size=a.size,
        pending_usernames=a.pending_usernames,
        created_at=a.created_at,
    )


# --- parse tasks --------------------------------------------------------------------------
@routes.post(
    "/api/v1/parse-tasks",
    summary="Queue a collection task",
    request=ParseTaskCreate,
    response=ParseTaskOut,
    status=201,
    workspace=True,
    example={"source": "@durov", "kind": "members", "speed": "safe"},
)
async def create_task(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    body = await parse_body(request, ParseTaskCreate)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        task = await service.create_task(
            dal,
            claims.user_id,
            workspace_id,
            source=body.source,
            kind=body.kind,
            speed=body.speed,
            priority=body.priority,
            audience=body.audience,
            posts=body.posts,
            days=body.days,
            check_source=request.app[SOURCE_CHECK],
            account_id=body.account_id,
            check_invite=request.app[SOURCE_CHECK].check_invite,
            filters=Filters(
                skip_bots=body.filters.skip_bots,
                skip_deleted=body.filters.skip_deleted,
                skip_scam=body.filters.skip_scam,
                skip_admins=body.filters.skip_admins,
                last_seen=frozenset(LastSeen(s) for s in body.filters.last_seen),
                need_username=body.filters.need_username,
                need_premium=body.filters.need_premium,
                need_photo=body.filters.need_photo,
            ),
            trace_id=current_trace_id(),
        )
    return json_model(_task_out(task, language(request)), status=201)


@routes.get(
    "/api/v1/parse-tasks",
    summary="Collection tasks, newest first",
    response=ParseTaskList,
    query=(TASK_LIMIT, CURSOR),
    workspace=True,
)
async def list_tasks(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    page_size = TASK_LIMIT.read(request)
    cursor = CURSOR.read(request) or None
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        page = await service.tasks(
            dal, claims.user_id, workspace_id, cursor=cursor, limit=page_size
        )
    return json_model(
        ParseTaskList(
            items=[_task_out(t, language(request)) for t in page.items],
            next_cursor=cursor_text(page),
        )
    )


@routes.get(
    "/api/v1/parse-tasks/{task_id}",
    summary="One task with its progress",
    response=ParseTaskOut,
    workspace=True,
)
async def get_task(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        task = await service.task(dal, claims.user_id, workspace_id, path_id(request, "task_id"))
    return json_model(_task_out(task, language(request)))


def _control(action: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def control(request: web.Request) -> web.Response:
        claims = await require_auth(request)
        async with open_dal(request.app[SESSIONMAKER]) as dal:
            workspace_id = await current_workspace(request, dal, claims.user_id)
            task = await getattr(service, action)(
                dal, claims.user_id, workspace_id, path_id(request, "task_id")
            )
        return json_model(_task_out(task, language(request)))

    control.__name__ = f"{action}_task"
    return control


for _action, _summary in (
    ("pause", "Pause at the next batch; nothing collected is lost"),
    ("resume", "Queue a paused task again; it continues where it stopped"),
    ("cancel", "Stop for good; what was collected stays in the audience"),
):
    routes.post(
        f"/api/v1/parse-tasks/{{task_id}}/{_action}",
        summary=_summary,
        response=ParseTaskOut,
        workspace=True,
    )(_control(_action))


# --- audiences ------------------------------------------------------------------------------
@routes.get(
    "/api/v1/audiences",
    summary="Audiences of the workspace",
    response=AudienceList,
    query=(LIMIT, CURSOR),
    workspace=True,
)
async def list_audiences(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    page_size = LIMIT.read(request)
    cursor = CURSOR.read(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        page = await service.audiences(
            dal, claims.user_id, workspace_id, cursor=cursor, limit=page_size
        )
    return json_model(
        AudienceList(
            items=[_audience_out(a) for a in page.items],
            next_cursor=cursor_text(page),
        )
    )


@routes.get(
    "/api/v1/audiences/{audience_id}", summary="One audience", response=AudienceOut, workspace=True
)
async def get_audience(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        found = await service.audience(
            dal, claims.user_id, workspace_id, path_id(request, "audience_id")
        )
    return json_model(_audience_out(found))


@routes.get(
    "/api/v1/audiences/{audience_id}/members",
    summary="Members by Telegram id (keyset pages); filters: q (username, name or id), "
    "last_seen, username=1, premium=1, photo=1",
    response=MemberList,
    workspace=True,
    query=(LIMIT, CURSOR, MEMBER_QUERY, LAST_SEEN, WITH_USERNAME, PREMIUM, PHOTO),
)
async def list_members(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    page_size = LIMIT.read(request)
    cursor = CURSOR.read(request) or None
    query = _member_query(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        page = await service.members(
            dal,
            claims.user_id,
            workspace_id,
            path_id(request, "audience_id"),
            cursor=cursor,
            limit=page_size,
            query=query,
        )
    return json_rows({"items": [_member(m) for m in page.items], "next_cursor": cursor_text(page)})


@routes.get(
    "/api/v1/audiences/{audience_id}/members/{tg_user_id}",
    summary="One member and where the workspace's campaigns took them: target chat, outcome, "
    "follow-up, retention; their opt-outs (campaigns newest first, keyset pages)",
    response=PersonStatusOut,
    workspace=True,
    query=(PERSON_LIMIT, CURSOR),
)
async def get_member(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    page_size = PERSON_LIMIT.read(request)
    cursor = CURSOR.read(request) or None
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        found = await person_status(
            dal,
            claims.user_id,
            workspace_id,
            path_id(request, "audience_id"),
            path_id(request, "tg_user_id"),
            cursor=cursor,
            limit=page_size,
        )
    lang = language(request)
    return json_model(
        PersonStatusOut(
            member=MemberOut.model_validate(_member(found.member)),
            opt_out=PersonOptOutOut(
                workspace=found.opt_out.workspace,
                reason=found.opt_out.reason,
                since=found.opt_out.since,
                everywhere=found.opt_out.everywhere,
            ),
            campaigns=[_place_out(p, lang) for p in found.campaigns.items],
            next_cursor=cursor_text(found.campaigns),
        )
    )


def _place_out(place: CampaignPlace, lang: str) -> PersonCampaignOut:
    key = f"reason.{place.reason}"
    # The ledger is per chat: its `left` concerns the campaign that added them only.
    added = place.state == "invited" or place.added_at is not None
    return PersonCampaignOut(
        campaign_id=place.campaign_id,
        campaign_name=place.campaign_name,
        campaign_status=place.campaign_status,
        chat_id=place.chat_id,
        chat_title=place.chat_title,
        chat_ref=place.chat_ref,
        state=place.state,  # type: ignore[arg-type]
        reason=place.reason,
        reason_text=t(lang, key) if place.reason and has_text(key) else None,
        at=place.at,
        follow_up=place.follow_up,
        invite_link=place.invite_link if place.follow_up else None,
        retention=RetentionOut(
            added_at=place.added_at,
            stayed_day=place.stayed_day,
            stayed_week=place.stayed_week,
            left_at=place.left_at,
            left=place.left,
        )
        if added
        else None,
    )


@routes.get(
    "/api/v1/audiences/{audience_id}/export.csv",
    summary="The audience as CSV; the member list's filters (q, last_seen, username, premium, "
    "photo) export just the people they show",
    errors=(404,),
    content_type="text/csv",
    workspace=True,
    query=(MEMBER_QUERY, LAST_SEEN, WITH_USERNAME, PREMIUM, PHOTO),
)
async def export_csv(request: web.Request) -> web.StreamResponse:
    claims = await require_auth(request)
    audience_id = path_id(request, "audience_id")
    query = _member_query(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        rows = await service.export_csv(dal, claims.user_id, workspace_id, audience_id, query)
        return await csv_response(request, f"audience-{audience_id}.csv", rows)


@routes.post(
    "/api/v1/audiences/{audience_id}/import",
    summary="Add people from CSV (body: the file, text/csv); bad lines are reported",
    response=ImportReportOut,
    body=CSV_UPLOAD,
    workspace=True,
)
async def import_csv(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    audience_id = path_id(request, "audience_id")
    data = await _upload(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        report: ImportReport = await service.import_csv(
            dal, claims.user_id, workspace_id, audience_id, data
        )
    return json_model(ImportReportOut.model_validate(report, from_attributes=True))


@routes.post(
    "/api/v1/audiences",
    summary="A new audience from a CSV file (the import's rules); a file that cannot be read "
    "or has nobody to take creates nothing",
    response=AudienceCreatedOut,
    status=201,
    body=NEW_AUDIENCE_UPLOAD,
    workspace=True,
    query=(AUDIENCE_NAME,),
)
async def create_audience(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    fields: dict[str, str] = {}
    data = await _upload(request, fields)
    name = fields.get("name") or AUDIENCE_NAME.read(request) or ""
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        report = await service.create_from_csv(dal, claims.user_id, workspace_id, name, data)
        created = await service.audience(dal, claims.user_id, workspace_id, report.audience_id)
    return json_model(
        AudienceCreatedOut(
            audience=_audience_out(created),
            report=ImportReportOut.model_validate(report, from_attributes=True),
        ),
        status=201,
    )


async def _upload(request: web.Request, fields: dict[str, str] | None = None) -> bytes:
    """The CSV either as the raw body or as the first file of a multipart form; over
    `IMPORT_MAX_BYTES` it is a 413, as the document says (the app's own cap is larger).
    The form's short text fields before the file go into `fields`."""
    if (request.content_length or 0) > IMPORT_MAX_BYTES:
        raise web.HTTPRequestEntityTooLarge(IMPORT_MAX_BYTES, request.content_length or 0)
    data = await _read_upload(request, {} if fields is None else fields)
    if len(data) > IMPORT_MAX_BYTES:
        raise web.HTTPRequestEntityTooLarge(IMPORT_MAX_BYTES, len(data))
    return data


async def _read_upload(request: web.Request, fields: dict[str, str]) -> bytes:
    if request.content_type.startswith("multipart/"):
        try:
            reader = await request.multipart()
            async for part in reader:
                if getattr(part, "filename", None) is not None:
                    # Over the app's client_max_size: HTTPRequestEntityTooLarge (a 413).
                    return bytes(await part.read())  # type: ignore[union-attr]
                if isinstance(part, BodyPartReader) and part.name == "name":
                    fields["name"] = await _form_text(part, "name")
        except (KeyError, ValueError, RuntimeError, BadHttpMessage):
            # aiohttp's multipart reader: no boundary parameter (KeyError), a boundary the
            # body does not use or a malformed part (ValueError, BadHttpMessage), an unknown
            # Content-(Transfer-)Encoding (RuntimeError).
            raise InvalidInput("file", field="file", problem="multipart") from None
        except ConnectionResetError:
            raise InvalidInput("body", field="body", problem="body_unreadable") from None
        raise InvalidInput("file", field="file", problem="no_file")
    return await read_body(request)


async def _form_text(part: BodyPartReader, name: str) -> str:
    """A short text field of a form, read with a bound (a name, not a second file)."""
    limit_bytes = MAX_AUDIENCE_NAME * 4  # UTF-8 takes at most 4 bytes a character
    raw = bytearray()
    while not part.at_eof():
        raw += await part.read_chunk(1024)
        if len(raw) > limit_bytes:
            raise InvalidInput(name, field=name, problem="name", max=MAX_AUDIENCE_NAME)
    try:
        value = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(name, field=name, problem="bad_text") from None
    if problem := text_problem(value):
        raise InvalidInput(name, field=name, problem=problem)
    return value


@routes.route(
    "DELETE",
    "/api/v1/audiences/{audience_id}",
    summary="Delete an audience (owner only)",
    response=OkResponse,
    errors=(403,),
    workspace=True,
)
async def delete_audience(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        await service.delete(dal, claims.user_id, workspace_id, path_id(request, "audience_id"))
    return json_model(OkResponse())
