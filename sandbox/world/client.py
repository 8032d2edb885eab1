"""Real `TelegramClient`s wired to the simulated world instead of Telegram's servers.

Telethon is used unchanged above its sender (`client._sender`): the client still resolves
entities, caches access hashes, sleeps through short flood waits, logs in by QR or code and
runs its update loop. Below the seam the sender does what the network would: it hands the
serialized request to the world and reads the serialized answer back with
`request.read_result`, and RPC errors become Telethon's exceptions through the very function
the real sender uses (`rpc_message_to_error`).

Two transports with one behaviour: `LocalSender` calls a `World` in this process (tests);
`RemoteSender` posts the bytes to a sandbox over loopback HTTP, so bot and worker processes
share one world. Neither ever opens a socket to Telegram.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from typing import Any

import aiohttp
from telethon import TelegramClient, utils
from telethon.errors import AuthKeyNotFound, rpc_message_to_error
from telethon.extensions import BinaryReader
from telethon.network.mtprotosender import MTProtoSender
from telethon.sessions import StringSession
from telethon.tl import types as tt

from sandbox.world.errors import RpcFailure
from sandbox.world.world import UnknownAuthKey, UnknownConnection, World

log = logging.getLogger(__name__)

SANDBOX_API_ID = 4242
SANDBOX_API_HASH = "5a4d626f78000000000000000000cafe"
"""Credentials the sandbox accepts; they open nothing on the real Telegram."""
DEFAULT_FLOOD_SLEEP_THRESHOLD = 5
UPDATES_POLL_S = 20.0
POLL_RETRY_S = 0.5
POLL_FAILURES_BEFORE_DISCONNECT = 3

_Outcome = bytes | RpcFailure


class _WorldSender(MTProtoSender):
    """An MTProtoSender whose "network" is a simulated world; subclasses supply the transport."""

    _user_connected: bool  # set by MTProtoSender.__init__ (Telethon carries no types)

    def __init__(self, client: TelegramClient) -> None:
        super().__init__(
            client.session.auth_key,
            loggers=client._log,
            updates_queue=client._updates_queue,
        )
        self._session = client.session
        """Says which data centre to connect to (Telethon's `_switch_dc` changes it)."""
        self._client = client
        """Whether it wants updates (`receive_updates`) is read when connecting."""
        self._in_flight: set[asyncio.Task[None]] = set()
        self._updates_task: asyncio.Task[None] | None = None
        self._loss: ConnectionError | None = None
        """Why the connection dropped on its own; pending requests fail with it."""

    # ---- the transport (subclasses) -----------------------------------------------------
    async def _open(self, auth_key: bytes | None, dc: int) -> bytes:
        """Open a world connection to data centre `dc`; returns the auth key (made by the
        world when None). Raises AuthKeyNotFound when that DC does not know the key."""
        raise NotImplementedError

    async def _invoke(self, data: bytes) -> _Outcome:
        raise NotImplementedError

    async def _poll_updates(self) -> list[bytes]:
        raise NotImplementedError

    async def _close(self) -> None:
        raise NotImplementedError

    # ---- MTProtoSender surface used by TelegramClient ----------------------------------
    async def connect(self, connection: Any) -> bool:
        if self._user_connected:
            return False
        self.auth_key.key = await self._open(self.auth_key.key, self._session.dc_id)
        self._loss = None
        # Telethon's TCP connection object is kept for its bookkeeping but never connected.
        self._connection = connection
        self._user_connected = True
        loop = asyncio.get_running_loop()
        # A pending future: Telethon's keepalive loop waits on it between pings.
        self._MTProtoSender__disconnected = loop.create_future()
        # A client made with receive_updates=False wraps its first request in
        # invokeWithoutUpdates (core.telegram.org/method/invokeWithoutUpdates): Telegram
        # then sends it no updates, so there is nothing to poll for.
        if not getattr(self._client, "_no_updates", False):
            self._updates_task = loop.create_task(self._pump_updates())
        return True

    def is_connected(self) -> bool:
        return self._user_connected

    def _transport_connected(self) -> bool:
        return self._user_connected

    def _keepalive_ping(self, rnd_id: int) -> None:
        pass  # nothing to keep alive: the world has no idle timeouts for open connections

    def send(self, request: Any, ordered: bool = False) -> Any:
        if not self._user_connected:
            raise ConnectionError("Cannot send requests while disconnected")
        if not utils.is_list_like(request):
            return self._submit([request], ordered=False)[0]
        return self._submit(list(request), ordered=ordered)

    def _submit(self, requests: list[Any], *, ordered: bool) -> list[asyncio.Future[Any]]:
        loop = asyncio.get_running_loop()
        # Serialize now, as RequestState does, so bad arguments fail in the caller.
        batch = [(r, bytes(r), loop.create_future()) for r in requests]
        if ordered:
            self._spawn(self._deliver_in_order(batch))
        else:
            for item in batch:
                self._spawn(self._deliver(*item))
        return [future for _, _, future in batch]

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _deliver_in_order(self, batch: list[tuple[Any, bytes, asyncio.Future[Any]]]) -> None:
        for item in batch:
            await self._deliver(*item)

    async def _deliver(self, request: Any, data: bytes, future: asyncio.Future[Any]) -> None:
        try:
            outcome = await self._invoke(data)
            if isinstance(outcome, RpcFailure):
                error = tt.RpcError(error_code=outcome.code, error_message=outcome.message)
                raise rpc_message_to_error(error, request)
            with BinaryReader(outcome) as reader:
                result = request.read_result(reader)
        except asyncio.CancelledError:
            if self._loss is not None and not future.done():
                future.set_exception(self._loss)
            else:
                future.cancel()  # an explicit disconnect cancels pending calls, as Telethon's does
            raise
        except Exception as error:  # noqa: BLE001 - raised by the call that waits on it
            if not future.done():
                future.set_exception(error)
            return
        # The real sender feeds the client's own Updates results to the update loop.
        self._store_own_updates(result)
        if not future.done():
            future.set_result(result)

    async def _pump_updates(self) -> None:
        failures = 0
        while self._user_connected:
            try:
                batch = await self._poll_updates()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - counted; enough of them disconnect
                failures += 1
                if (
                    isinstance(error, UnknownConnection)
                    or failures >= POLL_FAILURES_BEFORE_DISCONNECT
                ):
                    log.warning("sandbox world connection lost: %s", error)
                    await self._lost(ConnectionError(f"sandbox world connection lost: {error}"))
                    return
                await asyncio.sleep(POLL_RETRY_S)
                continue
            failures = 0
            for data in batch:
                with BinaryReader(data) as reader:
                    self._updates_queue.put_nowait(reader.tgread_object())

    async def _lost(self, error: ConnectionError) -> None:
        self._loss = error
        self._user_connected = False
        for task in list(self._in_flight):
            task.cancel()
        disconnected = self._MTProtoSender__disconnected
        if disconnected is not None and not disconnected.done():
            disconnected.set_exception(error)
            disconnected.exception()  # retrieved here: nobody may be awaiting it
        with contextlib.suppress(Exception):
            await self._close()

    async def disconnect(self) -> None:
        was_connected, self._user_connected = self._user_connected, False
        current = asyncio.current_task()
        tasks = [
            t for t in [self._updates_task, *self._in_flight] if t is not None and t is not current
        ]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._updates_task = None
        if was_connected:
            with contextlib.suppress(Exception):
                await self._close()
        disconnected = self._MTProtoSender__disconnected
        if disconnected is not None and not disconnected.done():
            disconnected.set_result(None)


class LocalSender(_WorldSender):
    """Talks to a `World` living in this process."""

    def __init__(self, client: TelegramClient, world: World) -> None:
        super().__init__(client)
        self._world = world
        self._connection_id: str | None = None

    async def _open(self, auth_key: bytes | None, dc: int) -> bytes:
        try:
            self._connection_id, key = self._world.open_connection(auth_key, remote=False, dc=dc)
        except UnknownAuthKey:
            raise AuthKeyNotFound() from None
        return key

    async def _invoke(self, data: bytes) -> _Outcome:
        await asyncio.sleep(0)  # answer later, like a network would
        assert self._connection_id is not None
        try:
            return self._world.invoke(self._connection_id, data)
        except RpcFailure as failure:
            return failure
        except UnknownConnection as error:
            raise ConnectionError(f"sandbox world connection closed: {error}") from None

    async def _poll_updates(self) -> list[bytes]:
        assert self._connection_id is not None
        return await self._world.wait_updates(self._connection_id, UPDATES_POLL_S)

    async def _close(self) -> None:
        if self._connection_id is not None:
            self._world.close_connection(self._connection_id)


class RemoteSender(_WorldSender):
    """Talks to the world of a sandbox over loopback HTTP (`/sandbox/mtproto/...`)."""

    def __init__(self, client: TelegramClient, base_url: str) -> None:
        super().__init__(client)
        self._base_url = base_url.rstrip("/")
        self._http: aiohttp.ClientSession | None = None
        self._connection_id: str | None = None

    def _url(self, tail: str) -> str:
        return f"{self._base_url}/sandbox/mtproto/{tail}"

    async def _open(self, auth_key: bytes | None, dc: int) -> bytes:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=UPDATES_POLL_S + 10))
        key = base64.b64encode(auth_key).decode() if auth_key else None
        body = {"auth_key": key, "dc_id": dc}
        try:
            async with self._http.post(self._url("connect"), json=body) as response:
                if response.status == 404:
                    raise AuthKeyNotFound()
                if response.status != 200:
                    raise ConnectionError(
                        f"sandbox refused the connection: {await response.text()}"
                    )
                answer = await response.json()
        except BaseException:
            await self._http.close()
            self._http = None
            raise
        self._connection_id = answer["connection"]
        return base64.b64decode(answer["auth_key"])

    async def _invoke(self, data: bytes) -> _Outcome:
        assert self._http is not None
        url = self._url(f"invoke?connection={self._connection_id}")
        try:
            async with self._http.post(url, data=data) as response:
                if response.status == 404:
                    raise ConnectionError("sandbox world connection closed")
                if response.status != 200:
                    raise ConnectionError(
                        f"sandbox answered {response.status}: {await response.text()}"
                    )
                if response.content_type == "application/json":
                    failure = (await response.json())["rpc_error"]
                    return RpcFailure(failure["message"], failure["code"])
                return await response.read()
        except aiohttp.ClientError as error:
            raise ConnectionError(f"sandbox unreachable: {error}") from error

    async def _poll_updates(self) -> list[bytes]:
        assert self._http is not None
        url = self._url(f"updates?connection={self._connection_id}&timeout={UPDATES_POLL_S:g}")
        async with self._http.get(url) as response:
            if response.status == 404:
                raise UnknownConnection(self._connection_id or "")
            response.raise_for_status()
            answer = await response.json()
        return [base64.b64decode(item) for item in answer["updates"]]

    async def _close(self) -> None:
        http, self._http = self._http, None
        if http is None:
            return
        try:
            if self._connection_id is not None:
                body = {"connection": self._connection_id}
                async with http.post(self._url("disconnect"), json=body) as response:
                    response.release()
        except aiohttp.ClientError:
            pass  # the sandbox is gone; its world went with it
        finally:
            await http.close()


