"""/campaign_new and /campaigns: create invite campaigns and steer them from the chat.

The rules are `core.campaign_service` (what a status may become, what a start needs) and
the pre-flight that asks Telegram is `gateway.campaigns.Planner`; here only the chat side.
The wizard's answers wait in the FSM (Redis) and the campaign is written only after the
last one, so leaving the wizard with /cancel at any step leaves nothing behind. The message
a campaign is started from becomes its progress message (`bot.campaign_progress`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.campaign_progress import card_of, show_campaign
from bot.campaigns_view import (
    CAMPAIGNS_PAGE,
    MOVES,
    PICKER_CHATS,
    PICKER_PAGE,
    CampaignAction,
    CampaignNew,
    JoinTarget,
    campaign_title,
    one_button,
    problem,
    refusal,
    render_audience_picker,
    render_campaigns,
    render_card,
    render_chat_picker,
    render_preflight,
    render_report,
    startable,
)
from bot.commands import COMMANDS, private_only
from bot.progress import edit_text, show_in_place
from bot.retention_view import retention_line
from core.accounts import AccountService
from core.audiences import AudienceService
from core.campaign_service import CampaignService, parse_hours, parse_start_at, parse_target
from core.campaigns import CampaignStatus
from core.dto import CampaignDTO, UserDTO, WorkspaceRole
from core.errors import Forbidden, InvalidInput, NotFound
from core.i18n import t
from core.installation import effective_limits, parse_assignments
from core.limits import CAMPAIGN_LIMIT_FIELDS, check_campaign_limits
from core.optouts import optout_link
from core.retention import campaign_retention
from core.users import current_workspace, require_workspace
from db.dal import SqlDal
from gateway.campaigns import Planner
from gateway.chats import ChatDirectory
from gateway.target_join import TargetJoiner

_S = CampaignStatus
# Where each button leads: a second tap (or a tap on an older message) that finds the
# campaign there already just shows it, instead of refusing a move to where it stands.
ALREADY: dict[str, frozenset[CampaignStatus]] = {
    "start": frozenset({_S.RUNNING, _S.SCHEDULED, _S.WAITING}),
    "resume": frozenset({_S.RUNNING, _S.SCHEDULED, _S.WAITING}),
    "pause": frozenset({_S.PAUSED}),
    "cancel": frozenset({_S.CANCELLED}),
    # Decided already (by the owner elsewhere, or by a second press).
    "approve": frozenset({_S.RUNNING, _S.SCHEDULED, _S.WAITING, _S.DRAFT, _S.PAUSED}),
    "reject": frozenset({_S.DRAFT, _S.RUNNING, _S.SCHEDULED, _S.WAITING, _S.PAUSED}),
}


class CampaignWizard(StatesGroup):
    """The data holds `ws`, then `audience_id` and `audience`, `target`, `start_at`, `hours`."""

    audience = State()
    target = State()
    start = State()
    hours = State()
    limits = State()


def _chat_id(query: CallbackQuery) -> int:
    return query.message.chat.id if query.message is not None else query.from_user.id


async def _put(
    bot: Bot, chat_id: int, message_id: int, text: str, keyboard: InlineKeyboardMarkup | None
) -> None:
    """Edit a message the bot sent; one the user deleted is sent again."""
    if not await edit_text(bot, chat_id, message_id, text, keyboard):
        await bot.send_message(chat_id, text, reply_markup=keyboard)


async def _again(message: Message, lang: str, exc: InvalidInput) -> None:
    """A wizard answer that does not fit: say why; the step stays."""
    await message.answer(t(lang, "campaign_new.bad_input", problem=problem(lang, exc)))


# --- /campaign_new ---------------------------------------------------------------------------
async def cmd_campaign_new(
    message: Message,
    state: FSMContext,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
    accounts: AccountService,
) -> None:
    workspace = await current_workspace(dal, user.id)
    if not (await accounts.page(dal, user.id, workspace.id, cursor=0, limit=1)).items:
        await message.answer(t(lang, "campaign_new.no_accounts"))
        return
    page = await audience_service.audiences(dal, user.id, workspace.id, limit=PICKER_PAGE)
    if not page.items:
        await message.answer(t(lang, "campaign_new.no_audiences"))
        return
    await state.set_state(CampaignWizard.audience)
    await state.set_data({"ws": workspace.id})
    text, keyboard = render_audience_picker(page, workspace_id=workspace.id, cursor=0, lang=lang)
    await message.answer(text, reply_markup=keyboard)


async def on_audience_page(
    query: CallbackQuery,
    callback_data: CampaignNew,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
) -> None:
    workspace_id, cursor = callback_data.ws, callback_data.id
    try:
        page = await audience_service.audiences(
            dal, user.id, workspace_id, cursor=cursor, limit=PICKER_PAGE
        )
    except NotFound:
        await query.answer(t(lang, "error.not_found"), show_alert=True)
        return
    await show_in_place(
        query, *render_audience_picker(page, workspace_id=workspace_id, cursor=cursor, lang=lang)
    )
    await query.answer()


async def on_audience(
    query: CallbackQuery,
    callback_data: CampaignNew,
    bot: Bot,
    state: FSMContext,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
    chats: ChatDirectory,
) -> None:
    try:
        audience = await audience_service.audience(dal, user.id, callback_data.ws, callback_data.id)
    except NotFound:
        await query.answer(t(lang, "error.not_found"), show_alert=True)
        return
    await state.update_data(ws=callback_data.ws, audience_id=audience.id, audience=audience.name)
    await state.set_state(CampaignWizard.target)
    await show_in_place(
        query, t(lang, "campaign_new.audience_chosen", name=audience.name, size=audience.size), None
    )
    await query.answer()
    # The chats where an account may add people, read from the accounts' dialogs (cached a
    # few minutes per account): pressing one is the easiest answer, typing still works.
    found = (await chats.chats(user.id, callback_data.ws, can_invite=True))[:PICKER_CHATS]
    await state.update_data(picks={str(c.chat_id): [c.target, c.title] for c in found})
    if not found:
        await bot.send_message(_chat_id(query), t(lang, "campaign_new.ask_target_typed"))
        return
    keyboard = render_chat_picker(
        [(c.chat_id, c.title, c.members) for c in found], workspace_id=callback_data.ws, lang=lang
    )
    await bot.send_message(
        _chat_id(query), t(lang, "campaign_new.ask_target"), reply_markup=keyboard
    )


async def on_target(
    message: Message,
    bot: Bot,
    state: FSMContext,
    user: UserDTO,
    lang: str,
    chats: ChatDirectory,
) -> None:
    """A typed target: checked with the accounts now, so an unknown chat, or a link to one
    they are not in, is said at this step and nothing is saved."""
    ws = int((await state.get_data())["ws"])
    try:
        parse_target(message.text or "")  # a malformed answer needs no account
        target = await chats.check_target(user.id, ws, message.text or "")
    except InvalidInput as exc:
        await _again(message, lang, exc)
        return
    await _ask_start(message.chat.id, bot, state, lang, target, None)


async def on_chat_pick(
    query: CallbackQuery, callback_data: CampaignNew, bot: Bot, state: FSMContext, lang: str
) -> None:
    picks: dict[str, list[str]] = (await state.get_data()).get("picks") or {}
    picked = picks.get(str(callback_data.id))
    if picked is None:
        await query.answer(t(lang, "campaign_new.expired"), show_alert=True)
        return
    target, title = picked
    await show_in_place(query, t(lang, "campaign_new.chat_chosen", title=title), None)
    await query.answer()
    await _ask_start(_chat_id(query), bot, state, lang, target, title)


async def _ask_start(
    chat_id: int, bot: Bot, state: FSMContext, lang: str, target: str, title: str | None
) -> None:
    await state.update_data(target=target, target_title=title)
    await state.set_state(CampaignWizard.start)
    ws = int((await state.get_data())["ws"])
    await bot.send_message(
        chat_id,
        t(lang, "campaign_new.ask_start"),
        reply_markup=one_button(t(lang, "campaign_new.now"), CampaignNew(action="now", ws=ws)),
    )


async def on_start_text(message: Message, bot: Bot, state: FSMContext, lang: str) -> None:
    try:
        start_at = parse_start_at(message.text, datetime.now(UTC))
    except InvalidInput as exc:
        await _again(message, lang, exc)
        return
    await _ask_hours(bot, message.chat.id, state, lang, start_at)


async def on_start_now(query: CallbackQuery, bot: Bot, state: FSMContext, lang: str) -> None:
    await show_in_place(query, t(lang, "campaigns.start_now"), None)
    await query.answer()
    await _ask_hours(bot, _chat_id(query), state, lang, None)


async def _ask_hours(
    bot: Bot, chat_id: int, state: FSMContext, lang: str, start_at: datetime | None
) -> None:
    await state.update_data(start_at=start_at.isoformat() if start_at else None)
    await state.set_state(CampaignWizard.hours)
    ws = int((await state.get_data())["ws"])
    await bot.send_message(
        chat_id,
        t(lang, "campaign_new.ask_hours"),
        reply_markup=one_button(t(lang, "campaign_new.any_time"), CampaignNew(action="any", ws=ws)),
    )


async def on_hours_text(
    message: Message,
    bot: Bot,
    state: FSMContext,
    dal: SqlDal,
    lang: str,
    campaigns: CampaignService,
) -> None:
    try:
        hours = parse_hours(message.text)
    except InvalidInput as exc:
        await _again(message, lang, exc)
        return
    await _ask_limits(message.chat.id, hours, bot, state, dal, lang, campaigns)


async def on_any_time(
    query: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    dal: SqlDal,
    lang: str,
    campaigns: CampaignService,
) -> None:
    await show_in_place(query, t(lang, "campaigns.hours_any"), None)
    await query.answer()
    await _ask_limits(_chat_id(query), None, bot, state, dal, lang, campaigns)


def _limits_text(limits: Mapping[str, int]) -> str:
    return ", ".join(f"{name}={value}" for name, value in limits.items())


async def _ask_limits(
    chat_id: int,
    hours: tuple[int, int] | None,
    bot: Bot,
    state: FSMContext,
    dal: SqlDal,
    lang: str,
    campaigns: CampaignService,
) -> None:
    await state.update_data(hours=list(hours) if hours else None)
    await state.set_state(CampaignWizard.limits)
    ws = int((await state.get_data())["ws"])
    installation = await effective_limits(dal, campaigns.limits)
    now = {name: getattr(installation, name) for name in CAMPAIGN_LIMIT_FIELDS}
    await bot.send_message(
        chat_id,
        t(lang, "campaign_new.ask_limits", limits=_limits_text(now)),
        reply_markup=one_button(
            t(lang, "campaign_new.std_limits"), CampaignNew(action="std", ws=ws)
        ),
    )


async def on_limits_text(
    message: Message,
    bot: Bot,
    state: FSMContext,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
    planner: Planner,
    trace_id: str,
) -> None:
    """Stricter limits than the installation's, as name=number pairs (checked again on save)."""
    try:
        own = check_campaign_limits(
            parse_assignments(message.text or ""), await effective_limits(dal, campaigns.limits)
        )
    except InvalidInput as exc:
        await _again(message, lang, exc)
        return
    await message.answer(t(lang, "campaign_new.limits_own", limits=_limits_text(own)))
    await _create(message.chat.id, bot, state, dal, user, lang, campaigns, planner, trace_id, own)


