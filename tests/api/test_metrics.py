"""/metrics shows what every process did, and trace ids follow work from a request to a worker.

The engines run for real against the in-process sandbox (as tests/invites and tests/parsing
do), the bot handles a real update through its Dispatcher, and the numbers are then read
back through the API's /metrics and parsed as Prometheus reads them.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_dispatcher
from bot.linking import PendingLogins
from core.accounts import build_account_service
from core.settings import SANDBOX_BOT_TOKEN, Settings
from db.dal_invites import InviteDal
from db.kv import RedisNotifier
from db.metrics import invite_counter
from gateway.telegram import TelegramGateway
from sandbox.world import InProcessClientFactory, World
from tests.api.conftest import MakeUser, Person
from tests.bot.conftest import RecordingSession, TgUser
from tests.invites.conftest import Setup, build_setup, make_audience
from tests.logcapture import captured_logs, lines
from tests.parsing.conftest import Setup as ParseSetup
from tests.parsing.conftest import person_spec
from webui_api.app import init_app

LOUNGE = 900_001
LOUNGE_PEOPLE = range(20_000, 20_040)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


# --- helpers ------------------------------------------------------------------------------------
async def scrape(api: TestClient) -> Samples:
    resp = await api.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(await resp.text())
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def by_label(samples: Samples, name: str, label: str) -> dict[str, float]:
    return {dict(k)[label]: v for (n, k), v in samples.items() if n == name}


async def invite_world(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> Setup:
    """tests/invites' world (three linked accounts, the target megagroup) plus a public group
    whose members account 901 can list."""
    setup = await build_setup(sessionmaker, settings)
    setup.world.put_users([person_spec(i) for i in LOUNGE_PEOPLE])
    setup.world.put_chat(
        LOUNGE,
        "megagroup",
        "Lounge",
        username="lounge",
        creator=900,
        members=[900, 901, *LOUNGE_PEOPLE],
    )
    return setup


# --- the installation's numbers ------------------------------------------------------------------
async def test_metrics_show_what_the_workers_did(
    api: TestClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    redis: Redis,
) -> None:
    setup = await invite_world(sessionmaker, settings)
    ok = setup.people(range(11_001, 11_006), seen_by_tg=901)
    missing = setup.people([11_010], seen_by_tg=901, invite_outcome="missing_invitee")
    private = setup.people([11_011], seen_by_tg=901, invite_outcome="privacy")
    member = [(903, "acc903", None, None)]  # already in the chat
    audience = await make_audience(sessionmaker, setup.ws, "a", ok + missing + private + member)
    done = await setup.campaign(audience, "target_group")
    await setup.engine(attempts=invite_counter(redis)).run_account(await setup.account(901))
    assert await setup.status(done) == "done"
    # Two more campaigns the engine has not worked on: one running, one waiting for quota.
    for name, person in (("b", 11_020), ("c", 11_021)):
        later = await make_audience(
            sessionmaker, setup.ws, name, setup.people([person], seen_by_tg=901)
        )
        waiting = await setup.campaign(later, "target_group", name)
    async with sessionmaker() as session, session.begin():
        assert await InviteDal(session).set_waiting(waiting, "quota")

    parse = ParseSetup(setup.world, setup.gateway, sessionmaker, settings, redis)
    await parse.owner()
    finished = await parse.task("@lounge")
    parser = parse.engine()
    await parser.run_pending()
    collected = (await parse.row(finished)).collected
    assert collected == len(LOUNGE_PEOPLE)  # the creator and our own account are skipped
    await parse.task("@lounge", audience="second")
    assert await parser.store.claim() is not None  # claimed by a worker: running

    samples = await scrape(api)

    assert value(samples, "tg_inviter_metrics_source_up", source="postgresql") == 1
    assert value(samples, "tg_inviter_metrics_source_up", source="redis") == 1
    invites = {
        (dict(k)["outcome"], dict(k)["reason"]): v
        for (n, k), v in samples.items()
        if n == "tg_inviter_invites_total"
    }
    assert invites == {
        ("invited", ""): 5,
        ("failed", "missing_invitee"): 1,
        ("failed", "privacy_restricted"): 1,
        ("already_member", ""): 1,
        ("unconfirmed", ""): 0,  # each accepted call, until its membership check resolved it
    }
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT outcome, coalesce(reason, '') AS reason, count(*) AS n FROM invite_events GROUP BY 1, 2"
                )
            )
        ).all()
        epochs = await session.scalar(text("SELECT sum(epoch) FROM account_leases"))
    # The counters agree with the rows (a resolved unconfirmed attempt leaves a 0 behind).
    assert {k: v for k, v in invites.items() if v} == {(r.outcome, r.reason): r.n for r in rows}

    assert value(samples, "tg_inviter_parse_collected_total", kind="members") == collected
    assert value(samples, "tg_inviter_parse_new_members_total", kind="members") == collected
    assert value(samples, "tg_inviter_parse_collected_total", kind="comments") == 0
    tasks = by_label(samples, "tg_inviter_parse_tasks", "status")
    assert tasks["done"] == 1 and tasks["running"] == 1 and tasks["queued"] == 0
    campaigns = by_label(samples, "tg_inviter_campaigns", "status")
    assert (campaigns["done"], campaigns["running"], campaigns["waiting"], campaigns["draft"]) == (
        1,
        1,
        1,
        0,
    )
    accounts = by_label(samples, "tg_inviter_accounts", "status")
    assert accounts["active"] == 3 and accounts["banned"] == 0
    # Leases taken: the invite pass and the parse run each took 901's; all are given back.
    assert epochs is not None and epochs >= 2
    assert value(samples, "tg_inviter_lease_handovers_total") == epochs
    assert value(samples, "tg_inviter_leases_held") == 0


async def test_bot_update_timings_reach_the_api(
    api: TestClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    redis: Redis,
) -> None:
    """The bot serves no HTTP: its update histogram goes through Redis to any API process."""
    world = World()
    gateway = TelegramGateway(InProcessClientFactory(world))
    accounts = build_account_service(settings, RedisNotifier(redis))
    logins = PendingLogins(gateway, accounts, sessionmaker)
    recording = RecordingSession()
    bot = Bot(SANDBOX_BOT_TOKEN, session=recording, default=DefaultBotProperties(parse_mode=None))
    dp = build_dispatcher(
        settings=settings,
        sessionmaker=sessionmaker,
        redis=redis,
        gateway=gateway,
        accounts=accounts,
        logins=logins,
    )
    try:
        user = TgUser(dp, bot, recording, 3100)
        await user.send("/start")
        await user.send("/help")
    finally:
        await logins.close()

    samples = await scrape(api)
    labels = {"update_type": "message", "outcome": "handled"}
    assert value(samples, "tg_inviter_bot_update_seconds_count", **labels) == 2
    assert value(samples, "tg_inviter_bot_update_seconds_bucket", le="+Inf", **labels) == 2
    assert 0 < value(samples, "tg_inviter_bot_update_seconds_sum", **labels) < 10
    buckets = sorted(
        (float(dict(k)["le"]), v)
        for (n, k), v in samples.items()
        if n == "tg_inviter_bot_update_seconds_bucket" and dict(k)["outcome"] == "handled"
    )
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)  # cumulative


async def test_api_latency_is_labelled_by_route_template(api: TestClient) -> None:
    def count(samples: Samples) -> float:
        return samples.get(
            (
                "tg_inviter_api_request_seconds_count",
                frozenset(
                    {
                        "method": "GET",
                        "route": "/api/v1/parse-tasks/{task_id}",
                        "status": "401",
                    }.items()
                ),
            ),
            0,
        )

    before = count(await scrape(api))
    for task_id in (12345, 67890):
        assert (await api.get(f"/api/v1/parse-tasks/{task_id}")).status == 401
    samples = await scrape(api)
    assert count(samples) == before + 2
    routes = by_label(samples, "tg_inviter_api_request_seconds_count", "route")
    assert not [r for r in routes if "12345" in r or "67890" in r]


async def test_a_source_that_fails_is_reported_not_fatal(
    settings: Settings, free_port: int
) -> None:
    broken = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port}/0"})
    async with TestClient(TestServer(init_app(broken), host="127.0.0.1")) as client:
        samples = await scrape(client)
    assert value(samples, "tg_inviter_metrics_source_up", source="redis") == 0
    assert value(samples, "tg_inviter_metrics_source_up", source="postgresql") == 1
    assert not [n for n, _ in samples if n.startswith("tg_inviter_invites")]
    assert value(samples, "tg_inviter_accounts", status="active") == 0


# --- trace ids across processes ------------------------------------------------------------------
async def test_a_parse_task_carries_the_request_trace_into_the_worker(
    api: TestClient,
    login: Any,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    redis: Redis,
) -> None:
    setup = await invite_world(sessionmaker, settings)
    owner: Person = await make_user("boss", telegram_id=555)  # who linked the accounts
    tokens = await login(owner)
    trace = "req-metrics-0001"
    resp = await api.post(
        "/api/v1/parse-tasks",
        json={"source": "@lounge", "speed": "fast"},
        headers={"Authorization": f"Bearer {tokens['access_token']}", "X-Request-Id": trace},
    )
    assert resp.status == 201, await resp.text()
    assert resp.headers["X-Trace-Id"] == trace
    task_id = (await resp.json())["id"]
    async with sessionmaker() as session:
        stored = await session.scalar(
            text("SELECT trace_id FROM parse_tasks WHERE id = :id"), {"id": task_id}
        )
    assert stored == trace

    parse = ParseSetup(setup.world, setup.gateway, sessionmaker, settings, redis)
    with captured_logs("worker") as buffer:
        await parse.engine().run_pending()
    mine = [line for line in lines(buffer) if line.get("task_id") == task_id]
    assert {line["event"] for line in mine} >= {"parse task started"}
    assert {line["trace_id"] for line in mine} == {trace}
    assert (await parse.row(task_id)).status == "done"


async def test_a_campaign_carries_its_trace_into_the_invite_engine(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    redis: Redis,
) -> None:
    setup = await invite_world(sessionmaker, settings)
    audience = await make_audience(
        sessionmaker, setup.ws, "a", setup.people(range(11_001, 11_004), seen_by_tg=901)
    )
    traced = await setup.campaign(audience, "target_group", trace_id="bot-update-7f3a")
    with captured_logs("worker") as buffer:
        await setup.engine().run_account(await setup.account(901))
    passes = [line for line in lines(buffer) if line["event"] == "invite pass"]
    assert [(p["campaign_id"], p["trace_id"], p["handled"]) for p in passes] == [
        (traced, "bot-update-7f3a", {"unconfirmed": 3, "reconciled_invited": 3})
    ]
