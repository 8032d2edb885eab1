"""One aiohttp app serving the fake Bot API and the control API on the same port.

The bot's `AiohttpSession` and the control clients talk to one address, so a test or a
newcomer needs a single URL. The simulated MTProto world (the other half of DESIGN §9) plugs
in later through `registrars`: callables that add their own state and /sandbox/world routes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self

from aiohttp import web

from sandbox.botapi import BOT_API_STATE, BotApiState, register_bot_api
from sandbox.control import register_control

DEFAULT_BOT_TOKEN = "4242:sandbox"
MAX_REQUEST_BYTES = 50 * 1024 * 1024  # Telegram takes documents up to 50 MB from bots
SHUTDOWN_TIMEOUT_S = 5.0

RouteRegistrar = Callable[[web.Application], None]


async def _answer_pending_polls(app: web.Application) -> None:
    app[BOT_API_STATE].close()


def build_app(
    bot_token: str = DEFAULT_BOT_TOKEN, *, registrars: Iterable[RouteRegistrar] = ()
) -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[BOT_API_STATE] = BotApiState(bot_token)
    register_bot_api(app)
    register_control(app)
    for register in registrars:
        register(app)
    # A long poll would otherwise hold graceful shutdown for up to its whole timeout.
    app.on_shutdown.append(_answer_pending_polls)
    return app


class SandboxServer:
    """The sandbox app on a loopback port; port 0 picks a free one.

    Example:
        async with SandboxServer() as sandbox:
            bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url)))
    """

    def __init__(
        self, bot_token: str = DEFAULT_BOT_TOKEN, *, registrars: Iterable[RouteRegistrar] = ()
    ) -> None:
        self.bot_token = bot_token
        self.app = build_app(bot_token, registrars=registrars)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._used = False

    @property
    def state(self) -> BotApiState:
        return self.app[BOT_API_STATE]

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the sandbox server is not started")
        return self._url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        if self._used:
            # aiohttp apps are single-use, and a stopped sandbox has answered its last poll.
            raise RuntimeError("a sandbox server starts once; create a new one")
        self._used = True
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        bound_host, bound_port = runner.addresses[0][:2]
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        self._runner = runner
        self._url = f"http://{shown_host}:{bound_port}"
        return self

    async def stop(self) -> None:
        runner, self._runner, self._url = self._runner, None, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        if not self._used:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
