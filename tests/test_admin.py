"""Installation admin rules (core/admin.py) on real PostgreSQL and Redis."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.admin import (
    AdminService,
    ConfiguredAdmin,
    NotAdmin,
    SelfAction,
    audit_log,
    build_admin_service,
)
from core.auth import AuthService, build_auth_service
from core.dto import AccountStatus, ClientInfo, GlobalRole, WorkspaceRole
from core.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from core.installation import effective_limits, parse_assignments
from core.limits import InviteLimits, limits_from
from core.settings import Settings
from db.dal import open_dal
from db.kv import RedisThrottle
from db.models import AuthSession, Membership
from tests.admin_world import (
    add_account,
    add_work,
    audit_actions,
    personal_workspace_id,
    registered,
)
from workers.heartbeat import RedisWorkerRegistry, beat

ROOT_TG = 5_000_001  # named in ADMIN_TELEGRAM_IDS


@pytest.fixture
def admin_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_telegram_ids": [ROOT_TG]})


@pytest.fixture
def auth(settings: Settings, redis: Redis) -> AuthService:
    return build_auth_service(settings, RedisThrottle(redis), None)


@pytest.fixture
def service(admin_settings: Settings, auth: AuthService, redis: Redis) -> AdminService:
    return build_admin_service(admin_settings, sessions=auth, workers=RedisWorkerRegistry(redis))


async def test_configured_ids_become_admins_and_others_are_refused_everything(
    sessionmaker: async_sessionmaker[AsyncSession], service: AdminService
) -> None:
    root = await registered(sessionmaker, ROOT_TG, "root", admin_ids=(ROOT_TG,))
    bob = await registered(sessionmaker, 5_000_002, "bob")
    assert root.role is GlobalRole.ADMIN and bob.role is GlobalRole.USER

    async with open_dal(sessionmaker) as dal:
        for call in (
            service.stats(dal, bob.id),
            service.users(dal, bob.id, None),
            service.user(dal, bob.id, root.id),
            service.block(dal, bob.id, root.id),
            service.unblock(dal, bob.id, root.id),
            service.grant_admin(dal, bob.id, bob.id),
            service.revoke_admin(dal, bob.id, root.id),
            service.limits_view(dal, bob.id),
            service.set_limits(dal, bob.id, {"daily_per_account": 1}),
            service.accounts(dal, bob.id),
            audit_log(dal, bob.id, None, everything=True),
        ):
            with pytest.raises(NotAdmin):
                await call
    assert await audit_actions(sessionmaker) == []
    async with open_dal(sessionmaker) as dal:
        assert (await dal.get_user(bob.id)).role is GlobalRole.USER  # type: ignore[union-attr]


async def test_roles_granted_and_revoked_with_audit_never_on_oneself_or_a_configured_admin(
    sessionmaker: async_sessionmaker[AsyncSession], service: AdminService
) -> None:
    root = await registered(sessionmaker, ROOT_TG, "root", admin_ids=(ROOT_TG,))
    carol = await registered(sessionmaker, 5_000_003, "carol")
    async with open_dal(sessionmaker) as dal:
        granted = await service.grant_admin(dal, root.id, carol.id, ip="10.0.0.1")
        assert granted.is_admin
        # The new admin may act at once, but not against the configured admin nor herself.
        with pytest.raises(ConfiguredAdmin):
            await service.revoke_admin(dal, carol.id, root.id)
        with pytest.raises(ConfiguredAdmin):
            await service.block(dal, carol.id, root.id)
        with pytest.raises(SelfAction):
            await service.revoke_admin(dal, carol.id, carol.id)
        with pytest.raises(SelfAction):
            await service.block(dal, root.id, root.id)
        with pytest.raises(NotFound):
            await service.grant_admin(dal, root.id, 999_999)
        assert (await service.grant_admin(dal, root.id, carol.id)).is_admin  # no change, no event
        revoked = await service.revoke_admin(dal, root.id, carol.id)
        assert not revoked.is_admin
        with pytest.raises(NotAdmin):
            await service.stats(dal, carol.id)

    events = await audit_actions(sessionmaker)
    assert [
        (e.action, e.actor_user_id, e.details["user_id"], e.details["role"]) for e in events
    ] == [
        ("admin.role_granted", root.id, carol.id, "admin"),
        ("admin.role_revoked", root.id, carol.id, "user"),
    ]
    assert str(events[0].ip) == "10.0.0.1"


async def test_blocking_ends_the_users_panel_sessions_at_once(
    sessionmaker: async_sessionmaker[AsyncSession], service: AdminService, auth: AuthService
) -> None:
    root = await registered(sessionmaker, ROOT_TG, "root", admin_ids=(ROOT_TG,))
    dave = await registered(sessionmaker, 5_000_004, "dave")
    async with open_dal(sessionmaker) as dal:
        code = await auth.issue_code(dal, dave)
    async with open_dal(sessionmaker) as dal:
        pair = await auth.verify(dal, "dave", code.code, ClientInfo("127.0.0.1", "test"))
    async with open_dal(sessionmaker) as dal:
        assert (await auth.authenticate(pair.access_token, dal)).user_id == dave.id

    async with open_dal(sessionmaker) as dal:
        blocked = await service.block(dal, root.id, dave.id)
    assert blocked.blocked
    async with open_dal(sessionmaker) as dal:
        with pytest.raises(Unauthorized):
            await auth.authenticate(pair.access_token, dal)
    async with open_dal(sessionmaker) as dal:
        with pytest.raises(Unauthorized):
            await auth.refresh(dal, pair.refresh_token)
    async with sessionmaker() as session:
        revoked = await session.scalar(
            select(AuthSession.revoke_reason).where(AuthSession.user_id == dave.id)
        )
    assert revoked == "blocked"

    async with open_dal(sessionmaker) as dal:
        assert not (await service.unblock(dal, root.id, dave.id)).blocked
    events = await audit_actions(sessionmaker)
    assert [(e.action, e.details.get("sessions_ended")) for e in events] == [
        ("admin.user_blocked", 1),
        ("admin.user_unblocked", None),
    ]


async def test_maximum_limits_validated_stored_and_capping_what_is_used(
    sessionmaker: async_sessionmaker[AsyncSession], service: AdminService, admin_settings: Settings
) -> None:
    root = await registered(sessionmaker, ROOT_TG, "root", admin_ids=(ROOT_TG,))
    configured = limits_from(admin_settings)
    async with open_dal(sessionmaker) as dal:
        view = await service.limits_view(dal, root.id)
        assert (view.stored, view.maximum, view.effective) == (False, configured, configured)
        for changes, problem in (
            ({"daily_per_acount": 5}, "limit_unknown"),
            ({"daily_per_account": 0}, "limit_range"),
            ({"pause_min_s": 1000, "pause_max_s": 900}, "limit_pause_order"),
            ({}, "limits_empty"),
        ):
            with pytest.raises(InvalidInput) as refused:
                await service.set_limits(dal, root.id, changes)
            assert refused.value.details["problem"] == problem
        view = await service.set_limits(
            dal, root.id, parse_assignments("daily_per_account=20 pause_min_s=700")
        )
        assert view.stored
        assert (view.maximum.daily_per_account, view.maximum.pause_min_s) == (20, 700)
        assert view.maximum.daily_per_chat == configured.daily_per_chat  # untouched values stay
        assert (view.effective.daily_per_account, view.effective.pause_min_s) == (20, 700)
        # Whatever limits a worker or a campaign starts from, the stored maximums cap them.
        assert (await effective_limits(dal, configured)) == view.effective
        owner_limits = InviteLimits(
            daily_per_account=100, daily_per_chat=5, pause_min_s=60, pause_max_s=120
        )
        capped = await effective_limits(dal, owner_limits)
        assert (capped.daily_per_account, capped.daily_per_chat, capped.pause_min_s) == (20, 5, 700)
        await service.set_limits(
            dal, root.id, {"daily_per_account": 20}
        )  # the same again: no event

    events = await audit_actions(sessionmaker)
    assert len(events) == 1 and events[0].action == "admin.limits_changed"
    assert events[0].details["changed"] == {"daily_per_account": 20, "pause_min_s": 700}
    assert events[0].details["before"] is None
    assert events[0].details["after"] == asdict(view.maximum)


def test_limit_assignments_as_typed_in_the_bot() -> None:
    assert parse_assignments("daily_per_account=20, daily_per_chat=10") == {
        "daily_per_account": 20,
        "daily_per_chat": 10,
    }
    for text, problem in (
        ("", "limits_empty"),
        ("daily_per_account 20", "limits_syntax"),
        ("daily_per_account=-1", "limit_range"),
        ("daily_per_account=x", "limit_range"),
    ):
        with pytest.raises(InvalidInput) as refused:
            parse_assignments(text)
        assert refused.value.details["problem"] == problem, text


async def test_stats_count_the_installation_and_the_live_workers(
    sessionmaker: async_sessionmaker[AsyncSession], service: AdminService, redis: Redis
) -> None:
    root = await registered(sessionmaker, ROOT_TG, "root", admin_ids=(ROOT_TG,))
    erin = await registered(sessionmaker, 5_000_005, "erin")
    ws = await personal_workspace_id(sessionmaker, erin.id)
    await add_account(sessionmaker, ws, 1, AccountStatus.ACTIVE)
    await add_account(sessionmaker, ws, 2, AccountStatus.COOLDOWN, reason="FLOOD_WAIT_30")
    await add_work(sessionmaker, ws)
    await beat(redis, sessionmaker, worker="host-a:1", started_at=datetime.now(UTC), interval_s=10)

    async with open_dal(sessionmaker) as dal:
        stats = await service.stats(dal, root.id)
    c = stats.counts
    assert (c.users, c.admins, c.blocked, c.workspaces) == (2, 1, 0, 2)
    assert c.accounts == {"active": 1, "cooldown": 1}
    assert c.invites_today == {"invited": 2, "failed": 1}  # the invite two days ago is not today's
    assert c.parse_tasks == {"running": 1}
    assert c.campaigns == {"running": 1, "waiting": 1}
    assert [w.worker for w in stats.workers] == ["host-a:1"]


async def test_user_search_and_account_health_are_paged(
    sessionmaker: async_sessionmaker[AsyncSession], service: AdminService
) -> None:
    root = await registered(sessionmaker, ROOT_TG, "root", admin_ids=(ROOT_TG,))
    for n in range(3):
        await registered(sessionmaker, 6_000_000 + n, f"mark_{n}")
    await registered(sessionmaker, 6_000_100, "markus")
    await registered(sessionmaker, 6_000_200, "mar%")
    async with open_dal(sessionmaker) as dal:
        first = await service.users(dal, root.id, "@MARK_", limit=2)
        assert [u.username for u in first.items] == ["mark_0", "mark_1"]  # `_` is not a wildcard
        rest = await service.users(dal, root.id, "mark_", cursor=first.next_cursor or 0, limit=2)
        assert [u.username for u in rest.items] == ["mark_2"] and rest.next_cursor is None
        by_id = await service.users(dal, root.id, "6000100")
        assert [u.username for u in by_id.items] == ["markus"]
        assert len((await service.users(dal, root.id, "")).items) == 6
        with pytest.raises(InvalidInput):
            await service.users(dal, root.id, "not a name!")

    ws = await personal_workspace_id(sessionmaker, root.id)
    until = datetime(2030, 1, 1, tzinfo=UTC)
    parked = await add_account(
        sessionmaker, ws, 11, AccountStatus.PARKED, reason="PEER_FLOOD", until=until
    )
    await add_account(sessionmaker, ws, 12, AccountStatus.ACTIVE)
    async with open_dal(sessionmaker) as dal:
        only_parked = await service.accounts(dal, root.id, "parked")
        assert [(a.id, a.status_reason, a.cooldown_until) for a in only_parked.items] == [
            (parked, "PEER_FLOOD", until)
        ]
        assert len((await service.accounts(dal, root.id, None, limit=1)).items) == 1
        with pytest.raises(InvalidInput):
            await service.accounts(dal, root.id, "sleeping")


async def test_audit_log_is_the_owners_and_everything_is_the_admins(
    sessionmaker: async_sessionmaker[AsyncSession], service: AdminService
) -> None:
    root = await registered(sessionmaker, ROOT_TG, "root", admin_ids=(ROOT_TG,))
    owner = await registered(sessionmaker, 5_000_006, "owner")
    manager = await registered(sessionmaker, 5_000_007, "manager")
    ws = await personal_workspace_id(sessionmaker, owner.id)
    async with sessionmaker() as session:
        session.add(Membership(workspace_id=ws, user_id=manager.id, role=WorkspaceRole.MANAGER))
        await session.commit()
    async with open_dal(sessionmaker) as dal:
        await service.set_limits(dal, root.id, {"daily_per_chat": 9})
        own = await audit_log(dal, owner.id, ws)
        assert [(e.action, e.workspace_id, e.actor_username) for e in own.items] == [
            ("user.registered", ws, "owner")
        ]
        with pytest.raises(Forbidden):
            await audit_log(dal, manager.id, ws)
        with pytest.raises(NotAdmin):
            await audit_log(dal, owner.id, None, everything=True)
        with pytest.raises(NotFound):
            await audit_log(dal, root.id, ws)  # not a member: the workspace does not exist for them
        everything = await audit_log(dal, root.id, None, everything=True, limit=2)
        assert [e.action for e in everything.items] == ["admin.limits_changed", "user.registered"]
        older = await audit_log(
            dal, root.id, None, everything=True, cursor=everything.next_cursor or 0
        )
        assert [e.action for e in older.items] == ["user.registered", "user.registered"]
        assert older.next_cursor is None