def _client(session: str | None, flood_sleep_threshold: int) -> TelegramClient:
    return TelegramClient(
        StringSession(session or None),
        SANDBOX_API_ID,
        SANDBOX_API_HASH,
        flood_sleep_threshold=flood_sleep_threshold,
        device_model="tg-inviter sandbox",
        system_version="sandbox",
        app_version="sandbox",
    )


class InProcessClientFactory:
    """`factory(session_string) -> TelegramClient` on a `World` in this process (not connected).

    Example:
        client = InProcessClientFactory(world)(None)
        await client.connect()
    """

    def __init__(
        self, world: World, *, flood_sleep_threshold: int = DEFAULT_FLOOD_SLEEP_THRESHOLD
    ) -> None:
        self.world = world
        self.flood_sleep_threshold = flood_sleep_threshold

    def __call__(self, session: str | None = None) -> TelegramClient:
        client = _client(session, self.flood_sleep_threshold)
        client._sender = LocalSender(client, self.world)
        return client


class SandboxClientFactory:
    """`factory(session_string) -> TelegramClient` on the world of a sandbox at `base_url`.

    A session saved with `client.session.save()` is logged in as the same user when loaded
    by another process through another factory: authorizations live in the world.
    """

    def __init__(
        self, base_url: str, *, flood_sleep_threshold: int = DEFAULT_FLOOD_SLEEP_THRESHOLD
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.flood_sleep_threshold = flood_sleep_threshold

    def __call__(self, session: str | None = None) -> TelegramClient:
        client = _client(session, self.flood_sleep_threshold)
        client._sender = RemoteSender(client, self.base_url)
        return client
