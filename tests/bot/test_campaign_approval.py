"""A manager's campaign larger than APPROVAL_THRESHOLD waits for the owner, who gets its
pre-flight in the bot with Approve / Reject; through the real Dispatcher and the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable

from aiogram import Bot, Dispatcher
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.notices import deliver
from core.campaigns import CampaignStatus
from core.dto import WorkspaceRole
from core.i18n import t
from db.dal import open_dal
from db.kv import NOTIFY_STREAM
from tests.bot.conftest import TgUser
from tests.bot.test_campaigns_bot import answers, world_setup  # noqa: F401  (fixture)
from tests.bot.test_parsing_bot import buttons, replies
from tests.invites.conftest import OWNER_TG, Setup, make_audience

MANAGER_TG = 7_001
LARGE = 510  # past the default APPROVAL_THRESHOLD (500)


async def _notices(redis: Redis) -> list[tuple[int, str, dict[str, str]]]:
    return [
        (int(f[b"telegram_id"]), f[b"kind"].decode(), json.loads(f[b"payload"]))
        for _, f in await redis.xrange(NOTIFY_STREAM)
    ]


async def _status(setup: Setup, cid: int) -> str:
    async with setup.sessionmaker() as session:
        return str(
            await session.scalar(text("SELECT status FROM campaigns WHERE id = :c"), {"c": cid})
        )


async def _manager_draft(
    setup: Setup, dispatcher: Dispatcher, manager: TgUser, name: str, size: int
) -> int:
    """A draft made and checked by the manager in the owner's workspace, as the wizard does."""
    await manager.send("/start")
    async with open_dal(setup.sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(MANAGER_TG)
        assert user is not None
        await dal.add_member(setup.ws, user.id, WorkspaceRole.MANAGER)
        await dal.commit()
    first = 60_000 + 1_000 * len(name)
    audience = await make_audience(
        setup.sessionmaker, setup.ws, name, setup.people(range(first, first + size), seen_by_tg=901)
    )
    async with open_dal(setup.sessionmaker) as dal:
        draft = await dispatcher["campaigns"].create(
            dal, user.id, setup.ws, name=name, audience_id=audience, target="@target_group"
        )
        await dal.commit()
    await dispatcher["planner"].preflight(user.id, setup.ws, draft.id)
    return draft.id


async def test_a_large_campaign_of_a_manager_waits_for_the_owner(
    world_setup: Setup,
    dispatcher: Dispatcher,
    bot: Bot,
    make_user: Callable[..., TgUser],
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    await owner.send("/start")
    manager = make_user(MANAGER_TG, username="mia", first_name="Mia", language_code="ru")
    cid = await _manager_draft(world_setup, dispatcher, manager, "big", LARGE)
    card = (await owner.send("/campaigns"))[0]  # any bot message to press under

    calls = await manager.press(card, f"cg:start:{world_setup.ws}:{cid}")
    assert answers(calls) == [t("ru", "campaigns.done.approval")]
    assert await _status(world_setup, cid) == "approval"
    assert world_setup.invite_calls() == []
    (asked,) = [n for n in await _notices(redis) if n[1] == "campaign_approval"]
    assert asked[0] == OWNER_TG and asked[2] == {"campaign_id": str(cid)}

    # The owner's bot shows the pre-flight with Approve / Reject.
    await deliver(bot, sessionmaker, OWNER_TG, "campaign_approval", asked[2], redis=redis)
    request = [m for m in replies(owner.recording.requests) if m.chat_id == OWNER_TG][-1]
    assert request.text.startswith(
        t("en", "campaigns.approval_ask", by="@mia", name="big", to_invite=LARGE)
    )
    assert t("en", "preflight.title", name="big") in request.text
    assert buttons(request.reply_markup) == [
        (t("en", "campaigns.approve"), f"cg:approve:{world_setup.ws}:{cid}"),
        (t("en", "campaigns.reject"), f"cg:reject:{world_setup.ws}:{cid}"),
    ]
    # Only the owner decides.
    assert answers(await manager.press(request, f"cg:approve:{world_setup.ws}:{cid}")) == [
        t("ru", "error.forbidden")
    ]
    assert await _status(world_setup, cid) == "approval"

    calls = await owner.press(request, f"cg:approve:{world_setup.ws}:{cid}")
    assert answers(calls) == [t("en", "campaigns.done.running")]
    assert await _status(world_setup, cid) == CampaignStatus.RUNNING
    told = [n for n in await _notices(redis) if n[1] == "campaign_approved"]
    assert told == [(MANAGER_TG, "campaign_approved", {"campaign": "big"})]
    # A second press changes nothing.
    assert answers(await owner.press(request, f"cg:approve:{world_setup.ws}:{cid}")) == [
        t("en", "campaigns.done.running")
    ]


async def test_the_owner_rejects_and_small_or_own_campaigns_need_no_approval(
    world_setup: Setup,
    dispatcher: Dispatcher,
    make_user: Callable[..., TgUser],
    redis: Redis,
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    await owner.send("/start")
    manager = make_user(MANAGER_TG, username="mia", first_name="Mia", language_code="ru")
    big = await _manager_draft(world_setup, dispatcher, manager, "bigger", LARGE)
    card = (await owner.send("/campaigns"))[0]
    await manager.press(card, f"cg:start:{world_setup.ws}:{big}")
    calls = await owner.press(card, f"cg:reject:{world_setup.ws}:{big}")
    assert answers(calls) == [t("en", "campaigns.done.draft")]
    assert await _status(world_setup, big) == "draft"
    assert [n for n in await _notices(redis) if n[1] == "campaign_rejected"] == [
        (MANAGER_TG, "campaign_rejected", {"campaign": "bigger"})
    ]

    # A small one of the manager's starts at once.
    small = await _manager_draft(world_setup, dispatcher, manager, "sm", 20)
    assert answers(await manager.press(card, f"cg:start:{world_setup.ws}:{small}")) == [
        t("ru", "campaigns.done.running")
    ]
    # So does the owner's own large one: the owner answers for it.
    assert answers(await owner.press(card, f"cg:start:{world_setup.ws}:{big}")) == [
        t("en", "campaigns.done.running")
    ]
    assert [n for n in await _notices(redis) if n[1] == "campaign_approval"] == [
        (OWNER_TG, "campaign_approval", {"campaign_id": str(big)})
    ]


class _RedisAway:
    """A notifier whose Redis does not answer."""

    async def notify(self, telegram_id: int, kind: str, payload: dict[str, str]) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError

        raise RedisConnectionError("Redis is away")


async def test_a_notice_lost_with_redis_does_not_undo_the_request(
    world_setup: Setup,
    dispatcher: Dispatcher,
    make_user: Callable[..., TgUser],
) -> None:
    from core.campaign_service import CampaignService

    manager = make_user(MANAGER_TG, username="mia", first_name="Mia", language_code="ru")
    cid = await _manager_draft(world_setup, dispatcher, manager, "quiet", LARGE)
    service = CampaignService(dispatcher["campaigns"].limits, notifier=_RedisAway())
    async with open_dal(world_setup.sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(MANAGER_TG)
        assert user is not None
        moved = await service.start(dal, user.id, world_setup.ws, cid)
    assert moved.status == "approval"
    assert (
        await _status(world_setup, cid) == "approval"
    )  # committed: the panel and /campaigns show it
