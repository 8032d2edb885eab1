"""/search in the bot: results as a linked account, one-tap collection of a result."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.i18n import t
from core.parsing import ParseStatus
from core.search import MAX_QUERY, MIN_WORD
from core.settings import Settings
from db.models import ParseTask
from gateway.telegram import TelegramGateway
from sandbox.world import World
from tests.bot.conftest import TgUser
from tests.bot.test_parsing_bot import buttons, replies, workspace_of
from tests.search_world import link_account, seed_communities


async def test_search_lists_results_and_a_button_queues_the_collection(
    make_user: Callable[..., TgUser],
    world: World,
    gateway: TelegramGateway,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    seed_communities(world)
    vera = make_user(6101, language_code="en")
    assert [r.text for r in replies(await vera.send("/search"))] == [t("en", "search.usage")]
    assert [r.text for r in replies(await vera.send("/search ab"))] == [
        t("en", "search.bad_keywords", min=MIN_WORD, max=MAX_QUERY)
    ]
    assert [r.text for r in replies(await vera.send("/search crypto"))] == [
        t("en", "search.no_accounts")
    ]

    user_id, ws = await workspace_of(sessionmaker, 6101)
    await link_account(world, gateway, sessionmaker, settings, user_id, ws)
    (results,) = replies(await vera.send("/search crypto"))

    lines = results.text.split("\n\n")
    assert lines[0] == t("en", "search.title", keywords="crypto")
    assert [line.split(" — ")[0] for line in lines[1:]] == [
        "1. Crypto Lounge @crypto_lounge",
        "2. Crypto News @crypto_news",
        "3. Crypto traders @crypto_traders",
        "4. Crypto News chat @crypto_news_chat",
        f"5. Crypto friends {t('en', 'search.no_username')}",
    ]
    assert "members: 25 · active commenters: 4" in lines[2]
    assert t("en", "search.kind.channel") in lines[2]
    assert buttons(results.reply_markup) == [
        (t("en", "search.parse_members", n=1), f"sp:{ws}:m:crypto_lounge"),
        (t("en", "search.parse_comments", n=2), f"sp:{ws}:c:crypto_news"),
        (t("en", "search.parse_members", n=3), f"sp:{ws}:m:crypto_traders"),
        (t("en", "search.parse_members", n=4), f"sp:{ws}:m:crypto_news_chat"),
    ]

    calls = await vera.press(results, f"sp:{ws}:c:crypto_news")
    async with sessionmaker() as session:
        (task,) = list(await session.scalars(select(ParseTask)))
    assert (task.source, str(task.kind), task.status) == (
        "@crypto_news",
        "comments",
        ParseStatus.QUEUED,
    )
    (ack,) = [c for c in calls if isinstance(c, SendMessage)]
    assert ack.text.startswith(
        t(
            "en",
            "task.head",
            id=task.id,
            source="@crypto_news",
            kind=t("en", "task.kind.comments"),
            audience="@crypto_news",
        )
    )
    assert task.notify_chat_id == 6101 and task.notify_message_id is not None
    assert [c.text for c in calls if isinstance(c, AnswerCallbackQuery)] == [
        t("en", "search.created", id=task.id)
    ]

    # Someone else's button (another workspace) creates nothing.
    stranger = make_user(6102, language_code="ru")
    calls = await stranger.press(results, f"sp:{ws}:m:crypto_lounge")
    assert [(type(c), c.text) for c in calls] == [(AnswerCallbackQuery, t("ru", "error.not_found"))]
    async with sessionmaker() as session:
        assert len(list(await session.scalars(select(ParseTask)))) == 1
