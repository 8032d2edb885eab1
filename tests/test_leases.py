"""Account leases: one holder at a time, fencing by epoch, loss stops the work at once."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from itertools import pairwise

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import PROJECT_ROOT
from db.leases import LeaseStore
from workers.leases import AccountBusy, LeaseLost, hold


async def _account(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as s, s.begin():
        uid = await s.scalar(
            text(
                "INSERT INTO users (telegram_id, first_name, language, language_explicit, role, blocked) VALUES (1, 'o', 'en', false, 'user', false) RETURNING id"
            )
        )
        ws = await s.scalar(
            text(
                "INSERT INTO workspaces (name, owner_id, personal) VALUES ('w', :u, true) RETURNING id"
            ),
            {"u": uid},
        )
        return await s.scalar(
            text(
                "INSERT INTO telegram_accounts (workspace_id, tg_user_id, first_name, status, session_key_id, session_nonce, session_ciphertext)"
                " VALUES (:ws, 77, 'a', 'active', 'k1', '\\x00', '\\x00') RETURNING id"
            ),
            {"ws": ws},
        )


async def test_one_holder_and_epochs_grow(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    account = await _account(sessionmaker)
    a = LeaseStore(sessionmaker, "worker-a", ttl_s=0.5)
    b = LeaseStore(sessionmaker, "worker-b", ttl_s=0.5)
    first = await a.acquire(account)
    assert first is not None and first.epoch == 1
    assert await b.acquire(account) is None
    await asyncio.sleep(0.6)  # a froze past its expiry without a heartbeat
    second = await b.acquire(account)
    assert second is not None and second.epoch == 2
    assert await a.renew(first) is None  # the old holder learns it lost the account
    async with sessionmaker() as s:
        assert not await a.holds(s, first)
        assert await b.holds(s, second)
    await b.release(second)
    third = await a.acquire(account)
    assert third is not None and third.epoch == 3


async def test_hold_renews_and_releases(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    account = await _account(sessionmaker)
    store = LeaseStore(sessionmaker, "worker-a", ttl_s=0.3)
    other = LeaseStore(sessionmaker, "worker-b", ttl_s=0.3)
    async with hold(store, account) as lease:
        await asyncio.sleep(1.0)  # three TTLs: only heartbeats keep it
        with pytest.raises(AccountBusy):
            async with hold(other, account):
                pass
        assert lease.epoch == 1
    assert (await other.acquire(account)) is not None  # released on exit


async def test_losing_the_lease_cancels_the_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    account = await _account(sessionmaker)
    store = LeaseStore(sessionmaker, "worker-a", ttl_s=0.3)
    steps = 0
    with pytest.raises(LeaseLost):
        async with hold(store, account):
            async with sessionmaker() as s, s.begin():  # another process takes over
                await s.execute(
                    text("UPDATE account_leases SET owner = 'worker-b', epoch = epoch + 1")
                )
            for _ in range(50):
                await asyncio.sleep(0.05)
                steps += 1
    assert steps < 10  # stopped within about one heartbeat, not after the loop


WORKER = r"""
import asyncio, json, random, sys, time
from db.engine import create_engine, create_sessionmaker
from db.leases import LeaseStore
from workers.leases import AccountBusy, hold

async def main(url, account, name, rounds):
    engine = create_engine(url, pool_size=2)
    store = LeaseStore(create_sessionmaker(engine), name, ttl_s=2)
    done = 0
    while done < rounds:
        try:
            async with hold(store, account) as lease:
                start = time.time()
                await asyncio.sleep(random.uniform(0, 0.01))
                print(json.dumps({"owner": name, "epoch": lease.epoch, "start": start, "end": time.time()}), flush=True)
                done += 1
        except AccountBusy:
            await asyncio.sleep(random.uniform(0, 0.005))
    await engine.dispose()

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
"""


async def test_processes_never_hold_one_account_at_once(
    sessionmaker: async_sessionmaker[AsyncSession], migrated: str
) -> None:
    account = await _account(sessionmaker)
    rounds, workers = 60, 3
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER,
            migrated,
            str(account),
            f"w{i}",
            str(rounds),
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=asyncio.subprocess.PIPE,
        )
        for i in range(workers)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 90)
    assert [p.returncode for p in procs] == [0] * workers
    holds = sorted(
        (json.loads(line) for out, _ in outputs for line in out.decode().splitlines()),
        key=lambda h: h["epoch"],
    )
    assert len(holds) == rounds * workers
    assert [h["epoch"] for h in holds] == list(range(1, len(holds) + 1))
    handovers = sum(1 for a, b in pairwise(holds) if a["owner"] != b["owner"])
    for before, after in pairwise(holds):
        assert before["end"] <= after["start"], (before, after)
    assert handovers >= 20, handovers


async def test_many_leases_renew_in_one_statement_and_a_lost_one_stops_alone(
    sessionmaker: async_sessionmaker[AsyncSession],
    engine,  # type: ignore[no-untyped-def]
) -> None:
    from sqlalchemy import event

    first = await _account(sessionmaker)
    async with sessionmaker() as s, s.begin():  # 19 more accounts of the same workspace
        await s.execute(
            text(
                "INSERT INTO telegram_accounts (workspace_id, tg_user_id, first_name, status, session_key_id, "
                "session_nonce, session_ciphertext) SELECT workspace_id, 1000 + g, 'a', 'active', 'k1', '\\x00', '\\x00' "
                "FROM telegram_accounts, generate_series(1, 19) AS g WHERE id = :a"
            ),
            {"a": first},
        )
        ids = list(await s.scalars(text("SELECT id FROM telegram_accounts ORDER BY id")))
    store = LeaseStore(sessionmaker, "worker-a", ttl_s=0.6)
    renewals: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "UPDATE account_leases AS l" in statement:
            renewals.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    lost: list[int] = []

    async def work(account_id: int) -> None:
        try:
            async with hold(store, account_id):
                await asyncio.sleep(1.1)
        except LeaseLost:
            lost.append(account_id)

    tasks = [asyncio.create_task(work(a)) for a in ids]
    await asyncio.sleep(0.3)
    async with sessionmaker() as s, s.begin():  # another process takes one account over
        await s.execute(
            text(
                "UPDATE account_leases SET owner = 'worker-b', epoch = epoch + 1 WHERE account_id = :a"
            ),
            {"a": ids[3]},
        )
    await asyncio.gather(*tasks)
    event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert lost == [ids[3]]  # only that one's work was stopped
    # 20 leases × ~5 heartbeats, in about one statement per beat
    assert 3 <= len(renewals) <= 8
