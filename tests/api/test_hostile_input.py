"""No input ever reaches a 500 (DESIGN §4): hostile and broken requests get a 4xx in the
API's error envelope, in the caller's language, and leave no traceback in the log.

The server here runs under `ApiRunner`, as `python -m webui_api` does, so requests aiohttp
itself cannot parse (a request line or header over its limits) are covered too."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientResponse, FormData
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from db.dal import open_dal
from tests.api.conftest import IssueCode, MakeUser
from tests.logcapture import captured_logs, lines
from webui_api.app import init_app
from webui_api.http import MAX_JSON_DEPTH, ApiRunner

INT64_MAX = 2**63 - 1


class _ApiTestServer(TestServer):
    async def _make_runner(self, **kwargs: Any) -> ApiRunner:
        return ApiRunner(self.app, **kwargs)


@pytest.fixture
async def client(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> AsyncIterator[TestClient]:
    async with TestClient(_ApiTestServer(init_app(settings), host="127.0.0.1")) as c:
        yield c


@pytest.fixture
async def owner(client: TestClient, make_user: MakeUser, issue_code: IssueCode) -> dict[str, str]:
    person = await make_user()
    code = await issue_code(person)
    resp = await client.post(
        "/api/v1/auth/verify", json={"username": person.username, "code": code}
    )
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}


@pytest.fixture
async def audience_id(
    owner: dict[str, str],
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    client: TestClient,
) -> int:
    me = await (await client.get("/api/v1/me", headers=owner)).json()
    async with open_dal(sessionmaker) as dal:
        ws = (await dal.list_workspaces(me["id"]))[0].id
        target = await dal.create_audience(ws, "Hostile", None, me["id"])
        await dal.commit()
    return target.id


async def _refused(
    resp: ClientResponse, status: int, problem: str, field: str | None = None
) -> dict[str, Any]:
    text = await resp.text()
    assert resp.status == status, text
    assert resp.content_type == "application/json", text
    error = json.loads(text)["error"]
    assert set(error) == {"code", "message", "trace_id", "details"}
    assert error["trace_id"] and error["message"]
    assert error["details"]["problem"] == problem, error
    if field is not None:
        assert error["details"]["field"] == field, error
    return error


def _no_traceback(buffer: Any) -> None:
    logged = lines(buffer)
    assert logged, "the requests were logged"
    for line in logged:
        assert "exception" not in line and "Traceback" not in json.dumps(line), line
        assert line.get("level") not in ("error", "critical"), line
        assert int(line.get("status", 0)) < 500, line


async def test_hostile_json_on_an_unauthenticated_route(client: TestClient) -> None:
    verify = "/api/v1/auth/verify"
    json_header = {"Content-Type": "application/json"}
    with captured_logs("api") as buffer:
        await _refused(
            await client.post(verify, data=b"[" * 5000, headers=json_header),
            400,
            "json_depth",
            "body",
        )
        deep = b'{"a": ' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1)
        await _refused(await client.post(verify, data=deep, headers=json_header), 400, "json_depth")
        # Brackets inside strings are text, not nesting.
        brackets = json.dumps({"username": "[" * 5000, "code": "1"}).encode()
        assert (await client.post(verify, data=brackets, headers=json_header)).status in (400, 401)
        too_big = b'{"username": "someone", "code": 9223372036854775808}'
        await _refused(
            await client.post(verify, data=too_big, headers=json_header),
            400,
            "integer_range",
            "code",
        )
        huge = b'{"username": "someone", "code": ' + b"9" * 5000 + b"}"
        await _refused(
            await client.post(verify, data=huge, headers=json_header), 400, "integer_range", "code"
        )
        negative = b'{"username": "someone", "code": -9223372036854775809}'
        await _refused(
            await client.post(verify, data=negative, headers=json_header), 400, "integer_range"
        )
        infinite = b'{"username": "someone", "code": 1e999}'
        await _refused(
            await client.post(verify, data=infinite, headers=json_header),
            400,
            "json_number",
            "code",
        )
        nan = b'{"username": "someone", "code": NaN}'
        await _refused(await client.post(verify, data=nan, headers=json_header), 400, "json_syntax")
        nul = json.dumps({"username": "some\x00one", "code": "123456"}).encode()
        await _refused(
            await client.post(verify, data=nul, headers=json_header),
            400,
            "nul_character",
            "username",
        )
        nul_key = json.dumps({"user\x00name": "someone", "code": "123456"}).encode()
        await _refused(
            await client.post(verify, data=nul_key, headers=json_header),
            400,
            "nul_character",
            "body",
        )
        surrogate = b'{"username": "\\ud800", "code": "123456"}'
        await _refused(
            await client.post(verify, data=surrogate, headers=json_header),
            400,
            "bad_text",
            "username",
        )
        await _refused(await client.post(verify + "?q=a%00b", json={}), 400, "nul_character", "q")
        await _refused(
            await client.post(verify, data=b"\xff{", headers=json_header), 400, "json_syntax"
        )
        await _refused(
            await client.post(verify, data=b"[1]", headers=json_header), 400, "json_object"
        )
        ru = await _refused(
            await client.post(
                verify, data=b"[" * 5000, headers={**json_header, "Accept-Language": "ru"}
            ),
            400,
            "json_depth",
        )
        assert "вложенность" in ru["message"]
        en = await _refused(
            await client.post(verify, data=nul, headers=json_header), 400, "nul_character"
        )
        assert "NUL" in en["message"] and "username" in en["message"].lower()
    _no_traceback(buffer)


async def test_hostile_values_on_authenticated_routes(
    client: TestClient, owner: dict[str, str], audience_id: int
) -> None:
    with captured_logs("api") as buffer:
        campaign = {"name": "grow", "audience_id": INT64_MAX + 1, "target": "@target_group"}
        await _refused(
            await client.post("/api/v1/campaigns", json=campaign, headers=owner),
            400,
            "integer_range",
            "audience_id",
        )
        named = {"name": "gr\x00ow", "audience_id": audience_id, "target": "@target_group"}
        await _refused(
            await client.post("/api/v1/campaigns", json=named, headers=owner),
            400,
            "nul_character",
            "name",
        )
        members = f"/api/v1/audiences/{audience_id}/members"
        error = await _refused(
            await client.get(members + "?q=a%00b", headers={**owner, "Accept-Language": "ru"}),
            400,
            "nul_character",
            "q",
        )
        assert "NUL" in error["message"] and "Неверный запрос" not in error["message"]
        assert (await client.get(members + "?q=ab", headers=owner)).status == 200
        await _refused(
            await client.get("/api/v1/audiences?limit=%00", headers=owner),
            400,
            "nul_character",
            "limit",
        )
        task = {"source": "@some_chat", "audience": "a\x00b"}
        await _refused(
            await client.post("/api/v1/parse-tasks", json=task, headers=owner),
            400,
            "nul_character",
            "audience",
        )
    _no_traceback(buffer)


async def test_hostile_csv_imports(
    client: TestClient, owner: dict[str, str], audience_id: int
) -> None:
    url = f"/api/v1/audiences/{audience_id}/import"
    csv_header = {**owner, "Content-Type": "text/csv"}
    with captured_logs("api") as buffer:
        # Over the csv module's own limit (csv.field_size_limit, 128 KiB): `_csv.Error`.
        giant = b"user_id,first_name\n1001,ok\n1002," + b"x" * (200 * 1024) + b"\n"
        error = await _refused(
            await client.post(url, data=giant, headers=csv_header), 400, "csv_field", "file"
        )
        assert error["details"]["line"] == 3 and "3" in error["message"]
        quoted = b'user_id,first_name\n1001,"' + b"y\n" * (70 * 1024) + b'"\n'
        error = await _refused(
            await client.post(url, data=quoted, headers=csv_header), 400, "csv_field"
        )
        assert error["details"]["line"] > 2
        long_field = b"user_id,first_name\n1001,ok\n1002,ok\n1003," + b"z" * 5000 + b"\n"
        error = await _refused(
            await client.post(url, data=long_field, headers=csv_header), 400, "csv_field"
        )
        assert error["details"]["line"] == 4
        nul = b"user_id,first_name\n1001,ok\n1002,a\x00b\n"
        error = await _refused(
            await client.post(url, data=nul, headers={**csv_header, "Accept-Language": "ru"}),
            400,
            "csv_nul",
            "file",
        )
        assert error["details"]["line"] == 3 and "строка 3" in error["message"]
        many = b"".join(b"%d\n" % (10_000 + i) for i in range(100_001))
        error = await _refused(
            await client.post(url, data=many, headers=csv_header), 400, "csv_lines"
        )
        assert error["details"]["line"] == 100_001
        # Nothing of the refused files was stored.
        audience = await (
            await client.get(f"/api/v1/audiences/{audience_id}", headers=owner)
        ).json()
        assert audience["size"] == 0
        ok = await client.post(url, data=b"user_id,first_name\n1001,Ann\n", headers=csv_header)
        assert ok.status == 200 and (await ok.json())["accepted"] == 1
    _no_traceback(buffer)


async def test_broken_multipart_imports(
    client: TestClient, owner: dict[str, str], audience_id: int
) -> None:
    url = f"/api/v1/audiences/{audience_id}/import"
    part = b'--real\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n1001\r\n--real--\r\n'
    with captured_logs("api") as buffer:
        no_boundary = {**owner, "Content-Type": "multipart/form-data"}
        await _refused(
            await client.post(url, data=part, headers=no_boundary), 400, "multipart", "file"
        )
        wrong = {**owner, "Content-Type": "multipart/form-data; boundary=other"}
        await _refused(await client.post(url, data=part, headers=wrong), 400, "multipart", "file")
        too_long = {**owner, "Content-Type": "multipart/form-data; boundary=" + "b" * 80}
        await _refused(await client.post(url, data=part, headers=too_long), 400, "multipart")
        right = {**owner, "Content-Type": "multipart/form-data; boundary=real"}
        ok = await client.post(url, data=part, headers=right)
        assert ok.status == 200 and (await ok.json())["accepted"] == 1
        form = FormData(default_to_multipart=True)
        form.add_field("note", "no file here")
        await _refused(await client.post(url, data=form, headers=owner), 400, "no_file")
        big = FormData()
        big.add_field(
            "file", b"1001\n" * (7 * 1024 * 1024 // 5), filename="big.csv", content_type="text/csv"
        )
        resp = await client.post(url, data=big, headers=owner)
        assert resp.status == 413, await resp.text()
        assert (await resp.json())["error"]["code"] == "payload_too_large"
    _no_traceback(buffer)


async def test_over_long_request_lines_and_headers(
    client: TestClient, owner: dict[str, str]
) -> None:
    with captured_logs("api") as buffer:
        long_url = "/api/v1/auth/verify?q=" + "a" * 10_000
        error = await _refused(await client.post(long_url, json={}), 400, "request_head")
        assert error["code"] == "invalid_input"
        long_header = {"X-Padding": "p" * 10_000}
        await _refused(
            await client.get("/api/v1/me", headers={**owner, **long_header}), 400, "request_head"
        )
        long_token = {"Authorization": "Bearer " + "t" * 10_000}
        await _refused(await client.get("/api/v1/me", headers=long_token), 400, "request_head")
        # The server still answers normally afterwards.
        assert (await client.get("/api/v1/me", headers=owner)).status == 200
    logged = lines(buffer)
    _no_traceback(buffer)
    warnings = [line for line in logged if "unreadable http request" in json.dumps(line)]
    assert len(warnings) == 3, logged
    assert not any("tttttttt" in json.dumps(line) for line in logged)


async def _raw(client: TestClient, request: bytes, *, close_early: bool = False) -> bytes:
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(request)
    await writer.drain()
    if close_early:
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.2)
        return b""
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_bodies_aiohttp_cannot_read(client: TestClient) -> None:
    head = b"POST /api/v1/auth/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with captured_logs("api") as buffer:
        gzip = await _raw(
            client,
            head + b"Content-Encoding: gzip\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        )
        status, _, body = gzip.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 400"), gzip
        assert json.loads(body)["error"]["details"]["problem"] == "body_unreadable"
        chunks = await _raw(
            client, head + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
        )
        status, _, body = chunks.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.0 400"), chunks
        assert json.loads(body)["error"]["details"]["problem"] == "request_head"
        # A client that leaves midway gets no answer; it is logged as 499, not as a 500.
        await _raw(client, head + b'Content-Length: 100\r\n\r\n{"user', close_early=True)
    _no_traceback(buffer)
    assert [line["status"] for line in lines(buffer) if line.get("event") == "request"] == [
        400,
        499,
    ]


async def test_digits_that_int_cannot_read(
    client: TestClient, owner: dict[str, str], audience_id: int
) -> None:
    """ "²" and "①" are digits to `str.isdigit()` and not numbers to `int()`: wherever an id
    is told from a name they are text, never a 500."""
    csv_header = {**owner, "Content-Type": "text/csv"}
    with captured_logs("api") as buffer:
        members = f"/api/v1/audiences/{audience_id}/members"
        for q in ("²", "①", "12³"):
            resp = await client.get(members, params={"q": q}, headers=owner)
            assert resp.status == 200, await resp.text()
            assert (await resp.json())["items"] == []
        imported = await client.post(
            f"/api/v1/audiences/{audience_id}/import",
            data="user_id,first_name\n²,Ann\n1001,Bob\n".encode(),
            headers=csv_header,
        )
        assert imported.status == 200, await imported.text()
        report = await imported.json()
        assert report["accepted"] == 1
        assert [(e["line"], e["problem"]) for e in report["errors"]] == [(2, "bad_user_id")]
        bare = await client.post(
            f"/api/v1/audiences/{audience_id}/import", data="①\n".encode(), headers=csv_header
        )
        assert bare.status == 200, await bare.text()
        assert [(e["line"], e["problem"]) for e in (await bare.json())["errors"]] == [
            (1, "bad_username")
        ]
        optouts = await client.post(
            "/api/v1/opt-outs/import", data="²\n777000\n".encode(), headers=csv_header
        )
        assert optouts.status == 200, await optouts.text()
        report = await optouts.json()
        assert [(e["line"], e["problem"]) for e in report["errors"]] == [(1, "bad_person")]
    _no_traceback(buffer)
