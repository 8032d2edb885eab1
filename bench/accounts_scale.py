"""Benchmark: one worker process holding 200 leased accounts on a running invite campaign.

    .venv/bin/python bench/accounts_scale.py [--accounts 200] [--audience 2000] [--window 60]

An account waiting out the pause between two invites (10-15 minutes by default) keeps its
lease and one connected client (`InviteEngine.run_account(..., hold=True)`), and whether an
account may work is decided in the database before connecting: an idle campaign should
cost almost nothing. This measures what it does cost, once every account has sent its first
invite and waits for its second.

The simulated Telegram runs as its own process (`python -m sandbox` on a free loopback
port), so that its CPU is not the worker's; its world is seeded through the control API:
the accounts' users, a megagroup where all of them are admins with `invite_users`, and an
audience of people with usernames (any account can reach them). The parent links the
accounts into one workspace by QR login, as the bot does, and creates a running campaign
over the audience, untimed. Then two measurements run in fresh child processes:

- **engine**: the product's `InviteEngine` with the default limits (pause 600-900 s) and
  lease TTL, ticking every INVITE_TICK_S as a worker does, until every account has sent one
  invite and is holding its lease and client through the pause; then a window of `--window`
  seconds in which every account waits.
- **baseline**: the floor of holding that many accounts: the same sessions, each as one
  connected `TelegramClient` asking for no updates (as the product's clients do), doing
  nothing for the same window.

Measured in each window: CPU seconds of the process per wall second (% of one core), the
process's peak RSS (VmHWM, over its whole life), and connections opened per account (every
connection starts with help.getConfig, counted per account in the sandbox's call log). The
CPU of the sandbox and of the bench database's server processes in the window is shown too
(read from /proc; the latter only when PostgreSQL runs on this machine), with the engine's
statements and lease renewals in the window and the warnings each child logged.
BENCH_PROFILE=<file> runs the engine's window under cProfile and saves the statistics there
(the figures are then inflated by the profiler).

The database: BENCH_DATABASE_URL as is (it is emptied!), else a database
`tg_inviter_bench` (re-created) on the server of DATABASE_URL, else on the local
PostgreSQL that `make run` / `make test` start under .data/.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.common import bench_database, migrate, status_kb  # noqa: E402

FIRST_ACCOUNT = 10_000
FIRST_PERSON = 1_000_000
CREATOR = 9_999
TARGET = 1_700_100_001
TARGET_USERNAME = "bench_target"
OWNER_TG = 555
LINK_AT_ONCE = 20  # QR logins in flight at once while linking (untimed)
SETUP_TIMEOUT_S = 600.0  # every account must have invited and be waiting by then
SETTLE_S = 3.0  # after the last account started waiting, before the window opens
TARGET_RSS_MB = 1024.0
TARGET_CPU_PCT = 5.0
TARGET_CONNECTS_PER_HOUR = 1.0


# --- measuring -----------------------------------------------------------------------------
def _cpu_s(pid: int | str = "self") -> float:
    """CPU seconds (user + system, all threads) used so far by a process; 0 when unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Window:
    """CPU of this process, of the sandbox and of the database's server processes over one
    stretch of wall time."""

    def __init__(self, sandbox_pid: int, backends: list[int]) -> None:
        self.pids = {"sandbox": [sandbox_pid], "db": backends}

    def __enter__(self) -> Self:
        self._other = {k: sum(_cpu_s(p) for p in pids) for k, pids in self.pids.items()}
        self._cpu = _cpu_s()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._started
        self.cpu = _cpu_s() - self._cpu
        self.other = {
            k: sum(_cpu_s(p) for p in pids) - self._other[k] for k, pids in self.pids.items()
        }

    def result(self) -> dict[str, Any]:
        return {
            "wall": self.wall,
            "cpu": self.cpu,
            "sandbox_cpu": self.other["sandbox"],
            "db_cpu": self.other["db"],
        }


async def _get_json(url: str) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def _post_json(url: str, body: Any) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status} {await response.text()}")
        return await response.json()


async def _calls(sandbox_url: str, method: str) -> list[dict[str, Any]]:
    return list((await _get_json(f"{sandbox_url}/sandbox/world/calls?method={method}"))["calls"])


