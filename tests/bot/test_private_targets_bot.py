"""Targets the accounts can reach without a public username, through the real Dispatcher on
the simulated Telegram: the chat picker of /campaign_new's step 2 (read from each account's
dialogs), `-100…` ids, invite links, and the refusals said before anything is saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiogram.methods import TelegramMethod
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.campaigns import CampaignStatus
from core.i18n import t
from core.settings import Settings
from db.models import Campaign
from gateway.telegram import TelegramGateway
from sandbox.world import World
from sandbox.world.invites import make_invite
from tests.bot.conftest import TgUser
from tests.bot.test_campaigns_bot import answers, edits
from tests.bot.test_parsing_bot import buttons, replies
from tests.invites.conftest import FAST, OWNER_TG, Setup, link_accounts, make_audience
from workers.inviting import InviteConfig

PRIVATE, PUBLIC, OTHERS, BASIC = 7_000_050, 7_000_051, 7_000_052, 7_000_053
JOINABLE = 7_000_054


@pytest.fixture
async def world_setup(
    world: World,
    gateway: TelegramGateway,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    redis: Redis,
) -> Setup:
    """Accounts 901–903. "Private Club" (no username): 901 created it, 902 is an admin who may
    add people, 903 a plain member. "Public Hall" (@public_hall): all three plain members.
    "Others' Room": a private chat none of them is in. "Old Friends": a basic group 903 is in."""
    await redis.flushdb()  # the picker's cache of dialogs lives here
    ws, accounts = await link_accounts(world, gateway, sessionmaker, settings, [901, 902, 903])
    world.put_users([{"id": 900, "first_name": "Creator"}])
    world.put_chat(
        PRIVATE,
        "megagroup",
        "Private Club",
        creator=901,
        members=[903],
        admins={902: ["invite_users"]},
    )
    world.put_chat(
        PUBLIC,
        "megagroup",
        "Public Hall",
        username="public_hall",
        creator=900,
        members=[901, 902, 903],
    )
    world.put_chat(OTHERS, "megagroup", "Others' Room", creator=900)
    world.put_chat(BASIC, "group", "Old Friends", creator=900, members=[903])
    return Setup(world, gateway, sessionmaker, settings, ws, accounts)


async def _audience(world_setup: Setup) -> int:
    people = world_setup.people(range(20_000, 20_005), seen_by_tg=901)
    return await make_audience(world_setup.sessionmaker, world_setup.ws, "Fans", people)


async def _campaigns(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Campaign]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Campaign).order_by(Campaign.id)))


async def _step2(owner: TgUser, world_setup: Setup, audience_id: int) -> list[TelegramMethod[Any]]:
    (picker,) = replies(await owner.send("/campaign_new"))
    return await owner.press(picker, f"cn:pick:{world_setup.ws}:{audience_id}")


async def test_a_private_megagroup_picked_from_the_list_is_invited_into(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    audience_id = await _audience(world_setup)
    ws = world_setup.ws

    (ask_target,) = replies(await _step2(owner, world_setup, audience_id))
    assert ask_target.text == t("en", "campaign_new.ask_target")
    # Only chats where an account may add people: the private club (creator 901, admin 902)
    # and the basic group (a member may add people there unless the chat forbids it).
    assert buttons(ask_target.reply_markup) == [
        (
            t("en", "campaign_new.chat_button", title="Private Club", members=3),
            f"cn:chat:{ws}:{PRIVATE}",
        ),
        (
            t("en", "campaign_new.chat_button", title="Old Friends", members=2),
            f"cn:chat:{ws}:{BASIC}",
        ),
    ]
    # One getDialogs page per account; a second look within minutes reads the cache.
    dialogs = len(world_setup.world.calls("GetDialogsRequest"))
    assert dialogs == 3

    calls = await owner.press(ask_target, f"cn:chat:{ws}:{PRIVATE}")
    assert [e.text for e in edits(calls)] == [
        t("en", "campaign_new.chat_chosen", title="Private Club")
    ]
    (ask_start,) = replies(calls)
    assert ask_start.text == t("en", "campaign_new.ask_start")
    (ask_hours,) = replies(await owner.press(ask_start, f"cn:now:{ws}:0"))
    (ask_limits,) = replies(await owner.press(ask_hours, f"cn:any:{ws}:0"))
    calls = await owner.press(ask_limits, f"cn:std:{ws}:0")
    (checking,) = replies(calls)
    (report,) = [e for e in edits(calls) if e.message_id != 900]
    lines = report.text.splitlines()
    assert "Chat: «Private Club», supergroup" in lines
    assert "Will invite (2): @acc901, @acc902" in lines
    assert lines[-1] == t("en", "preflight.ready")

    (campaign,) = await _campaigns(sessionmaker)
    assert (campaign.name, campaign.target_ref, campaign.target_chat_id) == (
        "Fans → Private Club",
        f"-100{PRIVATE}",
        PRIVATE,
    )
    calls = await owner.press(
        checking, f"cg:start:{ws}:{campaign.id}", message_id=report.message_id
    )
    (campaign,) = await _campaigns(sessionmaker)
    assert campaign.status is CampaignStatus.RUNNING

    # The engine invites with each account's own access hash (read from its dialogs).
    engine = world_setup.engine(InviteConfig(limits=FAST, pause_scale=0))
    for account_tg in (901, 902):
        await engine.run_account(await world_setup.account(account_tg))
    club = world_setup.world.find_chat(PRIVATE)
    assert set(range(20_000, 20_005)) <= set(club.members)
    states = await world_setup.targets(campaign.id)
    assert {state for state, _reason in states.values()} == {"invited"}
    assert all(error is None for _acc, _users, error in world_setup.invite_calls())
    # The pre-flight asked each account once; the workers used the hashes the picker kept.
    assert len(world_setup.world.calls("GetDialogsRequest")) == dialogs + 3


async def test_ids_and_links_typed_at_step_2(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    audience_id = await _audience(world_setup)
    world = world_setup.world

    def bad(problem: str) -> str:
        return t("en", "campaign_new.bad_input", problem=t("en", problem))

    await _step2(owner, world_setup, audience_id)
    # Unknown: a username nobody has, an id none of the accounts' chats has, a dead link.
    assert await owner.reply_to("@nobody_has_this") == bad("problem.target_no_such_chat")
    assert await owner.reply_to("-1009999999") == bad("problem.target_no_such_chat")
    assert await owner.reply_to("https://t.me/+NoSuchLink") == bad("problem.target_no_such_chat")
    expired = make_invite(world, world.find_chat(PRIVATE), expired=True)
    assert await owner.reply_to(expired.link) == bad("problem.target_no_such_chat")
    # A real link to a chat none of the accounts is in.
    theirs = make_invite(world, world.find_chat(OTHERS))
    assert await owner.reply_to(theirs.link) == bad("problem.target_not_member")
    assert await _campaigns(sessionmaker) == []  # nothing was saved

    # A link to the private club (the older joinchat form) is taken.
    ours = make_invite(world, world.find_chat(PRIVATE))
    assert await owner.reply_to(f"t.me/joinchat/{ours.hash}") == t("en", "campaign_new.ask_start")
    await owner.send("/cancel")

    # A -100 id, as bots show a supergroup.
    await _step2(owner, world_setup, audience_id)
    assert await owner.reply_to(f"-100{PRIVATE}") == t("en", "campaign_new.ask_start")
    assert await owner.reply_to("now") == t("en", "campaign_new.ask_hours")
    await owner.send("any")
    calls = await owner.send("daily_per_target=10")
    (report,) = edits(calls)
    assert report.text.splitlines()[-1] == t("en", "preflight.ready")
    (campaign,) = await _campaigns(sessionmaker)
    assert (campaign.target_ref, campaign.target_chat_id) == (f"-100{PRIVATE}", PRIVATE)


async def test_no_chat_to_offer_says_how_to_get_one_and_typing_still_works(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="ru")
    world = world_setup.world
    world.put_chat(
        PRIVATE, "megagroup", "Private Club", creator=900, members=[901, 902, 903]
    )  # no admins
    world.put_chat(BASIC, "group", "Old Friends", creator=900, members=[900])
    audience_id = await _audience(world_setup)
    (ask_target,) = replies(await _step2(owner, world_setup, audience_id))
    assert ask_target.text == t("ru", "campaign_new.ask_target_typed")
    assert ask_target.reply_markup is None
    # A chat they are in but may not add people to is still taken: the pre-flight says why.
    assert await owner.reply_to(f"-100{PRIVATE}") == t("ru", "campaign_new.ask_start")


async def test_the_owner_lets_an_account_join_the_target_from_the_preflight(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Accounts not in a public target are offered as "Let @acc join" buttons; pressing one
    joins it (channels.joinChannel) and shows the pre-flight run again in place."""
    world = world_setup.world
    acc = world_setup.accounts
    world.put_chat(
        JOINABLE,
        "megagroup",
        "Joinable",
        username="joinable",
        creator=900,
        admins={902: ["invite_users"]},
    )
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    audience_id = await _audience(world_setup)
    ws = world_setup.ws
    await _step2(owner, world_setup, audience_id)
    await owner.reply_to("@joinable")
    await owner.reply_to("now")
    await owner.send("any")
    (report,) = edits(await owner.send("daily_per_target=10"))
    assert "Will invite (1): @acc902" in report.text.splitlines()
    (campaign,) = await _campaigns(sessionmaker)
    join_901 = f"cj:{ws}:{campaign.id}:{acc[901]}"
    assert buttons(report.reply_markup)[-2:] == [
        (t("en", "campaign.join.button", account="@acc901"), join_901),
        (t("en", "campaign.join.button", account="@acc903"), f"cj:{ws}:{campaign.id}:{acc[903]}"),
    ]

    calls = await owner.press(report, join_901, message_id=report.message_id)
    assert answers(calls) == [
        t("en", "campaign.join.joined", account="@acc901")
        + " "
        + t("en", "campaign.join.admin_needed")
    ]
    assert 901 in world.find_chat(JOINABLE).members
    (again,) = edits(calls)
    assert "• @acc901 — not an admin of the chat" in again.text.splitlines()
    assert [text for text, _data in buttons(again.reply_markup)][-1] == t(
        "en", "campaign.join.button", account="@acc903"
    )
    # Pressed twice: the second join of an account waits for the pace, nothing is called.
    calls = await owner.press(again, join_901, message_id=again.message_id)
    assert "it joined a chat a moment ago" in str(answers(calls)[0])
    assert len(world.calls("JoinChannelRequest")) == 1
