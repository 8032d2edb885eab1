"""The Telethon gateway: clients of linked accounts and of logins, made by one factory.

The `gateway` package is the only part of the product that imports Telethon, split by role
as Telethon splits its own client: reading (`gateway/reading.py`), linking
(`gateway/login.py`), inviting (`gateway/inviting.py`), with the error translation in
`gateway/errors.py`. Clients come from a factory (`ClientFactory`): the real one builds
`TelegramClient`s with the installation's API credentials; the sandbox provides its own,
plugged into the same Telethon code at the sender seam. Everything that leaves the package
is plain data or a domain error from `core.telegram`, so callers never see Telethon types.

`flood_sleep_threshold` is small on purpose: Telethon would otherwise sleep through flood
waits of up to a minute inside a call, holding an account lease and hiding the limit from
the rules that must honour it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from telethon import TelegramClient
from telethon.sessions import StringSession

from core.logs import register_secret
from core.settings import Settings, TelegramProxy
from gateway.errors import translated
from gateway.login import PhoneLogin, QrLogin
from gateway.proxy import telethon_proxy_options
from gateway.reading import AccountClient, forget_entities

FLOOD_SLEEP_THRESHOLD_S = 3
DEVICE_MODEL = "tg-inviter"


class ClientFactory(Protocol):
    def __call__(self, session: str | None = None) -> TelegramClient: ...


class RealClientFactory:
    """Clients of real Telegram, through TELEGRAM_PROXY when one is set."""

    def __init__(self, api_id: int, api_hash: str, proxy: TelegramProxy | None = None) -> None:
        self._api_id = api_id
        self._api_hash = api_hash
        self._proxy_options = telethon_proxy_options(proxy)

    def __call__(self, session: str | None = None) -> TelegramClient:
        return TelegramClient(
            StringSession(session),
            self._api_id,
            self._api_hash,
            flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD_S,
            device_model=DEVICE_MODEL,
            app_version="1.0",
            **self._proxy_options,
        )


def client_factory(settings: Settings) -> ClientFactory:
    """The sandbox's clients when Telegram is simulated, real ones otherwise."""
    if settings.sandbox_active:
        from sandbox.world.client import SandboxClientFactory

        return SandboxClientFactory(
            settings.sandbox_url, flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD_S
        )
    if settings.telegram_api_id is None or settings.telegram_api_hash is None:
        raise RuntimeError("TELEGRAM_API_ID and TELEGRAM_API_HASH are required without the sandbox")
    if settings.proxy is not None:
        # The process that hands the proxy's password or secret to Telethon keeps it out
        # of its logs.
        for value in settings.proxy.credentials:
            register_secret(value)
    return RealClientFactory(
        settings.telegram_api_id, settings.telegram_api_hash.get_secret_value(), settings.proxy
    )


@dataclass
class TelegramGateway:
    factory: ClientFactory

    @contextlib.asynccontextmanager
    async def account(
        self, session: str, *, remember_entities: bool = True, receive_updates: bool = False
    ) -> AsyncIterator[AccountClient]:
        """A connected client of a linked account (use inside its lease).

        `remember_entities=False` for bulk reading: Telethon would otherwise keep every user
        it is shown in the session's memory, which the collectors never read back (they
        build their input peers themselves) and which grows with each page.
        Updates are off (invokeWithoutUpdates): Telegram then sends the connection none,
        which nobody reading or inviting would read; only logins (`qr_login`) need them.
        """
        client = self.factory(session)
        if not receive_updates:
            await client.set_receive_updates(False)
        if not remember_entities:
            client.session.process_entities = forget_entities
        try:
            # A connect that fails half-way (e.g. AUTH_KEY_DUPLICATED on the first request)
            # leaves the connection open: closed here too, or the next attempt with this
            # session would collide with it.
            with translated():
                await client.connect()
            yield AccountClient(client)
        finally:
            await client.disconnect()

    def qr_login(self) -> QrLogin:
        return QrLogin(self.factory(None))

    def phone_login(self) -> PhoneLogin:
        return PhoneLogin(self.factory(None))
