"""Benchmark: the parse engine against a bare Telethon loop over the same simulated group.

    .venv/bin/python bench/parse_members.py [--sizes 100000] [--repeat 3]

For each size, two measurements run in fresh child processes (so that each one's memory
is its own): the product's engine collecting the members of a megagroup end to end into
PostgreSQL (claim, lease, session decryption, the Telethon gateway, filters, batched
writes, counters), and a bare `TelegramClient.iter_participants` loop over an identical
world writing a CSV file. Both use the same participants filter and run on a simulated
world in their own process with no simulated latency; the engine's speed delays are off.

Telegram never lists more than 10,000 members of a group; the simulated world enforces
that, which would leave the bare loop with a tenth of the 100,000 rows. Both loops must
move the same rows to be compared, so the cap is lifted in the children, in the world and
in the engine alike (the search pass past the cap is covered by tests/parsing). Each child
first collects a 500-member group untimed: a worker pays one-time costs (statement
preparation, type introspection, connection pools) on its first task only. The simulated
world's objects are frozen out of the garbage collector in both children (in production
they live in Telegram, not in the worker).

The database: BENCH_DATABASE_URL as is (it is emptied!), else a database
`tg_inviter_bench` (re-created) on the server of DATABASE_URL, else on the local
PostgreSQL that `make run` / `make test` start under .data/.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.common import bench_database, migrate, status_kb  # noqa: E402

ACCOUNT = 100
GROUP = 5_000_000
WARMUP_GROUP = 5_000_001
WARMUP_SIZE = 500
FIRST_MEMBER = 1_000_000
NAMES = ["Anna", "Boris", "Clara", "Denis", "Elena", "Fedor", "Gleb", "Hanna", "Igor", "Julia"]
CHECKPOINT = 10_000  # peak RSS is also read when this many rows are through
TARGET_RATIO = 1.2  # engine/bare for a group under 100,000 members (a task's fixed cost shows)
TARGET_RATIO_LARGE = 1.1  # ... and from 100,000 members on
TARGET_RSS_GROWTH_MB = 50.0


def target_ratio(size: int) -> float:
    return TARGET_RATIO_LARGE if size >= 100_000 else TARGET_RATIO


# --- measuring -----------------------------------------------------------------------------
def _backends_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds used so far by these PostgreSQL server processes (the bench database's
    connections; nothing when the server runs on another machine)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / tick
    return found


def _reset_peak() -> None:
    """Start VmHWM over from the current RSS (Linux 4.0+); harmless where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


# --- the world -------------------------------------------------------------------------------
def build_world(size: int) -> Any:
    import sandbox.world.rpc_chats as rpc_chats
    from sandbox.world import World

    rpc_chats.PARTICIPANTS_CAP = size + 1  # see the module docstring
    world = World()
    world.put_users([{"id": ACCOUNT, "first_name": "Worker", "username": "worker"}])
    world.put_users(
        [
            {
                "id": FIRST_MEMBER + n,
                "first_name": NAMES[n % len(NAMES)],
                "last_name": f"N{n}",
                "username": f"member{n}" if n % 3 else None,
                "last_seen": ("online", "recently", "week", "month", "long_ago")[n % 5],
                "premium": n % 7 == 0,
                "photo": n % 2 == 0,
            }
            for n in range(size)
        ]
    )
    world.put_chat(
        GROUP,
        "megagroup",
        "Huge",
        username="huge",
        members=range(FIRST_MEMBER, FIRST_MEMBER + size),
    )
    # A small group collected first: a worker's first task pays one-time costs (statement
    # preparation, type introspection, pools) that are not per-task work.
    world.put_chat(
        WARMUP_GROUP,
        "megagroup",
        "Warm-up",
        username="warmup",
        members=range(FIRST_MEMBER, FIRST_MEMBER + min(size, WARMUP_SIZE)),
    )
    # The simulated Telegram lives in this process only for the benchmark: its objects are
    # kept out of the garbage collector's scans, for both loops alike.
    gc.collect()
    gc.freeze()
    return world


async def login(world: Any, factory: Any) -> Any:
    """A client of ACCOUNT logged in by QR, as the product links accounts."""
    client = factory(None)
    await client.connect()
    qr = await client.qr_login()
    waiter = asyncio.create_task(qr.wait(timeout=10))
    await asyncio.sleep(0.02)
    world.scan_qr(qr.url, ACCOUNT)
    await waiter
    return client


