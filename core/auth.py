"""Web-panel login by a one-time code from the bot, and token sessions (DESIGN §4).

The rules in one place: issuing codes (one live code per user, 3 per 15 minutes), verifying
them (row lock, constant-time compare, 5 tries per code, username lockout, IP limit), and
refresh-token rotation with reuse detection. Unknown user, wrong code, expired code and a
locked username all raise the same `InvalidCode`, so the API cannot be used as an oracle.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core import logincodes as lc
from core.dto import ClientInfo, UserDTO
from core.errors import InvalidCode, InvalidInput, RateLimited, Unauthorized
from core.interfaces import Dal, LoginStore, Notifier, Throttle
from core.settings import Settings
from core.tokens import AccessClaims, TokenCodec, new_refresh_token, refresh_digest


def _now() -> datetime:
    return datetime.now(UTC)


def revoked_key(session_id: str) -> str:
    return f"auth:revoked-sid:{session_id}"


def standing_key(session_id: str) -> str:
    return f"auth:live-sid:{session_id}"


# How long "PostgreSQL said this session stands" is believed without asking again. A logout
# or a block sets the revoked flag, which is read first, so it is seen at the next request;
# this bound only matters when that flag could not be written (Redis unreachable at that
# moment) and Redis comes back with its old data: DESIGN §4's 1 s still holds.
STANDING_TTL_S = 1


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_at: datetime
    ttl_s: int


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: uuid.UUID
    user_id: int


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    refresh_absolute: timedelta
    refresh_idle: timedelta


class AuthService:
    """Shared by the bot (issuing) and the API (verifying, refreshing, logging out)."""

    def __init__(
        self,
        *,
        hasher: lc.CodeHasher,
        codec: TokenCodec,
        throttle: Throttle,
        notifier: Notifier | None,
        policy: AuthPolicy,
    ) -> None:
        self._hasher = hasher
        self._codec = codec
        self._throttle = throttle
        self._notifier = notifier
        self._policy = policy

    # --- bot side ---------------------------------------------------------------------
    async def issue_code(
        self, dal: Dal, user: UserDTO, *, now: datetime | None = None
    ) -> IssuedCode:
        """A fresh code replacing any live one; `RateLimited` past 3 codes per 15 minutes."""
        count, left = await self._throttle.hit(f"auth:codes:{user.id}", lc.CODES_WINDOW_S)
        if count > lc.MAX_CODES_PER_WINDOW:
            raise RateLimited(retry_after=max(left, 1))
        now = now or _now()
        code = lc.generate_code()
        expires_at = now + timedelta(seconds=lc.CODE_TTL_S)
        await dal.replace_code(user.id, self._hasher.digest(user.telegram_id, code), expires_at)
        await dal.audit("auth.code_issued", actor_user_id=user.id)
        await dal.commit()
        return IssuedCode(code=code, expires_at=expires_at, ttl_s=lc.CODE_TTL_S)

    # --- API side ---------------------------------------------------------------------
    async def verify(
        self,
        dal: Dal,
        username: str,
        code: str,
        client: ClientInfo,
        *,
        now: datetime | None = None,
    ) -> TokenPair:
        """Exchange a code for tokens. Malformed input is `InvalidInput` and costs no attempt."""
        name = lc.normalize_username(username)
        clean = lc.normalize_code(code)
        if name is None:
            raise InvalidInput("username", field="username")
        if clean is None:
            raise InvalidInput("code", field="code")
        ip_key = f"auth:ip-fail:{client.ip or '-'}"
        ip_failures, ip_left = await self._throttle.peek(ip_key)
        if ip_failures >= lc.IP_FAILURES_LIMIT:
            raise RateLimited(retry_after=max(ip_left, 1))
        now = now or _now()
        user_lock = f"auth:user-lock:{name}"
        if await self._throttle.flag_ttl(user_lock) > 0:
            await self._fail(name, ip_key)
        pair = await self._check_code(dal, name, clean, client, now)
        if pair is None:
            await self._fail(name, ip_key)
        assert pair is not None
        return pair

    async def _check_code(
        self, dal: Dal, name: str, code: str, client: ClientInfo, now: datetime
    ) -> TokenPair | None:
        user = await dal.find_user_by_username(name)
        if user is None or user.blocked:
            return None
        stored = await dal.lock_code(user.id)
        if stored is None:
            await dal.rollback()
            return None
        if stored.expires_at <= now:
            await dal.delete_code(user.id)
            await dal.commit()
            return None
        if not self._hasher.matches(stored.code_hash, user.telegram_id, code):
            attempts = stored.attempts + 1
            if attempts >= lc.MAX_ATTEMPTS_PER_CODE:
                await dal.delete_code(user.id)
            else:
                await dal.set_code_attempts(user.id, attempts)
            await dal.audit("auth.login_failed", actor_user_id=user.id, ip=client.ip)
            await dal.commit()
            return None
        await dal.delete_code(user.id)
        pair = await self._open_session(dal, user, client, now)
        await dal.audit(
            "auth.login",
            actor_user_id=user.id,
            ip=client.ip,
            details={"session_id": str(pair.session_id), "user_agent": client.user_agent or ""},
        )
        await dal.commit()
        await self._throttle.clear(f"auth:user-fail:{name}")
        if self._notifier is not None:
            await self._notifier.notify(
                user.telegram_id,
                "web_login",
                {
                    "at": now.isoformat(timespec="seconds"),
                    "ip": client.ip or "?",
                    "user_agent": (client.user_agent or "?")[:200],
                },
            )
        return pair

    async def _fail(self, name: str, ip_key: str) -> None:
        await self._throttle.hit(ip_key, lc.IP_FAILURES_WINDOW_S)
        failures, _ = await self._throttle.hit(
            f"auth:user-fail:{name}", lc.USERNAME_FAILURES_WINDOW_S
        )
        if failures >= lc.USERNAME_FAILURES_LIMIT:
            await self._throttle.set_flag(f"auth:user-lock:{name}", lc.USERNAME_LOCK_S)
            await self._throttle.clear(f"auth:user-fail:{name}")
        raise InvalidCode()

    async def _open_session(
        self, dal: Dal, user: UserDTO, client: ClientInfo, now: datetime
    ) -> TokenPair:
        session_id = await dal.create_session(
            user.id, now + self._policy.refresh_absolute, client.ip, (client.user_agent or "")[:256]
        )
        return await self._tokens(dal, user.id, user.role.value, session_id, now)

    async def _tokens(
        self, dal: Dal, user_id: int, role: str, session_id: uuid.UUID, now: datetime
    ) -> TokenPair:
        refresh = new_refresh_token()
        await dal.add_refresh_token(refresh_digest(refresh), session_id)
        access = self._codec.issue(user_id=user_id, role=role, session_id=str(session_id), now=now)
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(self._codec.ttl.total_seconds()),
            session_id=session_id,
            user_id=user_id,
        )

    async def refresh(self, dal: Dal, token: str, *, now: datetime | None = None) -> TokenPair:
        """Rotate a refresh token. Showing a used one again revokes the whole session."""
        now = now or _now()
        digest = refresh_digest(token)
        state = await dal.lock_refresh_token(digest)
        if state is None:
            await dal.rollback()
            raise Unauthorized("unknown refresh token")
        session = state.session
        if state.used:
            if await dal.revoke_session(session.id, now, "refresh_reuse"):
                await dal.audit(
                    "auth.refresh_reuse",
                    actor_user_id=session.user_id,
                    details={"session_id": str(session.id)},
                )
            await dal.commit()
            await self._mark_revoked(session.id)
            raise Unauthorized("refresh token reused")
        idle_deadline = session.last_used_at + self._policy.refresh_idle
        if session.revoked or session.expires_at <= now or idle_deadline <= now:
            await dal.rollback()
            raise Unauthorized("session ended")
        user = await dal.get_user(session.user_id)
        if user is None or user.blocked:
            await dal.rollback()
            raise Unauthorized("user unavailable")
        await dal.mark_refresh_used(digest, now)
        await dal.touch_session(session.id, now)
        pair = await self._tokens(dal, user.id, user.role.value, session.id, now)
        await dal.commit()
        return pair

    async def logout(self, dal: Dal, claims: AccessClaims, client: ClientInfo) -> None:
        session_id = uuid.UUID(claims.session_id)
        if await dal.revoke_session(session_id, _now(), "logout"):
            await dal.audit(
                "auth.logout",
                actor_user_id=claims.user_id,
                ip=client.ip,
                details={"session_id": claims.session_id},
            )
        await dal.commit()
        await self._mark_revoked(session_id)

    async def forget_sessions(self, session_ids: Iterable[uuid.UUID]) -> None:
        """Sessions revoked by someone else (an admin blocking the user): their access
        tokens stop working at the next request, in every API process."""
        for session_id in session_ids:
            await self._mark_revoked(session_id)

    async def _mark_revoked(self, session_id: uuid.UUID) -> None:
        # Access tokens of the session live at most their TTL; the flag must outlive them.
        ttl = int(self._codec.ttl.total_seconds()) + 60
        await self._throttle.set_flag(revoked_key(str(session_id)), ttl)
        await self._throttle.clear(standing_key(str(session_id)))

    async def authenticate(self, token: str, store: LoginStore) -> AccessClaims:
        """Decode an access token and refuse it when its session was revoked or its user
        blocked. Redis answers fast; PostgreSQL decides when Redis does not know (a restart
        that emptied it): its answer is kept in Redis for `STANDING_TTL_S`, a revocation as
        the revoked flag. Redis unreachable is `Unavailable`, never a pass."""
        claims = self._codec.decode(token)
        sid = claims.session_id
        revoked, standing = await self._throttle.flags_left_ms(revoked_key(sid), standing_key(sid))
        if revoked > 0:
            raise Unauthorized("session revoked")
        if standing > 0:
            return claims
        try:
            session_id = uuid.UUID(sid)
        except ValueError:
            raise Unauthorized("invalid session") from None
        if not await store.session_standing(session_id):
            await self._mark_revoked(session_id)
            raise Unauthorized("session revoked")
        await self._throttle.set_flag(standing_key(sid), STANDING_TTL_S)
        return claims


def build_auth_service(
    settings: Settings, throttle: Throttle, notifier: Notifier | None
) -> AuthService:
    """The service as every process configures it from the one Settings class."""
    return AuthService(
        hasher=lc.CodeHasher(settings.code_pepper.get_secret_value().encode()),
        codec=TokenCodec(
            secret=settings.jwt_secret.get_secret_value().encode(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=timedelta(seconds=settings.access_token_ttl_s),
        ),
        throttle=throttle,
        notifier=notifier,
        policy=AuthPolicy(
            refresh_absolute=timedelta(seconds=settings.refresh_absolute_ttl_s),
            refresh_idle=timedelta(seconds=settings.refresh_idle_ttl_s),
        ),
    )
