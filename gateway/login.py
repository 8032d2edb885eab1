"""Linking an account: login by QR code (with the 2FA password) or by phone code.

Each login is a fresh, not yet authorized client; the bot keeps it open for at most a few
minutes and closes it whatever happens.

An account lives on one of Telegram's data centres, and a login started on another one ends
there: a scanned QR code answers `auth.loginTokenMigrateTo` (handled below, as Telethon's
own `QRLogin.wait` does), a phone number answers `PHONE_MIGRATE_X` (handled inside
Telethon's request loop). Either way the client moves to that DC with a new auth key, so
the session saved afterwards names that DC and its key.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telethon import TelegramClient, events, functions, types
from telethon.sessions import StringSession

from core import telegram as tg
from core.linking import CodeDelivery, CodeSent
from gateway.errors import translate, translated
from gateway.reading import account_info


@dataclass(frozen=True, slots=True)
class QrToken:
    url: str
    expires_at: datetime


class _Login:
    """A fresh, not yet authorized client; `close()` it whatever happens."""

    def __init__(self, client: TelegramClient) -> None:
        self._client = client
        self._connected = False

    async def _connect(self) -> None:
        if not self._connected:
            with translated():
                await self._client.connect()
            self._connected = True

    async def check_password(self, password: str) -> tg.AccountInfo:
        """Finish a login that needs the 2FA password; `WrongPassword` lets the user retry."""
        with translated():
            user = await self._client.sign_in(password=password)
        return account_info(user)

    def session_string(self) -> str:
        saved: str = StringSession.save(self._client.session)
        return saved

    async def close(self) -> None:
        if self._connected:
            await self._client.disconnect()
            self._connected = False

    async def abandon(self) -> None:
        """Throw away a half-done login, logging the new authorization out if there is one."""
        if self._connected:
            with contextlib.suppress(Exception):
                if await self._client.is_user_authorized():
                    await self._client.log_out()
        await self.close()


class QrLogin(_Login):
    """A login by QR code, scanned with Telegram on a phone that is already logged in.

    Telegram announces a scan once, with `UpdateLoginToken`, and never replays it. So the
    listener is installed before the first code exists and stays until the login ends, and
    every export of a token (the first one, each refresh, and the one that collects the
    result after a scan) runs under one lock: a scan that lands while a refresh is under way
    is collected by whichever export comes first, and `wait()` hears about it either way.
    """

    def __init__(self, client: TelegramClient) -> None:
        super().__init__(client)
        self._lock = asyncio.Lock()
        self._outcome: asyncio.Future[tg.AccountInfo] | None = None
        self._listening = False
        self._collector: asyncio.Task[None] | None = None

    def _future(self) -> asyncio.Future[tg.AccountInfo]:
        if self._outcome is None:
            self._outcome = asyncio.get_running_loop().create_future()
            # Nobody may be waiting when the login fails (e.g. it expired meanwhile).
            self._outcome.add_done_callback(lambda f: f.cancelled() or f.exception())
        return self._outcome

    def _settle(
        self, result: tg.AccountInfo | None = None, error: BaseException | None = None
    ) -> None:
        outcome = self._future()
        if outcome.done():
            return
        if error is not None:
            outcome.set_exception(error)
        else:
            outcome.set_result(result)  # type: ignore[arg-type]

    async def token(self) -> QrToken | None:
        """A new login QR (also to replace one about to expire).

        None when the previous QR has been scanned meanwhile: `wait()` then answers at once.
        """
        await self._connect()
        outcome = self._future()
        if not self._listening:
            self._client.add_event_handler(self._on_scan, events.Raw(types.UpdateLoginToken))
            self._listening = True
        async with self._lock:
            if outcome.done():
                return None
            answer = await self._export()
        if isinstance(answer, types.auth.LoginToken):
            return QrToken(url=_login_url(answer.token), expires_at=answer.expires)
        return None

    async def _export(self) -> Any:
        """One `auth.exportLoginToken` (under the lock); a finished login settles the outcome."""
        request = functions.auth.ExportLoginTokenRequest(
            self._client.api_id, self._client.api_hash, except_ids=[]
        )
        try:
            with translated():
                answer = await self._client(request)
                if isinstance(answer, types.auth.LoginTokenMigrateTo):
                    # core.telegram.org/api/qr-login: the account lives on another DC; the
                    # token is imported there. `_switch_dc` (what Telethon's QRLogin.wait
                    # calls) reconnects this client to that DC with a new auth key.
                    await self._client._switch_dc(answer.dc_id)
                    answer = await self._client(
                        functions.auth.ImportLoginTokenRequest(answer.token)
                    )
        except tg.PasswordNeeded as exc:
            self._settle(error=exc)
            return None
        if isinstance(answer, types.auth.LoginTokenSuccess):
            user = answer.authorization.user
            # What Telethon's own QR login does once it has the user: marks the client logged in.
            with translated():
                await self._client._on_login(user)
            self._settle(account_info(user))
            return None
        return answer

    async def _on_scan(self, update: Any) -> None:
        # Collect in a task of our own, so closing the login can stop it.
        if self._collector is None or self._collector.done():
            self._collector = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        async with self._lock:
            if self._future().done():
                return
            try:
                await self._export()
            except Exception as exc:  # noqa: BLE001 - handed to wait(), which raises it
                self._settle(error=translate(exc))

    async def wait(self, timeout_s: float) -> tg.AccountInfo:
        """The account once the QR is scanned; `PasswordNeeded` when 2FA is on,
        `LoginTimeout` when nobody scanned it within `timeout_s`.

        Timing out (or being cancelled) ends nothing: call it again, e.g. after a refresh.
        """
        try:
            return await asyncio.wait_for(asyncio.shield(self._future()), max(timeout_s, 0.0))
        except TimeoutError:
            raise tg.LoginTimeout("QR_NOT_SCANNED") from None

    async def close(self) -> None:
        if self._listening:
            self._client.remove_event_handler(self._on_scan)
            self._listening = False
        collector, self._collector = self._collector, None
        if collector is not None and not collector.done():
            collector.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await collector
        if self._outcome is not None and not self._outcome.done():
            self._outcome.cancel()
        await super().close()


def _login_url(token: bytes) -> str:
    return "tg://login?token=" + base64.urlsafe_b64encode(token).decode().rstrip("=")


class PhoneLogin(_Login):
    def __init__(self, client: TelegramClient) -> None:
        super().__init__(client)
        self._phone: str | None = None
        self._hash: str | None = None

    async def send_code(self, phone: str) -> CodeSent:
        """Ask Telegram to send a login code to `phone`, and say where it went.

        Raises `LoginEmailRequired` when Telegram sends none until the account has a login
        email; Telegram's refusals (banned number, floods, ...) as domain errors.
        """
        await self._connect()
        with translated():
            # Telethon answers PHONE_MIGRATE_X itself (moves to that DC, asks again) and
            # returns auth.sentCode as it came. auth.sentCodeSuccess only answers a request
            # that carries future auth tokens, which Telethon never sends.
            sent = await self._client.send_code_request(phone)
        self._phone, self._hash = phone, sent.phone_code_hash
        return _code_sent(sent.type)

    async def sign_in(self, code: str) -> tg.AccountInfo:
        with translated():
            user = await self._client.sign_in(self._phone, code, phone_code_hash=self._hash)
        return account_info(user)


_DELIVERY: dict[type, CodeDelivery] = {
    types.auth.SentCodeTypeApp: CodeDelivery.APP,
    types.auth.SentCodeTypeSms: CodeDelivery.SMS,
    types.auth.SentCodeTypeFirebaseSms: CodeDelivery.SMS,
    types.auth.SentCodeTypeCall: CodeDelivery.CALL,
    types.auth.SentCodeTypeFlashCall: CodeDelivery.CALL,
    types.auth.SentCodeTypeMissedCall: CodeDelivery.CALL,
    types.auth.SentCodeTypeEmailCode: CodeDelivery.EMAIL,
}
"""core.telegram.org/type/auth.SentCodeType; other types (Fragment, a secret word or phrase
by SMS) are named to the person in general terms."""


def _code_sent(kind: Any) -> CodeSent:
    if isinstance(kind, types.auth.SentCodeTypeSetUpEmailRequired):
        # core.telegram.org/constructor/auth.sentCodeTypeSetUpEmailRequired: no code was
        # sent; the user must first add and verify a login email.
        raise tg.LoginEmailRequired()
    via = _DELIVERY.get(type(kind), CodeDelivery.OTHER)
    pattern = getattr(kind, "email_pattern", None) if via is CodeDelivery.EMAIL else None
    return CodeSent(via=via, email_pattern=pattern)
