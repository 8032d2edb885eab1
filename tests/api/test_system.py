"""/health, /ready, /metrics, the OpenAPI document and CORS."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from core.settings import Settings
from webui_api.app import init_app


async def test_health_and_ready(api: TestClient) -> None:
    assert await (await api.get("/health")).json() == {"status": "ok"}
    ready = await api.get("/ready")
    assert ready.status == 200
    assert await ready.json() == {"status": "ok", "checks": {"postgresql": "ok", "redis": "ok"}}


async def test_ready_is_503_when_redis_is_gone(settings: Settings, free_port: int) -> None:
    broken = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port}/0"})
    async with TestClient(TestServer(init_app(broken), host="127.0.0.1")) as client:
        resp = await client.get("/ready")
        assert resp.status == 503
        err = (await resp.json())["error"]
        assert err["code"] == "not_ready"
        assert err["details"]["checks"]["postgresql"] == "ok"
        assert err["details"]["checks"]["redis"] != "ok"
        assert "redis" in err["message"]


async def test_openapi_is_generated_from_the_models(api: TestClient) -> None:
    doc = await (await api.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    verify = doc["paths"]["/api/v1/auth/verify"]["post"]
    assert verify["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/VerifyRequest"
    }
    assert set(verify["responses"]) == {"200", "400", "401", "413", "429", "503"}
    schema = doc["components"]["schemas"]["VerifyRequest"]
    assert schema["required"] == ["username", "code"]
    assert schema["properties"]["code"]["maxLength"] == 32
    assert doc["paths"]["/api/v1/me"]["get"]["security"] == [{"bearer": []}]
    assert "ErrorResponse" in doc["components"]["schemas"]
    # every registered API route is documented
    routes = {(r.method, r.resource.canonical) for r in api.app.router.routes() if r.resource}
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert {r for r in routes if r[0] != "HEAD"} == documented


async def test_metrics_count_requests_by_route(api: TestClient) -> None:
    await api.get("/health")
    text = await (await api.get("/metrics")).text()
    assert 'tg_inviter_api_request_seconds_count{method="GET",route="/health",status="200"}' in text


async def test_cors_only_for_configured_origins(settings: Settings) -> None:
    configured = settings.model_copy(update={"cors_origins": ["https://panel.example.org"]})
    async with TestClient(TestServer(init_app(configured), host="127.0.0.1")) as client:
        pre = await client.options(
            "/api/v1/auth/verify",
            headers={
                "Origin": "https://panel.example.org",
                "Access-Control-Request-Method": "POST",
            },
        )
        assert pre.status == 204
        assert pre.headers["Access-Control-Allow-Origin"] == "https://panel.example.org"
        assert pre.headers["Access-Control-Allow-Credentials"] == "true"
        evil = await client.options(
            "/api/v1/auth/verify",
            headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"},
        )
        assert evil.status == 403
        assert "Access-Control-Allow-Origin" not in evil.headers
        plain = await client.get("/health", headers={"Origin": "https://evil.example.com"})
        assert plain.status == 200 and "Access-Control-Allow-Origin" not in plain.headers
