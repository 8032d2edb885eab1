"""The OpenAPI document is the whole contract: every parameter a view reads, typed path ids,
every status, the import's size limit; and the server answers what it says (405 with Allow,
an over-large import 413).

The parameter check is behavioural: each route is called as a logged-in owner with one
invalid value at a time for every query parameter any view reads (and the workspace header).
A declared parameter must be refused with a 400 naming it; an undeclared one must never be
named by a 400, since the view would then read something the document does not list. The
caller is an installation admin, so that the admin routes reach their parameters too.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audiences import IMPORT_MAX_BYTES
from core.settings import Settings
from tests.admin_world import registered
from tests.api.conftest import Person
from webui_api.app import init_app, route_tables

ROOT_TG = 990_001

VIEWS = Path(__file__).resolve().parents[2] / "webui_api" / "views"
# A value no declaration of the name accepts (limits/cursors/ids are integers, the rest enums
# or bounded texts: `q` is at most 64 characters for members and a username or id for admins).
INVALID = {
    "limit": "abc",
    "cursor": "abc",
    "workspace_id": "abc",
    "status": "nope",
    "all": "2",
    "last_seen": "nope",
    "q": "!" * 65,
    "username": "maybe",
    "premium": "maybe",
    "photo": "maybe",
    "can_invite": "maybe",
    "name": "x" * 129,
    "days": "0",
}
MISSING_ID = "999999"
_READS = re.compile(r"""request\.query(?:\.get\(|\[)\s*["'](\w+)["']""")


@pytest.fixture
async def api(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> AsyncIterator[TestClient]:
    admin_settings = settings.model_copy(update={"admin_telegram_ids": [ROOT_TG]})
    async with TestClient(TestServer(init_app(admin_settings), host="127.0.0.1")) as client:
        yield client


@pytest.fixture
async def admin(sessionmaker: async_sessionmaker[AsyncSession], login: Any) -> dict[str, str]:
    user = await registered(sessionmaker, ROOT_TG, "contract_admin", admin_ids=(ROOT_TG,))
    tokens = await login(Person(user=user, username="contract_admin"))
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _query_names_in_views() -> set[str]:
    return {name for path in VIEWS.glob("*.py") for name in _READS.findall(path.read_text())}


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    ops = [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
    ]
    # Logging out ends the session the other calls use: last.
    return sorted(ops, key=lambda o: o[1] == "/api/v1/auth/logout")


def _url(path: str) -> str:
    # A panel login's id is a random text, not a number: a made-up one is missing too.
    return (
        re.sub(r"\{\w+_id\}", MISSING_ID, path)
        .replace("{name}", "app.js")
        .replace("{login}", "no-such-login")
    )


def _named(status: int, body: Any, name: str) -> bool:
    return (
        status == 400
        and isinstance(body, dict)
        and body.get("error", {}).get("details", {}).get("field") == name
    )


async def _call(
    api: TestClient,
    method: str,
    url: str,
    headers: dict[str, str],
    *,
    query: dict[str, str] | None = None,
    body: Any = None,
) -> tuple[int, Any]:
    resp = await api.request(method, url, params=query, headers=headers, json=body)
    text = await resp.text()
    assert resp.status < 500, f"{method} {url} {query}: {resp.status} {text[:300]}"
    data = await resp.json() if resp.content_type == "application/json" else None
    return resp.status, data


async def test_every_route_declares_the_query_parameters_its_view_reads(
    api: TestClient, admin: dict[str, str]
) -> None:
    doc = await (await api.get("/api/v1/openapi.json")).json()
    read = _query_names_in_views()
    declared_anywhere = {
        p["name"]
        for item in doc["paths"].values()
        for op in item.values()
        for p in op.get("parameters", [])
        if p["in"] == "query"
    }
    assert read <= declared_anywhere, read - declared_anywhere
    assert declared_anywhere <= set(INVALID), declared_anywhere - set(INVALID)
    headers = admin
    checked = 0
    for method, path, op in _operations(doc):
        params = {(p["in"], p["name"]): p for p in op.get("parameters", [])}
        example = (
            op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")
        )
        for name, bad in INVALID.items():
            declared = ("query", name) in params
            status, body = await _call(
                api,
                method,
                _url(path),
                headers,
                query={name: bad},
                body=example if declared else None,
            )
            if declared:
                assert _named(status, body, name), (method, path, name, status, body)
            else:
                assert not _named(status, body, name), (method, path, name, body)
            checked += 1
        declared = ("header", "X-Workspace-Id") in params
        status, body = await _call(
            api,
            method,
            _url(path),
            headers | {"X-Workspace-Id": "abc"},
            body=example if declared else None,
        )
        assert _named(status, body, "workspace_id") == declared, (method, path, status, body)
        assert declared == (("query", "workspace_id") in params), (method, path)
    assert checked >= 10 * 50


async def test_path_ids_are_positive_integers_and_refused_otherwise(
    api: TestClient, admin: dict[str, str]
) -> None:
    doc = await (await api.get("/api/v1/openapi.json")).json()
    headers = admin
    seen = 0
    for method, path, op in _operations(doc):
        for param in op.get("parameters", []):
            if param["in"] != "path" or not param["name"].endswith("_id"):
                continue
            assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}, path
            assert "400" in op["responses"] and "404" in op["responses"], path
            url = _url(path).replace(MISSING_ID, "abc", 1) if path.count("{") == 1 else None
            if url is not None:
                status, body = await _call(api, method, url, headers)
                assert _named(status, body, param["name"]), (method, path, status, body)
            seen += 1
    assert seen >= 25


async def test_document_names_statuses_bodies_and_examples(api: TestClient) -> None:
    doc = await (await api.get("/api/v1/openapi.json")).json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            assert "400" in responses, (method, path)
            if op.get("security"):
                assert {"401", "503"} <= set(responses), (method, path)
            if "requestBody" in op:
                assert "413" in responses, (method, path)
            for status, answer in responses.items():
                if int(status) >= 400:
                    assert answer["content"]["application/json"]["example"]["error"]["code"], (
                        path,
                        status,
                    )
            for param in op.get("parameters", []):
                assert "schema" in param and (param["in"] == "path" or "example" in param), (
                    path,
                    param,
                )
    # JSON body examples are valid requests
    for table in route_tables():
        for ep in table.endpoints:
            if ep.request is not None:
                assert ep.example is not None, ep.path
                ep.request.model_validate(ep.example)
    imp = doc["paths"]["/api/v1/audiences/{audience_id}/import"]["post"]
    assert set(imp["requestBody"]["content"]) == {"text/csv", "multipart/form-data"}
    assert imp["requestBody"]["x-max-bytes"] == IMPORT_MAX_BYTES
    assert str(IMPORT_MAX_BYTES) in imp["responses"]["413"]["description"]
    members = doc["paths"]["/api/v1/audiences/{audience_id}/members"]["get"]
    names = {p["name"]: p for p in members["parameters"]}
    assert {
        "audience_id",
        "limit",
        "cursor",
        "q",
        "last_seen",
        "username",
        "premium",
        "photo",
        "workspace_id",
        "X-Workspace-Id",
    } == set(names)
    assert names["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 50,
    }
    assert names["X-Workspace-Id"]["in"] == "header"
    assert doc["paths"]["/api/v1/auth/refresh"]["post"]["requestBody"]["required"] is False


async def test_a_wrong_method_is_405_with_allow_in_the_envelope(api: TestClient) -> None:
    doc = await (await api.get("/api/v1/openapi.json")).json()
    for path, item in doc["paths"].items():
        wrong = next(m for m in ("PATCH", "PUT", "DELETE") if m.lower() not in item)
        resp = await api.request(wrong, _url(path))
        assert resp.status == 405, path
        assert {m.upper() for m in item} <= {m.strip() for m in resp.headers["Allow"].split(",")}, (
            path
        )
        body = await resp.json()
        assert body["error"]["code"] == "method_not_allowed" and body["error"]["trace_id"]


async def test_an_import_over_the_documented_limit_is_413(
    api: TestClient, admin: dict[str, str]
) -> None:
    headers = admin
    url = "/api/v1/audiences/1/import"
    line = b"777000,someone\n"
    over = line * (
        IMPORT_MAX_BYTES // len(line) + 1
    )  # a little over 5 MB, under the app's 6 MB cap
    raw = await api.post(url, data=over, headers=headers | {"Content-Type": "text/csv"})
    assert raw.status == 413, await raw.text()
    assert (await raw.json())["error"]["code"] == "payload_too_large"
    form = FormData()
    form.add_field("file", over, filename="people.csv", content_type="text/csv")
    multipart = await api.post(url, data=form, headers=headers)
    assert multipart.status == 413, await multipart.text()
    # at the limit it is read: that audience is not the caller's, so 404
    at_limit = (line * (IMPORT_MAX_BYTES // len(line)))[:IMPORT_MAX_BYTES]
    assert len(at_limit) <= IMPORT_MAX_BYTES
    fits = await api.post(url, data=at_limit, headers=headers | {"Content-Type": "text/csv"})
    assert fits.status == 404, await fits.text()
