"""Every cell of the permission matrix (`tests/permissions.py`) against the running system.

API: one world per module — an owner's workspace with a manager, accounts linked in a
sandbox served over loopback, an audience, a collection task and a campaign with its
pre-flight; a stranger with their own workspace; an admin who is in none of it — and every
route is requested as each role. Routes that change or remove what they touch get fresh
objects for every cell, so no cell depends on the one before. The matrix must name every
route of `route_tables()`, and `docs/permissions.md` must be what the matrix generates.

Bot: the real Dispatcher (as in tests/bot/conftest.py) gets every command from each role.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.auth import AuthService, build_auth_service
from core.dto import AccountStatus, TelegramProfile, UserDTO, WorkspaceRole
from core.settings import Settings
from core.users import register
from db.dal import open_dal
from db.engine import create_engine, create_sessionmaker
from db.kv import RedisNotifier, RedisThrottle
from db.models import Base, ParseTask
from gateway.telegram import TelegramGateway
from sandbox.server import SandboxServer
from sandbox.world import SandboxClientFactory, World
from tests.admin_world import add_account
from tests.invites.conftest import OWNER_TG, TARGET, link_accounts, make_audience
from tests.permissions import (
    ADMIN,
    API,
    DOC_PATH,
    MANAGER,
    OTHER,
    OWNER,
    ROLES,
    ApiRow,
    render_markdown,
)
from webui_api.app import init_app, route_tables
from webui_api.keys import LOGINS
from webui_api.views.campaign_stream import STREAM_CONFIG, StreamConfig

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")

ADMIN_TG = 990_001
_fresh_ids = itertools.count(1)


# --- the matrix is complete and documented --------------------------------------------------
def _routes() -> set[tuple[str, str]]:
    return {(ep.method, ep.path) for table in route_tables() for ep in table.endpoints}


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    rows = {(row.method, row.path) for row in API}
    assert _routes() - rows == set(), "routes without a row in tests/permissions.py"
    assert rows - _routes() == set(), "rows for routes that do not exist"
    keys = [row.key for row in API]
    assert len(keys) == len(set(keys)), "a route is in the matrix twice"
    assert set(PLANS) == set(keys), "every row needs a plan of how to request it (PLANS)"


def test_allowed_cells_answer_the_declared_success_status() -> None:
    declared = {
        (ep.method, ep.path): ep.status for table in route_tables() for ep in table.endpoints
    }
    for row in API:
        for role in ROLES:
            status = row.status(role)
            if status < 300 and not row.variant:
                assert status == declared[(row.method, row.path)], (row.key, role)


def test_the_committed_page_is_generated_from_the_matrix() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render_markdown(), (
        "docs/permissions.md is stale: run `python -m tests.permissions`"
    )


# --- how each row is requested ----------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    params: dict[str, str] = field(default_factory=dict)  # path parameter -> object kind
    json: Any = None
    data: bytes | None = None
    query: str = ""
    session: str = ""  # "code" / "refresh" / "fresh": the cell logs in its own session
    fresh_manager_caller: bool = False  # the manager of this cell is a new one (it leaves)


def _p(**params: str) -> Plan:
    return Plan(params=params)


CAMPAIGN = _p(campaign_id="campaign")
TASK = _p(task_id="task")
AUDIENCE = _p(audience_id="audience")
PLANS: dict[str, Plan] = {
    "POST /api/v1/auth/verify": Plan(session="code"),
    "POST /api/v1/auth/refresh": Plan(session="refresh"),
    "POST /api/v1/auth/logout": Plan(session="fresh"),
    "GET /api/v1/me": Plan(),
    "GET /api/v1/workspaces/{workspace_id}": _p(workspace_id="ws"),
    "GET /api/v1/accounts": Plan(),
    "POST /api/v1/accounts/{account_id}/disable": _p(account_id="account_active"),
    "POST /api/v1/accounts/{account_id}/enable": _p(account_id="account_disabled"),
    "DELETE /api/v1/accounts/{account_id}": _p(account_id="account_disabled"),
    "POST /api/v1/account-logins": Plan(json={"method": "phone"}),
    "GET /api/v1/account-logins/{login}": _p(login="login_phone"),
    "POST /api/v1/account-logins/{login}/qr": _p(login="login_qr"),
    "POST /api/v1/account-logins/{login}/phone": Plan(
        params={"login": "login_phone"}, json={"phone": "+10000000955"}
    ),
    "POST /api/v1/account-logins/{login}/code": Plan(
        params={"login": "login_code"}, json={"code": "12345"}
    ),
    "POST /api/v1/account-logins/{login}/password": Plan(
        params={"login": "login_password"}, json={"password": "not it"}
    ),
    "DELETE /api/v1/account-logins/{login}": _p(login="login_phone"),
    "POST /api/v1/parse-tasks": Plan(json={"source": "@target_group"}),
    "GET /api/v1/parse-tasks": Plan(),
    "GET /api/v1/parse-tasks/{task_id}": TASK,
    "POST /api/v1/parse-tasks/{task_id}/pause": _p(task_id="task_queued"),
    "POST /api/v1/parse-tasks/{task_id}/resume": _p(task_id="task_paused"),
    "POST /api/v1/parse-tasks/{task_id}/cancel": _p(task_id="task_queued"),
    "GET /api/v1/audiences": Plan(),
    "GET /api/v1/audiences/{audience_id}": AUDIENCE,
    "GET /api/v1/audiences/{audience_id}/members": AUDIENCE,
    "GET /api/v1/audiences/{audience_id}/members/{tg_user_id}": _p(
        audience_id="audience", tg_user_id="member"
    ),
    "POST /api/v1/audiences": Plan(data=b"user_id\n31003\n"),
    "GET /api/v1/audiences/{audience_id}/export.csv": AUDIENCE,
    "POST /api/v1/audiences/{audience_id}/import": Plan(
        params={"audience_id": "audience_fresh"}, data=b"user_id\n31001\n31002\n"
    ),
    "DELETE /api/v1/audiences/{audience_id}": _p(audience_id="audience_fresh"),
    "POST /api/v1/search": Plan(json={"keywords": "crypto"}),
    "POST /api/v1/campaigns": Plan(
        json={"name": "More", "audience_id": "audience", "target": "@target_group"}
    ),
    "GET /api/v1/campaigns": Plan(),
    "GET /api/v1/campaigns/{campaign_id}": CAMPAIGN,
    "POST /api/v1/campaigns/{campaign_id}/preflight": CAMPAIGN,
    "GET /api/v1/campaigns/{campaign_id}/report": CAMPAIGN,
    "GET /api/v1/campaigns/{campaign_id}/events": CAMPAIGN,
    "POST /api/v1/campaigns/{campaign_id}/start": _p(campaign_id="campaign_draft"),
    "POST /api/v1/campaigns/{campaign_id}/pause": _p(campaign_id="campaign_running"),
    "POST /api/v1/campaigns/{campaign_id}/resume": _p(campaign_id="campaign_paused"),
    "POST /api/v1/campaigns/{campaign_id}/cancel": _p(campaign_id="campaign_draft"),
    "POST /api/v1/campaigns/{campaign_id}/approve": _p(campaign_id="campaign_approval"),
    "POST /api/v1/campaigns/{campaign_id}/reject": _p(campaign_id="campaign_approval"),
    "POST /api/v1/campaigns/{campaign_id}/join": _p(campaign_id="campaign_draft"),
    "POST /api/v1/campaigns/{campaign_id}/duplicate": CAMPAIGN,
    "GET /api/v1/campaigns/{campaign_id}/stream": CAMPAIGN,
    "GET /api/v1/campaigns/{campaign_id}/plan": CAMPAIGN,
    "GET /api/v1/campaigns/{campaign_id}/attempts.csv": CAMPAIGN,
    "GET /api/v1/campaigns/{campaign_id}/follow-up.csv": CAMPAIGN,
    "PATCH /api/v1/campaigns/{campaign_id}": Plan(
        params={"campaign_id": "campaign_draft"}, json={"name": "Renamed"}
    ),
    "DELETE /api/v1/campaigns/{campaign_id}": _p(campaign_id="campaign_draft"),
    "POST /api/v1/campaign-deletions": Plan(json={"ids": []}),
    "GET /api/v1/history": Plan(query="?days=30"),
    "GET /api/v1/accounts/{account_id}": _p(account_id="account"),
    "GET /api/v1/chats": Plan(query="?can_invite=1"),
    "GET /api/v1/limits": Plan(),
    "GET /api/v1/invites/today": Plan(),
    "GET /api/v1/overview": Plan(),
    "GET /api/v1/workspace/members": Plan(),
    "POST /api/v1/workspace/members": Plan(json={"username": "fresh_person"}),
    "DELETE /api/v1/workspace/members/{user_id}": _p(user_id="manager_fresh"),
    "DELETE /api/v1/workspace/members/{user_id} [self]": Plan(
        params={"user_id": "self"}, fresh_manager_caller=True
    ),
    "GET /api/v1/campaigns/{campaign_id}/retention": CAMPAIGN,
    "POST /api/v1/erasures": Plan(json={"person": "31950"}),
    "GET /api/v1/opt-outs": Plan(),
    "POST /api/v1/opt-outs": Plan(json={"user_id": 31_500}),
    "DELETE /api/v1/opt-outs/{user_id}": _p(user_id="optout_fresh"),
    "GET /api/v1/opt-outs/export.csv": Plan(),
    "POST /api/v1/opt-outs/import": Plan(data=b"user_id\n31501\n"),
    "GET /api/v1/audit": Plan(),
    "GET /api/v1/audit [?all=1]": Plan(query="?all=1"),
    "GET /api/v1/admin/stats": Plan(),
    "GET /api/v1/admin/users": Plan(),
    "POST /api/v1/admin/users/{user_id}/block": _p(user_id="plain_user"),
    "POST /api/v1/admin/users/{user_id}/unblock": _p(user_id="plain_user"),
    "POST /api/v1/admin/users/{user_id}/grant-admin": _p(user_id="plain_user"),
    "POST /api/v1/admin/users/{user_id}/revoke-admin": _p(user_id="plain_user"),
    "GET /api/v1/admin/limits": Plan(),
    "PUT /api/v1/admin/limits": Plan(json={"daily_per_account": 30}),
    "GET /api/v1/admin/accounts": Plan(),
    "GET /health": Plan(),
    "GET /ready": Plan(),
    "GET /metrics": Plan(),
    "GET /api/v1/openapi.json": Plan(),
    "GET /": Plan(),
    "GET /assets/{name}": _p(name="asset"),
}


# --- the world ---------------------------------------------------------------------------------
@dataclass
class ApiWorld:
    api: TestClient
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    auth: AuthService
    ws: int
    users: dict[str, UserDTO]  # by role (not anonymous), plus "plain_user"
    tokens: dict[str, str]  # access tokens by role
    audience: int
    task: int
    campaign: int
    account: int
    sandbox: World | None = None  # the simulated Telegram (logins read its codes)


async def _register(
    sessionmaker: async_sessionmaker[AsyncSession],
    tg_id: int,
    username: str,
    *,
    admin: bool = False,
) -> UserDTO:
    async with open_dal(sessionmaker) as dal:
        user, _ = await register(
            dal,
            TelegramProfile(tg_id, username, username.title(), None, "en"),
            (tg_id,) if admin else (),
        )
    return user


async def _session(
    api: TestClient,
    auth: AuthService,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
    user: UserDTO,
) -> dict[str, Any]:
    """A new panel session for `user`: a code as /web_auth issues it, then verify."""
    await redis.delete(
        f"auth:codes:{user.id}"
    )  # the 3-codes-per-15-minutes limit is not under test
    async with open_dal(sessionmaker) as dal:
        issued = await auth.issue_code(dal, user)
    resp = await api.post(
        "/api/v1/auth/verify", json={"username": user.username, "code": issued.code}
    )
    assert resp.status == 200, await resp.text()
    api.session.cookie_jar.clear()
    return dict(await resp.json())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(settings: Settings, migrated: str) -> AsyncIterator[ApiWorld]:
    engine = create_engine(migrated, pool_size=5)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    sessionmaker = create_sessionmaker(engine)
    redis = Redis.from_url(settings.redis_url)
    await redis.flushdb()
    sandbox_world = World()
    try:
        async with SandboxServer(world=sandbox_world) as sandbox:
            configured = settings.model_copy(
                update={
                    "sandbox_port": int(sandbox.url.rsplit(":", 1)[1]),
                    "admin_telegram_ids": [ADMIN_TG],
                }
            )
            gateway = TelegramGateway(SandboxClientFactory(sandbox.url))
            ws, accounts = await link_accounts(
                sandbox_world, gateway, sessionmaker, configured, [901, 902, 903]
            )
            sandbox_world.put_users([{"id": 900, "first_name": "Creator"}])
            sandbox_world.put_chat(
                TARGET,
                "megagroup",
                "Target",
                username="target_group",
                creator=900,
                members=[903],
                admins={901: ["invite_users"], 902: ["invite_users"]},
            )
            async with open_dal(sessionmaker) as dal:
                owner = await dal.get_user_by_telegram_id(OWNER_TG)
            assert owner is not None
            users = {
                OWNER: owner,
                MANAGER: await _register(sessionmaker, 801, "manager_m"),
                OTHER: await _register(sessionmaker, 802, "stranger"),
                ADMIN: await _register(sessionmaker, ADMIN_TG, "root_admin", admin=True),
                "plain_user": await _register(sessionmaker, 803, "plain_user"),
            }
            assert users[ADMIN].is_admin
            async with open_dal(sessionmaker) as dal:
                assert await dal.add_member(ws, users[MANAGER].id, WorkspaceRole.MANAGER)
                await dal.commit()
            sandbox_world.put_users(
                [{"id": i, "first_name": f"P{i}"} for i in range(30_001, 30_006)]
            )
            audience = await make_audience(
                sessionmaker,
                ws,
                "people",
                [
                    (i, None, accounts[901], sandbox_world.user_hash(901, i))
                    for i in range(30_001, 30_006)
                ],
            )
            task = await _task(sessionmaker, ws, audience, "done")
            app = init_app(configured)
            app[STREAM_CONFIG] = StreamConfig(poll_s=0.05, heartbeat_s=0.3, retry_ms=500)
            async with TestClient(TestServer(app, host="127.0.0.1")) as api:
                auth = build_auth_service(configured, RedisThrottle(redis), RedisNotifier(redis))
                tokens = {
                    role: (await _session(api, auth, redis, sessionmaker, user))["access_token"]
                    for role, user in users.items()
                    if role in ROLES
                }
                created = await api.post(
                    "/api/v1/campaigns",
                    headers=_headers(tokens[OWNER], ws),
                    json={"name": "Spring", "audience_id": audience, "target": "@target_group"},
                )
                assert created.status == 201, await created.text()
                campaign = await created.json()
                assert campaign["preflight"]["ready"] is True, campaign
                yield ApiWorld(
                    api,
                    sessionmaker,
                    redis,
                    auth,
                    ws,
                    users,
                    tokens,
                    audience,
                    task,
                    campaign["id"],
                    accounts[901],
                    sandbox=sandbox_world,
                )
    finally:
        await redis.aclose()
        await engine.dispose()


async def _login(w: ApiWorld, user: UserDTO) -> dict[str, Any]:
    return await _session(w.api, w.auth, w.redis, w.sessionmaker, user)


def _headers(token: str | None, ws: int | None) -> dict[str, str]:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if ws is not None:
        headers["X-Workspace-Id"] = str(ws)
    return headers


# --- fresh objects: one per cell for what a cell changes or removes ------------------------------
async def _task(
    sessionmaker: async_sessionmaker[AsyncSession], ws: int, audience: int, status: str
) -> int:
    async with sessionmaker() as session, session.begin():
        task = ParseTask(
            workspace_id=ws,
            kind="members",
            source="target_group",
            audience_id=audience,
            status=status,
        )
        session.add(task)
        await session.flush()
        return task.id


async def _campaign_copy(w: ApiWorld, status: str) -> int:
    """A copy of the world's campaign (its target and pre-flight) in `status`."""
    async with w.sessionmaker() as session, session.begin():
        new_id = int(
            await session.scalar(
                text(
                    """INSERT INTO campaigns (workspace_id, created_by_user_id, name, audience_id, target_ref,
                                      target_chat_id, target_kind, target_title, invite_link, status,
                                      priority, limits, preflight)
               SELECT workspace_id, created_by_user_id, name, audience_id, target_ref, target_chat_id,
                      target_kind, target_title, invite_link, CAST(:s AS campaign_status), priority, limits,
                      preflight
                 FROM campaigns WHERE id = :id RETURNING id"""
                ),
                {"id": w.campaign, "s": status},
            )
        )
        if status != "draft":
            await session.execute(
                text("UPDATE campaigns SET started_at = now() WHERE id = :id"), {"id": new_id}
            )
    return new_id


