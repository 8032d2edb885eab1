"""Liveness, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from webui_api.http import error_response, json_model
from webui_api.keys import REDIS, SESSIONMAKER
from webui_api.metrics import exposition
from webui_api.routing import ApiRoutes
from webui_api.schemas import HealthResponse, ReadyResponse

routes = ApiRoutes(tag="system")
OPENAPI = web.AppKey("openapi", dict)
CHECK_TIMEOUT_S = 2.0


@routes.get("/health", summary="The process is up", response=HealthResponse, auth=False)
async def health(request: web.Request) -> web.Response:
    return json_model(HealthResponse(status="ok"))


async def _check_db(request: web.Request) -> None:
    async with request.app[SESSIONMAKER]() as session:
        await session.execute(text("SELECT 1"))


async def _check_redis(request: web.Request) -> None:
    await request.app[REDIS].ping()


@routes.get(
    "/ready",
    summary="PostgreSQL and Redis answer; 503 otherwise",
    response=ReadyResponse,
    auth=False,
    errors=(503,),
)
async def ready(request: web.Request) -> web.Response:
    checks: dict[str, str] = {}
    for name, check in (("postgresql", _check_db), ("redis", _check_redis)):
        try:
            await asyncio.wait_for(check(request), CHECK_TIMEOUT_S)
            checks[name] = "ok"
        # Any failure means not ready; the kind of failure goes to the body.
        except Exception as exc:  # noqa: BLE001
            checks[name] = type(exc).__name__
    if all(v == "ok" for v in checks.values()):
        return json_model(ReadyResponse(status="ok", checks=checks))
    failing = ", ".join(k for k, v in checks.items() if v != "ok")
    return error_response(
        request, 503, "not_ready", details={"checks": checks}, params={"problem": failing}
    )


@routes.get("/metrics", summary="Prometheus metrics", auth=False, content_type="text/plain")
async def metrics(request: web.Request) -> web.Response:
    body = await exposition(request.app[SESSIONMAKER], request.app[REDIS])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@routes.get("/api/v1/openapi.json", summary="This document", auth=False)
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])