# --- the two loops ---------------------------------------------------------------------------
async def bare(size: int) -> dict[str, Any]:
    from telethon.tl import types

    from sandbox.world import InProcessClientFactory

    world = build_world(size)
    client = await login(world, InProcessClientFactory(world))
    async for _user in client.iter_participants("warmup", filter=types.ChannelParticipantsRecent):
        pass
    rows = 0
    at_checkpoint = 0
    with tempfile.TemporaryDirectory() as tmp:
        rss_before = status_kb("VmRSS")
        _reset_peak()
        cpu = time.process_time()
        started = time.perf_counter()
        # The only task on this loop: buffered writes to a local temporary file block nobody,
        # and they are the disk cost a real export pays, so they stay in the measurement.
        with open(Path(tmp) / "members.csv", "w", newline="") as out:  # noqa: ASYNC230
            writer = csv.writer(out)
            writer.writerow(["user_id", "username", "first_name", "last_name"])
            async for user in client.iter_participants(
                "huge", limit=None, filter=types.ChannelParticipantsRecent
            ):
                writer.writerow(
                    [user.id, user.username or "", user.first_name or "", user.last_name or ""]
                )
                rows += 1
                if rows == CHECKPOINT:
                    at_checkpoint = status_kb("VmHWM")
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    peak = status_kb("VmHWM")
    await client.disconnect()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "db_cpu": 0.0,
        "rows": rows,
        "rss_before_kb": rss_before,
        "checkpoint_kb": at_checkpoint or peak,
        "peak_kb": peak,
    }


async def engine(size: int, database_url: str) -> dict[str, Any]:
    from sqlalchemy import func, select, text

    import workers.parsing
    from core.accounts import AccountService
    from core.dto import TelegramProfile
    from core.parsing import Filters, ParseStatus
    from core.secretbox import SessionCipher
    from core.telegram import AccountInfo
    from core.users import register
    from db.dal import open_dal
    from db.engine import create_engine, create_sessionmaker
    from db.leases import LeaseStore
    from db.models import Audience, AudienceMember, Base, ParseTask
    from gateway.telegram import TelegramGateway
    from sandbox.world import InProcessClientFactory
    from workers.parsing import EngineConfig, ParseEngine

    world = build_world(size)
    # The engine's view of Telegram's cap, too (workers.parsing's copy of core.parsing's).
    workers.parsing.PARTICIPANTS_CAP = size + 1  # type: ignore[attr-defined]
    gateway = TelegramGateway(InProcessClientFactory(world))
    db = create_engine(database_url, pool_size=5)
    sessionmaker = create_sessionmaker(db)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with db.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    service = AccountService(SessionCipher({"bench": os.urandom(32)}), None)
    client = await login(world, InProcessClientFactory(world))
    session = client.session.save()
    await client.disconnect()
    async with open_dal(sessionmaker) as dal:
        owner, _ = await register(dal, TelegramProfile(1, "owner", "Owner", None, "en"), ())
        workspace = (await dal.list_workspaces(owner.id))[0].id
        await service.link(
            dal, owner.id, workspace, AccountInfo(ACCOUNT, "worker", "Worker", None), session
        )

    async def queue(source: str) -> int:
        async with sessionmaker() as db_session, db_session.begin():
            audience = Audience(workspace_id=workspace, name=source, source=source, size=0)
            db_session.add(audience)
            await db_session.flush()
            task = ParseTask(
                workspace_id=workspace,
                created_by_user_id=owner.id,
                kind="members",
                source=source,
                audience_id=audience.id,
                speed="fast",
                priority=1,
                params={"filters": Filters().to_json()},
                status=ParseStatus.QUEUED,
            )
            db_session.add(task)
            await db_session.flush()
            return task.id

    parser = ParseEngine(
        sessionmaker=sessionmaker,
        gateway=gateway,
        service=service,
        leases=LeaseStore(sessionmaker, "bench", ttl_s=30),
        notifier=None,
        owner="bench",
        config=EngineConfig(delay_scale=0.0),
    )
    await queue("@warmup")
    await parser.run_pending()
    task_id = await queue("@huge")

    written = 0
    at_checkpoint = 0
    write = parser.store.write

    async def counting_write(*args: Any, **kwargs: Any) -> int | None:
        nonlocal written, at_checkpoint
        written += len(args[1].people)
        if not at_checkpoint and written >= CHECKPOINT:
            at_checkpoint = status_kb("VmHWM")
        return await write(*args, **kwargs)

    parser.store.write = counting_write  # type: ignore[method-assign]

    # Open the pool's connections now, so that their server processes can be watched.
    async with db.connect() as c1, db.connect() as c2, db.connect() as c3:
        await c1.execute(text("SELECT 1")), await c2.execute(text("SELECT 1"))
        backends = list(
            await c3.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            )
        )
    rss_before = status_kb("VmRSS")
    _reset_peak()
    db_cpu = _backends_cpu(backends)
    cpu = time.process_time()
    started = time.perf_counter()
    await parser.run_pending()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    db_cpu = {pid: _backends_cpu([pid]).get(pid, t) - t for pid, t in db_cpu.items()}
    peak = status_kb("VmHWM")

    async with sessionmaker() as db_session:
        done = await db_session.get(ParseTask, task_id)
        rows = await db_session.scalar(
            select(func.count())
            .select_from(AudienceMember)
            .where(AudienceMember.audience_id == done.audience_id)  # type: ignore[union-attr]
        )
    await db.dispose()
    assert done is not None and done.status == ParseStatus.DONE, done and done.error
    assert rows == size == done.collected == done.new_members, (rows, done.collected)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "db_cpu": sum(db_cpu.values()),
        "rows": rows,
        "rss_before_kb": rss_before,
        "checkpoint_kb": at_checkpoint or peak,
        "peak_kb": peak,
    }


