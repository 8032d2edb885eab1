"""Login with a bot code, token rotation, logout, /me and the error envelope."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.api.conftest import IssueCode, MakeUser


async def test_verify_gives_tokens_cookie_and_me(
    api: TestClient, make_user: MakeUser, issue_code: IssueCode
) -> None:
    person = await make_user("Alice_Wonder")
    code = await issue_code(person)
    # case-insensitive username with @, code typed in lower case with a dash and spaces
    typed = f" {code[:3].lower()}-{code[3:].lower()} "
    resp = await api.post("/api/v1/auth/verify", json={"username": "@alice_wonder", "code": typed})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    cookie = resp.headers["Set-Cookie"]
    assert "tgi_refresh=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/api/v1/auth" in cookie

    me = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status == 200
    data = await me.json()
    assert data["telegram_id"] == person.user.telegram_id
    assert data["username"] == "Alice_Wonder"
    assert data["role"] == "user"
    assert [w["role"] for w in data["workspaces"]] == ["owner"]
    assert data["workspaces"][0]["personal"] is True


async def test_code_works_once(api: TestClient, make_user: MakeUser, issue_code: IssueCode) -> None:
    person = await make_user()
    code = await issue_code(person)
    first = await api.post("/api/v1/auth/verify", json={"username": person.username, "code": code})
    second = await api.post("/api/v1/auth/verify", json={"username": person.username, "code": code})
    assert (first.status, second.status) == (200, 401)


async def test_refresh_rotates_and_reuse_revokes_the_chain(
    api: TestClient, make_user: MakeUser, login
) -> None:  # type: ignore[no-untyped-def]
    tokens = await login(await make_user())
    r1 = await api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r1.status == 200
    rotated = await r1.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["access_token"] != tokens["access_token"]

    # the old one shown again: reuse → refused, and the whole session dies
    reuse = await api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status == 401
    after = await api.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status == 401
    me = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert me.status == 401


async def test_refresh_from_cookie(api: TestClient, make_user: MakeUser, login) -> None:  # type: ignore[no-untyped-def]
    await login(await make_user())  # the client's cookie jar keeps the HttpOnly cookie
    resp = await api.post("/api/v1/auth/refresh")
    assert resp.status == 200, await resp.text()
    api.session.cookie_jar.clear()
    resp = await api.post("/api/v1/auth/refresh")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "unauthorized"


async def test_logout_ends_access_and_refresh(api: TestClient, make_user: MakeUser, login) -> None:  # type: ignore[no-untyped-def]
    tokens = await login(await make_user())
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    out = await api.post("/api/v1/auth/logout", headers=auth)
    assert out.status == 200
    assert (await api.get("/api/v1/me", headers=auth)).status == 401
    again = await api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status == 401


async def test_error_envelope_and_language(api: TestClient) -> None:
    resp = await api.get("/api/v1/me", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert resp.status == 401
    body = await resp.json()
    assert set(body["error"]) == {"code", "message", "trace_id", "details"}
    assert body["error"]["code"] == "unauthorized"
    assert "Войдите" in body["error"]["message"]
    assert body["error"]["trace_id"] == resp.headers["X-Trace-Id"]

    missing = await api.get("/api/v1/nothing-here")
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "not_found"


async def test_bad_bodies_are_clear_400s(api: TestClient) -> None:
    cases = [
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (b'{"username": "someone"}', "code"),
        (b'{"username": "someone", "code": "ABCDEF", "extra": 1}', "extra"),
        (b'{"username": "' + b"x" * 100 + b'", "code": "ABCDEF"}', "username"),
        (b'{"username": 5, "code": "ABCDEF"}', "username"),
    ]
    for raw, field in cases:
        resp = await api.post(
            "/api/v1/auth/verify", data=raw, headers={"Content-Type": "application/json"}
        )
        assert resp.status == 400, raw
        err = (await resp.json())["error"]
        assert err["code"] == "invalid_input"
        # A sentence that names the field, capitalised and ended (core.i18n.refusal_message).
        assert field in err["message"].lower() and err["message"].endswith("."), (raw, err)

    too_big = await api.post("/api/v1/auth/verify", data=b"{" + b" " * 70_000 + b"}")
    assert too_big.status == 413
    assert (await too_big.json())["error"]["code"] == "payload_too_large"


async def test_foreign_workspace_is_404_like_a_missing_one(
    api: TestClient, make_user: MakeUser, login
) -> None:  # type: ignore[no-untyped-def]
    alice = await make_user()
    bob = await make_user()
    tokens = await login(alice)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await (await api.get("/api/v1/me", headers=auth)).json()
    own_id = me["workspaces"][0]["id"]
    assert (await api.get(f"/api/v1/workspaces/{own_id}", headers=auth)).status == 200

    bob_tokens = await login(bob)
    bob_me = await (
        await api.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {bob_tokens['access_token']}"}
        )
    ).json()
    foreign = await api.get(f"/api/v1/workspaces/{bob_me['workspaces'][0]['id']}", headers=auth)
    missing = await api.get("/api/v1/workspaces/999999", headers=auth)
    assert foreign.status == missing.status == 404
    strip = lambda b: {k: v for k, v in b["error"].items() if k != "trace_id"}  # noqa: E731
    assert strip(await foreign.json())["code"] == "not_found"
    assert strip(await foreign.json())["details"] == strip(await missing.json())["details"] == {}
