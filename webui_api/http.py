"""Edges of the API: JSON errors, body parsing, who is calling, trace ids, CORS, metrics.

Every error leaves as `{"error": {"code", "message", "trace_id", "details"}}` with the
message in the caller's language (Accept-Language). Domain errors map to statuses here
and only here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import ERROR as UNPARSED
from prometheus_client import Histogram
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from core.campaigns import NotStartable
from core.dto import ClientInfo
from core.errors import (
    Busy,
    DomainError,
    Forbidden,
    InvalidCode,
    InvalidInput,
    NoAccounts,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from core.i18n import DEFAULT_LANGUAGE, pick_language, refusal_message, t
from core.interfaces import UserStore
from core.logs import bind_trace_id, current_trace_id, get_logger, new_trace_id
from core.pagination import Page
from core.tokens import AccessClaims
from core.users import require_workspace
from core.validation import INT64_MAX, INT64_MIN, text_problem
from db.dal import open_dal
from db.engine import database_unreachable
from db.kv import REDIS_DOWN
from webui_api.keys import AUTH, SESSIONMAKER, SETTINGS

log = get_logger("webui_api")
M = TypeVar("M", bound=BaseModel)

API_LATENCY = Histogram(
    "tg_inviter_api_request_seconds",
    "API request latency by route",
    ("method", "route", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

_STATUS = {
    NotStartable: 409,  # before InvalidInput, which it is too: the request was fine
    InvalidInput: 400,
    InvalidCode: 401,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    RateLimited: 429,
    Busy: 409,
    NoAccounts: 409,
    Unavailable: 503,
}
_HTTP_CODES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}
_SENTENCE_CODES = frozenset({InvalidInput.code, NotStartable.code})
MAX_JSON_BYTES = 64 * 1024
# Python's json parser recurses once per level and raises RecursionError near 1000 levels;
# no request of the API nests deeper than a few, so depth is checked before parsing.
MAX_JSON_DEPTH = 32
# Strings (with their escapes) are skipped so that brackets inside them do not count; an
# unclosed one runs to the end (the optional quote keeps the scan linear).
_JSON_NESTING = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)
# Longer digit runs are out of int64 anyway; they are not even converted (Python refuses
# to convert more than 4300 digits, with a ValueError that would read as "not JSON").
_MAX_INT_DIGITS = 20
# A caller's X-Request-Id is kept as the trace id only if it fits where trace ids are
# stored (String(32) in audit_log, parse_tasks, campaigns); a longer one gets a fresh id.
_TRACE_RE = re.compile(r"^[A-Za-z0-9-]{8,32}$")
# The web panel loads scripts, styles and data from its own origin only: no inline code.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def language(request: web.Request) -> str:
    return pick_language(request.headers.get("Accept-Language"))


def error_response(
    request: web.Request,
    status: int,
    code: str,
    *,
    details: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = _envelope(language(request), code, details=details, params=params)
    return web.json_response(body, status=status, headers=headers)


def _envelope(
    lang: str,
    code: str,
    *,
    details: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    # A refused input's message is its problem's sentence alone (`core.i18n.refusal_message`):
    # no "Invalid request:" before it; the code stays in `code` and `details.problem`.
    if code in _SENTENCE_CODES:
        message = str((params or {}).get("problem") or t(lang, "error.error"))
    else:
        message = t(lang, f"error.{code}", **(params or details or {}))
    return {
        "error": {
            "code": code,
            "message": message,
            "trace_id": current_trace_id(),
            "details": details or {},
        }
    }


def _problem(exc: ValidationError) -> tuple[str, list[dict[str, str]]]:
    fields = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        fields.append({"field": where, "problem": err["msg"]})
    first = fields[0]
    return f"{first['field']}: {first['problem']}", fields


def _json_depth(raw: bytes) -> int:
    depth = deepest = 0
    for match in _JSON_NESTING.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _json_int(text: str) -> int:
    digits = text.lstrip("-")
    return int(text) if len(digits) <= _MAX_INT_DIGITS else INT64_MAX + 1


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_json_values(data: Any) -> None:
    """Every value of a parsed body is storable: texts (keys too) without NUL or lone
    surrogates, integers within int64 (ids are BIGINT), numbers finite."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        field = where or "body"
        if isinstance(value, dict):
            for key, item in value.items():
                if problem := text_problem(key):
                    raise InvalidInput(field, field=field, problem=problem)
                stack.append((item, f"{where}.{key}" if where else key))
        elif isinstance(value, list):
            stack.extend(
                (item, f"{where}.{i}" if where else str(i)) for i, item in enumerate(value)
            )
        elif isinstance(value, str):
            if problem := text_problem(value):
                raise InvalidInput(field, field=field, problem=problem)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise InvalidInput(
                    field, field=field, problem="integer_range", low=INT64_MIN, high=INT64_MAX
                )
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(field, field=field, problem="json_number")


