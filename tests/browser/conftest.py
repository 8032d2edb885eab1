"""The web panel in a real browser: headless Chromium (Debian's) driven by Selenium.

Selenium's calls block, so the product runs on an event loop of its own in a background
thread: the sandbox (Bot API + a simulated world), the real API application serving the
panel, the real bot long-polling the sandbox, and the invite engine inviting with a pause of
one second. The test thread drives the browser and reaches into that loop with `stack.run()`.
Everything listens on 127.0.0.1 only; the browser is pointed at the binaries installed by
`apt-get install chromium chromium-driver`, so Selenium never downloads anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import build_dispatcher, create_bot
from bot.linking import PendingLogins
from core.accounts import build_account_service
from core.audiences import AudienceService
from core.campaign_service import CampaignService
from core.limits import InviteLimits
from core.logincodes import CODE_ALPHABET, CODE_LENGTH
from core.parsing import Filters
from core.settings import DATA_DIR, SANDBOX_BOT_TOKEN, Settings
from db.dal import open_dal
from db.engine import create_engine, create_sessionmaker
from db.leases import LeaseStore
from db.models import Base
from gateway.campaigns import Planner
from gateway.telegram import TelegramGateway
from sandbox.server import SandboxServer
from sandbox.world import InProcessClientFactory, SandboxClientFactory, World
from tests.invites.conftest import OWNER_TG, link_accounts, make_audience
from tests.sandbox_helpers import SandboxChat
from workers.inviting import InviteConfig, InviteEngine

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = DATA_DIR / "screenshots"
CODE_TOKEN = re.compile(rf"(?<![A-Za-z0-9])[{CODE_ALPHABET}]{{{CODE_LENGTH}}}(?![A-Za-z0-9])")

OWNER_USERNAME = "boss"  # registered by `link_accounts`
ACCOUNT_TG = 901
TARGET_CHAT = 7_100_001
PEOPLE = range(20_000, 20_040)
PRIVATE_PEOPLE = range(20_000, 20_003)  # their privacy refuses invites: the follow-up list
# Fast but visible: one invite a second, so a progress bar moves while the test watches.
LIMITS = InviteLimits(
    daily_per_account=1000,
    daily_per_chat=1000,
    lifetime_per_chat=1000,
    daily_per_target=1000,
    pause_min_s=1,
    pause_max_s=1,
)
T = TypeVar("T")


class LoopThread:
    """An event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="panel-stack", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclass
class Stack:
    """The running product, as the browser tests see it."""

    thread: LoopThread
    api_url: str = ""
    sandbox_url: str = ""
    campaign_id: int = 0
    audience_id: int = 0
    workspace_id: int = 0
    _closers: list[Any] = field(default_factory=list)
    _sessionmaker: async_sessionmaker[AsyncSession] | None = None
    world: World | None = None  # the simulated Telegram, for tests that add people or faults
    _chat: SandboxChat | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return self.thread.run(coro, timeout)

    def web_auth_code(self) -> str:
        """The owner sends /web_auth to the bot in the sandbox; the code from its reply."""
        return self.run(self._web_auth_code())

    async def _web_auth_code(self) -> str:
        assert self._chat is not None
        profile = {"username": OWNER_USERNAME, "first_name": "Boss", "language_code": "en"}
        sent = await self._chat.send(OWNER_TG, "/web_auth", **profile)
        reply = await self._chat.wait_for(
            OWNER_TG, lambda m: bool(CODE_TOKEN.search(m["text"] or "")), after=sent
        )
        codes = CODE_TOKEN.findall(reply["text"])
        assert len(codes) == 1, reply["text"]
        return str(codes[0])

    def register(self, tg_id: int, username: str) -> None:
        """Someone else sends /start to the bot (and so may join a team)."""
        self.run(self._register(tg_id, username))

    async def _register(self, tg_id: int, username: str) -> None:
        assert self._chat is not None
        sent = await self._chat.send(
            tg_id, "/start", username=username, first_name=username.title(), language_code="en"
        )
        await self._chat.wait_for(tg_id, lambda m: bool(m["text"]), after=sent)

    def campaign_status(self) -> str:
        return self.run(
            self._scalar("SELECT status FROM campaigns WHERE id = :id", id=self.campaign_id)
        )

    def settled(self) -> int:
        """People of the campaign with a final result, as the database has them."""
        return int(
            self.run(
                self._scalar(
                    "SELECT count(*) FROM campaign_targets WHERE campaign_id = :id AND state NOT IN ('pending', 'sending')",
                    id=self.campaign_id,
                )
            )
        )

    def campaign_limits(self, name: str) -> dict[str, Any]:
        """The limits a campaign was saved with (its own, as asked)."""
        found = self.run(
            self._scalar(
                "SELECT limits FROM campaigns WHERE name = :n ORDER BY id DESC LIMIT 1", n=name
            )
        )
        return dict(found or {})

    def live_sessions(self) -> int:
        return int(
            self.run(self._scalar("SELECT count(*) FROM auth_sessions WHERE revoked_at IS NULL"))
        )

    async def _scalar(self, sql: str, **params: Any) -> Any:
        assert self._sessionmaker is not None
        async with self._sessionmaker() as session:
            return await session.scalar(text(sql), params)


