"""PostgreSQL restarted under a running worker: collection and invites go on within 5 s of
the server answering again — with the default claim and lease lifetimes (60 s and 30 s),
so the resume cannot come from a claim or lease running out — nobody is invited twice,
nothing collected is lost, and the outage is two log lines, not a traceback a second.

The worker is a real `python -m workers` process; the database is a server of this test's
own (tests/pgserver.py), stopped with `pg_ctl -m fast` as an operator's restart does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.dto import TelegramProfile
from core.parsing import ParseStatus
from core.settings import PROJECT_ROOT, Settings
from core.users import register
from db.dal import open_dal
from db.engine import create_engine, create_sessionmaker
from gateway.telegram import TelegramGateway
from sandbox.server import SandboxServer
from sandbox.world import InProcessClientFactory, World
from tests.invites.conftest import Setup as InviteSetup
from tests.invites.conftest import link_accounts, make_audience
from tests.parsing.conftest import Setup as ParseSetup
from tests.parsing.conftest import put_people
from tests.pgserver import OwnPostgres, migrated_own_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

RESUME_WITHIN_S = 5.0
OUTAGE_S = 4.0
GROUP = 1_800_001
TARGET = 7_200_001
PEOPLE = 400  # to invite: far more than fit in the test's time at one invite per second


@pytest.fixture
async def own_db() -> AsyncIterator[tuple[OwnPostgres, AsyncEngine]]:
    async with migrated_own_postgres() as server:
        engine = create_engine(server.url, pool_size=2)
        yield server, engine
        await engine.dispose()


async def _wait(check: Callable[[], Awaitable[bool]], timeout: float, step: float = 0.1) -> float:
    """Poll until `check` holds; the monotonic time it first held."""
    async with asyncio.timeout(timeout):
        while True:
            # The database may still be away for the test's own queries.
            with contextlib.suppress(Exception):
                if await check():
                    return time.monotonic()
            await asyncio.sleep(step)


async def test_work_resumes_within_seconds_of_a_postgresql_restart(
    own_db: tuple[OwnPostgres, AsyncEngine],
    settings: Settings,
    test_env: dict[str, str],
) -> None:
    server, engine = own_db
    sessionmaker = create_sessionmaker(engine)
    world = World()
    gateway = TelegramGateway(InProcessClientFactory(world))

    # Two workspaces, so that neither kind of work borrows the other's accounts: one invites
    # with two accounts (a person a second each), the other collects a large group.
    ws, accounts = await link_accounts(world, gateway, sessionmaker, settings, [961, 962])
    world.put_users([{"id": 960, "first_name": "Creator"}])
    world.put_chat(
        TARGET,
        "megagroup",
        "Restart target",
        username="restart_target",
        creator=960,
        admins={961: ["invite_users"], 962: ["invite_users"]},
    )
    invites = InviteSetup(world, gateway, sessionmaker, settings, ws, accounts)
    ids = list(range(30_001, 30_001 + PEOPLE))
    audience = await make_audience(sessionmaker, ws, "restart", invites.people(ids, seen_by_tg=961))
    campaign = await invites.campaign(audience, "restart_target")

    members = list(range(80_001, 86_001))
    put_people(world, members)
    world.put_chat(GROUP, "megagroup", "Big group", username="big_group", members=members)
    collecting = ParseSetup(world, gateway, sessionmaker, settings, None)  # type: ignore[arg-type]
    async with open_dal(sessionmaker) as dal:
        collector, _ = await register(dal, TelegramProfile(556, "collector", "Col", None, "en"), ())
        collecting.user_id = collector.id
        collecting.workspace_id = (await dal.list_workspaces(collector.id))[0].id
    await collecting.link(963)
    task_id = 0

    async def progress() -> tuple[int, int]:
        async with sessionmaker() as session:
            done = await session.scalar(
                text("SELECT progress_done FROM parse_tasks WHERE id = :t"), {"t": task_id}
            )
            invited = await session.scalar(
                text(
                    "SELECT count(*) FROM campaign_targets WHERE campaign_id = :c AND state <> 'pending'"
                ),
                {"c": campaign},
            )
        return int(done or 0), int(invited or 0)

    async with SandboxServer(world=world) as sandbox:
        env = {
            **os.environ,
            **test_env,
            "DATABASE_URL": server.url,
            "SANDBOX_PORT": sandbox.url.rsplit(":", 1)[1],
            "PARSE_DELAY_SCALE": "0.2",  # 600 ms between pages: the walk outlasts the outage
            "INVITE_PAUSE_MIN_S": "1",
            "INVITE_PAUSE_MAX_S": "1",
            "INVITE_DAILY_PER_ACCOUNT": "200",
            "INVITE_DAILY_PER_CHAT": "200",
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
        }
        for name in ("PARSE_CLAIM_TTL_S", "ACCOUNT_LEASE_TTL_S"):
            env.pop(name, None)  # the defaults: 60 s and 30 s
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "workers",
            cwd=PROJECT_ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        lines: list[str] = []
        reader = asyncio.create_task(_collect_lines(worker, lines))
        try:

            async def inviting() -> bool:
                return (await progress())[1] >= 2

            async def collecting_too() -> bool:
                return (await progress())[0] >= 300

            await _wait(inviting, timeout=60)
            task_id = await collecting.task("@big_group", speed="safe")  # pages of 100
            await _wait(collecting_too, timeout=30)
            await engine.dispose()
            await asyncio.to_thread(server.stop)
            stopped_at = time.monotonic()
            await asyncio.sleep(OUTAGE_S)
            await asyncio.to_thread(server.start)
            back_at = time.monotonic()
            before = await progress()  # what was recorded before the stop

            async def collects() -> bool:
                return (await progress())[0] > before[0]

            async def invites_again() -> bool:
                return (await progress())[1] > before[1]

            try:
                collected_at, invited_at = await asyncio.gather(
                    _wait(collects, timeout=40), _wait(invites_again, timeout=40)
                )
            except TimeoutError:
                raise AssertionError(
                    f"no progress after the restart: {await progress()} vs {before}\n"
                    + "\n".join(lines[-40:])
                ) from None
            alive_after = worker.returncode is None
        finally:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
            await asyncio.wait_for(worker.wait(), 20)
            await reader

    collect_resume = collected_at - back_at
    invite_resume = invited_at - back_at
    print(
        f"\ndatabase restart: down {back_at - stopped_at:.1f}s; collection resumed after "
        f"{collect_resume:.2f}s, invites after {invite_resume:.2f}s"
    )
    assert alive_after, "the worker exited during the outage"
    assert worker.returncode == 0, "\n".join(lines[-30:])
    assert collect_resume <= RESUME_WITHIN_S
    assert invite_resume <= RESUME_WITHIN_S

    # Nobody was invited twice, and the outage cost no collected person.
    per_user = Counter(u for c in world.calls("InviteToChannelRequest") for u in c.users)
    assert per_user and max(per_user.values()) == 1
    async with sessionmaker() as session:
        task = (
            await session.execute(
                text("SELECT status, progress_done FROM parse_tasks WHERE id = :t"), {"t": task_id}
            )
        ).one()
        stored = await session.scalar(
            text(
                "SELECT count(*) FROM audience_members m JOIN parse_tasks t ON t.audience_id = m.audience_id "
                "WHERE t.id = :t"
            ),
            {"t": task_id},
        )
    assert task.status in (ParseStatus.RUNNING, ParseStatus.QUEUED, ParseStatus.DONE)
    assert stored >= before[0]

    # The outage is told once when it starts and once when it ends; no job's traceback.
    events = [json.loads(line) for line in lines if line.startswith("{")]
    said = [e.get("event") for e in events]
    assert said.count("database unreachable: work waits for it") == 1
    assert said.count("database answers again: work resumes") == 1
    assert not [line for line in lines if "Traceback" in line or "raised an exception" in line]


async def _collect_lines(proc: asyncio.subprocess.Process, lines: list[str]) -> None:
    assert proc.stdout is not None
    async for raw in proc.stdout:
        lines.append(raw.decode(errors="replace").rstrip())
