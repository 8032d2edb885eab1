"""`/api/v1/account-logins`: linking a Telegram account from the panel.

The real API on 127.0.0.1 with real PostgreSQL and Redis; its Telegram clients are real
Telethon clients on the sandbox's simulated Telegram (over loopback, as the API process runs
them). The test plays the person's phone: it scans the QR code the API answered
(`world.scan_qr`), turns on 2FA (`world.set_password`) and reads the login codes "Telegram"
sent (`world.codes_for`), as tests/bot/test_linking.py does for the bot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import zxingcpp
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import WorkspaceRole
from core.i18n import t
from core.settings import Settings
from db.dal import open_dal
from db.models import Membership, TelegramAccount
from sandbox.server import SandboxServer
from sandbox.world import World
from tests.api.conftest import IssueCode, MakeUser, Person
from tests.logcapture import captured_logs
from webui_api.app import init_app
from webui_api.keys import LOGINS

WORKER, HELPER, STRANGER = 100, 101, 102
PASSWORD = "correct horse 7"
BASE = "/api/v1/account-logins"


@dataclass
class Env:
    api: TestClient
    world: World


@pytest.fixture
async def env(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Any
) -> AsyncIterator[Env]:
    world = World()
    world.put_users(
        [
            {"id": WORKER, "first_name": "Worker", "username": "worker", "phone": "+10000000100"},
            {"id": HELPER, "first_name": "Helper", "username": "helper", "phone": "+10000000101"},
            {"id": STRANGER, "first_name": "Nameless", "phone": "+10000000102"},
        ]
    )
    world.set_password(HELPER, PASSWORD)
    async with SandboxServer(world=world) as sandbox:
        port = int(sandbox.url.rsplit(":", 1)[1])
        configured = settings.model_copy(update={"sandbox_port": port})
        async with TestClient(TestServer(init_app(configured), host="127.0.0.1")) as api:
            yield Env(api, world)


async def _auth(
    env: Env, person: Person, issue_code: IssueCode, lang: str = "en"
) -> dict[str, str]:
    code = await issue_code(person)
    resp = await env.api.post(
        "/api/v1/auth/verify", json={"username": person.username, "code": code}
    )
    assert resp.status == 200, await resp.text()
    env.api.session.cookie_jar.clear()
    token = (await resp.json())["access_token"]
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


async def _call(
    env: Env, method: str, path: str, auth: dict[str, str], status: int = 200, **kw: Any
) -> Any:
    resp = await env.api.request(method, path, headers=auth, **kw)
    text = await resp.text()
    assert resp.status == status, text
    return await resp.json() if text else None


async def _until(
    env: Env, login_id: str, auth: dict[str, str], check: Any, timeout: float = 10.0
) -> dict[str, Any]:
    """Poll the login as the panel does until `check(login)` holds."""
    async with asyncio.timeout(timeout):
        while True:
            login = await _call(env, "GET", f"{BASE}/{login_id}", auth)
            if check(login):
                return dict(login)
            await asyncio.sleep(0.05)


def _decode_svg(svg: str) -> str:
    """What the QR code drawn by the SVG says (rasterized the way a camera would see it)."""
    # The SVG is one path of unit squares ("M4,4H5V5H4z…") in a viewBox; draw them.
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))  # type: ignore[union-attr]
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in re.findall(r"M(\d+),(\d+)H", svg):
        x0, y0 = int(x) * scale, int(y) * scale
        draw.rectangle([x0, y0, x0 + scale - 1, y0 + scale - 1], fill=0)
    (barcode,) = zxingcpp.read_barcodes(image)
    return str(barcode.text)


async def _accounts(sm: async_sessionmaker[AsyncSession]) -> list[TelegramAccount]:
    async with sm() as session:
        return list(
            (await session.scalars(select(TelegramAccount).order_by(TelegramAccount.id))).all()
        )


# --- QR --------------------------------------------------------------------------------------
async def test_qr_with_2fa_links_the_account(
    env: Env, make_user: MakeUser, issue_code: IssueCode, sessionmaker: Any
) -> None:
    owner = await make_user()
    auth = await _auth(env, owner, issue_code)
    login = await _call(env, "POST", BASE, auth, 201, json={"method": "qr"})
    assert login["state"] == "waiting"
    assert login["message"] == t("en", "weblink.waiting")
    assert login["qr"]["url"].startswith("tg://login?token=")
    # The SVG draws the very URL (what a phone's camera reads from the page).
    assert _decode_svg(login["qr"]["svg"]) == login["qr"]["url"]
    assert login["problem"] is None and login["account"] is None

    env.world.scan_qr(login["qr"]["url"], HELPER)
    asked = await _until(env, login["id"], auth, lambda x: x["state"] != "waiting")
    assert asked["state"] == "password"
    assert asked["message"] == t("en", "weblink.password")
    assert asked["qr"] is None and asked["tries_left"] == 3

    done = await _call(
        env, "POST", f"{BASE}/{login['id']}/password", auth, json={"password": PASSWORD}
    )
    assert done["state"] == "linked"
    assert done["message"] == t("en", "weblink.linked", account="@helper")
    assert done["account"]["username"] == "helper" and done["created"] is True
    listed = await _call(env, "GET", "/api/v1/accounts", auth)
    assert [a["username"] for a in listed["items"]] == ["helper"]
    (row,) = await _accounts(sessionmaker)
    assert row.tg_user_id == HELPER
    assert HELPER in env.world.authorizations.values()
    # Answers after the end are refused as not expected; polling still tells how it ended.
    again = await env.api.post(
        f"{BASE}/{login['id']}/password", json={"password": PASSWORD}, headers=auth
    )
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "login_stage"
    assert (await _call(env, "GET", f"{BASE}/{login['id']}", auth))["state"] == "linked"


async def test_wrong_password_then_right_in_russian_and_never_logged(
    env: Env, make_user: MakeUser, issue_code: IssueCode
) -> None:
    owner = await make_user()
    auth = await _auth(env, owner, issue_code, lang="ru")
    wrong = "wr0ng pass"
    with captured_logs("webui_api") as logs:
        login = await _call(env, "POST", BASE, auth, 201, json={"method": "qr"})
        env.world.scan_qr(login["qr"]["url"], HELPER)
        await _until(env, login["id"], auth, lambda x: x["state"] == "password")
        answers = []
        first = await _call(
            env, "POST", f"{BASE}/{login['id']}/password", auth, json={"password": wrong}
        )
        answers.append(first)
        assert first["state"] == "password" and first["tries_left"] == 2
        assert first["problem"] == {
            "code": "password_wrong",
            "message": t("ru", "weblink.password_wrong", left=2),
        }
        done = await _call(
            env, "POST", f"{BASE}/{login['id']}/password", auth, json={"password": PASSWORD}
        )
        answers.append(done)
        assert done["state"] == "linked" and done["problem"] is None
        assert done["message"] == t("ru", "weblink.linked", account="@helper")
    text = logs.getvalue()
    assert "POST" in text  # the requests were logged, their bodies were not
    for secret in (wrong, PASSWORD):
        assert secret not in text
        assert all(secret not in str(a) for a in answers)
    # Telegram checked both through SRP (auth.checkPassword), the wrong one refused.
    assert [c.error for c in env.world.calls("auth.CheckPassword")] == [
        "PASSWORD_HASH_INVALID",
        None,
    ]


async def test_three_wrong_passwords_end_the_login_and_log_the_session_out(
    env: Env, make_user: MakeUser, issue_code: IssueCode, sessionmaker: Any
) -> None:
    owner = await make_user()
    auth = await _auth(env, owner, issue_code)
    login = await _call(env, "POST", BASE, auth, 201, json={"method": "qr"})
    env.world.scan_qr(login["qr"]["url"], HELPER)
    await _until(env, login["id"], auth, lambda x: x["state"] == "password")
    for _ in range(3):
        last = await _call(
            env, "POST", f"{BASE}/{login['id']}/password", auth, json={"password": "nope"}
        )
    assert last["state"] == "failed"
    assert last["message"] == t("en", "weblink.password_aborted", tries=3)
    assert await _accounts(sessionmaker) == []
    assert HELPER not in env.world.authorizations.values()


async def test_an_expiring_qr_code_is_renewed_in_place(
    env: Env, make_user: MakeUser, issue_code: IssueCode
) -> None:
    # Codes that live 2 s instead of 30 s: the API must renew them on its own.
    env.world.now = lambda: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=28)
    owner = await make_user()
    auth = await _auth(env, owner, issue_code)
    login = await _call(env, "POST", BASE, auth, 201, json={"method": "qr"})
    first = login["qr"]["url"]
    renewed = await _until(env, login["id"], auth, lambda x: x["qr"]["url"] != first)
    assert renewed["state"] == "waiting"
    assert renewed["qr"]["expires_at"] > login["qr"]["expires_at"]
    # Asked for at once (the panel's "new code" button): another one.
    now = await _call(env, "POST", f"{BASE}/{login['id']}/qr", auth)
    assert now["qr"]["url"] not in (first, renewed["qr"]["url"])
    env.world.now = lambda: dt.datetime.now(dt.UTC)
    env.world.scan_qr(now["qr"]["url"], WORKER)
    done = await _until(env, login["id"], auth, lambda x: x["state"] != "waiting")
    assert done["state"] == "linked" and done["account"]["username"] == "worker"


async def test_an_open_login_expires(
    env: Env, make_user: MakeUser, issue_code: IssueCode, sessionmaker: Any
) -> None:
    owner = await make_user()
    auth = await _auth(env, owner, issue_code)
    env.api.app[LOGINS].ttl_s = 1.0
    login = await _call(env, "POST", BASE, auth, 201, json={"method": "qr"})
    ended = await _until(env, login["id"], auth, lambda x: x["state"] != "waiting")
    assert ended["state"] == "expired"
    assert ended["message"] == t("en", "weblink.expired", minutes=1)
    assert ended["qr"] is None
    # Too late to scan: nobody listens for that code any more, so nothing is linked.
    env.world.scan_qr(login["qr"]["url"], WORKER)
    await asyncio.sleep(0.3)
    assert WORKER not in env.world.authorizations.values()
    assert await _accounts(sessionmaker) == []


# --- phone -----------------------------------------------------------------------------------
async def test_phone_code_then_password(
    env: Env, make_user: MakeUser, issue_code: IssueCode, sessionmaker: Any
) -> None:
    owner = await make_user()
    auth = await _auth(env, owner, issue_code)
    login = await _call(env, "POST", BASE, auth, 201, json={"method": "phone"})
    assert login["state"] == "phone" and login["message"] == t("en", "weblink.phone")
    one = f"{BASE}/{login['id']}"

    bad = await _call(env, "POST", one + "/phone", auth, json={"phone": "12345"})
    assert bad["state"] == "phone"
    assert bad["problem"]["code"] == "phone_invalid"
    assert env.world.calls("auth.SendCode") == []  # nothing reached Telegram

    sent = await _call(env, "POST", one + "/phone", auth, json={"phone": "+1 000 000 0101"})
    assert sent["state"] == "code" and sent["code_via"] == "app"
    assert sent["message"] == t("en", "weblink.code.app", phone="+1********01")
    code = env.world.codes_for(HELPER)[-1].code
    wrong = "0" * 5 if code != "0" * 5 else "1" * 5
    miss = await _call(env, "POST", one + "/code", auth, json={"code": wrong})
    assert miss["state"] == "code" and miss["tries_left"] == 2
    assert miss["problem"]["message"] == t("en", "weblink.code_wrong", left=2)
    typed = await _call(env, "POST", one + "/code", auth, json={"code": " ".join(code)})
    assert typed["state"] == "password" and typed["problem"] is None
    done = await _call(env, "POST", one + "/password", auth, json={"password": PASSWORD})
    assert done["state"] == "linked" and done["account"]["username"] == "helper"
    assert [a.tg_user_id for a in await _accounts(sessionmaker)] == [HELPER]


async def test_phone_without_2fa_links_at_the_code(
    env: Env, make_user: MakeUser, issue_code: IssueCode
) -> None:
    owner = await make_user()
    auth = await _auth(env, owner, issue_code)
    login = await _call(env, "POST", BASE, auth, 201, json={"method": "phone"})
    one = f"{BASE}/{login['id']}"
    await _call(env, "POST", one + "/phone", auth, json={"phone": "+10000000100"})
    code = env.world.codes_for(WORKER)[-1].code
    done = await _call(env, "POST", one + "/code", auth, json={"code": code})
    assert done["state"] == "linked" and done["account"]["username"] == "worker"


@pytest.mark.parametrize(
    ("method", "error", "stage", "reason", "params"),
    [
        ("auth.SendCode", "FLOOD_WAIT_120", "phone", "flood_wait", {"minutes": 2}),
        ("auth.SendCode", "PHONE_NUMBER_FLOOD", "phone", "phone_flood", {}),
        ("auth.SignIn", "PHONE_CODE_EXPIRED", "code", "code_expired", {}),
        ("auth.CheckPassword", "FLOOD_WAIT_7200", "password", "flood_wait_hours", {"hours": 2}),
    ],
)
async def test_telegram_refusals_end_the_login_with_a_sentence(
    env: Env,
    make_user: MakeUser,
    issue_code: IssueCode,
    sessionmaker: Any,
    method: str,
    error: str,
    stage: str,
    reason: str,
    params: dict[str, Any],
) -> None:
    owner = await make_user()
    auth = await _auth(env, owner, issue_code, lang="ru")
    login = await _call(env, "POST", BASE, auth, 201, json={"method": "phone"})
    one = f"{BASE}/{login['id']}"
    env.world.add_fault(method, error)
    answer = await _call(env, "POST", one + "/phone", auth, json={"phone": "+10000000101"})
    if stage != "phone":
        code = env.world.codes_for(HELPER)[-1].code
        answer = await _call(env, "POST", one + "/code", auth, json={"code": code})
    if stage == "password":
        answer = await _call(env, "POST", one + "/password", auth, json={"password": PASSWORD})
    assert answer["state"] == "failed"
    assert answer["problem"]["code"] == reason
    assert answer["message"] == t("ru", f"weblink.{reason}", **params)
    assert [c.error for c in env.world.calls(method)] == [error]
    assert await _accounts(sessionmaker) == []
    assert HELPER not in env.world.authorizations.values()


async def test_a_banned_number_and_a_number_telegram_refuses(
    env: Env, make_user: MakeUser, issue_code: IssueCode
) -> None:
    owner = await make_user()
    auth = await _auth(env, owner, issue_code)
    env.world.put_user(STRANGER, banned=True)
    login = await _call(env, "POST", BASE, auth, 201, json={"method": "phone"})
    banned = await _call(
        env, "POST", f"{BASE}/{login['id']}/phone", auth, json={"phone": "+10000000102"}
    )
    assert banned["state"] == "failed"
    assert banned["message"] == t("en", "weblink.phone_banned")

    login = await _call(env, "POST", BASE, auth, 201, json={"method": "phone"})
    env.world.add_fault("auth.SendCode", "PHONE_NUMBER_INVALID")
    one = f"{BASE}/{login['id']}/phone"
    refused = await _call(env, "POST", one, auth, json={"phone": "+10000000100"})
    assert refused["state"] == "phone"
    assert refused["problem"]["message"] == t("en", "weblink.phone_rejected")
    again = await _call(env, "POST", one, auth, json={"phone": "+10000000100"})
    assert again["state"] == "code"


# --- whose login -----------------------------------------------------------------------------
async def test_a_login_is_its_starters_only(
    env: Env, make_user: MakeUser, issue_code: IssueCode, sessionmaker: Any
) -> None:
    owner, manager, stranger = await make_user(), await make_user(), await make_user()
    async with open_dal(sessionmaker) as dal:
        ws = (await dal.list_workspaces(owner.user.id))[0].id
    async with sessionmaker() as session, session.begin():
        session.add(
            Membership(workspace_id=ws, user_id=manager.user.id, role=WorkspaceRole.MANAGER)
        )
    owner_auth = await _auth(env, owner, issue_code)
    manager_auth = await _auth(env, manager, issue_code) | {"X-Workspace-Id": str(ws)}
    stranger_auth = await _auth(env, stranger, issue_code)

    # A stranger cannot start one in the owner's workspace.
    refused = await env.api.post(
        BASE, json={"method": "qr"}, headers=stranger_auth | {"X-Workspace-Id": str(ws)}
    )
    assert refused.status == 404
    # A manager can, as with /link in the bot; the account goes into that workspace.
    login = await _call(env, "POST", BASE, manager_auth, 201, json={"method": "qr"})
    one = f"{BASE}/{login['id']}"
    for other in (owner_auth, stranger_auth):
        for method, path, body in (
            ("GET", one, None),
            ("POST", one + "/qr", None),
            ("POST", one + "/password", {"password": PASSWORD}),
            ("DELETE", one, None),
        ):
            resp = await env.api.request(method, path, headers=other, json=body)
            assert resp.status == 404, (method, path)
            assert (await resp.json())["error"]["code"] == "not_found"
    made_up = await env.api.get(f"{BASE}/nosuchlogin", headers=owner_auth)
    assert made_up.status == 404
    # Untouched by all that: the manager scans and links into the owner's workspace.
    env.world.scan_qr(login["qr"]["url"], WORKER)
    done = await _until(env, login["id"], manager_auth, lambda x: x["state"] != "waiting")
    assert done["state"] == "linked"
    owners_list = await _call(env, "GET", "/api/v1/accounts", owner_auth)
    assert [a["username"] for a in owners_list["items"]] == ["worker"]


async def test_cancel_and_logout_end_open_logins(
    env: Env, make_user: MakeUser, issue_code: IssueCode, sessionmaker: Any
) -> None:
    owner = await make_user()
    auth = await _auth(env, owner, issue_code)
    # Cancelled while the password is asked: the half-made authorization is logged out.
    login = await _call(env, "POST", BASE, auth, 201, json={"method": "qr"})
    env.world.scan_qr(login["qr"]["url"], HELPER)
    await _until(env, login["id"], auth, lambda x: x["state"] == "password")
    await _call(env, "DELETE", f"{BASE}/{login['id']}", auth, 204)
    gone = await env.api.get(f"{BASE}/{login['id']}", headers=auth)
    assert gone.status == 404
    assert HELPER not in env.world.authorizations.values()

    # A new login replaces the open one.
    first = await _call(env, "POST", BASE, auth, 201, json={"method": "qr"})
    second = await _call(env, "POST", BASE, auth, 201, json={"method": "phone"})
    assert (await env.api.get(f"{BASE}/{first['id']}", headers=auth)).status == 404
    env.world.scan_qr(first["qr"]["url"], WORKER)

    # Logging out ends the logins that session opened.
    await _call(env, "POST", "/api/v1/auth/logout", auth)
    fresh = await _auth(env, owner, issue_code)
    assert (await env.api.get(f"{BASE}/{second['id']}", headers=fresh)).status == 404
    assert env.api.app[LOGINS]._logins == {}
    # The replaced QR login's scan above reached nobody.
    assert await _accounts(sessionmaker) == []
    assert WORKER not in env.world.authorizations.values()


async def test_bad_bodies_are_clear_400s(
    env: Env, make_user: MakeUser, issue_code: IssueCode
) -> None:
    owner = await make_user()
    auth = await _auth(env, owner, issue_code)
    resp = await env.api.post(BASE, json={"method": "sms"}, headers=auth)
    assert resp.status == 400
    login = await _call(env, "POST", BASE, auth, 201, json={"method": "phone"})
    resp = await env.api.post(
        f"{BASE}/{login['id']}/password", json={"password": "x" * 300}, headers=auth
    )
    body = await resp.text()
    assert resp.status == 400 and "x" * 300 not in body
    resp = await env.api.post(
        f"{BASE}/{login['id']}/password", json={"password": PASSWORD}, headers=auth
    )
    assert resp.status == 409  # the login waits for a phone number, not a password
    assert PASSWORD not in await resp.text()


async def test_telegram_out_of_reach_is_a_sentence_not_an_error(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Any,
    free_port: int,
    make_user: MakeUser,
    issue_code: IssueCode,
) -> None:
    # Nothing listens where the API looks for Telegram (the sandbox's port, unused).
    configured = settings.model_copy(update={"sandbox_port": free_port})
    async with TestClient(TestServer(init_app(configured), host="127.0.0.1")) as api:
        owner = await make_user()
        env = Env(api, World())
        auth = await _auth(env, owner, issue_code)
        login = await _call(env, "POST", BASE, auth, 201, json={"method": "qr"})
    assert login["state"] == "failed"
    assert login["problem"]["code"] == "no_connection"
    assert login["message"] == t("en", "weblink.no_connection")


async def test_an_account_of_another_data_centre_links_with_its_password(
    env: Env, make_user: MakeUser, issue_code: IssueCode, sessionmaker: Any
) -> None:
    # core.telegram.org/api/qr-login: the scan is answered with auth.loginTokenMigrateTo; the
    # login moves to DC 4, imports the token there and asks for the password there.
    env.world.put_user(HELPER, dc=4)
    owner = await make_user()
    auth = await _auth(env, owner, issue_code)
    login = await _call(env, "POST", BASE, auth, 201, json={"method": "qr"})
    env.world.scan_qr(login["qr"]["url"], HELPER)
    await _until(env, login["id"], auth, lambda x: x["state"] == "password")
    done = await _call(
        env, "POST", f"{BASE}/{login['id']}/password", auth, json={"password": PASSWORD}
    )
    assert done["state"] == "linked"
    assert [c.dc for c in env.world.calls("auth.CheckPassword")] == [4]
    assert [a.tg_user_id for a in await _accounts(sessionmaker)] == [HELPER]