async def _fresh_manager(w: ApiWorld) -> UserDTO:
    n = next(_fresh_ids)
    user = await _register(w.sessionmaker, 850_000 + n, f"helper_{n}")
    async with open_dal(w.sessionmaker) as dal:
        assert await dal.add_member(w.ws, user.id, WorkspaceRole.MANAGER)
        await dal.commit()
    return user


Cleanup = list[Callable[[], Awaitable[None]]]


async def _object(w: ApiWorld, kind: str, caller: UserDTO | None, cleanup: Cleanup) -> str:
    if kind == "ws":
        return str(w.ws)
    if kind in ("campaign", "audience", "task", "account"):
        return str(getattr(w, kind))
    if kind in ("account_active", "account_disabled"):
        status = AccountStatus.ACTIVE if kind == "account_active" else AccountStatus.DISABLED
        # A row without a usable session: the gateway never gets to use it; gone after the cell.
        account_id = await add_account(w.sessionmaker, w.ws, 40_000 + next(_fresh_ids), status)

        async def drop() -> None:
            async with w.sessionmaker() as session, session.begin():
                await session.execute(
                    text("DELETE FROM telegram_accounts WHERE id = :id"), {"id": account_id}
                )

        cleanup.append(drop)
        return str(account_id)
    if kind in ("task_queued", "task_paused"):
        return str(await _task(w.sessionmaker, w.ws, w.audience, kind.removeprefix("task_")))
    if kind == "audience_fresh":
        return str(
            await make_audience(
                w.sessionmaker, w.ws, f"fresh{next(_fresh_ids)}", [(31_000, None, None, None)]
            )
        )
    if kind.startswith("campaign_"):
        return str(await _campaign_copy(w, kind.removeprefix("campaign_")))
    if kind == "manager_fresh":
        return str((await _fresh_manager(w)).id)
    if kind == "self":
        return str(caller.id if caller is not None else w.users[MANAGER].id)
    if kind == "optout_fresh":
        tg_user_id = 32_000 + next(_fresh_ids)
        async with w.sessionmaker() as session, session.begin():
            await session.execute(
                text("INSERT INTO opt_outs (workspace_id, tg_user_id) VALUES (:ws, :u)"),
                {"ws": w.ws, "u": tg_user_id},
            )
        return str(tg_user_id)
    if kind == "member":  # one of the audience's people (make_audience in `world`)
        return "30001"
    if kind == "plain_user":
        return str(w.users["plain_user"].id)
    if kind == "asset":
        return "app.js"
    if kind.startswith("login_"):
        return await _login_at(w, kind.removeprefix("login_"), caller)
    raise AssertionError(f"no such object kind {kind!r}")