async def on_std_limits(
    query: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
    planner: Planner,
    trace_id: str,
) -> None:
    await show_in_place(query, t(lang, "campaign_new.limits_std"), None)
    await query.answer()
    await _create(_chat_id(query), bot, state, dal, user, lang, campaigns, planner, trace_id, None)


async def _create(
    chat_id: int,
    bot: Bot,
    state: FSMContext,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
    planner: Planner,
    trace_id: str,
    limits: Mapping[str, int] | None,
) -> None:
    """The last answer is in: write the draft, then check the chat with every account."""
    data: dict[str, Any] = await state.get_data()
    # The wizard ends here: a /cancel during the check has nothing left to stop, and the
    # draft can be found in /campaigns whatever happens next.
    await state.clear()
    start_at = datetime.fromisoformat(data["start_at"]) if data.get("start_at") else None
    hours = (int(data["hours"][0]), int(data["hours"][1])) if data.get("hours") else None
    try:
        campaign = await campaigns.create(
            dal,
            user.id,
            int(data["ws"]),
            name=campaign_title(
                str(data["audience"]), str(data["target"]), data.get("target_title")
            ),
            audience_id=int(data["audience_id"]),
            target=str(data["target"]),
            start_at=start_at,
            active_hours=hours,
            limits=limits,
            trace_id=trace_id,
        )
    except (InvalidInput, NotFound) as exc:
        reason = problem(lang, exc) if isinstance(exc, InvalidInput) else t(lang, "error.not_found")
        await bot.send_message(chat_id, t(lang, "campaign_new.failed", problem=reason))
        return
    await dal.commit()
    checking = await bot.send_message(chat_id, t(lang, "campaign_new.checking", name=campaign.name))
    refused = await _check(
        bot, dal, user, lang, campaigns, planner, campaign, chat_id, checking.message_id
    )
    if refused is None:
        return
    # The target is no chat (e.g. a person): the draft goes, the wizard asks again.
    await campaigns.cancel(dal, user.id, campaign.workspace_id, campaign.id)
    await dal.commit()
    await state.set_state(CampaignWizard.target)
    await state.set_data({k: v for k, v in data.items() if k != "target"})
    await _put(
        bot,
        chat_id,
        checking.message_id,
        t(lang, "campaign_new.target_again", problem=problem(lang, refused)),
        None,
    )


