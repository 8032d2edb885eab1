"""An in-process world with linked accounts, an audience and helpers to run the invite engine."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import build_account_service
from core.campaigns import CampaignStatus
from core.dto import AccountDTO, TelegramProfile
from core.limits import InviteLimits
from core.settings import Settings
from core.telegram import AccountInfo
from core.users import register
from db.dal import open_dal
from db.dal_invites import InviteDal
from db.leases import LeaseStore
from db.metrics import RedisCounter
from gateway.inviting import Inviter
from gateway.telegram import TelegramGateway
from sandbox.world import InProcessClientFactory, World
from workers.inviting import InviteConfig, InviteEngine

OWNER_TG = 555
TARGET = 7_000_001
FAST = InviteLimits(
    daily_per_account=1000,
    daily_per_chat=1000,
    lifetime_per_chat=1000,
    daily_per_target=1000,
    pause_min_s=1,
    pause_max_s=1,
)


async def link_accounts(
    world: World,
    gateway: TelegramGateway,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    ids: Iterable[int],
) -> tuple[int, dict[int, int]]:
    """Link Telegram users as accounts of the owner's workspace: (workspace id, {tg id: account id})."""
    async with open_dal(sessionmaker) as dal:
        owner, _ = await register(dal, TelegramProfile(OWNER_TG, "boss", "Boss", None, "en"), ())
        ws = (await dal.list_workspaces(owner.id))[0].id
    service = build_account_service(settings, None)
    accounts: dict[int, int] = {}
    for tg_id in ids:
        world.put_users([{"id": tg_id, "username": f"acc{tg_id}", "first_name": "Acc"}])
        login = gateway.qr_login()
        token = await login.token()
        assert token is not None
        waiter = asyncio.create_task(login.wait(5))
        await asyncio.sleep(0.02)
        world.scan_qr(token.url, tg_id)
        await waiter
        async with open_dal(sessionmaker) as dal:
            account, _ = await service.link(
                dal,
                owner.id,
                ws,
                AccountInfo(tg_id, f"acc{tg_id}", "Acc", None),
                login.session_string(),
            )
        await login.close()
        accounts[tg_id] = account.id
    return ws, accounts


async def make_audience(
    sessionmaker: async_sessionmaker[AsyncSession],
    ws: int,
    name: str,
    people: Iterable[tuple[int, str | None, int | None, int | None]],
) -> int:
    """people: (tg id, username, seen by account id, access hash)."""
    async with sessionmaker() as session, session.begin():
        audience_id = await session.scalar(
            text(
                "INSERT INTO audiences (workspace_id, name, size) VALUES (:ws, :n, 0) RETURNING id"
            ),
            {"ws": ws, "n": name},
        )
        rows = [{"a": audience_id, "u": u, "n": n, "s": s, "h": h} for u, n, s, h in people]
        if rows:
            await session.execute(
                text("""INSERT INTO audience_members (audience_id, tg_user_id, username, first_name,
                               last_seen, premium, photo, seen_by_account_id, access_hash)
                        VALUES (:a, :u, :n, '', 'unknown', false, false, :s, :h)"""),
                rows,
            )
    return int(audience_id)


class Notices:
    """The notices the product hands to the bot (the `Notifier` seam of `core.interfaces`)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, dict[str, str]]] = []

    async def notify(self, telegram_id: int, kind: str, payload: dict[str, str]) -> None:
        self.sent.append((telegram_id, kind, payload))

    def kinds(self) -> list[str]:
        return [k for _t, k, _p in self.sent]


@dataclass
class Setup:
    world: World
    gateway: TelegramGateway
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    ws: int
    accounts: dict[int, int]  # tg id → account id

    def engine(
        self,
        config: InviteConfig | None = None,
        owner: str = "worker-a",
        attempts: RedisCounter | None = None,
    ) -> InviteEngine:
        return InviteEngine(
            sessionmaker=self.sessionmaker,
            gateway=self.gateway,
            service=build_account_service(self.settings, None),
            leases=LeaseStore(self.sessionmaker, owner, ttl_s=30),
            config=config or InviteConfig(limits=FAST, pause_scale=0),
            attempts=attempts,
        )

    async def account(self, tg_id: int) -> AccountDTO:
        async with open_dal(self.sessionmaker) as dal:
            found = await dal.get_account(self.ws, self.accounts[tg_id])
        assert found is not None
        return found

    def people(
        self, ids: Iterable[int], seen_by_tg: int, **fields: object
    ) -> list[tuple[int, str | None, int | None, int | None]]:
        """World users, as the audience saw them through one account (id + its access hash)."""
        ids = list(ids)
        self.world.put_users([{"id": i, "first_name": f"P{i}", **fields} for i in ids])
        acc = self.accounts[seen_by_tg]
        return [(i, None, acc, self.world.user_hash(seen_by_tg, i)) for i in ids]

    async def campaign(
        self, audience_id: int, ref: str, name: str = "c", *, trace_id: str | None = None
    ) -> int:
        async with self.gateway.account(await self._session(next(iter(self.accounts)))) as client:
            chat = await Inviter(client).resolve_target(ref)
        async with self.sessionmaker() as session, session.begin():
            dal = InviteDal(session)
            cid = await dal.create_campaign(self.ws, name, audience_id, ref, trace_id=trace_id)
            await dal.set_target(cid, chat, None)
            await dal.fill_targets(cid)
            await dal.set_status(cid, CampaignStatus.RUNNING, only_from=[CampaignStatus.DRAFT])
        return cid

    async def _session(self, tg_id: int) -> str:
        service = build_account_service(self.settings, None)
        async with open_dal(self.sessionmaker) as dal:
            return await service.session_of(dal, await self.account(tg_id))

    async def targets(self, cid: int) -> dict[int, tuple[str, str | None]]:
        async with self.sessionmaker() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT tg_user_id, state, reason FROM campaign_targets WHERE campaign_id = :c"
                    ),
                    {"c": cid},
                )
            ).all()
        return {r.tg_user_id: (str(r.state), r.reason) for r in rows}

    async def status(self, cid: int) -> str:
        async with self.sessionmaker() as session:
            return str(
                await session.scalar(text("SELECT status FROM campaigns WHERE id = :c"), {"c": cid})
            )

    def invite_calls(self) -> list[tuple[int | None, tuple[int, ...], str | None]]:
        return [(c.account, c.users, c.error) for c in self.world.calls("InviteToChannelRequest")]


@pytest.fixture
async def setup(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> Setup:
    return await build_setup(sessionmaker, settings)


async def build_setup(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> Setup:
    """The world of the `setup` fixture, for tests outside this package."""
    world = World()
    gateway = TelegramGateway(InProcessClientFactory(world))
    ws, accounts = await link_accounts(world, gateway, sessionmaker, settings, [901, 902, 903])
    world.put_users([{"id": 900, "first_name": "Creator"}])
    # 901 and 902 may invite into the megagroup; 903 is a plain member.
    world.put_chat(
        TARGET,
        "megagroup",
        "Target",
        username="target_group",
        creator=900,
        members=[903],
        admins={901: ["invite_users"], 902: ["invite_users"]},
    )
    return Setup(world, gateway, sessionmaker, settings, ws, accounts)