LOGIN_TG = 950_001  # a Telegram account with 2FA, for logins that reach the password


async def _login_at(w: ApiWorld, stage: str, caller: UserDTO | None) -> str:
    """An open panel login at `stage`: the caller's own when they may start one, else the
    owner's (which nobody else may see)."""
    starter = w.users[OWNER]
    if caller is not None and caller.id in (w.users[OWNER].id, w.users[MANAGER].id):
        starter = caller
    logins = w.api.app[LOGINS]
    method = "qr" if stage == "qr" else "phone"
    login = await logins.start(starter.id, "matrix", w.ws, method)
    if stage in ("code", "password"):
        assert w.sandbox is not None
        if LOGIN_TG not in w.sandbox.users:
            w.sandbox.put_users([{"id": LOGIN_TG, "first_name": "Two", "phone": "+10000950001"}])
            w.sandbox.set_password(LOGIN_TG, "two steps")
        await logins.phone(starter.id, login.id, "+10000950001")
        if stage == "password":
            code = w.sandbox.codes_for(LOGIN_TG)[-1].code
            await logins.code(starter.id, login.id, code)
    expected = "waiting" if stage == "qr" else stage
    assert login.state.value == expected, login.state
    return login.id


# --- the cells ----------------------------------------------------------------------------------
CELLS = [pytest.param(row, role, id=f"{row.key}-{role}") for row in API for role in ROLES]