async def _check(
    bot: Bot,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
    planner: Planner,
    campaign: CampaignDTO,
    chat_id: int,
    message_id: int,
) -> InvalidInput | None:
    """Run the pre-flight and show its report in the message; the refusal, if any."""
    try:
        report = await planner.preflight(user.id, campaign.workspace_id, campaign.id)
    except InvalidInput as exc:
        return exc
    fresh = await campaigns.get(dal, user.id, campaign.workspace_id, campaign.id)
    owner = await require_workspace(dal, user.id, campaign.workspace_id) is WorkspaceRole.OWNER
    await _put(bot, chat_id, message_id, *render_preflight(fresh, report, lang, owner=owner))
    return None


async def cancel_wizard(message: Message, state: FSMContext, lang: str) -> None:
    await state.clear()
    await message.answer(t(lang, "campaign_new.cancelled"))


async def wizard_over(query: CallbackQuery, lang: str) -> None:
    """A button of an earlier wizard (or of one left with /cancel)."""
    await query.answer(t(lang, "campaign_new.expired"), show_alert=True)


# --- /campaigns ----------------------------------------------------------------------------
async def cmd_campaigns(
    message: Message, dal: SqlDal, user: UserDTO, lang: str, campaigns: CampaignService
) -> None:
    workspace = await current_workspace(dal, user.id)
    page = await campaigns.list(dal, user.id, workspace.id, limit=CAMPAIGNS_PAGE)
    text, keyboard = render_campaigns(page, workspace_id=workspace.id, at=0, lang=lang)
    await message.answer(text, reply_markup=keyboard)