async def connects(sandbox_url: str) -> Counter[int]:
    """Connections opened so far, per account: each one starts with help.getConfig
    (Telethon's `connect` sends it inside initConnection)."""
    return Counter(
        c["account"]
        for c in await _calls(sandbox_url, "GetConfigRequest")
        if c["account"] is not None
    )


async def _backends(conn: Any) -> list[int]:
    from sqlalchemy import text

    return list(
        await conn.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        )
    )


def _per_account(after: Counter[int], before: Counter[int], ids: list[int]) -> list[int]:
    return [after[i] - before[i] for i in ids]


async def _sessions(database_url: str, key: bytes) -> tuple[Any, list[tuple[Any, str]]]:
    """(engine, [(account, its decrypted session)]) of the bench's workspace."""
    from core.accounts import AccountService
    from core.secretbox import SessionCipher
    from db.dal import open_dal
    from db.engine import create_engine, create_sessionmaker

    db = create_engine(database_url, pool_size=5)  # as workers/__main__.py
    service = AccountService(SessionCipher({"bench": key}), None)
    found = []
    async with open_dal(create_sessionmaker(db)) as dal:
        workspace = (await dal.list_workspaces((await dal.get_user_by_telegram_id(OWNER_TG)).id))[
            0
        ].id
        for account in await dal.list_accounts(workspace, after_id=0, limit=10_000):
            found.append((account, await service.session_of(dal, account)))
    return db, found


@contextlib.contextmanager
def _profiled() -> Iterator[None]:
    """With BENCH_PROFILE=<file>, the engine's window runs under cProfile (slower; for
    finding where the time goes, not for the figures) and its statistics go to that file."""
    path = os.environ.get("BENCH_PROFILE")
    if not path:
        yield
        return
    import cProfile

    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(path)


