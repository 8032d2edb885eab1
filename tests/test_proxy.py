"""TELEGRAM_PROXY on loopback: the bot's session and real Telethon clients go through it.

The proxies are written here (SOCKS5, HTTP CONNECT, and the first bytes of an MTProxy): each
records the destination the client asked for, relays only to loopback targets and closes
otherwise, so nothing leaves the machine — tests/conftest.py refuses any other socket, which
also proves that a client did not go around the proxy.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal, Self

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.app import create_bot
from core.logs import redact_text
from core.settings import Settings
from gateway.telegram import RealClientFactory, client_factory
from sandbox.botapi import BOT_USERNAME
from sandbox.server import SandboxServer

# A made-up token of the shape aiogram accepts (never a real one; built so it reads as fake).
TOKEN = "7100200300:" + "fake-proxy-test-token".ljust(35, "0")
IO_TIMEOUT_S = 10.0
# core.telegram.org/resources/cidr.txt: the networks of Telegram's data centres (IPv4).
TELEGRAM_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "91.108.4.0/22",
        "91.108.8.0/22",
        "91.108.12.0/22",
        "91.108.16.0/22",
        "91.108.20.0/22",
        "91.108.56.0/22",
        "91.105.192.0/23",
        "149.154.160.0/20",
        "185.76.151.0/24",
    )
]
MTPROXY_SECRET = "dd" + "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Kind = Literal["socks5", "http", "mtproxy"]


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class RecordingProxy:
    """A SOCKS5 / HTTP CONNECT / MTProxy stand-in on 127.0.0.1 with a random port.

    Records each destination and the credentials it was offered; relays to loopback only.
    An MTProxy stand-in keeps the 64-byte obfuscation header and closes.
    """

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.destinations: list[tuple[str, int]] = []
        self.credentials: list[tuple[str, str]] = []
        self.headers: list[bytes] = []
        self.relayed_bytes = 0
        self.port = 0
        self._seen = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def asked(self, timeout: float = IO_TIMEOUT_S) -> None:
        await asyncio.wait_for(self._seen.wait(), timeout)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        handshake: dict[
            str, Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[Streams | None]]
        ] = {
            "socks5": self._socks5,
            "http": self._http_connect,
            "mtproxy": self._mtproxy,
        }
        try:
            async with asyncio.timeout(IO_TIMEOUT_S):
                target = await handshake[self.kind](reader, writer)
            if target is not None:
                await self._relay((reader, writer), target)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _connect(self, host: str, port: int) -> Streams | None:
        self.destinations.append((host, port))
        self._seen.set()
        if not _loopback(host):
            return None  # Telegram itself: recorded, never reached
        return await asyncio.open_connection(host, port)

    async def _socks5(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Streams | None:
        # RFC 1928 (and RFC 1929 for user/password).
        version, count = await reader.readexactly(2)
        assert version == 5
        methods = await reader.readexactly(count)
        if 2 in methods:
            writer.write(b"\x05\x02")
            await reader.readexactly(1)
            user = await reader.readexactly((await reader.readexactly(1))[0])
            password = await reader.readexactly((await reader.readexactly(1))[0])
            self.credentials.append((user.decode(), password.decode()))
            writer.write(b"\x01\x00")
        else:
            writer.write(b"\x05\x00")
        _, command, _, address_type = await reader.readexactly(4)
        assert command == 1  # CONNECT
        if address_type == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif address_type == 4:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        else:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        port = int.from_bytes(await reader.readexactly(2), "big")
        target = await self._connect(host, port)
        if target is not None:
            writer.write(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
        return target

    async def _http_connect(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Streams | None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, authority, _ = head[0].split(" ")
        assert method == "CONNECT"
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "proxy-authorization":
                user, _, password = base64.b64decode(value.split()[1]).decode().partition(":")
                self.credentials.append((user, password))
        host, _, port = authority.rpartition(":")
        target = await self._connect(host.strip("[]"), int(port))
        if target is not None:
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        return target

    async def _mtproxy(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Streams | None:
        self.headers.append(await reader.readexactly(64))
        self._seen.set()
        return None

    async def _relay(self, client: Streams, target: Streams) -> None:
        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                self.relayed_bytes += len(data)
                sink.write(data)
                await sink.drain()
            sink.close()

        try:
            await asyncio.gather(pump(client[0], target[1]), pump(target[0], client[1]))
        finally:
            target[1].close()


def _settings(test_env: dict[str, str], **values: object) -> Settings:
    base = {k.lower(): v for k, v in test_env.items()}
    real = {
        "sandbox": "off",
        "bot_token": TOKEN,
        "telegram_api_id": 12345,
        "telegram_api_hash": "0123456789abcdef0123456789abcdef",
    }
    return Settings(_env_file=None, **{**base, **real, **values})  # type: ignore[call-arg]  # pydantic-settings' init option


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(TOKEN) as server:
        yield server


async def _bot_get_me(settings: Settings) -> Any:
    """The bot the product builds from these settings asks the Bot API who it is."""
    bot = create_bot(settings)
    try:
        return await bot.get_me()
    finally:
        await bot.session.close()


@pytest.mark.parametrize("kind", ["http", "socks5"])
async def test_the_bot_reaches_the_bot_api_through_the_proxy(
    kind: Kind, test_env: dict[str, str], sandbox: SandboxServer
) -> None:
    async with RecordingProxy(kind) as proxy:
        # A password with characters a URL must quote arrives at the proxy unchanged.
        settings = _settings(
            test_env,
            bot_api_url=sandbox.url,
            telegram_proxy=f"{kind}://alice:p%40ss%3Aw0rd@127.0.0.1:{proxy.port}",
        )
        me = await _bot_get_me(settings)
    assert me.username == BOT_USERNAME
    sandbox_port = int(sandbox.url.rsplit(":", 1)[1])
    assert proxy.destinations == [("127.0.0.1", sandbox_port)]
    assert proxy.credentials == [("alice", "p@ss:w0rd")]
    assert proxy.relayed_bytes > 0


async def test_with_an_mtproxy_the_bot_goes_direct(
    test_env: dict[str, str], sandbox: SandboxServer
) -> None:
    async with RecordingProxy("mtproxy") as proxy:
        settings = _settings(
            test_env,
            bot_api_url=sandbox.url,
            telegram_proxy=f"mtproxy://{MTPROXY_SECRET}@127.0.0.1:{proxy.port}",
        )
        me = await _bot_get_me(settings)
    assert me.username == BOT_USERNAME
    assert proxy.headers == [] and proxy.destinations == []


async def _first_connect(client_connect: Awaitable[None], proxy: RecordingProxy) -> None:
    """Start a client's connect, wait until the proxy has seen it, then give up on it."""
    connecting = asyncio.ensure_future(client_connect)
    try:
        await proxy.asked()
    finally:
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
            await connecting