# --- the run -----------------------------------------------------------------------------------
def child(loop: str, size: int, database_url: str) -> dict[str, Any]:
    env = {**os.environ, "BENCH_CHILD_DB": base64.b64encode(database_url.encode()).decode()}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", loop, "--size", str(size)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{loop} at {size} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default="100000", help="group sizes, comma-separated (e.g. 10000,100000)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per measurement; the fastest counts (the machine may be busy)",
    )
    parser.add_argument("--child", choices=("bare", "engine"), help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        from core.logs import setup_logging

        setup_logging("bench", level="WARNING", fmt="json")  # info lines are not the benchmark
        database_url = base64.b64decode(os.environ["BENCH_CHILD_DB"]).decode()
        run = bare(args.size) if args.child == "bare" else engine(args.size, database_url)
        print(json.dumps(asyncio.run(run)))
        return

    database_url = migrate(bench_database())
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    mb = 1024.0
    print(
        f"{'members':>8} {'loop':>7} {'seconds':>8} {'CPU s':>6} {'DB CPU s':>8} {'rows/s':>8} "
        f"{'RSS before':>10} {'peak@10k':>9} {'peak@end':>9} {'growth':>7}"
    )
    verdicts = []
    targets = []
    for size in sizes:
        runs: dict[str, list[dict[str, Any]]] = {"bare": [], "engine": []}
        for _ in range(max(args.repeat, 1)):
            for loop in runs:  # interleaved, so that a busy spell hits both alike
                runs[loop].append(child(loop, size, database_url))
        results = {loop: min(found, key=lambda r: r["seconds"]) for loop, found in runs.items()}
        for loop, r in results.items():
            growth = (r["peak_kb"] - r["rss_before_kb"]) / mb
            print(
                f"{size:>8} {loop:>7} {r['seconds']:>8.2f} {r['cpu']:>6.2f} {r['db_cpu']:>8.2f} "
                f"{r['rows'] / r['seconds']:>8.0f} {r['rss_before_kb'] / mb:>8.1f}MB "
                f"{r['checkpoint_kb'] / mb:>7.1f}MB {r['peak_kb'] / mb:>7.1f}MB {growth:>5.1f}MB"
            )
        engine_run = results["engine"]
        ratio = engine_run["seconds"] / results["bare"]["seconds"]
        growth = (engine_run["peak_kb"] - engine_run["rss_before_kb"]) / mb
        late = (engine_run["peak_kb"] - engine_run["checkpoint_kb"]) / mb
        wanted = target_ratio(size)
        targets.append(
            f"parse_members: engine/bare at {size} members = {ratio:.2f} "
            f"(target <= {wanted}) {'PASS' if ratio <= wanted else 'FAIL'}"
        )
        targets.append(
            f"parse_members: RSS growth at {size} members = {growth:.1f} MB "
            f"(target <= {TARGET_RSS_GROWTH_MB:.0f} MB) "
            f"{'PASS' if growth <= TARGET_RSS_GROWTH_MB else 'FAIL'}"
        )
        verdicts.append(
            f"{size} members: engine/bare = {ratio:.2f} (target <= {wanted}); "
            f"{engine_run['rows'] / engine_run['seconds']:.0f} rows/s into PostgreSQL; "
            f"engine peak RSS {engine_run['checkpoint_kb'] / mb:.1f} MB at {min(CHECKPOINT, size)} "
            f"rows, {engine_run['peak_kb'] / mb:.1f} MB at {size}: growth {growth:.1f} MB over "
            f"the run, {late:.1f} MB after the first {min(CHECKPOINT, size)} "
            f"(target <= {TARGET_RSS_GROWTH_MB:.0f} MB)"
        )
    print()
    print("\n".join(verdicts))
    print()
    print("\n".join(targets))


if __name__ == "__main__":
    main()
