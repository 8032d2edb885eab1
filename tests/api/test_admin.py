"""`/api/v1/admin/...` and `/api/v1/audit`: admins only, changes audited, scoping enforced."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.campaign_service import build_campaign_service
from core.dto import AccountStatus, CampaignDTO, WorkspaceRole
from core.i18n import has_text, t
from core.installation import effective_limits
from core.limits import limits_from
from core.settings import Settings
from db.dal import open_dal
from db.models import Membership
from tests.admin_world import (
    add_account,
    add_work,
    audit_actions,
    personal_workspace_id,
    registered,
)
from tests.api.conftest import Person
from webui_api.app import init_app
from workers.heartbeat import beat

ROOT_TG = 8_100_001  # named in ADMIN_TELEGRAM_IDS
Login = Callable[[Person], Awaitable[dict[str, str]]]

ADMIN_ROUTES: list[tuple[str, str, dict[str, int] | None]] = [
    ("GET", "/api/v1/admin/stats", None),
    ("GET", "/api/v1/admin/users", None),
    ("POST", "/api/v1/admin/users/1/block", None),
    ("POST", "/api/v1/admin/users/1/unblock", None),
    ("POST", "/api/v1/admin/users/1/grant-admin", None),
    ("POST", "/api/v1/admin/users/1/revoke-admin", None),
    ("GET", "/api/v1/admin/limits", None),
    ("PUT", "/api/v1/admin/limits", {"daily_per_account": 5}),
    ("GET", "/api/v1/admin/accounts", None),
    ("GET", "/api/v1/audit?all=1", None),
]


@pytest.fixture
def admin_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_telegram_ids": [ROOT_TG]})


@pytest.fixture
async def api(
    admin_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(init_app(admin_settings), host="127.0.0.1")) as client:
        yield client


async def _person(sm: async_sessionmaker[AsyncSession], telegram_id: int, username: str) -> Person:
    user = await registered(sm, telegram_id, username, admin_ids=(ROOT_TG,))
    return Person(user=user, username=username)


def _bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_anonymous_is_401_and_a_non_admin_403_on_every_admin_route(
    api: TestClient, sessionmaker: async_sessionmaker[AsyncSession], login: Login
) -> None:
    bob = await _person(sessionmaker, 8_100_002, "bob_user")
    headers = _bearer(await login(bob))
    for method, path, body in ADMIN_ROUTES:
        anonymous = await api.request(method, path, json=body)
        assert anonymous.status == 401, (method, path)
        refused = await api.request(method, path, json=body, headers=headers)
        assert refused.status == 403, (method, path, await refused.text())
        error = (await refused.json())["error"]
        assert (
            error["code"] == "admin_only"
            and error["message"] == "Only installation admins may do this."
        )
    assert await audit_actions(sessionmaker) == []


async def test_admin_finds_users_and_blocking_takes_effect_on_their_next_request(
    api: TestClient, sessionmaker: async_sessionmaker[AsyncSession], login: Login
) -> None:
    root = await _person(sessionmaker, ROOT_TG, "root_admin")
    dave = await _person(sessionmaker, 8_100_004, "dave_user")
    admin = _bearer(await login(root))
    dave_tokens = await login(dave)
    assert (await api.get("/api/v1/me", headers=_bearer(dave_tokens))).status == 200

    found = await (await api.get("/api/v1/admin/users?q=@DA", headers=admin)).json()
    assert [(u["username"], u["role"], u["blocked"]) for u in found["items"]] == [
        ("dave_user", "user", False)
    ]
    by_id = await (await api.get(f"/api/v1/admin/users?q={ROOT_TG}", headers=admin)).json()
    assert [(u["username"], u["role"], u["configured_admin"]) for u in by_id["items"]] == [
        ("root_admin", "admin", True)
    ]
    page = await (await api.get("/api/v1/admin/users?limit=1", headers=admin)).json()
    assert len(page["items"]) == 1 and page["next_cursor"] == str(page["items"][0]["id"])
    assert (await api.get("/api/v1/admin/users?q=a b", headers=admin)).status == 400

    resp = await api.post(f"/api/v1/admin/users/{dave.user.id}/block", headers=admin)
    assert resp.status == 200 and (await resp.json())["blocked"] is True
    for path in ("/api/v1/me", "/api/v1/accounts"):
        assert (await api.get(path, headers=_bearer(dave_tokens))).status == 401, path
    refreshed = await api.post(
        "/api/v1/auth/refresh", json={"refresh_token": dave_tokens["refresh_token"]}
    )
    assert refreshed.status == 401

    # Himself and the configured admin are out of reach; an unknown user is 404.
    for path in (
        f"/api/v1/admin/users/{root.user.id}/block",
        f"/api/v1/admin/users/{root.user.id}/revoke-admin",
    ):
        resp = await api.post(path, headers=admin)
        assert resp.status == 403 and (await resp.json())["error"]["code"] == "admin_self", path
    assert (await api.post("/api/v1/admin/users/999999/grant-admin", headers=admin)).status == 404
    assert (await api.post("/api/v1/admin/users/abc/block", headers=admin)).status == 400

    unblocked = await api.post(f"/api/v1/admin/users/{dave.user.id}/unblock", headers=admin)
    assert (await unblocked.json())["blocked"] is False
    granted = await api.post(f"/api/v1/admin/users/{dave.user.id}/grant-admin", headers=admin)
    assert (await granted.json())["role"] == "admin"
    dave_admin = _bearer(await login(dave))  # logs in again after the block
    assert (await api.get("/api/v1/admin/stats", headers=dave_admin)).status == 200
    refused = await api.post(f"/api/v1/admin/users/{root.user.id}/revoke-admin", headers=dave_admin)
    assert (await refused.json())["error"]["code"] == "admin_configured"
    revoked = await api.post(f"/api/v1/admin/users/{dave.user.id}/revoke-admin", headers=admin)
    assert (await revoked.json())["role"] == "user"
    # Revoked: the same access token no longer opens the admin routes.
    assert (await api.get("/api/v1/admin/stats", headers=dave_admin)).status == 403

    events = await audit_actions(sessionmaker)
    assert [(e.action, e.actor_user_id, e.details["user_id"]) for e in events] == [
        ("admin.user_blocked", root.user.id, dave.user.id),
        ("admin.user_unblocked", root.user.id, dave.user.id),
        ("admin.role_granted", root.user.id, dave.user.id),
        ("admin.role_revoked", root.user.id, dave.user.id),
    ]
    assert all(str(e.ip) == "127.0.0.1" and e.trace_id for e in events)
    assert events[0].details["sessions_ended"] == 1


async def test_limits_put_is_validated_then_caps_the_limits_in_use(
    api: TestClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    login: Login,
    admin_settings: Settings,
) -> None:
    root = await _person(sessionmaker, ROOT_TG, "root_admin")
    admin = _bearer(await login(root))
    configured = limits_from(admin_settings)
    before = await (await api.get("/api/v1/admin/limits", headers=admin)).json()
    assert (
        before["stored"] is False
        and before["maximum"] == before["effective"] == before["configured"]
    )
    assert before["configured"]["daily_per_account"] == configured.daily_per_account

    for body, field in (
        ({"daily_per_account": 0}, "daily_per_account"),
        ({"daily_per_acount": 5}, "daily_per_acount"),
        ({"daily_per_account": "many"}, "daily_per_account"),
        ({"pause_min_s": 2000, "pause_max_s": 1000}, "pause_max_s"),
        ({}, "at least one limit"),
    ):
        resp = await api.put("/api/v1/admin/limits", json=body, headers=admin)
        assert resp.status == 400, body
        message = (await resp.json())["error"]["message"]
        # A limit is named in words in the sentences of the catalog, by its code in the
        # schema's own messages and for a name that is no limit (a typo).
        named = t("en", f"field.{field}") if has_text(f"field.{field}") else field
        assert field in message or named.lower() in message.lower(), (body, message)
    assert await audit_actions(sessionmaker) == []

    resp = await api.put(
        "/api/v1/admin/limits",
        json={"daily_per_account": 12, "pause_min_s": 1200, "pause_max_s": 1500},
        headers=admin,
    )
    assert resp.status == 200, await resp.text()
    after = await resp.json()
    assert after["stored"] is True
    assert after["maximum"]["daily_per_account"] == after["effective"]["daily_per_account"] == 12
    assert after["effective"]["pause_min_s"] == 1200
    assert after["configured"]["daily_per_account"] == configured.daily_per_account
    assert await (await api.get("/api/v1/admin/limits", headers=admin)).json() == after

    # What workers and campaigns use is read from storage, so it changed without a restart.
    async with open_dal(sessionmaker) as dal:
        used = await effective_limits(dal, configured)
        campaign = _campaign_with_limits({"daily_per_account": 50, "daily_per_chat": 3})
        of_campaign = await build_campaign_service(admin_settings).effective_limits(dal, campaign)
    assert (used.daily_per_account, used.pause_min_s, used.pause_max_s) == (12, 1200, 1500)
    assert (of_campaign.daily_per_account, of_campaign.daily_per_chat) == (12, 3)

    [event] = await audit_actions(sessionmaker)
    assert event.action == "admin.limits_changed" and event.actor_user_id == root.user.id
    assert event.details["changed"] == {
        "daily_per_account": 12,
        "pause_min_s": 1200,
        "pause_max_s": 1500,
    }


def _campaign_with_limits(limits: dict[str, int]) -> CampaignDTO:
    now = datetime.now(UTC)
    return CampaignDTO(
        id=1,
        workspace_id=1,
        created_by_user_id=None,
        name="c",
        audience_id=None,
        target_ref="chat",
        target_chat_id=None,
        target_kind=None,
        target_title=None,
        invite_link=None,
        status="draft",
        start_at=None,
        active_from_hour=None,
        active_to_hour=None,
        limits=limits,
        preflight={},
        waiting_reason=None,
        paused_reason=None,
        notify_chat_id=None,
        notify_message_id=None,
        created_at=now,
        started_at=None,
        finished_at=None,
    )


async def test_stats_and_account_health_across_workspaces(
    api: TestClient, sessionmaker: async_sessionmaker[AsyncSession], login: Login, redis: Redis
) -> None:
    root = await _person(sessionmaker, ROOT_TG, "root_admin")
    erin = await _person(sessionmaker, 8_100_005, "erin_user")
    admin = _bearer(await login(root))
    ws_root = await personal_workspace_id(sessionmaker, root.user.id)
    ws_erin = await personal_workspace_id(sessionmaker, erin.user.id)
    await add_account(sessionmaker, ws_root, 1, AccountStatus.ACTIVE)
    until = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
    resting = await add_account(
        sessionmaker, ws_erin, 2, AccountStatus.COOLDOWN, reason="FLOOD_WAIT_600", until=until
    )
    await add_account(sessionmaker, ws_erin, 3, AccountStatus.BANNED, reason="USER_DEACTIVATED_BAN")
    await add_work(sessionmaker, ws_erin)
    await beat(redis, sessionmaker, worker="w1:42", started_at=datetime.now(UTC), interval_s=10)

    stats = await (await api.get("/api/v1/admin/stats", headers=admin)).json()
    assert (stats["users"], stats["admins"], stats["blocked"], stats["workspaces"]) == (2, 1, 0, 2)
    assert stats["accounts"] == {"active": 1, "cooldown": 1, "banned": 1}
    assert stats["invites_today"] == {"invited": 2, "failed": 1}
    assert stats["parse_tasks"] == {"running": 1}
    assert stats["campaigns"] == {"running": 1, "waiting": 1}
    assert [w["worker"] for w in stats["workers"]] == ["w1:42"]

    every = await (await api.get("/api/v1/admin/accounts", headers=admin)).json()
    assert {a["workspace_id"] for a in every["items"]} == {ws_root, ws_erin}
    cooling = await (await api.get("/api/v1/admin/accounts?status=cooldown", headers=admin)).json()
    assert [(a["id"], a["status_reason"], a["cooldown_until"]) for a in cooling["items"]] == [
        (resting, "FLOOD_WAIT_600", "2031-05-01T12:00:00Z")
    ]
    assert "session" not in str(every)
    # The health check's last look is shown with each account (the panel's "last check").
    assert {a["last_checked_at"] for a in every["items"]} == {None}
    async with open_dal(sessionmaker) as dal:
        await dal.touch_account_checked(resting)
        await dal.commit()
    looked = await (await api.get("/api/v1/admin/accounts?status=cooldown", headers=admin)).json()
    checked_at = datetime.fromisoformat(looked["items"][0]["last_checked_at"])
    assert abs((datetime.now(UTC) - checked_at).total_seconds()) < 60
    paged = await (await api.get("/api/v1/admin/accounts?limit=2", headers=admin)).json()
    rest = await (
        await api.get(
            f"/api/v1/admin/accounts?limit=2&cursor={paged['next_cursor']}", headers=admin
        )
    ).json()
    assert len(paged["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    bad = await api.get("/api/v1/admin/accounts?status=sleeping", headers=admin)
    assert bad.status == 400 and "active" in (await bad.json())["error"]["message"]


async def test_audit_api_owner_sees_own_workspace_manager_403_admin_everything(
    api: TestClient, sessionmaker: async_sessionmaker[AsyncSession], login: Login
) -> None:
    root = await _person(sessionmaker, ROOT_TG, "root_admin")
    owner = await _person(sessionmaker, 8_100_006, "owner_one")
    manager = await _person(sessionmaker, 8_100_007, "manager_one")
    ws = await personal_workspace_id(sessionmaker, owner.user.id)
    async with sessionmaker() as session:
        session.add(
            Membership(workspace_id=ws, user_id=manager.user.id, role=WorkspaceRole.MANAGER)
        )
        await session.commit()
    owner_h = _bearer(await login(owner))
    manager_h = _bearer(await login(manager))
    admin = _bearer(await login(root))
    change = await api.put("/api/v1/admin/limits", json={"daily_per_chat": 7}, headers=admin)
    change_trace = change.headers["X-Trace-Id"]

    own = await api.get("/api/v1/audit", headers=owner_h)
    assert own.status == 200
    items = (await own.json())["items"]
    assert [(e["action"], e["workspace_id"]) for e in items] == [("user.registered", ws)]
    assert items[0]["actor"] == {"id": owner.user.id, "username": "owner_one"}
    assert set(items[0]) == {
        "id",
        "at",
        "actor",
        "action",
        "workspace_id",
        "details",
        "ip",
        "trace_id",
    }

    team = await api.get("/api/v1/audit", headers=manager_h | {"X-Workspace-Id": str(ws)})
    assert team.status == 403 and (await team.json())["error"]["code"] == "forbidden"
    foreign = await api.get("/api/v1/audit", headers=owner_h | {"X-Workspace-Id": str(ws + 1000)})
    assert foreign.status == 404
    assert (await api.get("/api/v1/audit?all=1", headers=owner_h)).status == 403
    assert (await api.get("/api/v1/audit?all=yes", headers=admin)).status == 400

    newest = await (await api.get("/api/v1/audit?all=1&limit=2", headers=admin)).json()
    first = newest["items"][0]
    assert (first["action"], first["actor"]["username"], first["ip"], first["trace_id"]) == (
        "admin.limits_changed",
        "root_admin",
        "127.0.0.1",
        change_trace,
    )
    assert first["details"]["changed"] == {"daily_per_chat": 7}
    seen = [e["id"] for e in newest["items"]]
    cursor = newest["next_cursor"]
    while cursor:
        page = await (
            await api.get(f"/api/v1/audit?all=1&limit=2&cursor={cursor}", headers=admin)
        ).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
    # Three registrations, three codes and logins, and the change: each once, newest first.
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 10
    # The admin's own workspace log, without ?all=1, holds only what happened there.
    own_admin = await (await api.get("/api/v1/audit", headers=admin)).json()
    assert [e["action"] for e in own_admin["items"]] == ["user.registered"]


async def test_openapi_documents_the_admin_and_audit_routes(api: TestClient) -> None:
    doc = await (await api.get("/api/v1/openapi.json")).json()
    for method, path, _ in ADMIN_ROUTES:
        template = path.split("?")[0].replace("/users/1/", "/users/{user_id}/")
        operation = doc["paths"][template][method.lower()]
        assert {"401", "403"} <= set(operation["responses"]), template
    assert doc["paths"]["/api/v1/admin/limits"]["put"]["requestBody"]
