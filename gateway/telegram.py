"""The Telethon gateway: the one module of the product that imports Telethon.

Clients come from a factory (`ClientFactory`): the real one builds `TelegramClient`s with
the installation's API credentials; the sandbox provides its own, plugged into the same
Telethon code at the sender seam. Everything that leaves this module is plain data or a
domain error from `core.telegram`, so callers never see Telethon types.

`flood_sleep_threshold` is small on purpose: Telethon would otherwise sleep through flood
waits of up to a minute inside a call, holding an account lease and hiding the limit from
the rules that must honour it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from telethon import TelegramClient, errors, functions, types
from telethon.sessions import StringSession

from core import telegram as tg
from core.settings import Settings

FLOOD_SLEEP_THRESHOLD_S = 3
DEVICE_MODEL = "tg-inviter"


class ClientFactory(Protocol):
    def __call__(self, session: str | None = None) -> TelegramClient: ...


class RealClientFactory:
    def __init__(self, api_id: int, api_hash: str) -> None:
        self._api_id = api_id
        self._api_hash = api_hash

    def __call__(self, session: str | None = None) -> TelegramClient:
        return TelegramClient(
            StringSession(session),
            self._api_id,
            self._api_hash,
            flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD_S,
            device_model=DEVICE_MODEL,
            app_version="1.0",
        )


def client_factory(settings: Settings) -> ClientFactory:
    """The sandbox's clients when Telegram is simulated, real ones otherwise."""
    if settings.sandbox_active:
        from sandbox.world.client import SandboxClientFactory

        return SandboxClientFactory(settings.sandbox_url, flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD_S)
    if settings.telegram_api_id is None or settings.telegram_api_hash is None:
        raise RuntimeError("TELEGRAM_API_ID and TELEGRAM_API_HASH are required without the sandbox")
    return RealClientFactory(settings.telegram_api_id, settings.telegram_api_hash.get_secret_value())


# --- errors ---------------------------------------------------------------------------
_UNAUTHORIZED = (
    errors.AuthKeyUnregisteredError,
    errors.SessionRevokedError,
    errors.SessionExpiredError,
    errors.AuthKeyInvalidError,
)
_BANNED = (
    errors.UserDeactivatedError,
    errors.UserDeactivatedBanError,
    errors.PhoneNumberBannedError,
)


def _rpc_name(exc: BaseException) -> str:
    """Telegram's name of the error: Telethon keeps it only in the class name
    (`AuthKeyUnregisteredError` → `AUTH_KEY_UNREGISTERED`); generic classes keep `.message`."""
    cls = type(exc)
    if cls.__module__.endswith("rpcerrorlist"):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.removesuffix("Error")).upper()
    return str(getattr(exc, "message", "") or cls.__name__)


def translate(exc: BaseException) -> BaseException:
    """The domain error for a Telethon error; other exceptions pass through unchanged."""
    rpc = _rpc_name(exc)
    if isinstance(exc, errors.FloodWaitError):
        return tg.FloodWait(int(exc.seconds), rpc)
    if isinstance(exc, errors.PeerFloodError):
        return tg.PeerFlood(rpc)
    if isinstance(exc, errors.AuthKeyDuplicatedError):
        return tg.AuthKeyDuplicated(rpc)
    if isinstance(exc, _UNAUTHORIZED):
        return tg.AccountUnauthorized(rpc)
    if isinstance(exc, _BANNED):
        return tg.AccountBanned(rpc)
    if isinstance(exc, errors.SessionPasswordNeededError):
        return tg.PasswordNeeded(rpc)
    if isinstance(exc, errors.PasswordHashInvalidError):
        return tg.WrongPassword(rpc)
    if isinstance(exc, (errors.PhoneCodeInvalidError, errors.PhoneCodeEmptyError)):
        return tg.WrongCode(rpc)
    if isinstance(exc, errors.PhoneCodeExpiredError):
        return tg.CodeExpired(rpc)
    if isinstance(exc, errors.PhoneNumberInvalidError):
        return tg.PhoneInvalid(rpc)
    if isinstance(exc, errors.PhoneNumberUnoccupiedError):
        return tg.PhoneNotRegistered(rpc)
    if isinstance(exc, errors.RPCError):
        return tg.TelegramError(rpc)
    return exc


@contextlib.contextmanager
def translated() -> Any:
    try:
        yield
    except (errors.RPCError, errors.FloodWaitError) as exc:
        raise translate(exc) from exc


def _info(user: Any) -> tg.AccountInfo:
    return tg.AccountInfo(
        tg_user_id=int(user.id),
        username=user.username,
        first_name=user.first_name or "",
        phone=user.phone,
    )


# --- sessions of linked accounts ----------------------------------------------------------
class AccountClient:
    """A connected client of one linked account (use inside its lease)."""

    def __init__(self, client: TelegramClient) -> None:
        self._client = client

    async def me(self) -> tg.AccountInfo:
        """The account's own profile; `AccountUnauthorized` / `AccountBanned` when it is gone."""
        # A raw call, not `get_me()`: that one swallows every 401 (revoked *and* banned)
        # into None, and the two need different statuses.
        with translated():
            users = await self._client(functions.users.GetUsersRequest([types.InputUserSelf()]))
        if not users or isinstance(users[0], types.UserEmpty):
            raise tg.AccountUnauthorized("NOT_AUTHORIZED")
        return _info(users[0])

    async def log_out(self) -> None:
        with translated():
            await self._client.log_out()

    def session_string(self) -> str:
        return StringSession.save(self._client.session)


@dataclass
class TelegramGateway:
    factory: ClientFactory

    @contextlib.asynccontextmanager
    async def account(self, session: str) -> AsyncIterator[AccountClient]:
        client = self.factory(session)
        with translated():
            await client.connect()
        try:
            yield AccountClient(client)
        finally:
            await client.disconnect()

    def qr_login(self) -> QrLogin:
        return QrLogin(self.factory(None))

    def phone_login(self) -> PhoneLogin:
        return PhoneLogin(self.factory(None))


# --- linking -------------------------------------------------------------------------------
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
        return _info(user)

    def session_string(self) -> str:
        return StringSession.save(self._client.session)

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
    def __init__(self, client: TelegramClient) -> None:
        super().__init__(client)
        self._qr: Any = None

    async def token(self) -> QrToken:
        """A new login QR (also to replace one about to expire)."""
        await self._connect()
        with translated():
            if self._qr is None:
                self._qr = await self._client.qr_login()
            else:
                await self._qr.recreate()
        return QrToken(url=self._qr.url, expires_at=self._qr.expires)

    async def wait(self, timeout_s: float) -> tg.AccountInfo:
        """The account once the QR is scanned; `PasswordNeeded` when 2FA is on,
        `LoginTimeout` when nobody scanned it in time."""
        try:
            with translated():
                user = await self._qr.wait(timeout=timeout_s)
        except asyncio.TimeoutError:
            raise tg.LoginTimeout("QR_NOT_SCANNED") from None
        return _info(user)


class PhoneLogin(_Login):
    def __init__(self, client: TelegramClient) -> None:
        super().__init__(client)
        self._phone: str | None = None
        self._hash: str | None = None

    async def send_code(self, phone: str) -> None:
        await self._connect()
        with translated():
            sent = await self._client.send_code_request(phone)
        self._phone, self._hash = phone, sent.phone_code_hash

    async def sign_in(self, code: str) -> tg.AccountInfo:
        with translated():
            user = await self._client.sign_in(self._phone, code, phone_code_hash=self._hash)
        return _info(user)


