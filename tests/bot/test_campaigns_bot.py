"""/campaign_new and /campaigns through the real Dispatcher, against the simulated Telegram:
the wizard and its pre-flight, the card and its buttons, progress notices, the daily report."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.campaigns_view import FOLLOW_UP_SHOWN
from bot.notices import deliver
from core.campaigns import CampaignStatus
from core.dto import TelegramProfile
from core.i18n import t
from core.settings import Settings
from core.users import register
from db.dal import open_dal
from db.kv import RedisNotifier
from db.models import Audience, Campaign, CampaignTarget, InviteEvent
from gateway.telegram import TelegramGateway
from sandbox.world import World
from sandbox.world.model import Membership
from tests.bot.conftest import BOT_USERNAME, RecordingSession, TgUser, only_the_hint
from tests.bot.test_notices import notices_running
from tests.bot.test_parsing_bot import buttons, drained, replies
from tests.invites.conftest import FAST, OWNER_TG, TARGET, Setup, link_accounts, make_audience
from workers.inviting import InviteConfig

TARGET_NAME = "Cats → @target_group"


@pytest.fixture
async def world_setup(
    world: World,
    gateway: TelegramGateway,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> Setup:
    """The owner (Telegram id 555) with accounts 901–903 linked, and a supergroup where 901
    and 902 are admins who may add members and 903 is a plain member; behind the bot's gateway."""
    ws, accounts = await link_accounts(world, gateway, sessionmaker, settings, [901, 902, 903])
    world.put_users([{"id": 900, "first_name": "Creator"}])
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


def edits(calls: list[Any]) -> list[EditMessageText]:
    return [c for c in calls if isinstance(c, EditMessageText)]


def answers(calls: list[Any]) -> list[str | None]:
    return [c.text for c in calls if isinstance(c, AnswerCallbackQuery)]


async def campaigns(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Campaign]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Campaign).order_by(Campaign.id)))


async def cats(world_setup: Setup) -> int:
    """20 people seen by 901: two of them already in the chat, one asked not to be invited."""
    people = world_setup.people(range(10_000, 10_020), seen_by_tg=901)
    chat = world_setup.world.find_chat(TARGET)
    for member in (10_000, 10_001):
        chat.members[member] = Membership(chat.date)
    async with open_dal(world_setup.sessionmaker) as dal:
        await dal.add_opt_out(world_setup.ws, 10_019)
        await dal.commit()
    audience_id = await make_audience(world_setup.sessionmaker, world_setup.ws, "Cats", people)
    async with (
        world_setup.sessionmaker() as session,
        session.begin(),
    ):  # the helper leaves the size to us
        await session.execute(
            update(Audience).where(Audience.id == audience_id).values(size=len(people))
        )
    return audience_id


async def through_the_wizard(
    owner: TgUser, world_setup: Setup, audience_id: int
) -> tuple[SendMessage, EditMessageText]:
    """/campaign_new answered with the buttons: Cats, @target_group, now, any time.
    Returns the «checking» message and the pre-flight report it became."""
    (picker,) = replies(await owner.send("/campaign_new"))
    calls = await owner.press(picker, f"cn:pick:{world_setup.ws}:{audience_id}")
    (ask_target,) = replies(calls)
    assert ask_target.text == t(owner.language_code, "campaign_new.ask_target")
    (ask_start,) = replies(await owner.send("@target_group"))
    calls = await owner.press(ask_start, f"cn:now:{world_setup.ws}:0")
    (ask_hours,) = replies(calls)
    (ask_limits,) = replies(await owner.press(ask_hours, f"cn:any:{world_setup.ws}:0"))
    calls = await owner.press(ask_limits, f"cn:std:{world_setup.ws}:0")
    (checking,) = replies(calls)
    (report,) = [e for e in edits(calls) if e.message_id != 900]  # 900: the pressed prompt
    return checking, report