# --- the two children ----------------------------------------------------------------------
async def engine(
    database_url: str, key: bytes, sandbox_url: str, sandbox_pid: int, window: float
) -> dict[str, Any]:
    from sqlalchemy import event, text

    from core.accounts import AccountService
    from core.limits import InviteLimits
    from core.secretbox import SessionCipher
    from core.settings import Settings
    from db.engine import create_sessionmaker
    from db.leases import LeaseStore, process_owner
    from gateway.telegram import FLOOD_SLEEP_THRESHOLD_S, TelegramGateway
    from sandbox.world.client import SandboxClientFactory
    from workers.__main__ import INVITE_TICK_S
    from workers.inviting import InviteConfig, InviteEngine

    db, accounts = await _sessions(database_url, key)
    ids = [a.tg_user_id for a, _ in accounts]
    by_id = {a.id: a.tg_user_id for a, _ in accounts}
    sessionmaker = create_sessionmaker(db)
    ttl = Settings.model_fields["account_lease_ttl_s"].default
    leases = LeaseStore(sessionmaker, owner=f"worker:{process_owner()}", ttl_s=ttl)
    # The default per-account limits and pauses; the chat's own daily cap (all accounts
    # together) is lifted, since here every one of the accounts invites into one chat.
    config = InviteConfig(concurrency=500, limits=InviteLimits(daily_per_target=1000))
    assert (config.limits.pause_min_s, config.limits.pause_max_s) == (600, 900), config.limits
    inviter = InviteEngine(
        sessionmaker=sessionmaker,
        gateway=TelegramGateway(
            SandboxClientFactory(sandbox_url, flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD_S)
        ),
        service=AccountService(SessionCipher({"bench": key}), None),
        leases=leases,
        config=config,
    )
    # Instrumentation, not the product: statements sent and lease renewals made.
    statements = Counter[str]()

    @event.listens_for(db.sync_engine, "before_cursor_execute")
    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words, depth, table = statement.split(), 0, ""
        for word, following in itertools.pairwise(
            words
        ):  # the statement's own table, not a subquery's
            if depth == 0 and word.upper() in ("FROM", "UPDATE", "INTO"):
                table = following
                break
            depth += word.count("(") - word.count(")")
        statements[f"{words[0].upper()} {table}".strip()] += 1

    renewals = 0
    renew = leases.renew

    async def counting_renew(lease: Any) -> Any:
        nonlocal renewals
        renewals += 1
        return await renew(lease)

    leases.renew = counting_renew  # type: ignore[method-assign]

    async def invited() -> dict[int, int]:
        async with sessionmaker() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT account_id, count(*) AS n FROM campaign_targets "
                        "WHERE state = 'invited' GROUP BY account_id"
                    )
                )
            ).all()
        return {by_id.get(r.account_id, r.account_id): int(r.n) for r in rows}

    async def ticking() -> None:
        # What the worker's APScheduler job does: a tick every INVITE_TICK_S, never two at once.
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await inviter.tick()
            await asyncio.sleep(max(0.0, INVITE_TICK_S - (loop.time() - started)))

    connects_start = await connects(sandbox_url)
    rss_before = status_kb("VmRSS")
    loop = asyncio.get_running_loop()
    started = loop.time()
    ticker = asyncio.create_task(ticking())
    # Until every account has sent its invite and holds its lease and client through the
    # pause: its task is alive and its next look is the pause's end, minutes away (read
    # from the engine's own bookkeeping; nothing outside the engine knows it).
    while True:
        await asyncio.sleep(1.0)
        if ticker.done():
            ticker.result()  # a tick failed: say why
        done = await invited()
        now = datetime.now(UTC)
        waiting = [
            a.id
            for a, _ in accounts
            if a.id in inviter._tasks
            and (inviter._resume_at.get(a.id, now) - now).total_seconds() > 300
        ]
        if len(done) >= len(ids) and len(waiting) == len(ids):
            break
        if loop.time() - started > SETUP_TIMEOUT_S:
            raise SystemExit(
                f"engine: after {SETUP_TIMEOUT_S:.0f} s, {len(done)} accounts invited "
                f"and {len(waiting)} wait; stats {inviter.stats}"
            )
    setup_s = loop.time() - started
    await asyncio.sleep(SETTLE_S)
    async with db.connect() as conn:
        backends = await _backends(conn)
    connects_before = await connects(sandbox_url)
    invites_before = len(await _calls(sandbox_url, "InviteToChannelRequest"))
    statements.clear()
    renewals = 0
    with _profiled(), Window(sandbox_pid, backends) as measured:
        await asyncio.sleep(window)
    in_window = {"statements": dict(statements), "renewals": renewals}
    connects_after = await connects(sandbox_url)
    invite_calls = await _calls(sandbox_url, "InviteToChannelRequest")
    done = await invited()
    peak = status_kb("VmHWM")
    rss_end = status_kb("VmRSS")
    ticker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticker
    await inviter.close()
    await db.dispose()
    return {
        **measured.result(),
        "setup_s": setup_s,
        "rss_before_kb": rss_before,
        "rss_kb": rss_end,
        "peak_kb": peak,
        "connects_window": _per_account(connects_after, connects_before, ids),
        "connects_run": _per_account(connects_after, connects_start, ids),
        "invited": [done.get(i, 0) for i in ids],
        "invite_calls": len(invite_calls),
        "invite_calls_in_window": len(invite_calls) - invites_before,
        "invite_accounts": sorted(Counter(c["account"] for c in invite_calls).values()),
        "stats": inviter.stats,
        **in_window,
    }


async def baseline(
    database_url: str, key: bytes, sandbox_url: str, sandbox_pid: int, window: float
) -> dict[str, Any]:
    from gateway.telegram import FLOOD_SLEEP_THRESHOLD_S
    from sandbox.world.client import SandboxClientFactory

    db, accounts = await _sessions(database_url, key)
    ids = [a.tg_user_id for a, _ in accounts]
    async with db.connect() as conn:
        backends = await _backends(conn)
    factory = SandboxClientFactory(sandbox_url, flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD_S)
    connects_start = await connects(sandbox_url)
    rss_before = status_kb("VmRSS")
    clients = []
    for _account, session in accounts:
        client = factory(session)
        await client.set_receive_updates(False)  # as gateway.telegram.TelegramGateway.account
        clients.append(client)
    for n in range(0, len(clients), LINK_AT_ONCE):
        await asyncio.gather(*(c.connect() for c in clients[n : n + LINK_AT_ONCE]))
    assert all([await c.is_user_authorized() for c in clients[:3]])
    await asyncio.sleep(SETTLE_S)
    connects_before = await connects(sandbox_url)
    with Window(sandbox_pid, backends) as measured:
        await asyncio.sleep(window)
    connects_after = await connects(sandbox_url)
    peak = status_kb("VmHWM")
    rss_end = status_kb("VmRSS")
    for client in clients:
        await client.disconnect()
    await db.dispose()
    return {
        **measured.result(),
        "rss_before_kb": rss_before,
        "rss_kb": rss_end,
        "peak_kb": peak,
        "connects_window": _per_account(connects_after, connects_before, ids),
        "connects_run": _per_account(connects_after, connects_start, ids),
    }


