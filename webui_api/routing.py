"""A route table that also knows each route's request and response models.

Views are declared once with their pydantic models; the same declarations register the
aiohttp routes and produce `/api/v1/openapi.json`, so the document cannot drift from code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from webui_api.schemas import ErrorResponse

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_ERROR_TEXT = {
    400: "Invalid request",
    401: "Not authenticated, or the code/session is not valid",
    403: "Not allowed for this role",
    404: "Not found",
    409: "Busy, or no linked account can do it now",
    429: "Too many attempts (see Retry-After)",
    503: "A dependency is unavailable",
}


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
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            implied = (400,) if request else ()
            implied += (401,) if auth else ()
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
            app.router.add_route(ep.method, ep.path, ep.handler)


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
                op["responses"][str(status)] = {
                    "description": _ERROR_TEXT.get(status, "Error"),
                    "content": {"application/json": {"schema": error_ref}},
                }
            if ep.request is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ref(ep.request)}},
                }
            if ep.auth:
                op["security"] = [{"bearer": []}]
            params = [
                {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
                for part in ep.path.split("/")
                if part.startswith("{") and part.endswith("}")
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
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