async def read_body(request: web.Request) -> bytes:
    """The raw body (capped by the app's client_max_size: a 413). A body the client stops
    sending midway is the caller's, a 400; so is one aiohttp cannot decode (see `_handle`)."""
    try:
        return await request.read()
    except ConnectionResetError:
        raise InvalidInput("body", field="body", problem="body_unreadable") from None


async def parse_body(request: web.Request, model: type[M]) -> M:
    """Read and validate a JSON body; any defect is a 400 naming the field."""
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_JSON_BYTES, request.content_length or 0)
    raw = await read_body(request)
    if len(raw) > MAX_JSON_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_JSON_BYTES, len(raw))
    if _json_depth(raw) > MAX_JSON_DEPTH:
        raise InvalidInput("body", field="body", problem="json_depth", max=MAX_JSON_DEPTH)
    try:
        data = json.loads(raw or b"null", parse_int=_json_int, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("body", field="body", problem="json_syntax") from None
    if not isinstance(data, dict):
        raise InvalidInput("body", field="body", problem="json_object")
    check_json_values(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problem, fields = _problem(exc)
        raise InvalidInput(problem, problem=problem, fields=fields) from None


def check_query(request: web.Request) -> None:
    """Query parameters and path parts are text like any other: none may carry a NUL."""
    for name, value in (*request.query.items(), *request.match_info.items()):
        if problem := text_problem(name) or text_problem(value):
            field = name if text_problem(name) is None else "query"
            raise InvalidInput(field, field=field, problem=problem)


def client_info(request: web.Request) -> ClientInfo:
    ip = request.remote
    if request.app[SETTINGS].trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            ip = forwarded.split(",")[0].strip() or ip
    agent = request.headers.get("User-Agent")
    return ClientInfo(ip=ip, user_agent=agent[:256] if agent else None)


async def require_auth(request: web.Request) -> AccessClaims:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    # The session is opened lazily: PostgreSQL is asked only when Redis does not know the sid.
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        return await request.app[AUTH].authenticate(token.strip(), dal)


def _domain_error(request: web.Request, exc: DomainError) -> web.Response:
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
    headers: dict[str, str] = {}
    details: dict[str, Any] = {}
    params: dict[str, Any] = {}
    if isinstance(exc, (RateLimited, Unavailable)):
        headers["Retry-After"] = str(exc.retry_after)
        details = {"retry_after": exc.retry_after}
    elif isinstance(exc, InvalidInput):
        problem = exc.details.get("problem") or str(exc)
        # Problems given as a code (e.g. `bad_link`) have a sentence in the catalog; the
        # message is that sentence alone, the code stays in `details.problem`.
        params = {"problem": refusal_message(language(request), exc.details | {"problem": problem})}
        details = {k: v for k, v in exc.details.items() if k != "problem"} | {"problem": problem}
    elif isinstance(exc, (Unauthorized, InvalidCode)):
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(
        request, status, exc.code, details=details, params=params, headers=headers
    )


@web.middleware
async def trace_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    incoming = request.headers.get("X-Request-Id", "")
    if _TRACE_RE.fullmatch(incoming):
        bind_trace_id(incoming)
    else:
        new_trace_id()
    started = time.perf_counter()
    status = 500
    try:
        response = await _handle(request, handler)
        status = response.status
        response.headers["X-Trace-Id"] = current_trace_id() or ""
        return response
    except asyncio.CancelledError:
        # The connection was lost mid-request (aiohttp cancels the handler): no answer is
        # sent, and it is no server error; 499 as nginx's "client closed request".
        status = 499
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        API_LATENCY.labels(request.method, name, str(status)).observe(elapsed)
        log.info(
            "request",
            method=request.method,
            route=name,
            status=status,
            ms=round(elapsed * 1000, 1),
        )
        bind_trace_id(None)


async def _handle(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        check_query(request)
        return await handler(request)
    except DomainError as exc:
        return _domain_error(request, exc)
    except web.RequestPayloadError as exc:
        # aiohttp could not decode the body (broken gzip/deflate, bad chunked framing): the
        # caller's mistake, wherever the view reads it.
        log.warning(
            "unreadable request body", route=request.path, error=type(exc.__cause__ or exc).__name__
        )
        return _domain_error(request, InvalidInput("body", field="body", problem="body_unreadable"))
    except REDIS_DOWN:
        # Redis used outside the login rules (notices, counters): the same 503 as theirs.
        log.warning("redis unreachable", route=request.path)
        return _domain_error(request, Unavailable())
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "error")
        # RFC 9110 §15.5.6: a 405 names the methods the resource has (aiohttp puts them in Allow).
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_response(
            request, exc.status, code, params={"problem": exc.reason}, headers=allow
        )
    except Exception as exc:
        if database_unreachable(exc):
            # A restart or an outage of PostgreSQL: the caller may try again in a moment.
            log.warning("database unreachable", route=request.path, error=type(exc).__name__)
            return _domain_error(request, Unavailable(message="database unreachable"))
        log.exception("unhandled error", route=request.path)
        return error_response(request, 500, "internal")


@web.middleware
async def cors_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    allowed = request.app[SETTINGS].cors_origins
    ok = origin is not None and origin in allowed
    if request.method == "OPTIONS" and origin is not None:
        if not ok:
            return error_response(request, 403, "forbidden")
        response: web.StreamResponse = web.Response(status=204)
        response.headers.update(
            {
                "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, PATCH, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept-Language, X-Request-Id, X-Workspace-Id",
                "Access-Control-Max-Age": "600",
            }
        )
    else:
        response = await handler(request)
    if ok:
        assert origin is not None
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers.add("Vary", "Origin")
    return response


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def json_model(model: BaseModel, *, status: int = 200) -> web.Response:
    # pydantic writes the JSON itself: no dict of the whole answer in between.
    return web.Response(
        text=model.model_dump_json(), status=status, content_type="application/json"
    )


def json_rows(data: Any, *, status: int = 200) -> web.Response:
    """An answer given as plain data (dicts and lists, field for field what its route's
    response model holds) and written by pydantic's own serializer.

    For pages of many rows: a model per row (three for an event) cost the API 5.5 µs of CPU
    an event, 283 µs a page of 50, against 72 µs as dicts, for the same bytes out (measured
    in a loop). The route's response model still documents the answer, and the tests read
    each such page back through it (`tests/api/bodies.py`): nothing missing, nothing extra."""
    return web.Response(body=to_json(data), status=status, content_type="application/json")


async def csv_response(
    request: web.Request, filename: str, chunks: AsyncIterator[bytes]
) -> web.StreamResponse:
    """A CSV file sent as it is written (`core.csvout`): a piece per batch, never whole in
    memory. Call it after access was checked, so a refusal is still a JSON error."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    await response.prepare(request)
    async for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


def query_int(request: web.Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise InvalidInput(name, field=name, problem="integer_range", low=low, high=high)
    return int(raw)


def query_flag(request: web.Request, name: str) -> bool:
    """`?name=1|true|0|false` (absent: false); anything else is a 400 naming it."""
    raw = request.query.get(name, "").lower()
    if raw in ("", "0", "false"):
        return False
    if raw in ("1", "true"):
        return True
    raise InvalidInput(name, field=name, problem="flag")


def query_cursor(request: web.Request) -> int:
    """`?cursor=`: the key of the last row of the previous page; absent or 0: the first page."""
    return query_int(request, "cursor", default=0, low=0, high=2**62)


def cursor_text(page: Page[Any]) -> str | None:
    """A page's `next_cursor` as the API gives it (a string, so clients never round it)."""
    return str(page.next_cursor) if page.next_cursor is not None else None


def positive_id(raw: str, name: str) -> int:
    """An object id from a path, header or query; anything else is a 400 naming it."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or int(raw) == 0:
        raise InvalidInput(name, field=name, problem="positive_integer")
    return int(raw)


def path_id(request: web.Request, name: str) -> int:
    return positive_id(request.match_info[name], name)


async def current_workspace(request: web.Request, dal: UserStore, user_id: int) -> int:
    """The workspace a request acts in: `X-Workspace-Id` or `?workspace_id=`, else the
    caller's personal one. A workspace the caller is not in is `NotFound` (404)."""
    raw = request.headers.get("X-Workspace-Id") or request.query.get("workspace_id")
    if raw:
        workspace_id = positive_id(raw, "workspace_id")
        await require_workspace(dal, user_id, workspace_id)
        return workspace_id
    workspaces = await dal.list_workspaces(user_id)
    if not workspaces:
        raise NotFound("workspace")
    return workspaces[0].id


# --- requests aiohttp cannot parse ----------------------------------------------------------
# A request line or header over these sizes (or otherwise malformed) never reaches the
# application: aiohttp's RequestHandler.data_received turns the parser's
# HttpProcessingError (LineTooLong, BadHttpMessage, ...) into an error handler that calls
# RequestHandler.handle_error, which logs it with `logger.exception` (a traceback) and
# answers a plain-text 400. `HANDLER_ARGS` (Application(handler_args=...)) sets the sizes
# and gives the server a logger that writes such a request as one warning line; `ApiRunner`
# turns the plain-text answer into the API's error envelope.
MAX_REQUEST_LINE = 8190
MAX_HEADER_FIELD = 8190


class _QuietParseErrors(logging.Filter):
    """A request aiohttp could not parse is the caller's mistake: one warning line, naming
    the parser's error class only (its message may quote the caller's headers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, web.RequestPayloadError):
            # A body aiohttp cannot decode fails again when the server drains what is left
            # of it after the answer ("Unhandled exception" in RequestHandler.start).
            exc = exc.__cause__
        if isinstance(exc, HttpProcessingError) and (exc.code or 400) < 500:
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = (
                "unreadable http request (%s, %s)",
                (type(exc).__name__, exc.code),
            )
        return True


SERVER_LOG = logging.getLogger("webui_api.server")
SERVER_LOG.addFilter(_QuietParseErrors())
HANDLER_ARGS: dict[str, Any] = {
    "logger": SERVER_LOG,
    "max_line_size": MAX_REQUEST_LINE,
    "max_field_size": MAX_HEADER_FIELD,
}


class _UnreadableRequest(web.Request):
    """The request object aiohttp makes for a request it could not parse (its message is
    web_protocol.ERROR): the only hook between handle_error's plain-text
    400 and the bytes sent is the request's prepare hook, which rewrites it into the
    envelope (in English: the request's Accept-Language could not be read)."""

    async def _prepare_hook(self, response: web.StreamResponse) -> None:
        if isinstance(response, web.Response) and 400 <= response.status < 500:
            new_trace_id()
            lang = DEFAULT_LANGUAGE
            problem = "request_head"
            body = _envelope(
                lang,
                "invalid_input",
                details={"problem": problem},
                params={"problem": refusal_message(lang, {"problem": problem})},
            )
            data = json.dumps(body).encode()
            response.body = data
            # Response._start counted the plain text just before this hook runs.
            response.headers["Content-Length"] = str(len(data))
            response.content_type = "application/json"
            response.charset = "utf-8"
            response.headers["X-Trace-Id"] = current_trace_id() or ""
            response.headers.update(
                {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
            )
            bind_trace_id(None)
        await super()._prepare_hook(response)


class ApiRunner(web.AppRunner):
    """`web.AppRunner` whose server makes `_UnreadableRequest`s for requests aiohttp could
    not parse (Server.request_factory is read by each connection's RequestHandler)."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        make = server.request_factory

        def request_factory(
            message: Any, payload: Any, protocol: Any, writer: Any, task: Any
        ) -> web.BaseRequest:
            if message is UNPARSED:
                # Application._make_request takes the request class as `_cls`.
                return make(message, payload, protocol, writer, task, _cls=_UnreadableRequest)  # type: ignore[call-arg]
            return make(message, payload, protocol, writer, task)

        server.request_factory = request_factory
        return server
