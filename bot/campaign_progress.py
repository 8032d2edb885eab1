"""Keeps the progress message of each invite campaign current, and writes the daily report.

Workers only say "campaign N moved on" or "campaign N ended" (notices `campaign_progress`
and `campaign_done`); the card is drawn from the campaign's row at the moment of the edit,
so a late or repeated notice shows the latest state, never an older one. A message is
edited at most once per `EDIT_EVERY_S` (a Redis key per campaign, so the limit survives a
restart of the bot); the end is always shown. A progress message the user deleted is
replaced by a new one, which later notices then edit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aiogram import Bot
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.campaigns_view import render_approval, render_card, render_daily
from bot.progress import edit_due, edit_text
from core.campaign_service import CampaignView, public_counts
from core.campaigns import CampaignStatus
from core.dto import CampaignDTO
from core.errors import NotFound
from core.i18n import DEFAULT_LANGUAGE
from core.logs import get_logger
from core.users import require_workspace
from core.validation import is_number
from db.dal import SqlDal, open_dal

log = get_logger(__name__)

CAMPAIGN_KINDS = ("campaign_progress", "campaign_done")
DAILY_REPORT = "daily_report"
DAILY_CAMPAIGNS = 10
WORKING = [CampaignStatus.RUNNING.value, CampaignStatus.WAITING.value]
_EDIT_KEY = "bot:campaign_edit:{campaign_id}"


async def view_of(dal: SqlDal, campaign: CampaignDTO) -> CampaignView:
    """The campaign with its target counts as people read them."""
    return CampaignView(campaign, public_counts(await dal.counts(campaign.id)))


async def card_of(dal: SqlDal, campaign: CampaignDTO) -> tuple[CampaignView, dict[str, int]]:
    """Everything the card shows: the counts and the reasons people were not added."""
    counts, reasons = await dal.tally(campaign.id)
    return CampaignView(campaign, public_counts(counts)), reasons


async def show_campaign(bot: Bot, dal: SqlDal, campaign: CampaignDTO, lang: str) -> bool:
    """Redraw the campaign's progress message; False when it has none (or it is gone)."""
    if campaign.notify_chat_id is None or campaign.notify_message_id is None:
        return False
    text, keyboard = render_card(*await card_of(dal, campaign), lang)
    return await edit_text(bot, campaign.notify_chat_id, campaign.notify_message_id, text, keyboard)


async def show_campaign_notice(
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis | None,
    telegram_id: int,
    kind: str,
    payload: dict[str, str],
) -> None:
    """Show a worker's notice about a campaign on its progress message.

    A campaign without one (started in the web panel) gets its final card sent when it
    ends; so does one whose message is gone, at any time, and the new message takes over.
    """
    raw = str(payload.get("campaign_id", ""))
    if not is_number(raw):
        log.warning("campaign notice without a campaign id", kind=kind)
        return
    async with open_dal(sessionmaker) as dal:
        campaign = await dal.find_campaign(int(raw))
        if campaign is None:
            return  # deleted with its workspace meanwhile
        final = kind == "campaign_done" or CampaignStatus(campaign.status).finished
        if not final and not await edit_due(redis, _EDIT_KEY.format(campaign_id=campaign.id)):
            return
        user = await dal.get_user_by_telegram_id(telegram_id)
        lang = user.language if user else DEFAULT_LANGUAGE
        if await show_campaign(bot, dal, campaign, lang):
            return
        if campaign.notify_message_id is None and not final:
            return
        text, keyboard = render_card(*await card_of(dal, campaign), lang)
        sent = await bot.send_message(
            campaign.notify_chat_id or telegram_id, text, reply_markup=keyboard
        )
        await dal.set_campaign_message(campaign.id, sent.chat.id, sent.message_id)
        await dal.commit()


async def daily_report_text(
    sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int, payload: dict[str, str]
) -> str | None:
    """The report of one UTC day of a workspace, for a member of it; None when there is
    nothing to tell this person (a bad payload, or not a member any more)."""
    try:
        workspace_id = int(payload.get("workspace_id", ""))
        day = date.fromisoformat(str(payload.get("day", "")))
    except ValueError:
        log.warning("daily report without a workspace or a day")
        return None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    async with open_dal(sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(telegram_id)
        if user is None:
            return None
        try:
            await require_workspace(dal, user.id, workspace_id)
        except NotFound:
            log.info("daily report for a workspace the user left", workspace_id=workspace_id)
            return None
        outcomes = await dal.invites_between(workspace_id, start, start + timedelta(days=1))
        working = await dal.list_campaigns(
            workspace_id, before_id=None, limit=DAILY_CAMPAIGNS, statuses=WORKING
        )
        views = [await view_of(dal, campaign) for campaign in working]
    return render_daily(day.isoformat(), outcomes, views, user.language)


async def ask_approval(
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram_id: int,
    payload: dict[str, str],
) -> None:
    """To the workspace's owner: a manager's campaign waits for approval, with its pre-flight
    and Approve / Reject (the buttons check again that the presser is the owner)."""
    raw = str(payload.get("campaign_id", ""))
    if not is_number(raw):
        log.warning("approval notice without a campaign id")
        return
    async with open_dal(sessionmaker) as dal:
        campaign = await dal.find_campaign(int(raw))
        if campaign is None or CampaignStatus(campaign.status) is not CampaignStatus.APPROVAL:
            return  # decided or deleted meanwhile
        user = await dal.get_user_by_telegram_id(telegram_id)
        asker = (
            await dal.get_user(campaign.created_by_user_id) if campaign.created_by_user_id else None
        )
    lang = user.language if user else DEFAULT_LANGUAGE
    asked_by = (
        "—"
        if asker is None
        else f"@{asker.username}"
        if asker.username
        else asker.first_name or str(asker.telegram_id)
    )
    text, keyboard = render_approval(campaign, campaign.preflight, lang, asked_by)
    await bot.send_message(telegram_id, text, reply_markup=keyboard)