# --- the wizard ---------------------------------------------------------------------------------
async def test_wizard_checks_the_chat_then_starts_from_the_report(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    audience_id = await cats(world_setup)

    (picker,) = replies(await owner.send("/campaign_new"))
    assert picker.text == t("en", "campaign_new.pick_audience")
    assert buttons(picker.reply_markup) == [
        (
            t("en", "campaign_new.audience_button", name="Cats", size=20),
            f"cn:pick:{world_setup.ws}:{audience_id}",
        )
    ]
    calls = await owner.press(picker, f"cn:pick:{world_setup.ws}:{audience_id}")
    assert [e.text for e in edits(calls)] == [
        t("en", "campaign_new.audience_chosen", name="Cats", size=20)
    ]
    (ask_start,) = replies(await owner.send("https://t.me/target_group"))
    assert ask_start.text == t("en", "campaign_new.ask_start")
    assert buttons(ask_start.reply_markup) == [
        (t("en", "campaign_new.now"), f"cn:now:{world_setup.ws}:0")
    ]
    (ask_hours,) = replies(await owner.send("now"))
    assert buttons(ask_hours.reply_markup) == [
        (t("en", "campaign_new.any_time"), f"cn:any:{world_setup.ws}:0")
    ]
    assert await campaigns(sessionmaker) == []  # nothing is written before the last answer

    (ask_limits,) = replies(await owner.send("9-21"))
    installation = "daily_per_account=30, daily_per_chat=15, daily_per_target=60, pause_min_s=600, pause_max_s=900"
    assert ask_limits.text == t("en", "campaign_new.ask_limits", limits=installation)
    assert buttons(ask_limits.reply_markup) == [
        (t("en", "campaign_new.std_limits"), f"cn:std:{world_setup.ws}:0")
    ]
    assert await owner.reply_to("daily_per_target=61") == t(
        "en",
        "campaign_new.bad_input",
        problem=t("en", "problem.campaign_limit_high", field="daily_per_target", high=60),
    )
    assert await campaigns(sessionmaker) == []  # nothing is written before the last answer
    calls = await owner.send("daily_per_target=40 pause_min_s=1200")
    own, checking = replies(calls)
    assert own.text == t(
        "en",
        "campaign_new.limits_own",
        limits="daily_per_target=40, pause_min_s=1200, pause_max_s=1200",
    )
    assert checking.text == t("en", "campaign_new.checking", name=TARGET_NAME)
    (report,) = edits(calls)
    lines = report.text.splitlines()
    acc = world_setup.accounts
    assert lines[:4] == [
        t("en", "preflight.title", name=TARGET_NAME),
        "Chat: «Target», supergroup",
        t("en", "campaigns.start_now"),
        "Active hours: 9:00–21:00 UTC",
    ]
    assert "Will invite (2): @acc901, @acc902" in lines
    assert f"• @acc903 — {t('en', 'campaign.exclusion.not_admin')}" in lines
    assert {"Already in the chat: 2", "Invited before: 0", "Opted out: 1", "To invite: 17"} <= set(
        lines
    )
    assert t("en", "preflight.days", days=1) in lines
    assert lines[-1] == t("en", "preflight.ready")

    (campaign,) = await campaigns(sessionmaker)
    assert (campaign.name, campaign.status, campaign.target_ref) == (
        TARGET_NAME,
        CampaignStatus.DRAFT,
        "target_group",
    )
    assert (campaign.active_from_hour, campaign.active_to_hour, campaign.start_at) == (9, 21, None)
    assert sorted(campaign.preflight["eligible"]) == sorted([acc[901], acc[902]])
    assert buttons(report.reply_markup) == [
        (t("en", "preflight.start"), f"cg:start:{world_setup.ws}:{campaign.id}"),
        (t("en", "preflight.keep"), f"cg:keep:{world_setup.ws}:{campaign.id}"),
        (t("en", "preflight.cancel"), f"cg:cancel:{world_setup.ws}:{campaign.id}"),
    ]

    # Kept as a draft, the message becomes its card; Start there starts it.
    calls = await owner.press(
        checking, f"cg:keep:{world_setup.ws}:{campaign.id}", message_id=report.message_id
    )
    (draft,) = edits(calls)
    assert answers(calls) == [t("en", "campaigns.kept")]
    assert t("en", "campaigns.status", status=t("en", "campaign.status.draft")) in draft.text
    assert buttons(draft.reply_markup)[0] == (
        t("en", "campaigns.start"),
        f"cg:start:{world_setup.ws}:{campaign.id}",
    )
    calls = await owner.press(
        checking, f"cg:start:{world_setup.ws}:{campaign.id}", message_id=report.message_id
    )
    (card,) = edits(calls)
    assert answers(calls) == [t("en", "campaigns.done.running")]
    (campaign,) = await campaigns(sessionmaker)
    assert campaign.status is CampaignStatus.RUNNING
    # The report's message is now the campaign's progress message.
    assert (campaign.notify_chat_id, campaign.notify_message_id) == (OWNER_TG, report.message_id)
    assert card.text.splitlines()[:3] == [
        t("en", "campaigns.head", id=campaign.id, name=TARGET_NAME),
        "Chat: «Target», supergroup",
        t("en", "campaigns.status", status=t("en", "campaign.status.running")),
    ]
    assert "Progress: 3/20 ▓░░░░░░░░░ 15%" in card.text
    assert (
        t("en", "campaigns.counts", pending=17, invited=0, already=2, failed=0, skipped=1)
        in card.text
    )
    assert f"• {t('en', 'reason.opted_out')} — 1" in card.text
    assert [data for _, data in buttons(card.reply_markup)] == [
        f"cg:{action}:{world_setup.ws}:{campaign.id}"
        for action in ("pause", "cancel", "dup", "report", "card")
    ]


async def test_bad_answers_keep_the_step_and_cancel_leaves_nothing(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="ru")
    audience_id = await cats(world_setup)
    (picker,) = replies(await owner.send("/campaign_new"))
    await owner.press(picker, f"cn:pick:{world_setup.ws}:{audience_id}")

    def bad(problem: str) -> str:
        return t("ru", "campaign_new.bad_input", problem=t("ru", problem))

    assert await owner.reply_to("t.me/+AbCdEf") == bad("problem.target_no_such_chat")
    assert await owner.reply_to("just a chat") == bad("problem.target_link")
    # Still step 2: a good answer moves on.
    assert await owner.reply_to("@target_group") == t("ru", "campaign_new.ask_start")
    assert await owner.reply_to("tomorrow") == bad("problem.start_at")
    assert await owner.reply_to("2001-01-01 10:00") == bad("problem.start_at_past")
    assert await owner.reply_to("2099-01-01 10:00") == t(
        "ru", "campaign_new.bad_input", problem=t("ru", "problem.start_at_far", days=365)
    )
    in_a_month = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    ask_hours = await owner.reply_to(in_a_month)
    assert ask_hours == t("ru", "campaign_new.ask_hours")
    assert await owner.reply_to("25-3") == bad("problem.active_hours")
    # Step 5: limits stricter than the installation's, as name=number.
    assert await owner.reply_to("9-21") == t(
        "ru",
        "campaign_new.ask_limits",
        limits=(
            "daily_per_account=30, daily_per_chat=15, daily_per_target=60, pause_min_s=600, pause_max_s=900"
        ),
    )
    assert await owner.reply_to("pause_min_s=5") == t(
        "ru",
        "campaign_new.bad_input",
        problem=t("ru", "problem.campaign_pause_short", field="pause_min_s", low=600),
    )
    assert await owner.reply_to("speed=9") == t(
        "ru",
        "campaign_new.bad_input",
        problem=t(
            "ru",
            "problem.limit_unknown",
            field="speed",
            names="daily_per_account, daily_per_chat, daily_per_target, pause_min_s, pause_max_s",
        ),
    )
    # Other commands keep working mid-wizard.
    assert (await owner.reply_to("/campaigns")) == t("ru", "campaigns.empty")

    assert await owner.reply_to("/cancel") == t("ru", "campaign_new.cancelled")
    assert await campaigns(sessionmaker) == []
    # The wizard is over: its answers and buttons do nothing any more.
    assert only_the_hint(await owner.send("9-21"), "ru")
    calls = await owner.press(picker, f"cn:any:{world_setup.ws}:0")
    assert answers(calls) == [t("ru", "campaign_new.expired")]
    assert await campaigns(sessionmaker) == []


async def test_a_person_as_target_asks_for_another_chat(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    audience_id = await cats(world_setup)
    world_setup.world.put_users([{"id": 777, "first_name": "Pat", "username": "just_pat"}])
    (picker,) = replies(await owner.send("/campaign_new"))
    await owner.press(picker, f"cn:pick:{world_setup.ws}:{audience_id}")
    # Checked at step 2 with an account: said there, and nothing is saved.
    assert await owner.reply_to("@just_pat") == t(
        "en", "campaign_new.bad_input", problem=t("en", "problem.target_is_person")
    )
    assert await campaigns(sessionmaker) == []
    # Still step 2, with the audience kept.
    (ask_start,) = replies(await owner.send("@target_group"))
    assert ask_start.text == t("en", "campaign_new.ask_start")


async def test_the_wizard_needs_accounts_and_audiences_and_a_private_chat(
    make_user: Callable[..., TgUser], world_setup: Setup
) -> None:
    newcomer = make_user(7100, language_code="en")
    assert await newcomer.reply_to("/campaign_new") == t("en", "campaign_new.no_accounts")
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    assert await owner.reply_to("/campaign_new") == t("en", "campaign_new.no_audiences")
    assert [r.text for r in replies(await owner.send_in_group("/campaigns"))] == [
        t("en", "private_only")
    ]


async def test_the_audience_picker_pages(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    ids = [await make_audience(sessionmaker, world_setup.ws, f"List {n}", []) for n in range(10)]
    (picker,) = replies(await owner.send("/campaign_new"))
    kb = buttons(picker.reply_markup)
    assert [data for _, data in kb[:-1]] == [f"cn:pick:{world_setup.ws}:{i}" for i in ids[:8]]
    assert kb[-1] == (t("en", "list.next_page"), f"cn:page:{world_setup.ws}:{ids[7]}")
    (more,) = edits(await owner.press(picker, f"cn:page:{world_setup.ws}:{ids[7]}"))
    assert buttons(more.reply_markup) == [
        (
            t("en", "campaign_new.audience_button", name="List 8", size=0),
            f"cn:pick:{world_setup.ws}:{ids[8]}",
        ),
        (
            t("en", "campaign_new.audience_button", name="List 9", size=0),
            f"cn:pick:{world_setup.ws}:{ids[9]}",
        ),
        (t("en", "list.first_page"), f"cn:page:{world_setup.ws}:0"),
    ]


# --- /campaigns and the card ----------------------------------------------------------------------
async def test_list_pages_and_card_buttons(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    audience_id = await cats(world_setup)
    async with open_dal(sessionmaker) as dal:
        drafts = [
            await dal.create_campaign(world_setup.ws, f"Draft {n}", audience_id, "target_group")
            for n in range(9)
        ]
        await dal.commit()
    running = await world_setup.campaign(audience_id, "target_group", name="Grow")

    (listing,) = replies(await owner.send("/campaigns"))
    lines = listing.text.splitlines()
    assert lines[0] == t("en", "campaigns.title")
    assert lines[1] == f"• #{running} Grow — {t('en', 'campaign.status.running')}"
    assert lines[2].strip() == "1/20 done · invited 0 · failed 0"
    kb = buttons(listing.reply_markup)
    assert [data for _, data in kb[:8]] == [
        f"cg:open:{world_setup.ws}:{i}" for i in [running, *drafts[::-1]][:8]
    ]
    assert kb[-1] == (t("en", "list.next_page"), f"cg:page:{world_setup.ws}:{drafts[2]}")
    calls = await owner.press(listing, f"cg:page:{world_setup.ws}:{drafts[2]}", message_id=555)
    (page2,) = edits(calls)
    assert [data for _, data in buttons(page2.reply_markup)] == [
        f"cg:open:{world_setup.ws}:{drafts[1]}",
        f"cg:open:{world_setup.ws}:{drafts[0]}",
        f"cg:page:{world_setup.ws}:0",
    ]

    async def status() -> CampaignStatus:
        return next(c.status for c in await campaigns(sessionmaker) if c.id == running)

    # A card of its own, under the list.
    (card,) = replies(await owner.press(listing, f"cg:open:{world_setup.ws}:{running}"))
    assert card.text.startswith(t("en", "campaigns.head", id=running, name="Grow"))
    calls = await owner.press(card, f"cg:pause:{world_setup.ws}:{running}", message_id=601)
    (paused,) = edits(calls)
    assert paused.message_id == 601 and await status() is CampaignStatus.PAUSED
    assert t("en", "campaigns.status", status=t("en", "campaign.status.paused")) in paused.text
    assert [data for _, data in buttons(paused.reply_markup)][:2] == [
        f"cg:resume:{world_setup.ws}:{running}",
        f"cg:cancel:{world_setup.ws}:{running}",
    ]
    assert answers(calls) == [t("en", "campaigns.done.paused")]
    # A second tap finds it paused already: no refusal, just the card.
    calls = await owner.press(card, f"cg:pause:{world_setup.ws}:{running}", message_id=601)
    assert answers(calls) == [t("en", "campaigns.done.paused")] and [
        e.text for e in edits(calls)
    ] == [paused.text]
    await owner.press(card, f"cg:resume:{world_setup.ws}:{running}", message_id=601)
    assert await status() is CampaignStatus.RUNNING

    calls = await owner.press(card, f"cg:dup:{world_setup.ws}:{running}", message_id=601)
    copy = (await campaigns(sessionmaker))[-1]
    assert (copy.name, copy.status, copy.target_ref) == (
        "Grow (2)",
        CampaignStatus.DRAFT,
        "target_group",
    )
    assert answers(calls) == [t("en", "campaigns.duplicated", id=copy.id)]
    (copy_card,) = replies(calls)
    assert t("en", "campaigns.not_checked") in copy_card.text
    # Start on a copy that was never checked runs the pre-flight first.
    calls = await owner.press(copy_card, f"cg:start:{world_setup.ws}:{copy.id}", message_id=602)
    assert [e.text.splitlines()[0] for e in edits(calls)] == [
        t("en", "campaigns.checking", name="Grow (2)"),
        t("en", "preflight.title", name="Grow (2)"),
    ]
    assert (await campaigns(sessionmaker))[-1].status is CampaignStatus.DRAFT

    calls = await owner.press(card, f"cg:cancel:{world_setup.ws}:{running}", message_id=601)
    (cancelled,) = edits(calls)
    assert await status() is CampaignStatus.CANCELLED
    assert [data.split(":")[1] for _, data in buttons(cancelled.reply_markup)] == [
        "dup",
        "report",
        "card",
    ]
    # A stale button says why nothing happens.
    calls = await owner.press(card, f"cg:pause:{world_setup.ws}:{running}", message_id=601)
    assert answers(calls) == ["Not possible: the campaign is cancelled."]
    assert await status() is CampaignStatus.CANCELLED

    (report,) = replies(
        await owner.press(card, f"cg:report:{world_setup.ws}:{running}", message_id=601)
    )
    assert report.text.startswith(t("en", "campaigns.report_title", id=running, name="Grow"))
    assert f"• {t('en', 'reason.opted_out')} — 1" in report.text
    assert "• @acc901: invited 0, failed 0 · used today 0 of 30" in report.text
    assert t("en", "campaigns.follow_up_none") in report.text


async def test_a_foreign_campaign_is_not_found(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    audience_id = await cats(world_setup)
    running = await world_setup.campaign(audience_id, "target_group", name="Grow")
    stranger = make_user(7200, language_code="en")
    await stranger.send("/start")
    async with open_dal(sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(7200)
        assert user is not None
        own_ws = (await dal.list_workspaces(user.id))[0].id
    (listing,) = replies(await stranger.send("/campaigns"))
    ws = world_setup.ws
    for data in (
        f"cg:pause:{ws}:{running}",
        f"cg:open:{ws}:{running}",
        f"cg:report:{own_ws}:{running}",
        f"cg:cancel:{own_ws}:{running}",
        f"cg:page:{ws}:0",
    ):
        calls = await stranger.press(listing, data)
        assert [(type(c), c.text) for c in calls] == [
            (AnswerCallbackQuery, t("en", "error.not_found"))
        ], data
    assert [c.status for c in await campaigns(sessionmaker)] == [CampaignStatus.RUNNING]


# --- progress notices ---------------------------------------------------------------------------
async def _edits_of(
    recording: RecordingSession, message_id: int, count: int
) -> list[EditMessageText]:
    async with asyncio.timeout(10):
        while True:
            found = [e for e in recording.sent(EditMessageText) if e.message_id == message_id]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)


async def test_progress_notices_redraw_the_started_campaigns_message(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    checking, report = await through_the_wizard(owner, world_setup, await cats(world_setup))
    (campaign,) = await campaigns(sessionmaker)
    await owner.press(
        checking, f"cg:start:{world_setup.ws}:{campaign.id}", message_id=report.message_id
    )
    mid = report.message_id
    shown_before = len(await _edits_of(recording, mid, 0))
    notifier = RedisNotifier(redis)
    payload = {"campaign_id": str(campaign.id)}
    async with sessionmaker() as session, session.begin():  # five invites went out meanwhile
        five = (
            select(CampaignTarget.id)
            .where(CampaignTarget.campaign_id == campaign.id, CampaignTarget.state == "pending")
            .limit(5)
        )
        await session.execute(
            update(CampaignTarget).where(CampaignTarget.id.in_(five)).values(state="invited")
        )

    async with notices_running(bot, redis, sessionmaker):
        await notifier.notify(OWNER_TG, "campaign_progress", payload)
        progress = (await _edits_of(recording, mid, shown_before + 1))[-1]
        # Edits of one message are spaced out: another notice right away changes nothing...
        await notifier.notify(OWNER_TG, "campaign_progress", payload)
        await drained(redis)
        # ...but the end is always shown.
        world_setup.world.put_users(
            [{"id": 10_018, "first_name": "P10018", "invite_outcome": "privacy"}]
        )
        engine = world_setup.engine(InviteConfig(limits=FAST, pause_scale=0))
        for account_tg in (901, 902):
            await engine.run_account(await world_setup.account(account_tg))
        await notifier.notify(OWNER_TG, "campaign_done", payload)
        await drained(redis)
    shown = (await _edits_of(recording, mid, 0))[shown_before:]
    assert shown == [progress, shown[-1]]
    assert t("en", "campaigns.status", status=t("en", "campaign.status.running")) in progress.text
    assert "Progress: 8/20 ▓▓▓▓░░░░░░ 40%" in progress.text
    assert (
        t("en", "campaigns.counts", pending=12, invited=5, already=2, failed=0, skipped=1)
        in progress.text
    )
    done = shown[-1]
    assert t("en", "campaigns.status", status=t("en", "campaign.status.done")) in done.text
    assert "Progress: 20/20 ▓▓▓▓▓▓▓▓▓▓ 100%" in done.text
    assert (
        t("en", "campaigns.counts", pending=0, invited=16, already=2, failed=1, skipped=1)
        in done.text
    )
    assert f"• {t('en', 'reason.privacy_restricted')} — 1" in done.text
    assert t("en", "campaigns.follow_up_hint", count=1) in done.text
    assert [data.split(":")[1] for _, data in buttons(done.reply_markup)] == [
        "dup",
        "report",
        "card",
    ]
    assert len(world_setup.invite_calls()) == 12  # the workers really invited the rest

    # The report names whom to send the invite link, with the link.
    (report_msg,) = replies(
        await owner.press(checking, f"cg:report:{world_setup.ws}:{campaign.id}", message_id=mid)
    )
    (campaign,) = await campaigns(sessionmaker)
    assert campaign.invite_link
    follow_up = report_msg.text.split("\n\n")[-1].splitlines()
    # Known by id alone: the audience has no name or username for them. Last, a line to print
    # under the invite link: the deep link that stops every invitation from this installation.
    assert follow_up == [
        t("en", "campaigns.follow_up", link=campaign.invite_link, count=1),
        "• id 10018",
        t("en", "campaigns.follow_up_optout", link=f"https://t.me/{BOT_USERNAME}?start=optout"),
    ]

    # The user deleted the message: the final card is sent anew and takes its place.
    recording.queue(
        EditMessageText,
        400,
        ok=False,
        error_code=400,
        description="Bad Request: message to edit not found",
    )
    sent_before = len(recording.sent())
    await deliver(bot, sessionmaker, OWNER_TG, "campaign_done", payload, redis=redis)
    (fresh,) = recording.sent()[sent_before:]
    assert fresh.chat_id == OWNER_TG and fresh.text == done.text
    (campaign,) = await campaigns(sessionmaker)
    assert campaign.notify_message_id not in (None, mid)


async def test_progress_of_a_campaign_without_a_message_waits_for_the_end(
    world_setup: Setup,
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Started elsewhere (the web panel): no message to redraw until the campaign ends."""
    running = await world_setup.campaign(await cats(world_setup), "target_group", name="Grow")
    payload = {"campaign_id": str(running)}
    await deliver(bot, sessionmaker, OWNER_TG, "campaign_progress", payload, redis=redis)
    assert recording.requests == []
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Campaign).where(Campaign.id == running).values(status=CampaignStatus.CANCELLED)
        )
    await deliver(bot, sessionmaker, OWNER_TG, "campaign_done", payload, redis=redis)
    (sent,) = recording.sent()
    assert sent.chat_id == OWNER_TG
    assert t("en", "campaigns.status", status=t("en", "campaign.status.cancelled")) in sent.text
    (campaign,) = await campaigns(sessionmaker)
    assert campaign.notify_chat_id == OWNER_TG and campaign.notify_message_id is not None


# --- the daily report ---------------------------------------------------------------------------
async def test_daily_report_counts_one_utc_day(
    world_setup: Setup,
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    running = await world_setup.campaign(await cats(world_setup), "target_group", name="Grow")
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    attempts = [
        (day + timedelta(hours=1), "invited"),
        (day + timedelta(hours=2), "invited"),
        (day + timedelta(hours=23, minutes=59), "failed"),
        (day - timedelta(minutes=1), "invited"),
        (day + timedelta(days=1), "retry"),
    ]  # other days
    async with sessionmaker() as session, session.begin():
        session.add_all(
            InviteEvent(
                at=at,
                workspace_id=world_setup.ws,
                campaign_id=running,
                account_id=world_setup.accounts[901],
                chat_id=TARGET,
                tg_user_id=n,
                outcome=outcome,
                counted=True,
            )
            for n, (at, outcome) in enumerate(attempts)
        )
    payload = {"workspace_id": str(world_setup.ws), "day": day.date().isoformat()}

    await deliver(bot, sessionmaker, OWNER_TG, "daily_report", payload, redis=redis)
    (sent,) = recording.sent()
    assert sent.chat_id == OWNER_TG
    assert sent.text.split("\n\n") == [
        "\n".join(
            [
                t("en", "daily.title", day=day.date().isoformat()),
                t("en", "daily.attempts", total=3),
                "• invited — 2",
                "• failed — 1",
            ]
        ),
        "\n".join(
            [
                t("en", "daily.working"),
                f"• #{running} Grow — running",
                "   Progress: 1/20 ░░░░░░░░░░ 5%",
            ]
        ),
    ]

    # Someone outside the workspace is told nothing about it.
    async with open_dal(sessionmaker) as dal:
        await register(dal, TelegramProfile(7300, "x", "X", None, "en"), ())
        await dal.commit()
    await deliver(bot, sessionmaker, 7300, "daily_report", payload, redis=redis)
    assert len(recording.sent()) == 1


def test_the_counts_line_shows_invites_waiting_for_their_check() -> None:
    """An accepted invite is `unconfirmed` until the membership check; the card names those
    people instead of counting them nowhere."""
    from bot.campaigns_view import counts_line

    counts = {"pending": 3, "unconfirmed": 4, "invited": 1}
    for lang in ("en", "ru"):
        base = t(lang, "campaigns.counts", pending=3, invited=1, already=0, failed=0, skipped=0)
        assert counts_line(counts, lang) == (
            base + " · " + t(lang, "campaigns.counts_unconfirmed", count=4)
        )
        assert counts_line({**counts, "unconfirmed": 0}, lang) == base


async def test_the_report_counts_everyone_to_send_the_link_not_the_page_it_shows(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The report reads at most 100 people who need the invite link; its heading counts all
    of them (the campaign's counters), as the card's hint does."""
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    people = world_setup.people(range(20_000, 20_130), seen_by_tg=901)
    audience_id = await make_audience(sessionmaker, world_setup.ws, "Many", people)
    checking, _ = await through_the_wizard(owner, world_setup, audience_id)
    (campaign,) = await campaigns(sessionmaker)
    async with sessionmaker() as session, session.begin():
        failed = await session.execute(
            update(CampaignTarget)
            .where(CampaignTarget.campaign_id == campaign.id, CampaignTarget.tg_user_id < 20_120)
            .values(state="failed", reason="privacy_restricted")
        )
        assert failed.rowcount == 120
        await session.execute(
            update(CampaignTarget)
            .where(CampaignTarget.campaign_id == campaign.id, CampaignTarget.tg_user_id >= 20_120)
            .values(state="failed", reason="kicked")
        )
    (report,) = replies(
        await owner.press(checking, f"cg:report:{world_setup.ws}:{campaign.id}", message_id=700)
    )
    (campaign,) = await campaigns(sessionmaker)
    assert campaign.invite_link  # made by the pre-flight
    # 10 were removed from the chat before: not a reason to send them the link.
    assert f"• {t('en', 'reason.kicked')} — 10" in report.text
    follow_up = report.text.split("\n\n")[-1].splitlines()
    assert follow_up[0] == t("en", "campaigns.follow_up", link=campaign.invite_link, count=120)
    # The heading, the people shown, «…and more», the opt-out line.
    assert len(follow_up) == 1 + FOLLOW_UP_SHOWN + 2
    assert follow_up[-2:] == [
        t("en", "campaigns.follow_up_more"),
        t("en", "campaigns.follow_up_optout", link=f"https://t.me/{BOT_USERNAME}?start=optout"),
    ]
