"""Community search as a linked account in the simulated world: what is kept, how it is
ranked, and which account does the work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import AccountService, build_account_service
from core.dto import AccountStatus, TelegramProfile
from core.errors import Busy, InvalidInput, NoAccounts, NotFound
from core.search import Community
from core.settings import Settings
from core.users import register
from db.dal import open_dal
from db.kv import RedisNotifier
from db.leases import LeaseStore
from gateway.community import search_communities
from gateway.telegram import TelegramGateway
from sandbox.world import InProcessClientFactory, World
from tests.search_world import (
    EXPECTED,
    FRIENDS,
    KRIPTO,
    NEWS,
    SEARCHER,
    link_account,
    seed_communities,
    seed_cyrillic,
)


@dataclass
class Env:
    world: World
    gateway: TelegramGateway
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    service: AccountService
    leases: LeaseStore
    user_id: int
    workspace_id: int

    async def search(self, keywords: str, *, user_id: int | None = None) -> list[Community]:
        return await search_communities(
            keywords=keywords,
            user_id=user_id or self.user_id,
            workspace_id=self.workspace_id,
            sessionmaker=self.sessionmaker,
            service=self.service,
            gateway=self.gateway,
            leases=self.leases,
        )

    async def link(self, tg_id: int = SEARCHER) -> int:
        return await link_account(
            self.world,
            self.gateway,
            self.sessionmaker,
            self.settings,
            self.user_id,
            self.workspace_id,
            tg_id,
        )


@pytest.fixture
async def env(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, redis: Redis
) -> AsyncIterator[Env]:
    world = seed_communities(World())
    async with open_dal(sessionmaker) as dal:
        user, _ = await register(dal, TelegramProfile(555, "boss", "Boss", None, "en"), ())
        workspace_id = (await dal.list_workspaces(user.id))[0].id
    yield Env(
        world=world,
        gateway=TelegramGateway(InProcessClientFactory(world)),
        sessionmaker=sessionmaker,
        settings=settings,
        service=build_account_service(settings, RedisNotifier(redis)),
        leases=LeaseStore(sessionmaker, "search-test", ttl_s=30),
        user_id=user.id,
        workspace_id=workspace_id,
    )


async def test_groups_and_only_commentable_channels_best_first(env: Env) -> None:
    await env.link()
    found = await env.search("Crypto!")

    assert [c.username for c in found] == EXPECTED
    by_name = {c.username: c for c in found}
    lounge, news, traders = (
        by_name["crypto_lounge"],
        by_name["crypto_news"],
        by_name["crypto_traders"],
    )
    assert (lounge.kind, lounge.members, lounge.recent_commenters) == ("megagroup", 30, 5)
    assert (traders.members, traders.recent_commenters) == (40, 1)
    assert (news.kind, news.members, news.has_discussion, news.recent_commenters) == (
        "channel",
        25,
        True,
        4,
    )
    assert news.chat_id == NEWS
    friends = found[-1]
    assert (friends.chat_id, friends.kind, friends.members, friends.recent_commenters) == (
        FRIENDS,
        "group",
        4,
        2,
    )
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    # The search ran as the linked account, under its lease, and asked Telegram a few things only.
    calls = env.world.calls("SearchRequest")
    assert [c.account for c in calls] == [SEARCHER]
    assert len(env.world.call_log) < 40


async def test_keyword_variants_are_searched_once_each(env: Env) -> None:
    seed_cyrillic(env.world)
    await env.link()
    found = await env.search("крипто")
    assert [c.chat_id for c in found] == [KRIPTO]  # by its title, and by its Latin username
    assert len(env.world.calls("SearchRequest")) == 2


async def test_without_a_usable_account_the_search_says_so(env: Env) -> None:
    with pytest.raises(NoAccounts):
        await env.search("crypto")
    account_id = await env.link()
    async with open_dal(env.sessionmaker) as dal:
        await env.service.set_enabled(dal, env.user_id, env.workspace_id, account_id, enabled=False)
    with pytest.raises(NoAccounts):
        await env.search("crypto")
    with pytest.raises(InvalidInput):
        await env.search("  !! ")
    async with open_dal(env.sessionmaker) as dal:
        stranger, _ = await register(dal, TelegramProfile(556, "other", "Other", None, "en"), ())
    with pytest.raises(NotFound):
        await env.search("crypto", user_id=stranger.id)


async def test_a_busy_or_flooded_account_is_passed_over(env: Env) -> None:
    first = await env.link(SEARCHER)
    second_tg = 101
    await env.link(second_tg)
    env.world.add_fault("SearchRequest", "FLOOD_WAIT_120", 1, account=SEARCHER)

    found = await env.search("crypto")

    # (the second account is not in the basic group, so it does not see it)
    assert [c.username for c in found] == EXPECTED[:-1]
    assert [c.account for c in env.world.calls("SearchRequest")] == [SEARCHER, second_tg]
    async with open_dal(env.sessionmaker) as dal:
        rested = await dal.get_account(env.workspace_id, first)
    assert rested is not None and rested.status is AccountStatus.COOLDOWN

    # Now the only free account is held by someone else: busy, not "no account".
    other = LeaseStore(env.sessionmaker, "someone-else", ttl_s=30)
    async with open_dal(env.sessionmaker) as dal:
        accounts = await dal.list_accounts(env.workspace_id, after_id=0, limit=10)
    second = next(a for a in accounts if a.tg_user_id == second_tg)
    assert await other.acquire(second.id) is not None
    with pytest.raises(Busy):
        await env.search("crypto")