async def on_page(
    query: CallbackQuery,
    callback_data: CampaignAction,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
) -> None:
    workspace_id, at = callback_data.ws, callback_data.id
    try:
        page = await campaigns.list(
            dal, user.id, workspace_id, before_id=at or None, limit=CAMPAIGNS_PAGE
        )
    except NotFound:
        await query.answer(t(lang, "error.not_found"), show_alert=True)
        return
    await show_in_place(query, *render_campaigns(page, workspace_id=workspace_id, at=at, lang=lang))
    await query.answer()


async def _load(
    query: CallbackQuery,
    callback_data: CampaignAction,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
) -> CampaignDTO | None:
    """The pressed campaign, if the presser may see it; else they are told it is not found."""
    try:
        return await campaigns.get(dal, user.id, callback_data.ws, callback_data.id)
    except NotFound:
        await query.answer(t(lang, "error.not_found"), show_alert=True)
        return None


async def _card(
    dal: SqlDal, campaign: CampaignDTO, lang: str, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    view, reasons = await card_of(dal, campaign)
    return render_card(view, reasons, lang, notice=notice)


async def on_card(
    query: CallbackQuery,
    callback_data: CampaignAction,
    bot: Bot,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
) -> None:
    """open: the card as a new message (the list stays); card, keep: redrawn in place."""
    campaign = await _load(query, callback_data, dal, user, lang, campaigns)
    if campaign is None:
        return
    text, keyboard = await _card(dal, campaign, lang)
    if callback_data.action == "open":
        await bot.send_message(_chat_id(query), text, reply_markup=keyboard)
    else:
        await show_in_place(query, text, keyboard)
    await query.answer(t(lang, "campaigns.kept") if callback_data.action == "keep" else None)


async def on_check(
    query: CallbackQuery,
    callback_data: CampaignAction,
    bot: Bot,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
    planner: Planner,
) -> None:
    campaign = await _load(query, callback_data, dal, user, lang, campaigns)
    if campaign is not None:
        await _check_in_place(query, bot, dal, user, lang, campaigns, planner, campaign)


async def _check_in_place(
    query: CallbackQuery,
    bot: Bot,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
    planner: Planner,
    campaign: CampaignDTO,
) -> None:
    """The pressed message says the check runs, then shows its report (or why it could not)."""
    await query.answer()
    chat_id, checking = _chat_id(query), t(lang, "campaigns.checking", name=campaign.name)
    if isinstance(query.message, Message):
        message_id = query.message.message_id
        await _put(bot, chat_id, message_id, checking, None)
    else:  # too old to edit
        message_id = (await bot.send_message(chat_id, checking)).message_id
    refused = await _check(bot, dal, user, lang, campaigns, planner, campaign, chat_id, message_id)
    if refused is not None:
        await _put(
            bot,
            chat_id,
            message_id,
            *await _card(dal, campaign, lang, notice=refusal(lang, refused)),
        )


async def on_move(
    query: CallbackQuery,
    callback_data: CampaignAction,
    bot: Bot,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
    planner: Planner,
) -> None:
    """start | pause | resume | cancel. A draft that was never checked (a copy, or a check
    that found no way in) is checked first; the message a start comes from shows progress."""
    campaign = await _load(query, callback_data, dal, user, lang, campaigns)
    if campaign is None:
        return
    action = callback_data.action
    if (
        action == "start"
        and campaign.status == CampaignStatus.DRAFT
        and not startable(campaign.preflight)
    ):
        await _check_in_place(query, bot, dal, user, lang, campaigns, planner, campaign)
        return
    if CampaignStatus(campaign.status) in ALREADY[action]:
        await show_in_place(query, *await _card(dal, campaign, lang))
        await query.answer(t(lang, f"campaigns.done.{campaign.status}"))
        return
    try:
        moved: CampaignDTO = await getattr(campaigns, action)(
            dal, user.id, campaign.workspace_id, campaign.id
        )
    except InvalidInput as exc:
        await query.answer(refusal(lang, exc), show_alert=True)
        current = await campaigns.get(dal, user.id, campaign.workspace_id, campaign.id)
        await show_in_place(query, *await _card(dal, current, lang))
        return
    except Forbidden:  # approving is the owner's
        await query.answer(t(lang, "error.forbidden"), show_alert=True)
        return
    here = query.message.message_id if isinstance(query.message, Message) else None
    if action == "start" and here is not None:
        await dal.set_campaign_message(moved.id, _chat_id(query), here)
    await dal.commit()
    if moved.notify_message_id not in (None, here):
        await show_campaign(bot, dal, moved, lang)  # its progress message shows the change too
    await show_in_place(query, *await _card(dal, moved, lang))
    await query.answer(t(lang, f"campaigns.done.{moved.status}"))


async def on_join(
    query: CallbackQuery,
    callback_data: JoinTarget,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
    planner: Planner,
) -> None:
    """Let an account join the target (the owner's button under a pre-flight), then show
    the pre-flight run again in place."""
    joiner = TargetJoiner(planner)
    ws, campaign_id = callback_data.ws, callback_data.id
    try:
        result = await joiner.join(user.id, ws, campaign_id, callback_data.account)
    except NotFound:
        await query.answer(t(lang, "error.not_found"), show_alert=True)
        return
    except Forbidden:
        await query.answer(t(lang, "error.forbidden"), show_alert=True)
        return
    except InvalidInput as exc:
        await query.answer(refusal(lang, exc), show_alert=True)
        return
    fresh = await campaigns.get(dal, user.id, ws, campaign_id)
    await show_in_place(query, *render_preflight(fresh, result.preflight, lang, owner=True))
    await query.answer(result.sentence(lang), show_alert=True)


async def on_duplicate(
    query: CallbackQuery,
    callback_data: CampaignAction,
    bot: Bot,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
) -> None:
    campaign = await _load(query, callback_data, dal, user, lang, campaigns)
    if campaign is None:
        return
    copy = await campaigns.duplicate(dal, user.id, campaign.workspace_id, campaign.id)
    await dal.commit()
    text, keyboard = await _card(dal, copy, lang)
    await bot.send_message(_chat_id(query), text, reply_markup=keyboard)
    await query.answer(t(lang, "campaigns.duplicated", id=copy.id))


async def on_report(
    query: CallbackQuery,
    callback_data: CampaignAction,
    bot: Bot,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    campaigns: CampaignService,
) -> None:
    campaign = await _load(query, callback_data, dal, user, lang, campaigns)
    if campaign is None:
        return
    report = await campaigns.report(dal, user.id, campaign.workspace_id, campaign.id)
    # aiogram keeps getMe's answer for the bot's lifetime: the username costs one call per process.
    me = await bot.me()
    link = optout_link(me.username) if me.username else None
    text = render_report(report, lang, optout_link=link)
    # Whether the people it added stayed (core/retention.py), under the counts: once anyone was added.
    retention = await campaign_retention(dal, user.id, campaign.workspace_id, campaign.id)
    if retention.figures.added:
        counts, gap, rest = text.partition("\n\n")
        text = counts + "\n" + retention_line(retention.figures, lang) + gap + rest
    await bot.send_message(_chat_id(query), text)
    await query.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    private = F.chat.type == "private"
    router.message.register(cmd_campaign_new, Command("campaign_new"), private)
    router.message.register(cmd_campaigns, Command("campaigns"), private)
    router.message.register(private_only, Command("campaign_new", "campaigns"))
    # The wizard: /cancel leaves it; other commands keep working while it waits.
    router.message.register(cancel_wizard, StateFilter(CampaignWizard), Command("cancel"), private)
    answer = (private, F.text, ~Command(*COMMANDS, "cancel"))
    router.message.register(on_target, CampaignWizard.target, *answer)
    router.message.register(on_start_text, CampaignWizard.start, *answer)
    router.message.register(on_hours_text, CampaignWizard.hours, *answer)
    router.message.register(on_limits_text, CampaignWizard.limits, *answer)
    router.callback_query.register(
        on_audience_page, CampaignWizard.audience, CampaignNew.filter(F.action == "page")
    )
    router.callback_query.register(
        on_audience, CampaignWizard.audience, CampaignNew.filter(F.action == "pick")
    )
    router.callback_query.register(
        on_chat_pick, CampaignWizard.target, CampaignNew.filter(F.action == "chat")
    )
    router.callback_query.register(
        on_start_now, CampaignWizard.start, CampaignNew.filter(F.action == "now")
    )
    router.callback_query.register(
        on_any_time, CampaignWizard.hours, CampaignNew.filter(F.action == "any")
    )
    router.callback_query.register(
        on_std_limits, CampaignWizard.limits, CampaignNew.filter(F.action == "std")
    )
    router.callback_query.register(wizard_over, CampaignNew.filter())
    # The campaigns.
    router.callback_query.register(on_page, CampaignAction.filter(F.action == "page"))
    router.callback_query.register(
        on_card, CampaignAction.filter(F.action.in_(("open", "card", "keep")))
    )
    router.callback_query.register(on_check, CampaignAction.filter(F.action == "check"))
    router.callback_query.register(on_move, CampaignAction.filter(F.action.in_(MOVES)))
    router.callback_query.register(on_duplicate, CampaignAction.filter(F.action == "dup"))
    router.callback_query.register(on_join, JoinTarget.filter())
    router.callback_query.register(on_report, CampaignAction.filter(F.action == "report"))
    return router
