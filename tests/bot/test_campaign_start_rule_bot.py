"""The bot keeps the one start rule (`core.campaigns.start_problem`): a campaign of an empty
audience, or of one whose people are all in the chat already, gets a pre-flight that says
why and offers "Check again" instead of Start; a Start pressed anyway (an old button) checks
again instead of starting, and nobody is invited."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.campaigns import CampaignStatus
from core.i18n import t
from db.models import Audience
from sandbox.world.model import Membership
from tests.bot.conftest import TgUser
from tests.bot.test_campaigns_bot import (  # noqa: F401 (the fixture)
    campaigns,
    edits,
    through_the_wizard,
    world_setup,
)
from tests.bot.test_parsing_bot import buttons
from tests.invites.conftest import OWNER_TG, TARGET, Setup, make_audience


async def _sized(setup: Setup, audience_id: int, size: int) -> int:
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(update(Audience).where(Audience.id == audience_id).values(size=size))
    return audience_id


async def test_nobody_left_to_invite_cannot_start(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    people = world_setup.people([40_001, 40_002], seen_by_tg=901)
    chat = world_setup.world.find_chat(TARGET)
    for member in (40_001, 40_002):
        chat.members[member] = Membership(chat.date)
    inside = await _sized(
        world_setup,
        await make_audience(world_setup.sessionmaker, world_setup.ws, "Inside", people),
        2,
    )

    _checking, report = await through_the_wizard(owner, world_setup, inside)
    (campaign,) = await campaigns(sessionmaker)
    assert campaign.preflight["to_invite"] == 0
    assert t("en", "campaign.warning.nobody_to_invite") in report.text
    assert report.text.splitlines()[-1] == t("en", "preflight.not_ready")
    offered = [data for _, data in buttons(report.reply_markup)]
    assert f"cg:start:{world_setup.ws}:{campaign.id}" not in offered
    assert offered[0] == f"cg:check:{world_setup.ws}:{campaign.id}"

    # A Start pressed anyway checks again and says the same; nothing starts.
    calls = await owner.press(
        report, f"cg:start:{world_setup.ws}:{campaign.id}", message_id=report.message_id
    )
    again = edits(calls)[-1]
    assert t("en", "campaign.warning.nobody_to_invite") in again.text
    assert f"cg:start:{world_setup.ws}:{campaign.id}" not in [
        data for _, data in buttons(again.reply_markup)
    ]
    (campaign,) = await campaigns(sessionmaker)
    assert campaign.status is CampaignStatus.DRAFT
    assert world_setup.invite_calls() == []


async def test_an_empty_audience_cannot_start(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="ru")
    empty = await make_audience(world_setup.sessionmaker, world_setup.ws, "Пусто", [])
    _checking, report = await through_the_wizard(owner, world_setup, empty)
    (campaign,) = await campaigns(sessionmaker)
    assert campaign.preflight["to_invite"] == 0
    assert t("ru", "campaign.warning.nobody_to_invite") in report.text
    assert report.text.splitlines()[-1] == t("ru", "preflight.not_ready")
    assert f"cg:start:{world_setup.ws}:{campaign.id}" not in [
        data for _, data in buttons(report.reply_markup)
    ]
    calls = await owner.press(
        report, f"cg:start:{world_setup.ws}:{campaign.id}", message_id=report.message_id
    )
    assert t("ru", "campaign.warning.nobody_to_invite") in edits(calls)[-1].text
    (campaign,) = await campaigns(sessionmaker)
    assert campaign.status is CampaignStatus.DRAFT
    assert world_setup.invite_calls() == []