async def _request(
    w: ApiWorld, row: ApiRow, role: str, *, workspace_header: bool = True
) -> tuple[int, str]:
    plan = PLANS[row.key]
    cleanup: Cleanup = []
    try:
        caller = w.users.get(role)
        token = w.tokens.get(role)
        if plan.fresh_manager_caller and role == MANAGER:
            caller = await _fresh_manager(w)
            token = (await _login(w, caller))["access_token"]
        body: dict[str, Any] = {}
        if plan.session == "code":  # no bearer token: the code is the credential
            token = None
            if caller is None:  # nobody with this name ever sent /start
                body["json"] = {"username": "never_started", "code": "ABCDEF"}
            else:
                await w.redis.delete(f"auth:codes:{caller.id}")
                async with open_dal(w.sessionmaker) as dal:
                    issued = await w.auth.issue_code(dal, caller)
                body["json"] = {"username": caller.username, "code": issued.code}
        elif plan.session in ("refresh", "fresh"):
            session = await _login(w, caller) if caller is not None else None
            token = (
                None if plan.session == "refresh" or session is None else session["access_token"]
            )
            if plan.session == "refresh" and session is not None:
                body["json"] = {"refresh_token": session["refresh_token"]}
        path = row.path
        for name, kind in plan.params.items():
            path = path.replace("{" + name + "}", await _object(w, kind, caller, cleanup))
        if plan.json is not None:
            body["json"] = {k: (w.audience if v == "audience" else v) for k, v in plan.json.items()}
        if plan.data is not None:
            body["data"] = plan.data
        if row.key == "POST /api/v1/workspace/members" and role == OWNER:
            n = next(_fresh_ids)
            await _register(w.sessionmaker, 860_000 + n, f"newcomer{n}")
            body["json"] = {"username": f"newcomer{n}"}
        if row.key == "POST /api/v1/campaigns/{campaign_id}/join":
            body["json"] = {"account_id": w.account}
        if row.key == "POST /api/v1/audiences":  # a name is taken once: a new one per cell
            body["params"] = {"name": f"from a file {next(_fresh_ids)}"}
        # A fresh draft of the owner's for each cell.
        if row.key == "POST /api/v1/campaign-deletions":
            body["json"] = {"ids": [int(await _object(w, "campaign_draft", caller, cleanup))]}
        headers = _headers(token, w.ws if workspace_header else None)
        w.api.session.cookie_jar.clear()
        async with w.api.request(row.method, path + plan.query, headers=headers, **body) as resp:
            if resp.content_type == "text/event-stream":
                return resp.status, ""  # the stream itself is tests/api/test_campaign_stream.py's
            return resp.status, await resp.text()
    finally:
        for undo in cleanup:
            await undo()


@MODULE_LOOP
@pytest.mark.parametrize(("row", "role"), CELLS)
async def test_api_cell(world: ApiWorld, row: ApiRow, role: str) -> None:
    status, body = await _request(world, row, role)
    assert status == row.status(role), f"{row.key} as {role}: {status} {body[:300]}"
    if status == 404 and role in (OTHER, ADMIN):
        assert '"not_found"' in body  # the same answer as for a missing object: nothing leaks


OWN_CONTEXT = [
    pytest.param(row, id=row.key)
    for row in API
    if row.status(OTHER) == 404 and "{" in row.path and row.variant != "self"
]


@MODULE_LOOP
@pytest.mark.parametrize("row", OWN_CONTEXT)
async def test_a_stranger_in_their_own_workspace_does_not_find_the_owners_objects(
    world: ApiWorld, row: ApiRow
) -> None:
    status, body = await _request(world, row, OTHER, workspace_header=False)
    assert status == 404, f"{row.key}: {status} {body[:300]}"