@pytest.mark.parametrize("kind", ["socks5", "http"])
async def test_account_clients_connect_through_the_proxy(
    kind: Kind, test_env: dict[str, str]
) -> None:
    async with RecordingProxy(kind) as proxy:
        settings = _settings(
            test_env, telegram_proxy=f"{kind}://bob:s3cret-pw@127.0.0.1:{proxy.port}"
        )
        factory = client_factory(settings)
        assert isinstance(factory, RealClientFactory)
        client = factory(None)
        try:
            await _first_connect(client.connect(), proxy)
        finally:
            await client.disconnect()
    host, port = proxy.destinations[0]
    assert any(ipaddress.ip_address(host) in net for net in TELEGRAM_NETWORKS), host
    assert port == 443
    assert proxy.credentials[0] == ("bob", "s3cret-pw")
    assert proxy.relayed_bytes == 0
    # The process that holds the proxy's password keeps it out of its logs.
    assert "s3cret-pw" not in redact_text("proxy login with s3cret-pw failed")


async def test_account_clients_speak_mtproxy_with_the_secret(test_env: dict[str, str]) -> None:
    async with RecordingProxy("mtproxy") as proxy:
        settings = _settings(
            test_env, telegram_proxy=f"mtproxy://{MTPROXY_SECRET}@127.0.0.1:{proxy.port}"
        )
        client = client_factory(settings)(None)
        try:
            await _first_connect(client.connect(), proxy)
        finally:
            await client.disconnect()
    # The obfuscation header as an MTProxy reads it (telethon's MTProxyIO.init_header): the
    # key is sha256(bytes 8..40 + secret), the IV bytes 40..56; decrypted, bytes 56..60 are
    # the codec's tag (dd: randomized intermediate) and 60..62 the data centre.
    header = proxy.headers[0]
    secret = bytes.fromhex(MTPROXY_SECRET[2:])
    key = hashlib.sha256(header[8:40] + secret).digest()
    plain = Cipher(algorithms.AES(key), modes.CTR(header[40:56])).decryptor().update(header)
    assert plain[56:60] == b"\xdd\xdd\xdd\xdd"
    assert int.from_bytes(plain[60:62], "little", signed=True) == 2  # Telethon starts at DC 2
