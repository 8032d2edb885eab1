"""Throughput of the invite engine's lease/journal path against a bare claim-and-commit loop.

Both run on the same PostgreSQL in the same run, with the same number of accounts working at
once; Telegram is replaced by an answer that costs nothing, and limits and pauses are lifted,
so what is measured is the bookkeeping that makes invites exactly-once.

    DATABASE_URL=postgresql://... python bench/invite_engine.py [invites] [accounts]

The bench migrates the database first (`alembic upgrade head`), adds its own workspace and
removes it afterwards. Each phase starts on vacuumed tables holding no rows of the other
phase's campaign ahead of its own, so neither loop scans rows the other left behind.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.accounts import AccountService
from core.campaigns import CampaignStatus, ChatRights, Sent, TargetChat
from core.dto import AccountDTO, AccountStatus
from core.limits import InviteLimits
from db.dal_invites import InviteDal
from db.engine import create_engine, create_sessionmaker
from db.leases import LeaseStore
from workers.inviting import InviteConfig, InviteEngine
from workers.leases import hold

CHAT = 9_900_001


class FreeTelegram:
    """Answers every call at once, the way a cooperative Telegram would."""

    def __init__(self, chat: TargetChat) -> None:
        self.chat = chat
        self.calls = 0

    async def resolve_target(self, ref: str | int) -> TargetChat:
        return self.chat

    def use(self, chat: TargetChat) -> None:
        """The engine hands over the chat as this account addresses it; one chat here."""

    async def my_rights(self, chat: TargetChat) -> ChatRights:
        return ChatRights(member=True, creator=True, admin=True, can_invite=True)

    async def invite(
        self, chat: TargetChat, user_id: int, access_hash: int | None, username: str | None
    ) -> Sent:
        self.calls += 1
        return Sent.ADDED

    async def joined_at(self, *args: object) -> datetime:
        return datetime.now(UTC)


async def _seed(sm, invites: int, accounts: int) -> tuple[int, list[int], int, int]:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:8]
    async with sm() as s, s.begin():
        user = await s.scalar(
            text(
                "INSERT INTO users (telegram_id, first_name, language, language_explicit, role, blocked) "
                "VALUES (:t, 'bench', 'en', false, 'user', false) RETURNING id"
            ),
            {"t": int(uuid.uuid4().int % 10**12)},
        )
        ws = await s.scalar(
            text(
                "INSERT INTO workspaces (name, personal, owner_id) VALUES (:n, false, :u) RETURNING id"
            ),
            {"n": f"bench-{tag}", "u": user},
        )
        ids = []
        for i in range(accounts):
            ids.append(
                await s.scalar(
                    text(
                        """INSERT INTO telegram_accounts (workspace_id, tg_user_id, first_name, status, session_key_id,
                                                  session_nonce, session_ciphertext)
                   VALUES (:ws, :tg, 'b', 'active', 'k', '\\x00', '\\x00') RETURNING id"""
                    ),
                    {"ws": ws, "tg": 1_000 + i},
                )
            )
        audiences = []
        for name in ("engine", "bare"):
            a = await s.scalar(
                text(
                    "INSERT INTO audiences (workspace_id, name, size) VALUES (:ws, :n, 0) RETURNING id"
                ),
                {"ws": ws, "n": name},
            )
            await s.execute(
                text("""INSERT INTO audience_members (audience_id, tg_user_id, username, first_name,
                                        last_seen, premium, photo)
                                    SELECT :a, g, 'p' || g, '', 'unknown', false, false FROM generate_series(1, :n) g"""),
                {"a": a, "n": invites},
            )
            audiences.append(a)
        dal = InviteDal(s)
        campaigns = []
        for a, chat in zip(audiences, (CHAT, CHAT + 1), strict=True):
            cid = await dal.create_campaign(ws, "bench", a, "bench_target")
            await dal.set_target(cid, TargetChat(chat, "megagroup", "Bench", "bench_target"), None)
            await dal.set_preflight(cid, {"eligible": ids})
            await dal.fill_targets(cid)
            campaigns.append(cid)
        # only the engine's campaign is working; the bare loop reads its own rows directly
        await dal.set_status(campaigns[0], CampaignStatus.RUNNING, only_from=[CampaignStatus.DRAFT])
    return ws, ids, campaigns[0], campaigns[1]


async def _engine_run(sm, ids: list[int], invites: int) -> float:  # type: ignore[no-untyped-def]
    config = InviteConfig(
        limits=InviteLimits(
            daily_per_account=10**6,
            daily_per_chat=10**6,
            lifetime_per_chat=10**6,
            daily_per_target=10**6,
            pause_min_s=1,
            pause_max_s=1,
        ),
        pause_scale=0,
    )
    leases = LeaseStore(sm, f"bench:{os.getpid()}", ttl_s=30)
    engine = InviteEngine(
        sessionmaker=sm,
        gateway=None,
        service=AccountService(None, None),  # type: ignore[arg-type]
        leases=leases,
        config=config,
    )
    telegram = FreeTelegram(TargetChat(CHAT, "megagroup", "Bench", "bench_target"))

    async def one(account_id: int) -> None:
        account = AccountDTO(
            account_id, 0, 0, None, "b", None, AccountStatus.ACTIVE, None, None, None
        )  # type: ignore[arg-type]
        async with sm() as s:
            account = AccountDTO(
                account_id,
                int(
                    await s.scalar(
                        text("SELECT workspace_id FROM telegram_accounts WHERE id = :i"),
                        {"i": account_id},
                    )
                ),
                0,
                None,
                "b",
                None,
                AccountStatus.ACTIVE,
                None,
                None,
                None,
            )  # type: ignore[arg-type]
        async with hold(leases, account_id) as lease:
            await engine._work(account, lease, telegram)  # type: ignore[arg-type]

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in ids))
    elapsed = time.perf_counter() - started
    assert telegram.calls == invites, (telegram.calls, invites)
    return invites / elapsed


async def _bare_run(sm, campaign: int, workers: int, invites: int) -> float:  # type: ignore[no-untyped-def]
    claim = text("""UPDATE campaign_targets SET state = 'invited'
                     WHERE id = (SELECT id FROM campaign_targets WHERE campaign_id = :c AND state = 'pending'
                                  ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING id""")
    done = 0

    async def loop() -> None:
        nonlocal done
        while True:
            async with sm() as s, s.begin():
                if await s.scalar(claim, {"c": campaign}) is None:
                    return
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(workers)))
    elapsed = time.perf_counter() - started
    assert done == invites
    return invites / elapsed


async def _vacuum(engine) -> None:  # type: ignore[no-untyped-def]
    """Each phase starts from tables without dead rows and with fresh statistics: a claim
    scans the targets in id order, so dead rows left by an earlier run (or by the other
    phase) would otherwise be paid for by whichever loop runs first after them."""
    async with engine.connect() as raw:
        conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("campaign_targets", "invite_ledger", "invite_events", "account_leases"):
            await conn.execute(text(f"VACUUM ANALYZE {table}"))


def _migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from core.settings import PROJECT_ROOT

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "head")


async def main(invites: int, accounts: int) -> None:
    url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+asyncpg")
    engine = create_engine(url.render_as_string(hide_password=False), pool_size=accounts + 4)
    sm = create_sessionmaker(engine)
    try:
        ws, ids, engine_campaign, bare_campaign = await _seed(sm, invites, accounts)
        await _vacuum(engine)
        full = await _engine_run(sm, ids, invites)
        # The engine's rows come first in id order; gone, they cost the bare loop's claims
        # nothing, just as the bare campaign's rows cost the engine's nothing.
        async with sm() as s, s.begin():
            await s.execute(
                text("DELETE FROM campaign_targets WHERE campaign_id = :c"), {"c": engine_campaign}
            )
        await _vacuum(engine)
        bare = await _bare_run(sm, bare_campaign, accounts, invites)
        print(f"invites={invites} accounts={accounts}")
        print(f"engine (lease + journal + ledger + events): {full:,.0f} invites/s")
        print(f"bare claim-and-commit loop:                 {bare:,.0f} invites/s")
        ratio = full / bare
        print(
            f"invite_engine: engine throughput = {full:,.0f} invites/s (target >= 300/s) "
            f"{'PASS' if full >= 300 else 'FAIL'}"
        )
        print(
            f"invite_engine: engine/bare throughput = {ratio:.2f} (target >= 0.5) "
            f"{'PASS' if ratio >= 0.5 else 'FAIL'}"
        )
        async with sm() as s, s.begin():
            await s.execute(text("DELETE FROM invite_events WHERE workspace_id = :ws"), {"ws": ws})
            await s.execute(text("DELETE FROM workspaces WHERE id = :ws"), {"ws": ws})
    finally:
        await engine.dispose()


if __name__ == "__main__":
    if "DATABASE_URL" not in os.environ:
        sys.exit("bench: set DATABASE_URL to a PostgreSQL database the bench may write to")
    _migrate(
        make_url(os.environ["DATABASE_URL"])
        .set(drivername="postgresql+asyncpg")
        .render_as_string(hide_password=False)
    )
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 10_000,
            int(sys.argv[2]) if len(sys.argv) > 2 else 8,
        )
    )
