"""A route table that also knows each route's parameters, bodies, answers and models.

Views are declared once: path, query and header parameters, request body and every status
the route can answer; the same declarations register the aiohttp routes and produce
`/api/v1/openapi.json`, so the document cannot drift from code. Query parameters are read
through their declarations (`Param.read`), and reading one the route does not declare is a
server error, so a view cannot take a parameter the document does not name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from webui_api.http import MAX_JSON_BYTES, query_cursor, query_flag, query_int
from webui_api.schemas import ErrorResponse

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_ERROR_TEXT = {
    400: "Invalid request: a parameter, path id or body is not valid (details.field names it)",
    401: "Not authenticated, or the code/session is not valid",
    403: "Not allowed for this role",
    404: "Not found (also: a workspace the caller is not in)",
    409: "Busy, no linked account can do it now, or the campaign is not ready to start (details.problem says why)",
    413: "The request body is over the size limit",
    429: "Too many attempts (see Retry-After)",
    503: "A dependency is unavailable",
}
# One example envelope per status (codes as `webui_api/http.py` and `core/errors.py` give them).
_ERROR_EXAMPLE = {
    400: (
        "invalid_input",
        "limit: must be a whole number from 1 to 100.",
        {"field": "limit", "problem": "integer_range", "low": 1, "high": 100},
    ),
    401: ("unauthorized", "Please log in again.", {}),
    403: ("forbidden", "This is not allowed for your role.", {}),
    404: ("not_found", "Not found.", {}),
    409: ("busy", "Busy right now, try again shortly.", {}),
    413: ("payload_too_large", "The request body is too large.", {}),
    429: ("rate_limited", "Too many attempts.", {"retry_after": 30}),
    503: (
        "not_ready",
        "Not ready: redis",
        {"checks": {"postgresql": "ok", "redis": "ConnectionError"}},
    ),
}
# `positive_id` (webui_api/http.py): 1 to 18 digits.
PATH_ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}
_DECLARED = web.RequestKey("declared_query", frozenset)


class UndeclaredParameter(RuntimeError):
    """A view read a query parameter its route does not declare (a bug, answered 500)."""


@dataclass(frozen=True, slots=True)
class Param:
    """A query or header parameter: its document entry and the function that reads it."""

    name: str
    schema: dict[str, Any]
    description: str
    example: Any
    parse: Callable[[web.Request], Any] | None = None
    where: str = "query"

    def read(self, request: web.Request) -> Any:
        declared = request.get(_DECLARED)
        if declared is not None and self.name not in declared:
            raise UndeclaredParameter(f"{self.name} is read but not declared for {request.path}")
        if self.parse is None:
            return request.query.get(self.name)
        return self.parse(request)

    def openapi(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": self.where,
            "required": False,
            "description": self.description,
            "schema": self.schema,
            "example": self.example,
        }


def limit(default: int, high: int = 100) -> Param:
    return Param(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": high, "default": default},
        f"Page size (1 to {high})",
        min(default, high),
        lambda r: query_int(r, "limit", default=default, low=1, high=high),
    )


def flag(name: str, description: str) -> Param:
    return Param(
        name,
        {"type": "string", "enum": ["0", "1", "false", "true"], "default": "0"},
        description,
        "1",
        lambda r: query_flag(r, name),
    )


def text(
    name: str,
    description: str,
    example: str,
    *,
    max_length: int | None = None,
    parse: Callable[[web.Request], Any] | None = None,
    **schema: Any,
) -> Param:
    extra = {"maxLength": max_length} if max_length is not None else {}
    return Param(name, {"type": "string", **extra, **schema}, description, example, parse)


CURSOR = Param(
    "cursor",
    {"type": "integer", "minimum": 0, "maximum": 2**62},
    "The `next_cursor` of the previous page; absent or 0: the first page",
    0,
    query_cursor,
)
# Read by `current_workspace` (webui_api/http.py); the header wins over the query.
WORKSPACE_PARAMS = (
    Param(
        "X-Workspace-Id",
        dict(PATH_ID_SCHEMA),
        "The workspace the request acts in (default: the "
        "caller's personal one); one the caller is not in is 404",
        1,
        where="header",
    ),
    Param(
        "workspace_id",
        dict(PATH_ID_SCHEMA),
        "Same as the X-Workspace-Id header (the header wins)",
        1,
    ),
)


@dataclass(frozen=True, slots=True)
class RawBody:
    """A request body that is not a JSON model (a file upload)."""

    content: dict[str, dict[str, Any]]
    max_bytes: int
    description: str


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    request: type[BaseModel] | None
    response: type[BaseModel] | None
    auth: bool
    errors: tuple[int, ...]
    tag: str
    content_type: str = "application/json"
    status: int = 200
    query: tuple[Param, ...] = ()
    workspace: bool = False
    body: RawBody | None = None
    body_required: bool = True
    example: dict[str, Any] | None = None

    @property
    def params(self) -> tuple[Param, ...]:
        return self.query + (WORKSPACE_PARAMS if self.workspace else ())

    @property
    def path_params(self) -> list[str]:
        return [
            part[1:-1]
            for part in self.path.split("/")
            if part.startswith("{") and part.endswith("}")
        ]


@dataclass
class ApiRoutes:
    tag: str
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        request: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        auth: bool = True,
        errors: tuple[int, ...] = (),
        content_type: str = "application/json",
        status: int = 200,
        query: tuple[Param, ...] = (),
        workspace: bool = False,
        body: RawBody | None = None,
        body_required: bool = True,
        example: dict[str, Any] | None = None,
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            # Every route can answer 400: the edge refuses a NUL in any query or path part.
            implied: tuple[int, ...] = (400,)
            # An authenticated route asks Redis and PostgreSQL first: 401, or 503 when they are down.
            implied += (401, 503) if auth else ()
            implied += (413,) if request is not None or body is not None else ()
            implied += (404,) if workspace else ()
            self.endpoints.append(
                Endpoint(
                    method=method.upper(),
                    path=path,
                    handler=handler,
                    summary=summary,
                    request=request,
                    response=response,
                    auth=auth,
                    errors=tuple(sorted(set(implied + errors))),
                    tag=self.tag,
                    content_type=content_type,
                    status=status,
                    query=query,
                    workspace=workspace,
                    body=body,
                    body_required=body_required,
                    example=example,
                )
            )
            return handler

        return decorate

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def add_to(self, app: web.Application) -> None:
        for ep in self.endpoints:
            app.router.add_route(ep.method, ep.path, _declaring(ep))


def _declaring(ep: Endpoint) -> Handler:
    """The view, told which query parameters its route declares (see `Param.read`)."""
    declared = frozenset(p.name for p in ep.params)

    @wraps(ep.handler)
    async def handler(request: web.Request) -> web.StreamResponse:
        request[_DECLARED] = declared
        return await ep.handler(request)

    return handler


def _path_param(name: str) -> dict[str, Any]:
    if name.endswith("_id"):
        return {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(PATH_ID_SCHEMA),
            "example": 1,
            "description": "A positive integer id",
        }
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _error_example(status: int) -> dict[str, Any]:
    code, message, details = _ERROR_EXAMPLE.get(status, ("error", "Error.", {}))
    return {
        "error": {
            "code": code,
            "message": message,
            "trace_id": "9f2c4e1a7b3d4c5e",
            "details": details,
        }
    }


def openapi_document(tables: list[ApiRoutes], *, title: str, version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    error_ref = ref(ErrorResponse)
    paths: dict[str, dict[str, Any]] = {}
    for table in tables:
        for ep in table.endpoints:
            op: dict[str, Any] = {
                "summary": ep.summary,
                "tags": [ep.tag],
                "operationId": f"{ep.method.lower()}_{ep.handler.__name__}",
                "responses": {},
            }
            success = str(ep.status)
            if ep.response is not None:
                op["responses"][success] = {
                    "description": "OK",
                    "content": {ep.content_type: {"schema": ref(ep.response)}},
                }
            elif ep.status == 204:
                op["responses"][success] = {"description": "No content"}
            else:
                op["responses"][success] = {"description": "OK", "content": {ep.content_type: {}}}
            for status in ep.errors:
                description = _ERROR_TEXT.get(status, "Error")
                if status == 413:
                    cap = ep.body.max_bytes if ep.body is not None else MAX_JSON_BYTES
                    description = f"The request body is over {cap} bytes"
                op["responses"][str(status)] = {
                    "description": description,
                    "content": {
                        "application/json": {"schema": error_ref, "example": _error_example(status)}
                    },
                }
            if ep.request is not None:
                media: dict[str, Any] = {"schema": ref(ep.request)}
                if ep.example is not None:
                    media["example"] = ep.example
                op["requestBody"] = {
                    "required": ep.body_required,
                    "description": f"A JSON object of at most {MAX_JSON_BYTES} bytes",
                    "content": {"application/json": media},
                }
            elif ep.body is not None:
                op["requestBody"] = {
                    "required": True,
                    "description": ep.body.description,
                    "content": ep.body.content,
                    "x-max-bytes": ep.body.max_bytes,
                }
            if ep.auth:
                op["security"] = [{"bearer": []}]
            params = [_path_param(name) for name in ep.path_params] + [
                p.openapi() for p in ep.params
            ]
            if params:
                op["parameters"] = params
            paths.setdefault(ep.path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