# --- the world and the accounts (untimed, in the parent) -----------------------------------
@contextlib.contextmanager
def sandbox() -> Iterator[tuple[str, int]]:
    """`python -m sandbox` in its own process on a free loopback port: (url, pid)."""
    import aiohttp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(port),
        "SANDBOX_DEMO": "off",
    }
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    asyncio.run(_get_json(f"{url}/sandbox/health"))
                    break
                except (OSError, aiohttp.ClientError):  # not listening yet
                    if proc.poll() is not None or time.monotonic() > deadline:
                        out.seek(0)
                        raise SystemExit(
                            f"the sandbox did not start:\n{out.read().decode()}"
                        ) from None
                    time.sleep(0.2)
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def prepare(
    database_url: str, sandbox_url: str, accounts: int, audience: int, key: bytes
) -> int:
    """Seed the world, link the accounts, start a campaign over the audience; its id."""
    from sqlalchemy import text

    from core.accounts import AccountService
    from core.campaigns import CampaignStatus
    from core.dto import TelegramProfile
    from core.secretbox import SessionCipher
    from core.telegram import AccountInfo
    from core.users import register
    from db.dal import open_dal
    from db.dal_invites import InviteDal
    from db.engine import create_engine, create_sessionmaker
    from db.models import Base
    from gateway.inviting import Inviter
    from gateway.telegram import TelegramGateway
    from sandbox.world.client import SandboxClientFactory

    db = create_engine(database_url, pool_size=5)
    sessionmaker = create_sessionmaker(db)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with db.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    world = f"{sandbox_url}/sandbox/world"
    account_ids = [FIRST_ACCOUNT + n for n in range(accounts)]
    await _post_json(
        f"{world}/users",
        {
            "users": [
                {"id": CREATOR, "first_name": "Creator"},
                *({"id": i, "username": f"acc{i}", "first_name": "Acc"} for i in account_ids),
            ]
        },
    )
    people = [FIRST_PERSON + n for n in range(audience)]
    await _post_json(
        f"{world}/users",
        {"users": [{"id": i, "username": f"person{i}", "first_name": f"P{i}"} for i in people]},
    )
    await _post_json(
        f"{world}/chats",
        {
            "id": TARGET,
            "type": "megagroup",
            "title": "Bench target",
            "username": TARGET_USERNAME,
            "creator": CREATOR,
            "members": [],
            "admins": {str(i): ["invite_users"] for i in account_ids},
        },
    )

    service = AccountService(SessionCipher({"bench": key}), None)
    gateway = TelegramGateway(SandboxClientFactory(sandbox_url))
    async with open_dal(sessionmaker) as dal:
        owner, _ = await register(dal, TelegramProfile(OWNER_TG, "owner", "Owner", None, "en"), ())
        workspace = (await dal.list_workspaces(owner.id))[0].id

    async def link(tg_id: int) -> str:
        login = gateway.qr_login()
        try:
            token = await login.token()
            assert token is not None
            waiter = asyncio.create_task(login.wait(30))
            await asyncio.sleep(0.05)
            await _post_json(f"{world}/qr/scan", {"url": token.url, "user_id": tg_id})
            await waiter
            session = login.session_string()
        finally:
            await login.close()
        async with open_dal(sessionmaker) as dal:
            await service.link(
                dal, owner.id, workspace, AccountInfo(tg_id, f"acc{tg_id}", "Acc", None), session
            )
        return session

    sessions = []
    for n in range(0, len(account_ids), LINK_AT_ONCE):
        sessions += await asyncio.gather(*(link(i) for i in account_ids[n : n + LINK_AT_ONCE]))

    # The campaign's target, resolved once when the campaign is made (as the bot does);
    # each account resolves it again for its own access hash.
    async with gateway.account(sessions[0]) as client:
        chat = await Inviter(client).resolve_target("@" + TARGET_USERNAME)
    async with sessionmaker() as session, session.begin():
        audience_id = await session.scalar(
            text(
                "INSERT INTO audiences (workspace_id, name, size) VALUES (:ws, 'bench', :n) RETURNING id"
            ),
            {"ws": workspace, "n": audience},
        )
        await session.execute(
            text(
                """INSERT INTO audience_members (audience_id, tg_user_id, username, first_name,
                                             last_seen, premium, photo)
               SELECT :a, g, 'person' || g, 'P' || g, 'recently', false, false
                 FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) g"""
            ),
            {"a": audience_id, "first": people[0], "last": people[-1]},
        )
        linked = list(
            await session.scalars(
                text("SELECT id FROM telegram_accounts WHERE workspace_id = :ws ORDER BY id"),
                {"ws": workspace},
            )
        )
        invites = InviteDal(session)
        campaign = await invites.create_campaign(
            workspace, "bench", audience_id, "@" + TARGET_USERNAME
        )
        await invites.set_target(campaign, chat, None)
        # As a finished pre-flight leaves it: every account was seen to be an admin who may invite.
        await invites.set_preflight(campaign, {"eligible": linked})
        await invites.fill_targets(campaign)
        await invites.set_status(campaign, CampaignStatus.RUNNING, only_from=[CampaignStatus.DRAFT])
    assert len(linked) == accounts, linked
    await db.dispose()
    return campaign


