"""Running the installation (DESIGN §2, Admin): stats, users, roles, blocking, the maximum
invite limits, account health — and the audit log as owners and admins read it.

Admins are users whose global role is `admin`: the Telegram ids in ADMIN_TELEGRAM_IDS
become admins on /start (`core.users.register`), anyone else is granted by an admin. The
role is read from storage on every call, never from a token, so a revoked admin loses
access at their next request. Every change is written to the audit log in the same
transaction as the change itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from core.dto import AccountDTO, AccountStatus, GlobalRole, UserDTO
from core.errors import Forbidden, InvalidInput, NotFound
from core.installation import (
    LIMITS_KEY,
    AuditEntry,
    InstallationStats,
    LimitsView,
    merged_maximum,
    stored_maximum,
    under_maximum,
)
from core.interfaces import Dal, SessionRevoker, WorkerRegistry
from core.limits import InviteLimits, day_start, limits_from
from core.pagination import Page, read_page
from core.settings import Settings
from core.users import ensure_owner, require_workspace

_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_TELEGRAM_ID = re.compile(r"^\d{1,15}$", re.ASCII)


class NotAdmin(Forbidden):
    """Installation-wide actions are for admins only."""

    code = "admin_only"


class SelfAction(Forbidden):
    """An admin cannot block themself or take their own role: someone else must."""

    code = "admin_self"


class ConfiguredAdmin(Forbidden):
    """Admins named in the settings run the installation: they stay admins, unblocked."""

    code = "admin_configured"


@dataclass(frozen=True, slots=True)
class UserQuery:
    username_prefix: str | None = None
    telegram_id: int | None = None


def parse_user_query(raw: str | None) -> UserQuery:
    """A search as people type it: `@name`, `name` (a prefix), or a Telegram id; empty: all."""
    text = (raw or "").strip().removeprefix("@")
    if not text:
        return UserQuery()
    if _TELEGRAM_ID.match(text):
        return UserQuery(telegram_id=int(text))
    if _USERNAME.match(text):
        return UserQuery(username_prefix=text.lower())
    raise InvalidInput("q", field="q", problem="user_query")


async def require_admin(dal: Dal, user_id: int) -> UserDTO:
    """The caller, if they are an admin now; `NotAdmin` otherwise."""
    user = await dal.get_user(user_id)
    if user is None or user.blocked or not user.is_admin:
        raise NotAdmin()
    return user


def _user_details(user: UserDTO) -> dict[str, object]:
    return {"user_id": user.id, "telegram_id": user.telegram_id, "username": user.username}


class AdminService:
    def __init__(
        self,
        *,
        configured_admins: Iterable[int],
        limits: InviteLimits,
        sessions: SessionRevoker,
        workers: WorkerRegistry,
    ) -> None:
        self.configured_admins = frozenset(configured_admins)
        self.limits = limits  # as configured in settings, before the stored maximums
        self._sessions = sessions
        self._workers = workers

    async def require_admin(self, dal: Dal, user_id: int) -> UserDTO:
        return await require_admin(dal, user_id)

    # --- stats ---------------------------------------------------------------------------
    async def stats(
        self, dal: Dal, user_id: int, *, now: datetime | None = None
    ) -> InstallationStats:
        await self.require_admin(dal, user_id)
        counts = await dal.installation_counts(day_start(now or datetime.now(UTC)))
        return InstallationStats(counts=counts, workers=await self._workers.alive_workers())

    # --- users ---------------------------------------------------------------------------
    async def users(
        self, dal: Dal, user_id: int, query: str | None, *, cursor: int = 0, limit: int = 20
    ) -> Page[UserDTO]:
        await self.require_admin(dal, user_id)
        search = parse_user_query(query)

        async def fetch(n: int) -> list[UserDTO]:
            return await dal.search_users(
                username_prefix=search.username_prefix,
                telegram_id=search.telegram_id,
                after_id=cursor,
                limit=n,
            )

        return await read_page(fetch, limit, key=lambda u: u.id)

    async def user(self, dal: Dal, user_id: int, target_id: int) -> UserDTO:
        await self.require_admin(dal, user_id)
        return await self._target(dal, target_id)

    async def _target(self, dal: Dal, target_id: int) -> UserDTO:
        target = await dal.get_user(target_id)
        if target is None:
            raise NotFound("user", user_id=target_id)
        return target

    def _protect(self, admin: UserDTO, target: UserDTO) -> None:
        if target.id == admin.id:
            raise SelfAction()
        if target.telegram_id in self.configured_admins:
            raise ConfiguredAdmin()

    async def block(
        self, dal: Dal, user_id: int, target_id: int, *, ip: str | None = None
    ) -> UserDTO:
        """Block a user: the bot refuses them, and their panel sessions end at once."""
        admin = await self.require_admin(dal, user_id)
        target = await self._target(dal, target_id)
        self._protect(admin, target)
        if target.blocked:
            return target
        changed = await dal.set_user_blocked(target.id, True)
        ended = await dal.revoke_user_sessions(target.id, datetime.now(UTC), "blocked")
        await dal.audit(
            "admin.user_blocked",
            actor_user_id=admin.id,
            ip=ip,
            details=_user_details(target) | {"sessions_ended": len(ended)},
        )
        await dal.commit()
        await self._sessions.forget_sessions(ended)
        assert changed is not None
        return changed

    async def unblock(
        self, dal: Dal, user_id: int, target_id: int, *, ip: str | None = None
    ) -> UserDTO:
        admin = await self.require_admin(dal, user_id)
        target = await self._target(dal, target_id)
        if not target.blocked:
            return target
        changed = await dal.set_user_blocked(target.id, False)
        await dal.audit(
            "admin.user_unblocked", actor_user_id=admin.id, ip=ip, details=_user_details(target)
        )
        await dal.commit()
        assert changed is not None
        return changed

    async def grant_admin(
        self, dal: Dal, user_id: int, target_id: int, *, ip: str | None = None
    ) -> UserDTO:
        admin = await self.require_admin(dal, user_id)
        target = await self._target(dal, target_id)
        if target.is_admin:
            return target
        return await self._set_role(dal, admin, target, GlobalRole.ADMIN, "admin.role_granted", ip)

    async def revoke_admin(
        self, dal: Dal, user_id: int, target_id: int, *, ip: str | None = None
    ) -> UserDTO:
        admin = await self.require_admin(dal, user_id)
        target = await self._target(dal, target_id)
        self._protect(admin, target)
        if not target.is_admin:
            return target
        return await self._set_role(dal, admin, target, GlobalRole.USER, "admin.role_revoked", ip)

    async def _set_role(
        self,
        dal: Dal,
        admin: UserDTO,
        target: UserDTO,
        role: GlobalRole,
        action: str,
        ip: str | None,
    ) -> UserDTO:
        changed = await dal.set_user_role(target.id, role)
        await dal.audit(
            action,
            actor_user_id=admin.id,
            ip=ip,
            details=_user_details(target) | {"role": role.value},
        )
        await dal.commit()
        assert changed is not None
        return changed

    # --- limits --------------------------------------------------------------------------
    async def limits_view(self, dal: Dal, user_id: int) -> LimitsView:
        await self.require_admin(dal, user_id)
        return await self._limits_view(dal)

    async def _limits_view(self, dal: Dal) -> LimitsView:
        stored = await stored_maximum(dal)
        maximum = stored or self.limits
        return LimitsView(
            configured=self.limits,
            maximum=maximum,
            effective=under_maximum(self.limits, stored),
            stored=stored is not None,
        )

    async def set_limits(
        self, dal: Dal, user_id: int, changes: Mapping[str, int], *, ip: str | None = None
    ) -> LimitsView:
        """Change some of the installation's maximums; the others keep their values.
        Workers and campaigns use the new maximums from their next pass."""
        admin = await self.require_admin(dal, user_id)
        before = await self._limits_view(dal)
        maximum = merged_maximum(before.maximum, changes)
        if before.stored and maximum == before.maximum:
            return before
        await dal.put_installation_setting(LIMITS_KEY, asdict(maximum), admin.id)
        await dal.audit(
            "admin.limits_changed",
            actor_user_id=admin.id,
            ip=ip,
            details={
                "changed": dict(changes),
                "before": asdict(before.maximum) if before.stored else None,
                "after": asdict(maximum),
            },
        )
        await dal.commit()
        return await self._limits_view(dal)

    # --- account health ------------------------------------------------------------------
    async def accounts(
        self, dal: Dal, user_id: int, status: str | None = None, *, cursor: int = 0, limit: int = 20
    ) -> Page[AccountDTO]:
        """Linked accounts of every workspace, with their status, reason and rest time."""
        await self.require_admin(dal, user_id)
        wanted = _account_status(status)

        async def fetch(n: int) -> list[AccountDTO]:
            return await dal.accounts_health(wanted, after_id=cursor, limit=n)

        return await read_page(fetch, limit, key=lambda a: a.id)


def _account_status(raw: str | None) -> AccountStatus | None:
    if not raw:
        return None
    try:
        return AccountStatus(raw)
    except ValueError:
        raise InvalidInput(
            "status",
            field="status",
            problem="account_status",
            names=", ".join(s.value for s in AccountStatus),
        ) from None


async def audit_log(
    dal: Dal,
    user_id: int,
    workspace_id: int | None,
    *,
    everything: bool = False,
    cursor: int = 0,
    limit: int = 50,
) -> Page[AuditEntry]:
    """The audit log, newest first. A workspace's owner reads its events (a manager may not:
    `Forbidden`); `everything` is the whole installation's log, for admins only."""
    if everything:
        await require_admin(dal, user_id)
        scope = None
    else:
        if workspace_id is None:
            raise NotFound("workspace")
        ensure_owner(await require_workspace(dal, user_id, workspace_id))
        scope = workspace_id

    async def fetch(n: int) -> list[AuditEntry]:
        return await dal.audit_events(scope, before_id=cursor or None, limit=n)

    return await read_page(fetch, limit, key=lambda e: e.id)


def build_admin_service(
    settings: Settings, *, sessions: SessionRevoker, workers: WorkerRegistry
) -> AdminService:
    return AdminService(
        configured_admins=settings.admin_telegram_ids,
        limits=limits_from(settings),
        sessions=sessions,
        workers=workers,
    )
