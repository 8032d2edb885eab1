"""Logins of Telegram accounts started from the web panel, while they are open.

An open login is a connected Telethon client that cannot be stored anywhere, so it lives in
the API process that started it: `PanelLogins` (made in `init_app`'s resources, closed on
shutdown) keeps it by a random id, bound to the user and API session that started it. The
panel polls it; a request that reaches another API process finds no such login (404), so
several API processes need the panel's requests of one login to reach the same one.

The rules are the bot's (`core/linking.py`: the 5-minute life, three tries, the QR renewal
schedule, what Telegram's refusals mean) and so is the Telegram side (`gateway/login.py`);
what differs is the edge: the bot sends messages as a login moves on, here the login keeps
its state and the last refusal, and the API renders them in the caller's language.

One open login per user: a new one abandons the old, as `/link` does in the bot. Whatever
ends a login (the person, a refusal, the 5 minutes, a logout, shutdown) logs out an
authorization it did not store. An ended login stays readable for `KEEP_ENDED_S`, so the
panel's next poll learns how it ended; then it is forgotten.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import qrcode
from qrcode.image.svg import SvgPathImage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import telegram as tg
from core.accounts import AccountService
from core.dto import AccountDTO
from core.errors import Busy, InvalidInput, NotFound
from core.linking import (
    LOGIN_TTL_S,
    MAX_TRIES,
    QR_RENEW_MARGIN_S,
    CodeSent,
    login_failure,
    parse_login_code,
    parse_phone,
    qr_renew_after,
)
from core.logs import get_logger
from db.dal import open_dal
from gateway.login import PhoneLogin, QrLogin, QrToken
from gateway.telegram import TelegramGateway

log = get_logger(__name__)

KEEP_ENDED_S = 120.0
"""How long an ended login still answers a poll (then 404)."""


class LoginState(StrEnum):
    WAITING = "waiting"
    """A QR code is shown; nobody scanned it yet."""
    PHONE = "phone"
    """A phone login waits for the number."""
    CODE = "code"
    """Telegram sent a login code; the login waits for it."""
    PASSWORD = "password"
    """The account has two-step verification: the login waits for its password."""
    LINKED = "linked"
    EXPIRED = "expired"
    FAILED = "failed"


ENDED = frozenset({LoginState.LINKED, LoginState.EXPIRED, LoginState.FAILED})


class WrongStage(Busy):
    """An answer the login is not waiting for (it moved on, or it ended)."""

    code = "login_stage"


@dataclass(frozen=True, slots=True)
class Problem:
    """What went wrong, as a reason of the `weblink.*` catalog with its numbers. A login at
    a step keeps the last one (a wrong password); an ended one keeps why it failed."""

    reason: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class PanelLogin:
    id: str
    method: str
    """qr | phone"""
    user_id: int
    session_id: str
    """The API session (`sid`) that started it: its logout ends the login."""
    workspace_id: int
    login: QrLogin | PhoneLogin
    state: LoginState
    deadline: float
    """Loop time at which the login ends."""
    expires_at: datetime
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tries: int = 0
    token: QrToken | None = None
    renew_at: float = 0.0
    code_sent: CodeSent | None = None
    phone: str | None = None
    problem: Problem | None = None
    account: AccountDTO | None = None
    created: bool = False
    stored: bool = False
    """The session is in the database: end the client, never log it out."""
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    @property
    def tries_left(self) -> int | None:
        if self.state in (LoginState.CODE, LoginState.PASSWORD):
            return MAX_TRIES - self.tries
        return None

    @property
    def qr(self) -> QrLogin:
        assert isinstance(self.login, QrLogin), "not a QR login"
        return self.login

    @property
    def by_phone(self) -> PhoneLogin:
        assert isinstance(self.login, PhoneLogin), "not a phone login"
        return self.login


class PanelLogins:
    """Open logins by id; see the module docstring. Every method that reads or answers a
    login raises `NotFound` for an unknown id or another user's login.

    Telegram out of reach (any `OSError`: a refused or lost connection) ends a login like a
    refusal does, with a sentence, never as a server error."""

    def __init__(
        self,
        gateway: TelegramGateway,
        accounts: AccountService,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        ttl_s: float = LOGIN_TTL_S,
        qr_renew_margin_s: float = QR_RENEW_MARGIN_S,
        keep_ended_s: float = KEEP_ENDED_S,
    ) -> None:
        self._gateway = gateway
        self._accounts = accounts
        self._sessionmaker = sessionmaker
        self.ttl_s = ttl_s
        self._margin_s = qr_renew_margin_s
        self._keep_s = keep_ended_s
        self._logins: dict[str, PanelLogin] = {}
        self._closed = False

    # ---- starting -----------------------------------------------------------------------
    async def start(
        self, user_id: int, session_id: str, workspace_id: int, method: str
    ) -> PanelLogin:
        """A new login for the user (abandoning their open one), into `workspace_id`, which
        the caller has checked the user belongs to. A QR login answers with its first code."""
        if self._closed:
            raise Busy("the API is shutting down")
        for old in [p for p in self._logins.values() if p.user_id == user_id]:
            await self._drop(old)
        client = self._gateway.qr_login() if method == "qr" else self._gateway.phone_login()
        loop = asyncio.get_running_loop()
        pending = PanelLogin(
            id=secrets.token_urlsafe(12),
            method=method,
            user_id=user_id,
            session_id=session_id,
            workspace_id=workspace_id,
            login=client,
            state=LoginState.WAITING if method == "qr" else LoginState.PHONE,
            deadline=loop.time() + self.ttl_s,
            expires_at=datetime.now(UTC) + timedelta(seconds=self.ttl_s),
        )
        self._logins[pending.id] = pending
        self._spawn(pending, self._expire_later(pending))
        if method == "qr":
            async with pending.lock:
                try:
                    token = await pending.qr.token()
                except (tg.TelegramError, OSError) as exc:
                    await self._fail(pending, exc)
                    return pending
                if token is None:  # a brand-new client cannot have been scanned yet
                    await self._fail(pending, tg.TelegramError("QR_NOT_ISSUED"))
                    return pending
                self._set_token(pending, token)
                # The client listens for the scan already (token() saw to that).
                self._spawn(pending, self._watch_qr(pending))
        log.info("panel login started", user_id=user_id, method=method)
        return pending

    def get(self, user_id: int, login_id: str) -> PanelLogin:
        pending = self._logins.get(login_id)
        # Another user's login is as absent as a made-up id (DESIGN §2: never a 403).
        if pending is None or pending.user_id != user_id:
            raise NotFound("login")
        return pending

    # ---- the QR code --------------------------------------------------------------------
    async def renew_qr(self, user_id: int, login_id: str) -> PanelLogin:
        """A new QR code now, in place of the shown one."""
        pending = self.get(user_id, login_id)
        async with pending.lock:
            self._expect(pending, LoginState.WAITING)
            await self._renew(pending)
        return pending

    def _set_token(self, pending: PanelLogin, token: QrToken) -> None:
        renew_in = qr_renew_after(token.expires_at, datetime.now(UTC), self._margin_s)
        pending.token = token
        pending.renew_at = asyncio.get_running_loop().time() + renew_in

    async def _renew(self, pending: PanelLogin) -> None:
        try:
            token = await pending.qr.token()
        except (tg.TelegramError, OSError) as exc:
            await self._fail(pending, exc)
            return
        if token is not None:  # None: scanned meanwhile, and the watcher has the outcome
            self._set_token(pending, token)

    async def _watch_qr(self, pending: PanelLogin) -> None:
        """Wait for the scan; renew the code on time; then link or ask for the password."""
        qr = pending.qr
        loop = asyncio.get_running_loop()
        while True:
            token = pending.token
            try:
                info = await qr.wait(min(pending.renew_at, pending.deadline) - loop.time())
            except tg.LoginTimeout:
                if loop.time() >= pending.deadline:
                    return  # the expiry timer ends the login
                async with pending.lock:
                    if pending.state is not LoginState.WAITING:
                        return
                    if pending.token is token:  # not renewed on request meanwhile
                        await self._renew(pending)
                continue
            except tg.PasswordNeeded:
                async with pending.lock:
                    if pending.state is LoginState.WAITING:
                        self._ask_password(pending)
                return
            except (tg.TelegramError, OSError) as exc:
                async with pending.lock:
                    await self._fail(pending, exc)
                return
            async with pending.lock:
                if pending.state is LoginState.WAITING:
                    await self._link(pending, info)
            return

    # ---- phone, code, password ----------------------------------------------------------
    async def phone(self, user_id: int, login_id: str, raw: str) -> PanelLogin:
        """The phone number: Telegram sends the login code to it."""
        pending = self.get(user_id, login_id)
        async with pending.lock:
            self._expect(pending, LoginState.PHONE)
            try:
                phone = parse_phone(raw)
            except InvalidInput:
                pending.problem = Problem("phone_invalid")
                return pending
            try:
                sent = await pending.by_phone.send_code(phone)
            except tg.PhoneInvalid:
                # core.telegram.org/method/auth.sendCode: PHONE_NUMBER_INVALID (400): the
                # person may type it again.
                pending.problem = Problem("phone_rejected")
                return pending
            except (tg.TelegramError, OSError) as exc:
                await self._fail(pending, exc)
                return pending
            pending.state, pending.tries, pending.problem = LoginState.CODE, 0, None
            pending.phone, pending.code_sent = phone, sent
        return pending

    async def code(self, user_id: int, login_id: str, raw: str) -> PanelLogin:
        """The login code (spaces and dashes allowed)."""
        pending = self.get(user_id, login_id)
        async with pending.lock:
            self._expect(pending, LoginState.CODE)
            try:
                code = parse_login_code(raw)
            except InvalidInput:
                pending.problem = Problem("code_invalid")
                return pending
            try:
                info = await pending.by_phone.sign_in(code)
            except tg.WrongCode:
                # core.telegram.org/method/auth.signIn: PHONE_CODE_INVALID (400)
                await self._wrong(pending, "code")
                return pending
            except tg.PasswordNeeded:
                # core.telegram.org/method/auth.signIn: SESSION_PASSWORD_NEEDED (401)
                self._ask_password(pending)
                return pending
            except (tg.TelegramError, OSError) as exc:
                await self._fail(pending, exc)
                return pending
            await self._link(pending, info)
        return pending

    async def password(self, user_id: int, login_id: str, password: str) -> PanelLogin:
        """The 2FA password: handed to Telethon's SRP check and to nothing else."""
        pending = self.get(user_id, login_id)
        async with pending.lock:
            self._expect(pending, LoginState.PASSWORD)
            try:
                info = await pending.login.check_password(password)
            except tg.WrongPassword:
                # core.telegram.org/method/auth.checkPassword: PASSWORD_HASH_INVALID (400)
                await self._wrong(pending, "password")
                return pending
            except (tg.TelegramError, OSError) as exc:
                await self._fail(pending, exc)
                return pending
            await self._link(pending, info)
        return pending

    @staticmethod
    def _expect(pending: PanelLogin, state: LoginState) -> None:
        if pending.state is not state:
            raise WrongStage(f"login is {pending.state.value}, not {state.value}")

    async def _wrong(self, pending: PanelLogin, what: str) -> None:
        """A wrong code or password: the tries left, or the end of the login after the last."""
        pending.tries += 1
        if pending.tries >= MAX_TRIES:
            await self._end(
                pending, LoginState.FAILED, Problem(f"{what}_aborted", {"tries": MAX_TRIES})
            )
        else:
            pending.problem = Problem(f"{what}_wrong", {"left": MAX_TRIES - pending.tries})

    @staticmethod
    def _ask_password(pending: PanelLogin) -> None:
        pending.state, pending.tries, pending.problem = LoginState.PASSWORD, 0, None
        pending.token = None

    # ---- ending -------------------------------------------------------------------------
    async def cancel(self, user_id: int, login_id: str) -> None:
        """End the login and forget it at once."""
        await self._drop(self.get(user_id, login_id))
        log.info("panel login cancelled", user_id=user_id)

    async def end_session(self, session_id: str) -> None:
        """A logout: the logins that session started end and are forgotten."""
        for pending in [p for p in self._logins.values() if p.session_id == session_id]:
            await self._drop(pending)

    async def close(self) -> None:
        """On shutdown: end every open login, logging out what was not stored."""
        self._closed = True
        for pending in list(self._logins.values()):
            tasks = list(pending.tasks)
            await self._drop(pending)
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _expire_later(self, pending: PanelLogin) -> None:
        await asyncio.sleep(max(0.0, pending.deadline - asyncio.get_running_loop().time()))
        async with pending.lock:
            minutes = max(1, round(self.ttl_s / 60))
            await self._end(pending, LoginState.EXPIRED, Problem("expired", {"minutes": minutes}))

    async def _link(self, pending: PanelLogin, info: tg.AccountInfo) -> None:
        """Store the fresh session in the login's workspace and end the login."""
        try:
            session = pending.login.session_string()
            async with open_dal(self._sessionmaker) as dal:
                account, created = await self._accounts.link(
                    dal, pending.user_id, pending.workspace_id, info, session
                )
            pending.stored = True
        except Exception:
            # Whatever failed, the fresh authorization must not outlive the login unnoticed:
            # ending the login below logs it out.
            log.exception("linked account not stored", user_id=pending.user_id)
            await self._end(pending, LoginState.FAILED, Problem("store_failed"))
            return
        pending.account, pending.created = account, created
        log.info("account linked", user_id=pending.user_id, account_id=account.id, created=created)
        await self._end(pending, LoginState.LINKED, None)

    async def _fail(self, pending: PanelLogin, exc: BaseException) -> None:
        """End the login on a refusal, keeping what Telegram meant."""
        failure = login_failure(exc)
        log.warning("panel login failed", user_id=pending.user_id, error=type(exc).__name__)
        await self._end(pending, LoginState.FAILED, Problem(failure.reason, failure.params))

    async def _end(self, pending: PanelLogin, state: LoginState, problem: Problem | None) -> None:
        """End a login once (the caller holds its lock): stop its tasks, end the client, and
        keep how it ended readable for a while."""
        if pending.ended:
            return
        pending.state, pending.problem, pending.token = state, problem, None
        self._stop_tasks(pending)
        await self._end_login(pending)
        self._spawn(pending, self._forget_later(pending))

    async def _drop(self, pending: PanelLogin) -> None:
        """Forget a login at once (cancel, logout, replaced, shutdown), ending it if open."""
        async with pending.lock:
            self._stop_tasks(pending)
            if not pending.ended:
                pending.state, pending.token = LoginState.FAILED, None
                await self._end_login(pending)
        if self._logins.get(pending.id) is pending:
            del self._logins[pending.id]

    @staticmethod
    def _stop_tasks(pending: PanelLogin) -> None:
        current = asyncio.current_task()
        for task in list(pending.tasks):
            if task is not current:
                task.cancel()

    async def _forget_later(self, pending: PanelLogin) -> None:
        await asyncio.sleep(self._keep_s)
        if self._logins.get(pending.id) is pending:
            del self._logins[pending.id]

    @staticmethod
    async def _end_login(pending: PanelLogin) -> None:
        try:
            if pending.stored:
                await pending.login.close()
            else:
                await pending.login.abandon()
        # The connection may already be broken; there is nothing to keep.
        except Exception as exc:  # noqa: BLE001
            log.warning("login client not closed cleanly", error=type(exc).__name__)

    # ---- plumbing -----------------------------------------------------------------------
    def _spawn(self, pending: PanelLogin, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        pending.tasks.add(task)
        task.add_done_callback(pending.tasks.discard)
        task.add_done_callback(_log_crash)


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("panel login task failed", exc_info=task.exception())


def qr_svg(url: str) -> str:
    """The QR code of `url` as an SVG document (one path: small, and sharp at any size)."""
    image = qrcode.make(url, image_factory=SvgPathImage, box_size=10, border=4)
    svg: str = image.to_string(encoding="unicode")
    return svg