# --- the run -------------------------------------------------------------------------------
def child(
    kind: str, database_url: str, key: bytes, sandbox_url: str, sandbox_pid: int, window: float
) -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_CHILD_DB": base64.b64encode(database_url.encode()).decode(),
        "BENCH_CHILD_KEY": base64.b64encode(key).decode(),
        "BENCH_CHILD_SANDBOX": f"{sandbox_url} {sandbox_pid}",
    }
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--window", str(window)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stdout}\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["warnings"] = _warnings(proc.stderr)
    return result


def _warnings(stderr: str) -> dict[str, int]:
    """The child's warning lines, counted by event and the error or RPC they name."""
    found = Counter[str]()
    for line in stderr.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            found[line[:80]] += 1
            continue
        if isinstance(entry, dict):
            detail = entry.get("error") or entry.get("rpc")
            found[f"{entry.get('event')}" + (f" ({detail})" if detail else "")] += 1
    return dict(found)


def _verdict(what: str, figure: str, target: str, ok: bool) -> str:
    return f"accounts_scale: {what} = {figure} (target {target}) {'PASS' if ok else 'FAIL'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=200, help="accounts held by the worker")
    parser.add_argument("--audience", type=int, default=2000, help="people in the campaign")
    parser.add_argument(
        "--window", type=float, default=60.0, help="seconds measured while every account waits"
    )
    parser.add_argument("--child", choices=("engine", "baseline"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        from core.logs import setup_logging

        setup_logging("bench", level="WARNING", fmt="json")  # info lines are not the benchmark
        database_url = base64.b64decode(os.environ["BENCH_CHILD_DB"]).decode()
        key = base64.b64decode(os.environ["BENCH_CHILD_KEY"])
        child_url, child_pid = os.environ["BENCH_CHILD_SANDBOX"].split()
        measure = engine if args.child == "engine" else baseline
        print(
            json.dumps(
                asyncio.run(measure(database_url, key, child_url, int(child_pid), args.window))
            )
        )
        return
    if args.audience < args.accounts:
        parser.error("--audience must be at least --accounts (one invite per account)")

    database_url = migrate(bench_database())
    key = os.urandom(32)
    with sandbox() as (sandbox_url, sandbox_pid):
        started = time.perf_counter()
        asyncio.run(prepare(database_url, sandbox_url, args.accounts, args.audience, key))
        print(
            f"{args.accounts} accounts linked and a campaign over {args.audience} people "
            f"started in {time.perf_counter() - started:.1f} s (untimed)",
            flush=True,
        )
        base = child("baseline", database_url, key, sandbox_url, sandbox_pid, args.window)
        run = child("engine", database_url, key, sandbox_url, sandbox_pid, args.window)

    n = args.accounts
    problems = []
    if run["invited"] != [1] * n:
        problems.append(f"invites recorded per account: {Counter(run['invited'])} (want 1 each)")
    if run["invite_calls"] != n or run["invite_accounts"] != [1] * n:
        problems.append(
            f"the sandbox saw {run['invite_calls']} InviteToChannelRequest from "
            f"{len(run['invite_accounts'])} accounts (want {n}, one each)"
        )
    if run["invite_calls_in_window"]:
        problems.append(f"{run['invite_calls_in_window']} invites were sent during the window")
    if problems:
        raise SystemExit(
            "accounts_scale: the engine did not do its work:\n  " + "\n  ".join(problems)
        )

    mb = 1024.0
    print(
        f"engine: every account invited once and waiting after {run['setup_s']:.1f} s "
        f"(stats {run['stats']})"
    )
    print(
        f"{'':>9} {'window s':>8} {'CPU s':>6} {'CPU %':>6} {'sandbox %':>9} {'DB %':>6} "
        f"{'RSS before':>10} {'RSS end':>8} {'peak RSS':>8} {'connects/acct (window, run)':>28}"
    )
    for name, r in (("baseline", base), ("engine", run)):
        window_c, run_c = r["connects_window"], r["connects_run"]
        print(
            f"{name:>9} {r['wall']:>8.1f} {r['cpu']:>6.2f} {100 * r['cpu'] / r['wall']:>6.2f} "
            f"{100 * r['sandbox_cpu'] / r['wall']:>9.2f} {100 * r['db_cpu'] / r['wall']:>6.2f} "
            f"{r['rss_before_kb'] / mb:>8.1f}MB {r['rss_kb'] / mb:>6.1f}MB {r['peak_kb'] / mb:>6.1f}MB "
            f"{sum(window_c) / n:>10.3f} (max {max(window_c)}) {sum(run_c) / n:>6.2f} (max {max(run_c)})"
        )
    per_s = run["wall"]
    print(
        f"engine in the window: {run['renewals']} lease renewals ({run['renewals'] / per_s:.1f}/s), "
        f"statements {run['statements']}"
    )
    cpu_pct = 100 * run["cpu"] / run["wall"]
    base_pct = 100 * base["cpu"] / base["wall"]
    per_hour = sum(run["connects_window"]) / n * 3600 / run["wall"]
    cpu_ratio = (
        f"{cpu_pct / base_pct:.1f}x" if base["cpu"] > 0 else "n/a (the baseline used no CPU)"
    )
    print(
        f"engine/baseline (informational): CPU {cpu_ratio} ({cpu_pct:.2f}% against "
        f"{base_pct:.2f}%), peak RSS {run['peak_kb'] / max(base['peak_kb'], 1):.2f}x"
    )
    for name, r in (("baseline", base), ("engine", run)):
        if r["warnings"]:
            print(f"{name} logged: {r['warnings']}")
    print(
        f"connects per account over the engine's whole run: {sum(run['connects_run']) / n:.2f} "
        f"(max {max(run['connects_run'])})"
    )
    print()
    peak_mb = run["peak_kb"] / mb
    print(
        _verdict(
            f"peak RSS of the worker holding {n} accounts",
            f"{peak_mb:.1f} MB",
            f"<= {TARGET_RSS_MB:.0f} MB",
            peak_mb <= TARGET_RSS_MB,
        )
    )
    print(
        _verdict(
            "CPU while every account waits",
            f"{cpu_pct:.2f}% of a core",
            f"<= {TARGET_CPU_PCT:g}%",
            cpu_pct <= TARGET_CPU_PCT,
        )
    )
    print(
        _verdict(
            "connects per account per hour while waiting",
            f"{per_hour:.2f}",
            f"<= {TARGET_CONNECTS_PER_HOUR:g}",
            per_hour <= TARGET_CONNECTS_PER_HOUR,
        )
    )


if __name__ == "__main__":
    main()
