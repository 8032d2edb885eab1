"""SQLAlchemy implementation of the domain's storage protocols (`core.interfaces`).

One `SqlDal` wraps one `AsyncSession` (one per update, request or job). It flushes but
never commits on its own: the use case decides when the unit of work is done.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, case, delete, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import (
    GlobalRole,
    RefreshState,
    SessionState,
    StoredCode,
    TelegramProfile,
    UserDTO,
    WorkspaceRef,
    WorkspaceRole,
)
from core.logs import current_trace_id
from core.users import language_for
from db.dal_accounts import AccountsSql
from db.dal_admin import AdminSql
from db.dal_audiences import AudiencesSql
from db.dal_invites import InviteDal
from db.dal_people import PeopleSql
from db.dal_retention import RetentionSql
from db.dal_team import TeamSql
from db.driver import fetch, fetchrow, fetchval
from db.engine import affected_rows
from db.models import AuditEvent, AuthSession, LoginCode, Membership, RefreshToken, User, Workspace


def _user_dto(row: User) -> UserDTO:
    return UserDTO(
        id=row.id,
        telegram_id=row.telegram_id,
        username=row.username,
        first_name=row.first_name,
        last_name=row.last_name,
        language=row.language,
        language_explicit=row.language_explicit,
        role=GlobalRole(row.role),
        blocked=row.blocked,
    )


_USER_COLS = (
    "id, telegram_id, username, first_name, last_name, language, language_explicit, "
    "role::text AS role, blocked"
)
_USER_BY_TELEGRAM_ID = f"SELECT {_USER_COLS} FROM users WHERE telegram_id = $1"
_USER_BY_ID = f"SELECT {_USER_COLS} FROM users WHERE id = $1"
# The user's own personal workspace first: a team's owner's personal one is not it.
_WORKSPACES = """SELECT w.id, w.name, m.role::text AS role, w.personal
                   FROM workspaces w JOIN memberships m ON m.workspace_id = w.id
                  WHERE m.user_id = $1
                  ORDER BY (w.owner_id = $1) DESC, w.personal DESC, w.id"""


_SESSION_STANDING = """SELECT s.revoked_at, u.blocked FROM auth_sessions s
                          JOIN users u ON u.id = s.user_id WHERE s.id = $1"""


def _user_of(row: Any) -> UserDTO:
    """A user from a driver record of `_USER_COLS`."""
    return UserDTO(
        id=row["id"],
        telegram_id=row["telegram_id"],
        username=row["username"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        language=row["language"],
        language_explicit=row["language_explicit"],
        role=GlobalRole(row["role"]),
        blocked=row["blocked"],
    )


# Every request of the API checks it (`core.users.require_workspace`): through the driver.
_ROLE = "SELECT role::text FROM memberships WHERE user_id = $1 AND workspace_id = $2"


class SqlDal(AccountsSql, AudiencesSql, InviteDal, TeamSql, AdminSql, RetentionSql, PeopleSql):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # The caller's role per workspace, as read in this unit of work: a request checks it
        # in the route and again in the service. Forgotten at every commit, rollback and
        # change of a membership made through this object.
        self._roles: dict[tuple[int, int], WorkspaceRole | None] = {}

    async def commit(self) -> None:
        self._roles.clear()
        await self.session.commit()

    async def rollback(self) -> None:
        self._roles.clear()
        await self.session.rollback()

    # --- users ------------------------------------------------------------------------
    async def upsert_user(
        self, profile: TelegramProfile, *, make_admin: bool
    ) -> tuple[UserDTO, bool]:
        values: dict[str, Any] = {
            "telegram_id": profile.telegram_id,
            "username": profile.username,
            "first_name": profile.first_name[:128],
            "last_name": (profile.last_name or None) and profile.last_name[:128],
            "language": language_for(profile.language_code),
        }
        if make_admin:
            values["role"] = GlobalRole.ADMIN
        # On conflict: refresh names; language only when not chosen with /lang; admin only up.
        refreshed = {
            k: v for k, v in values.items() if k not in ("telegram_id", "language", "role")
        }
        if make_admin:
            refreshed["role"] = GlobalRole.ADMIN
        # A username moves between accounts on Telegram: whoever shows it now holds it.
        if profile.username:
            await self.session.execute(
                update(User)
                .where(func.lower(User.username) == profile.username.lower())
                .where(User.telegram_id != profile.telegram_id)
                .values(username=None)
            )
        stmt = (
            insert(User)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[User.telegram_id],
                set_={
                    **refreshed,
                    # An explicit /lang choice wins over the client's language.
                    "language": case(
                        (User.language_explicit.is_(True), User.language), else_=values["language"]
                    ),
                    "updated_at": func.now(),
                },
            )
            .returning(User, literal_column("(xmax = 0)", Boolean).label("created"))
        )
        row = (await self.session.execute(stmt)).one()
        user: User = row[0]
        await self.session.refresh(user)
        return _user_dto(user), bool(row[1])

    async def get_user(self, user_id: int) -> UserDTO | None:
        # Every API request that needs the caller reads it: through the driver.
        row = await fetchrow(self.session, _USER_BY_ID, user_id)
        return _user_of(row) if row is not None else None

    async def get_user_by_telegram_id(self, telegram_id: int) -> UserDTO | None:
        # The bot reads its sender on every update, as the update's first statement. It goes
        # straight through the driver: the session's transaction has not sent its BEGIN yet
        # (the asyncpg adapter sends it before the first statement through SQLAlchemy), so this
        # is one round trip, and an update that writes nothing sends no BEGIN or ROLLBACK at
        # all. Later in a transaction it simply reads inside it.
        row = await fetchrow(self.session, _USER_BY_TELEGRAM_ID, telegram_id)
        return _user_of(row) if row is not None else None

    async def find_user_by_username(self, username: str) -> UserDTO | None:
        row = await self.session.scalar(
            select(User).where(func.lower(User.username) == username.lower()).limit(1)
        )
        return _user_dto(row) if row else None

    async def set_language(self, user_id: int, language: str) -> UserDTO:
        row = await self.session.scalar(
            update(User)
            .where(User.id == user_id)
            .values(language=language, language_explicit=True)
            .returning(User)
        )
        assert row is not None
        return _user_dto(row)

    async def create_workspace(self, owner_id: int, name: str, *, personal: bool) -> int:
        self._roles.clear()
        ws = Workspace(name=name[:128], owner_id=owner_id, personal=personal)
        self.session.add(ws)
        await self.session.flush()
        self.session.add(Membership(workspace_id=ws.id, user_id=owner_id, role=WorkspaceRole.OWNER))
        await self.session.flush()
        return ws.id

    async def list_workspaces(self, user_id: int) -> list[WorkspaceRef]:
        rows = await fetch(self.session, _WORKSPACES, user_id)
        return [
            WorkspaceRef(
                id=r["id"], name=r["name"], role=WorkspaceRole(r["role"]), personal=r["personal"]
            )
            for r in rows
        ]

    async def workspace_role(self, user_id: int, workspace_id: int) -> WorkspaceRole | None:
        key = (user_id, workspace_id)
        if key in self._roles:
            return self._roles[key]
        role = await fetchval(self.session, _ROLE, user_id, workspace_id)
        found = self._roles[key] = WorkspaceRole(role) if role is not None else None
        return found

    # --- login codes and sessions -------------------------------------------------------
    async def replace_code(self, user_id: int, code_hash: bytes, expires_at: datetime) -> None:
        stmt = insert(LoginCode).values(
            user_id=user_id, code_hash=code_hash, expires_at=expires_at, attempts=0
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[LoginCode.user_id],
            set_={
                "code_hash": code_hash,
                "expires_at": expires_at,
                "attempts": 0,
                "created_at": func.now(),
            },
        )
        await self.session.execute(stmt)

    async def lock_code(self, user_id: int) -> StoredCode | None:
        row = await self.session.scalar(
            select(LoginCode).where(LoginCode.user_id == user_id).with_for_update()
        )
        if row is None:
            return None
        return StoredCode(row.user_id, row.code_hash, row.expires_at, row.attempts)

    async def set_code_attempts(self, user_id: int, attempts: int) -> None:
        await self.session.execute(
            update(LoginCode).where(LoginCode.user_id == user_id).values(attempts=attempts)
        )

    async def delete_code(self, user_id: int) -> None:
        await self.session.execute(delete(LoginCode).where(LoginCode.user_id == user_id))

    async def create_session(
        self, user_id: int, expires_at: datetime, ip: str | None, user_agent: str | None
    ) -> uuid.UUID:
        sid = uuid.uuid4()
        self.session.add(
            AuthSession(
                id=sid, user_id=user_id, expires_at=expires_at, ip=ip, user_agent=user_agent
            )
        )
        await self.session.flush()
        return sid

    async def add_refresh_token(self, digest: bytes, session_id: uuid.UUID) -> None:
        self.session.add(RefreshToken(digest=digest, session_id=session_id))
        await self.session.flush()

    async def lock_refresh_token(self, digest: bytes) -> RefreshState | None:
        row = (
            await self.session.execute(
                select(RefreshToken, AuthSession)
                .join(AuthSession, AuthSession.id == RefreshToken.session_id)
                .where(RefreshToken.digest == digest)
                .with_for_update()
            )
        ).one_or_none()
        if row is None:
            return None
        token, sess = row
        return RefreshState(
            session=SessionState(
                id=sess.id,
                user_id=sess.user_id,
                created_at=sess.created_at,
                last_used_at=sess.last_used_at,
                expires_at=sess.expires_at,
                revoked=sess.revoked_at is not None,
            ),
            used=token.replaced_at is not None,
        )

    async def mark_refresh_used(self, digest: bytes, at: datetime) -> None:
        await self.session.execute(
            update(RefreshToken).where(RefreshToken.digest == digest).values(replaced_at=at)
        )

    async def touch_session(self, session_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(AuthSession).where(AuthSession.id == session_id).values(last_used_at=at)
        )

    async def revoke_session(self, session_id: uuid.UUID, at: datetime, reason: str) -> bool:
        result = await self.session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=at, revoke_reason=reason)
        )
        return bool(affected_rows(result))

    async def session_standing(self, session_id: uuid.UUID) -> bool:
        # Asked at most once a second per session (`core.auth.STANDING_TTL_S`) by any
        # request: through the driver, so it adds no transaction to a page that only reads.
        row = await fetchrow(self.session, _SESSION_STANDING, session_id)
        return row is not None and row["revoked_at"] is None and not row["blocked"]

    # --- audit ------------------------------------------------------------------------
    async def audit(
        self,
        action: str,
        *,
        actor_user_id: int | None = None,
        workspace_id: int | None = None,
        details: dict[str, Any] | None = None,
        ip: str | None = None,
    ) -> None:
        self.session.add(
            AuditEvent(
                action=action,
                actor_user_id=actor_user_id,
                workspace_id=workspace_id,
                details=details or {},
                ip=ip,
                trace_id=current_trace_id(),
            )
        )
        await self.session.flush()


@asynccontextmanager
async def open_dal(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[SqlDal]:
    async with sessionmaker() as session:
        yield SqlDal(session)
