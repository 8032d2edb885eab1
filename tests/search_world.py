"""A small world of communities about "crypto" for the community search tests, and linking
an account to a workspace by QR (as the bot does) so that a search can run as it."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import build_account_service
from core.settings import Settings
from core.telegram import AccountInfo
from db.dal import open_dal
from gateway.telegram import TelegramGateway
from sandbox.world import World
from sandbox.world.model import MessageSpec, PostSpec

SEARCHER = 100
PEOPLE = list(range(300, 360))
LOUNGE, TRADERS, NEWS_CHAT, NEWS, DAILY, QUIET_CHAT, QUIET, FRIENDS, COOKING, SECRET, KRIPTO = (
    range(910_001, 910_012)
)
# What a search for "crypto" must find, best first (score: size, then active people).
EXPECTED = ["crypto_lounge", "crypto_news", "crypto_traders", "crypto_news_chat", None]


def _said(*authors: int) -> list[MessageSpec]:
    return [MessageSpec(a, f"message {n}") for n, a in enumerate(authors)]


def seed_communities(world: World) -> World:
    world.put_users([{"id": SEARCHER, "first_name": "Searcher", "username": "searcher"}])
    world.put_users([{"id": i, "first_name": f"P{i}", "username": f"person_{i}"} for i in PEOPLE])
    p = PEOPLE
    world.put_chat(
        LOUNGE,
        "megagroup",
        "Crypto Lounge",
        username="crypto_lounge",
        members=p[:30],
        messages=_said(p[0], p[1], p[2], p[3], p[4], p[0], p[1]),
    )
    world.put_chat(
        TRADERS,
        "megagroup",
        "Crypto traders",
        username="crypto_traders",
        members=p[:40],
        messages=_said(p[5], p[5], p[5]),
    )
    world.put_chat(
        NEWS_CHAT, "megagroup", "Crypto News chat", username="crypto_news_chat", members=p[:6]
    )
    world.put_chat(
        NEWS,
        "channel",
        "Crypto News",
        username="crypto_news",
        members=p[10:35],
        linked_chat=NEWS_CHAT,
        posts=[
            PostSpec(1, "hello", comments=(MessageSpec(p[40], "c1"), MessageSpec(p[41], "c2"))),
            PostSpec(
                2,
                "again",
                comments=(
                    MessageSpec(p[42], "c3"),
                    MessageSpec(p[43], "c4"),
                    MessageSpec(p[40], "c5"),
                ),
            ),
            PostSpec(3, "quiet one"),
        ],
    )
    # No discussion group: nobody can comment, so nobody can be collected.
    world.put_chat(
        DAILY,
        "channel",
        "Crypto Daily",
        username="crypto_daily",
        members=p[:35],
        posts=[PostSpec(1, "news"), PostSpec(2, "more news")],
    )
    # A discussion group, but not one comment under the posts.
    world.put_chat(QUIET_CHAT, "megagroup", "Quiet talk", username="quiet_talk", members=p[:3])
    world.put_chat(
        QUIET,
        "channel",
        "Crypto Quiet",
        username="crypto_quiet",
        members=p[:20],
        linked_chat=QUIET_CHAT,
        posts=[PostSpec(1, "silence")],
    )
    # A basic group the searching account is in (no username: found among its own chats).
    world.put_chat(
        FRIENDS,
        "group",
        "Crypto friends",
        creator=SEARCHER,
        members=[SEARCHER, *p[50:53]],
        messages=_said(p[50], p[51]),
    )
    world.put_chat(
        COOKING,
        "megagroup",
        "Cooking club",
        username="cooking_club",
        members=p[:50],
        messages=_said(p[0]),
    )
    # Private, and the account is not in it: invisible to a search.
    world.put_chat(SECRET, "megagroup", "Crypto secret", members=p[:10], messages=_said(p[0]))
    return world


def seed_cyrillic(world: World) -> None:
    world.put_chat(
        KRIPTO,
        "megagroup",
        "Крипто чат",
        username="kripto_chat",
        members=PEOPLE[:8],
        messages=_said(PEOPLE[0], PEOPLE[1]),
    )


async def link_account(
    world: World,
    gateway: TelegramGateway,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    user_id: int,
    workspace_id: int,
    tg_id: int = SEARCHER,
) -> int:
    """Log `tg_id` in by QR and link it to the workspace; returns the account id."""
    if tg_id not in world.users:
        world.put_users([{"id": tg_id, "first_name": "Acc", "username": f"acc{tg_id}"}])
    login = gateway.qr_login()
    token = await login.token()
    assert token is not None
    waiter = asyncio.create_task(login.wait(5))
    await asyncio.sleep(0.02)
    world.scan_qr(token.url, tg_id)
    await waiter
    async with open_dal(sessionmaker) as dal:
        account, _ = await build_account_service(settings, None).link(
            dal,
            user_id,
            workspace_id,
            AccountInfo(tg_id, f"acc{tg_id}", "Acc", None),
            login.session_string(),
        )
    await login.close()
    return account.id