async def _reset(engine: AsyncEngine, redis: Redis) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await redis.flushdb()


async def _seed(
    stack: Stack,
    world: World,
    gateway: TelegramGateway,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A linked account that administers a megagroup, an audience of 40, a draft campaign
    with its pre-flight done, and a queued collection task."""
    workspace_id, accounts = await link_accounts(
        world, gateway, sessionmaker, settings, [ACCOUNT_TG]
    )
    account_id = accounts[ACCOUNT_TG]
    world.put_users([{"id": 900, "first_name": "Creator"}])
    world.put_users(
        [
            {
                "id": i,
                "first_name": f"Person {i}",
                "username": f"person{i}",
                "invite_outcome": "privacy" if i in PRIVATE_PEOPLE else "ok",
            }
            for i in PEOPLE
        ]
    )
    world.put_chat(
        TARGET_CHAT,
        "megagroup",
        "Panel Target",
        username="panel_target",
        creator=900,
        members=[],
        admins={ACCOUNT_TG: ["invite_users"]},
    )
    audience_id = await make_audience(
        sessionmaker,
        workspace_id,
        "Lounge people",
        [(i, f"person{i}", account_id, world.user_hash(ACCOUNT_TG, i)) for i in PEOPLE],
    )
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE audiences SET size = :n, source = 'sandbox_lounge' WHERE id = :id"),
            {"n": len(PEOPLE), "id": audience_id},
        )
    service = CampaignService(LIMITS)
    async with open_dal(sessionmaker) as dal:
        owner = await dal.get_user_by_telegram_id(OWNER_TG)
        assert owner is not None
        campaign = await service.create(
            dal,
            owner.id,
            workspace_id,
            name="Grow the target",
            audience_id=audience_id,
            target="@panel_target",
        )
        await dal.commit()
        await AudienceService().create_task(
            dal, owner.id, workspace_id, source="@sandbox_lounge", filters=Filters()
        )
    planner = Planner(
        campaigns=service,
        accounts=build_account_service(settings, None),
        gateway=gateway,
        leases=LeaseStore(sessionmaker, "browser-planner", ttl_s=30),
        sessionmaker=sessionmaker,
        lease_wait_s=0.5,
    )
    report = await planner.preflight(owner.id, workspace_id, campaign.id)
    assert report["ready"], report
    stack.workspace_id, stack.audience_id, stack.campaign_id = (
        workspace_id,
        audience_id,
        campaign.id,
    )


async def _invite_forever(engine: InviteEngine) -> None:
    while True:
        await engine.tick()
        await asyncio.sleep(0.3)


async def _start(stack: Stack, settings: Settings, database_url: str) -> None:
    engine = create_engine(database_url, pool_size=10)
    redis = Redis.from_url(settings.redis_url)
    stack._closers.append(engine.dispose)
    stack._closers.append(redis.aclose)
    await _reset(engine, redis)
    sessionmaker = create_sessionmaker(engine)
    stack._sessionmaker = sessionmaker

    world = World()
    stack.world = world
    sandbox = await SandboxServer(SANDBOX_BOT_TOKEN, world=world).start()
    stack._closers.append(sandbox.stop)
    port = int(sandbox.url.rsplit(":", 1)[1])
    panel_settings = settings.model_copy(
        update={
            "sandbox": "on",
            "sandbox_host": "127.0.0.1",
            "sandbox_port": port,
            "bot_api_url": sandbox.url,
            "invite_pause_min_s": LIMITS.pause_min_s,
            "invite_pause_max_s": LIMITS.pause_max_s,
        }
    )
    gateway = TelegramGateway(InProcessClientFactory(world))
    await _seed(stack, world, gateway, panel_settings, sessionmaker)

    from webui_api.app import init_app

    runner = web.AppRunner(init_app(panel_settings), access_log=None, shutdown_timeout=2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    stack._closers.append(runner.cleanup)
    host, api_port = runner.addresses[0][:2]
    stack.api_url = f"http://{host}:{api_port}"
    stack.sandbox_url = sandbox.url

    bot = create_bot(panel_settings)
    bot_gateway = TelegramGateway(SandboxClientFactory(sandbox.url))
    accounts = build_account_service(panel_settings, None)
    logins = PendingLogins(bot_gateway, accounts, sessionmaker)
    dp = build_dispatcher(
        settings=panel_settings,
        sessionmaker=sessionmaker,
        redis=redis,
        gateway=bot_gateway,
        accounts=accounts,
        logins=logins,
    )
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False)
    )

    async def stop_bot() -> None:
        await dp.stop_polling()
        await polling
        await logins.close()
        await bot.session.close()

    stack._closers.append(stop_bot)

    inviter = InviteEngine(
        sessionmaker=sessionmaker,
        gateway=gateway,
        service=accounts,
        leases=LeaseStore(sessionmaker, "browser-worker", ttl_s=30),
        # Each pause ends the account's pass, as the real 10-15 minute pauses do (they are
        # longer than `inline_wait_s`): the membership checks that turn an accepted invite
        # into "added" then come after every invite, not once at the end of the campaign.
        config=InviteConfig(limits=LIMITS, pause_scale=1.0, idle_retry_s=1.0, inline_wait_s=0.5),
    )
    inviting = asyncio.create_task(_invite_forever(inviter))

    async def stop_inviting() -> None:
        inviting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await inviting
        await inviter.close()

    stack._closers.append(stop_inviting)
    http = aiohttp.ClientSession()
    stack._closers.append(http.close)
    stack._chat = SandboxChat(sandbox.url, http)
    await stack._chat.send(
        OWNER_TG, "/start", username=OWNER_USERNAME, first_name="Boss", language_code="en"
    )


async def _stop(stack: Stack) -> None:
    for close in reversed(stack._closers):
        with contextlib.suppress(Exception):
            await close()


@pytest.fixture(scope="module")
def stack(settings: Settings, migrated: str) -> Iterator[Stack]:
    thread = LoopThread()
    thread.start()
    running = Stack(thread)
    try:
        running.run(_start(running, settings, migrated), timeout=90)
        yield running
    finally:
        with contextlib.suppress(Exception):
            running.run(_stop(running), timeout=60)
        thread.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.fail(
            "the browser tests need Debian's chromium and chromium-driver: "
            "`make test` installs them (apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--lang=en-US",
        f"--user-data-dir={tmp_path / 'profile'}",
        # Nothing but the product: no updates, sync, metrics or other background traffic.
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--metrics-recording-only",
        "--disable-features=Translate,OptimizationHints,MediaRouter",
    ):
        options.add_argument(arg)
    service = Service(
        executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log")
    )
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
