"""An open login of a Telegram account, from its start to its end: one state machine for the
bot's chat (/link, /link_phone) and the panel's API (`/api/v1/account-logins`).

An open login is a connected Telethon client that cannot be stored anywhere, so it lives in
the process that started it. `PendingLogins` keeps it by a random id, bound to the user who
started it, and at most one per user: a new one abandons the old. A QR login shows its code
only once the client listens for the scan and renews it before Telegram lets it expire; a
phone login steps from the number to the code to the 2FA password, with `MAX_TRIES` wrong
answers. A login ends after `LOGIN_TTL_S`, on a refusal (Telegram out of reach too: any
`OSError` ends it with a sentence, never a crash), once its session is stored in its
workspace, when the person cancels, and on shutdown; whatever ends it logs out an
authorization it did not store.

The rules (how long, how many tries, when to renew, what a refusal means) are
`core/linking.py`; the Telegram side is `gateway/login.py`. How a login is presented is the
edge's: a subclass says it through the hooks at the end of `PendingLogins` (each called
with the login's lock held) and finds logins for its callers its own way.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import telegram as tg
from core.accounts import AccountService
from core.dto import AccountDTO
from core.errors import Busy, InvalidInput
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

E = TypeVar("E")
"""What the edge keeps with each login (the bot's chat, the panel's API session)."""


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


class Stop(StrEnum):
    """Why a login was dropped with nothing to tell about how it ended."""

    CANCELLED = "cancelled"
    """By the person: a command, a button, the logout of the session that started it."""
    REPLACED = "replaced"
    """The person started another login."""
    SHUTDOWN = "shutdown"


@dataclass(frozen=True, slots=True)
class Problem:
    """What went wrong, as a reason with the numbers its sentence needs; each edge has the
    sentences under its own prefix (`linking.*` in the bot, `weblink.*` in the panel). A
    login at a step keeps the last one (a wrong password); an ended one keeps why it ended."""

    reason: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class PendingLogin(Generic[E]):
    id: str
    user_id: int
    workspace_id: int
    """Where the account goes (the caller has checked the user belongs to it)."""
    edge: E
    login: QrLogin | PhoneLogin
    state: LoginState
    deadline: float
    """Loop time at which the login ends."""
    expires_at: datetime
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tries: int = 0
    token: QrToken | None = None
    renew_at: float = 0.0
    phone: str | None = None
    code_sent: CodeSent | None = None
    problem: Problem | None = None
    account: AccountDTO | None = None
    created: bool = False
    stored: bool = False
    """The session is in the database: end the client, never log it out."""
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def method(self) -> str:
        return "qr" if isinstance(self.login, QrLogin) else "phone"

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


class PendingLogins(Generic[E]):
    """Open logins by id; see the module docstring."""

    keep_ended_s = 0.0
    """How long an ended login stays readable, with how it ended, for an edge that polls
    (the panel); 0 forgets it at once."""

    def __init__(
        self,
        gateway: TelegramGateway,
        accounts: AccountService,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        ttl_s: float = LOGIN_TTL_S,
        qr_renew_margin_s: float = QR_RENEW_MARGIN_S,
    ) -> None:
        self._gateway = gateway
        self._accounts = accounts
        self._sessionmaker = sessionmaker
        self.ttl_s = ttl_s
        self._margin_s = qr_renew_margin_s
        self._logins: dict[str, PendingLogin[E]] = {}
        self._closed = False

    # ---- starting -----------------------------------------------------------------------
    async def _begin(
        self, user_id: int, workspace_id: int, method: str, edge: E
    ) -> PendingLogin[E]:
        """A new login (`qr` or `phone`) for the user, abandoning their open one; a QR login
        has its first code, and the edge has asked the first question (`_enter`)."""
        for old in [p for p in self._logins.values() if p.user_id == user_id]:
            await self._drop(old, Stop.REPLACED)
        if self._closed:
            raise Busy("logins are closed: shutting down")
        by_qr = method == "qr"
        loop = asyncio.get_running_loop()
        pending = PendingLogin(
            id=secrets.token_urlsafe(12),
            user_id=user_id,
            workspace_id=workspace_id,
            edge=edge,
            login=self._gateway.qr_login() if by_qr else self._gateway.phone_login(),
            state=LoginState.WAITING if by_qr else LoginState.PHONE,
            deadline=loop.time() + self.ttl_s,
            expires_at=datetime.now(UTC) + timedelta(seconds=self.ttl_s),
        )
        self._logins[pending.id] = pending
        self._spawn(pending, self._expire_later(pending))
        log.info("login started", user_id=user_id, method=method)
        async with pending.lock:
            if pending.ended or (by_qr and not await self._first_qr(pending)):
                return pending
            try:
                await self._enter(pending)
            except BaseException:
                await self._quit(pending, Stop.CANCELLED)  # nobody can scan an unseen code
                raise
        return pending

    async def _first_qr(self, pending: PendingLogin[E]) -> bool:
        """The first code, and the watcher; False when the login ended instead."""
        try:
            token = await pending.qr.token()
        except (tg.TelegramError, OSError) as exc:
            await self._fail(pending, exc)
            return False
        if token is None:  # a brand-new client cannot have been scanned yet
            await self._fail(pending, tg.TelegramError("QR_NOT_ISSUED"))
            return False
        self._set_token(pending, token)
        # The client already listens for the scan (token() saw to that); the watcher
        # collects the outcome and renews the code. Only then may anyone see it.
        self._spawn(pending, self._watch_qr(pending))
        return True

    # ---- answers ------------------------------------------------------------------------
    async def _answer(self, pending: PendingLogin[E], state: LoginState, text: str) -> bool:
        """`text` as the answer the login waits for in `state` (for WAITING: a new QR code
        now, in place of the shown one). False, with nothing done, when the login no longer
        waits for it: it moved on, or it ended."""
        async with pending.lock:
            if pending.state is not state:
                return False
            if state is LoginState.WAITING:
                await self._renew(pending)
            elif state is LoginState.PHONE:
                await self._take_phone(pending, text)
            elif state is LoginState.CODE:
                await self._take_code(pending, text)
            else:
                await self._take_password(pending, text)
        return True

    async def _take_phone(self, pending: PendingLogin[E], raw: str) -> None:
        """The phone number: Telegram sends the login code to it."""
        phone = await self._parsed(pending, parse_phone, raw, "phone_invalid")
        if phone is None:
            return
        try:
            sent = await pending.by_phone.send_code(phone)
        except tg.PhoneInvalid:
            # core.telegram.org/method/auth.sendCode: PHONE_NUMBER_INVALID (400): the
            # person may type it again.
            await self._note(pending, Problem("phone_rejected"))
            return
        except (tg.TelegramError, OSError) as exc:
            # A banned number, floods, no account behind it, a login email wanted first
            # (no code exists to wait for): `login_failure` names each.
            await self._fail(pending, exc)
            return
        pending.phone, pending.code_sent = phone, sent
        await self._move(pending, LoginState.CODE)

    async def _take_code(self, pending: PendingLogin[E], raw: str) -> None:
        """The login code (spaces and dashes allowed)."""
        code = await self._parsed(pending, parse_login_code, raw, "code_invalid")
        if code is not None:
            await self._verdict(pending, "code", pending.by_phone.sign_in(code))

    async def _take_password(self, pending: PendingLogin[E], password: str) -> None:
        """The 2FA password: handed to Telethon's SRP check and to nothing else (never kept,
        logged or echoed)."""
        await self._verdict(pending, "password", pending.login.check_password(password))

    async def _verdict(
        self,
        pending: PendingLogin[E],
        what: str,
        check: Coroutine[Any, Any, tg.AccountInfo],
    ) -> None:
        """Telegram's answer to the code or the password: the account linked, a try spent,
        the password asked for next, or the end of the login."""
        try:
            info = await check
        except (tg.WrongCode, tg.WrongPassword):
            # core.telegram.org/method/auth.signIn: PHONE_CODE_INVALID (400);
            # core.telegram.org/method/auth.checkPassword: PASSWORD_HASH_INVALID (400)
            await self._wrong(pending, what)
            return
        except tg.PasswordNeeded:
            # core.telegram.org/method/auth.signIn: SESSION_PASSWORD_NEEDED (401), after the
            # code only (core.telegram.org/method/auth.checkPassword lists no such error).
            await self._move(pending, LoginState.PASSWORD)
            return
        except (tg.TelegramError, OSError) as exc:
            # PHONE_CODE_EXPIRED, PHONE_NUMBER_UNOCCUPIED, floods: the login ends.
            await self._fail(pending, exc)
            return
        await self._link(pending, info)

    async def _parsed(
        self, pending: PendingLogin[E], parse: Callable[[str], str], raw: str, reason: str
    ) -> str | None:
        """`parse(raw)`; None once the person is told it is not that (`reason`), before
        anything reaches Telegram."""
        try:
            return parse(raw)
        except InvalidInput:
            await self._note(pending, Problem(reason))
            return None

    async def _wrong(self, pending: PendingLogin[E], what: str) -> None:
        """A wrong code or password: the tries left, or the end of the login after the last."""
        pending.tries += 1
        if pending.tries >= MAX_TRIES:
            problem = Problem(f"{what}_aborted", {"tries": MAX_TRIES})
            await self._end(pending, LoginState.FAILED, problem)
        else:
            await self._note(pending, Problem(f"{what}_wrong", {"left": MAX_TRIES - pending.tries}))

    async def _note(self, pending: PendingLogin[E], problem: Problem) -> None:
        pending.problem = problem
        await self._noted(pending)

    async def _move(self, pending: PendingLogin[E], state: LoginState) -> None:
        """On to the next question (the code, the password), with fresh tries."""
        pending.state, pending.tries, pending.problem, pending.token = state, 0, None, None
        await self._enter(pending)

    # ---- the QR code --------------------------------------------------------------------
    def _set_token(self, pending: PendingLogin[E], token: QrToken) -> None:
        renew_in = qr_renew_after(token.expires_at, datetime.now(UTC), self._margin_s)
        pending.token = token
        pending.renew_at = asyncio.get_running_loop().time() + renew_in

    async def _renew(self, pending: PendingLogin[E]) -> None:
        try:
            token = await pending.qr.token()
        except (tg.TelegramError, OSError) as exc:
            await self._fail(pending, exc)
            return
        if token is not None:  # None: scanned meanwhile, and the watcher has the outcome
            self._set_token(pending, token)
            await self._qr_renewed(pending)

    async def _watch_qr(self, pending: PendingLogin[E]) -> None:
        """Wait for the scan; renew the code on time; then link or ask for the password."""
        qr = pending.qr
        loop = asyncio.get_running_loop()
        info: tg.AccountInfo | None = None
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
                    if pending.ended:  # the renewal met a refusal
                        return
                continue
            except tg.PasswordNeeded:
                info = None
            except (tg.TelegramError, OSError) as exc:
                async with pending.lock:
                    await self._fail(pending, exc)
                return
            break
        async with pending.lock:
            if pending.state is not LoginState.WAITING:
                return
            await self._scanned(pending)
            if info is None:
                await self._move(pending, LoginState.PASSWORD)
            else:
                await self._link(pending, info)

    # ---- ending -------------------------------------------------------------------------
    async def close(self) -> None:
        """On shutdown: end every open login, logging out what was not stored."""
        self._closed = True
        for pending in list(self._logins.values()):
            tasks = list(pending.tasks)
            # Taking the lock first lets a step under way (storing a session) finish.
            await self._drop(pending, Stop.SHUTDOWN)
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _expire_later(self, pending: PendingLogin[E]) -> None:
        await asyncio.sleep(max(0.0, pending.deadline - asyncio.get_running_loop().time()))
        async with pending.lock:
            minutes = max(1, round(self.ttl_s / 60))
            await self._end(pending, LoginState.EXPIRED, Problem("expired", {"minutes": minutes}))

    async def _link(self, pending: PendingLogin[E], info: tg.AccountInfo) -> None:
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

    async def _fail(self, pending: PendingLogin[E], exc: BaseException) -> None:
        """End the login on a refusal, keeping what Telegram meant."""
        failure = login_failure(exc)
        log.warning("login failed", user_id=pending.user_id, error=type(exc).__name__)
        await self._end(pending, LoginState.FAILED, Problem(failure.reason, failure.params))

    async def _end(
        self, pending: PendingLogin[E], state: LoginState, problem: Problem | None
    ) -> None:
        """End a login once with an outcome (the caller holds its lock): stop its tasks, end
        the client, and let the edge tell how it ended (`_ended`)."""
        if pending.ended:
            return
        pending.state, pending.problem, pending.token = state, problem, None
        self._stop_tasks(pending)
        if self.keep_ended_s > 0:
            self._spawn(pending, self._forget_later(pending))
        else:
            self._forget(pending)
        await self._end_login(pending)
        await self._ended(pending)

    async def _drop(self, pending: PendingLogin[E], why: Stop) -> bool:
        """`_quit` under the login's lock."""
        async with pending.lock:
            return await self._quit(pending, why)

    async def _quit(self, pending: PendingLogin[E], why: Stop) -> bool:
        """Forget a login at once (the caller holds its lock), ending it first if it is open
        (then True): nobody is told how it ended."""
        self._stop_tasks(pending)
        was_open = not pending.ended
        if was_open:
            pending.state, pending.token = LoginState.FAILED, None
            await self._end_login(pending)
            await self._dropped(pending, why)
        self._forget(pending)
        return was_open

    @staticmethod
    def _stop_tasks(pending: PendingLogin[E]) -> None:
        current = asyncio.current_task()
        for task in list(pending.tasks):
            if task is not current:
                task.cancel()

    def _forget(self, pending: PendingLogin[E]) -> None:
        if self._logins.get(pending.id) is pending:
            del self._logins[pending.id]

    async def _forget_later(self, pending: PendingLogin[E]) -> None:
        await asyncio.sleep(self.keep_ended_s)
        self._forget(pending)

    @staticmethod
    async def _end_login(pending: PendingLogin[E]) -> None:
        try:
            if pending.stored:
                await pending.login.close()
            else:
                await pending.login.abandon()
        # The connection may already be broken; there is nothing to keep.
        except Exception as exc:  # noqa: BLE001
            log.warning("login client not closed cleanly", error=type(exc).__name__)

    def _spawn(self, pending: PendingLogin[E], coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        pending.tasks.add(task)
        task.add_done_callback(pending.tasks.discard)
        task.add_done_callback(_log_crash)

    # ---- how the edge presents a login (each hook runs under the login's lock) ------------
    async def _enter(self, pending: PendingLogin[E]) -> None:
        """The login now waits in `pending.state`: show the first QR code, or ask for the
        phone number, the code (`pending.code_sent` says where it went) or the password.
        Raising ends the login."""

    async def _qr_renewed(self, pending: PendingLogin[E]) -> None:
        """`pending.token` replaces the code shown so far."""

    async def _scanned(self, pending: PendingLogin[E]) -> None:
        """The QR code was scanned; the login goes on to the password or ends linked."""

    async def _noted(self, pending: PendingLogin[E]) -> None:
        """The answer was not taken (`pending.problem` says why); the login waits again."""

    async def _ended(self, pending: PendingLogin[E]) -> None:
        """The login ended in `pending.state` (LINKED with `account` and `created`, or
        EXPIRED or FAILED with `problem`) and its client is closed."""

    async def _dropped(self, pending: PendingLogin[E], why: Stop) -> None:
        """An open login was dropped (see `Stop`) and its client is closed."""


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("login task failed", exc_info=task.exception())
