"""One aiohttp app serving the fake Bot API, the simulated MTProto world and the control API.

The bot's `AiohttpSession`, Telethon clients in other processes and the control clients all
talk to one address, so a test or a newcomer needs a single URL. `/` is the sandbox page
(`sandbox.page`), where a person chats with the bot in a browser. `registrars` add further
routes (callables that take the app).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self

from aiohttp import web

from sandbox.botapi import BOT_API_STATE, BotApiState, register_bot_api
from sandbox.control import register_control
from sandbox.page import register_page
from sandbox.world.control import WORLD
from sandbox.world.routes import register_world
from sandbox.world.world import World

DEFAULT_BOT_TOKEN = "4242:sandbox"
MAX_REQUEST_BYTES = 50 * 1024 * 1024  # Telegram takes documents up to 50 MB from bots
SHUTDOWN_TIMEOUT_S = 5.0

RouteRegistrar = Callable[[web.Application], None]


async def _answer_pending_polls(app: web.Application) -> None:
    app[BOT_API_STATE].close()


def build_app(
    bot_token: str = DEFAULT_BOT_TOKEN,
    *,
    world: World | None = None,
    registrars: Iterable[RouteRegistrar] = (),
    page: bool = True,
) -> web.Application:
    """The sandbox app; without `world` it simulates an empty one, with `page=False` it
    serves no page at `/` (404)."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[BOT_API_STATE] = BotApiState(bot_token)
    register_bot_api(app)
    register_control(app)
    register_world(app, world if world is not None else World())
    if page:
        register_page(app)
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
            client = SandboxClientFactory(sandbox.url)(None)  # a Telethon client on its world
    """

    def __init__(
        self,
        bot_token: str = DEFAULT_BOT_TOKEN,
        *,
        world: World | None = None,
        registrars: Iterable[RouteRegistrar] = (),
        page: bool = True,
    ) -> None:
        self.bot_token = bot_token
        self.app = build_app(bot_token, world=world, registrars=registrars, page=page)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._used = False

    @property
    def state(self) -> BotApiState:
        return self.app[BOT_API_STATE]

    @property
    def world(self) -> World:
        return self.app[WORLD]

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
