"""How invite campaigns look in the chat: the /campaign_new wizard's prompts, the pre-flight
report, the campaign card (which is also the progress message), the /campaigns list, the
report with the follow-up list, and the daily report; plus the callback data of their buttons.

Rendered from rows alone (the campaign, its target counts and reasons, the stored
pre-flight), so a card reads the same whether a command, a button or a worker's notice
draws it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.lists import Int64, add_page_buttons, short
from bot.parse_command import problem_text
from core.campaign_service import (
    CHANNEL_REF_PREFIX,
    INVITE_REF_PREFIX,
    MAX_CAMPAIGN_NAME,
    CampaignReport,
    CampaignView,
)
from core.campaigns import CampaignStatus, TransitionNotAllowed, start_problem
from core.dto import AudienceDTO, CampaignDTO, FollowUpDTO
from core.errors import InvalidInput
from core.i18n import has_text, t
from core.outcomes import follow_up_count
from core.pagination import Page
from core.validation import is_number

PICKER_PAGE = 8
CAMPAIGNS_PAGE = 8
TOP_REASONS = 3
FOLLOW_UP_SHOWN = 30
BAR_CELLS = 10
DAILY_OUTCOMES = ("invited", "already_member", "failed", "skipped", "retry")


class CampaignNew(CallbackData, prefix="cn"):
    """`cn:<pick|page|chat|now|any|std>:<workspace>:<audience id, page cursor or chat id>`: the
    wizard's buttons.

    They only count in the wizard step they belong to; the audience is looked up in the
    workspace again, for the presser.
    """

    action: str
    ws: Int64
    id: Int64 = 0


class CampaignAction(CallbackData, prefix="cg"):
    """`cg:<action>:<workspace>:<campaign id or page cursor>` under cards, reports and lists.

    The workspace travels with the button and the presser's membership is checked again:
    callback data is typed by the client and proves nothing.
    """

    action: str
    """open | card | keep | start | check | pause | resume | cancel | approve | reject | dup |
    report | page"""
    ws: Int64
    id: Int64


MOVES = ("start", "pause", "resume", "cancel", "approve", "reject")


class JoinTarget(CallbackData, prefix="cj"):
    """`cj:<workspace>:<campaign id>:<account id>`: let that account join the campaign's
    target (`gateway.target_join`; owner only, checked again when pressed)."""

    ws: Int64
    id: Int64
    account: Int64


# --- small pieces ----------------------------------------------------------------------------
def target_label(target_ref: str) -> str:
    """A stored target as people write it: `@username`, a chat's id (`-100…` for a
    supergroup or channel), or an invite link."""
    if target_ref.startswith(INVITE_REF_PREFIX):
        return f"t.me/{target_ref}"
    if is_number(target_ref) or target_ref.startswith(CHANNEL_REF_PREFIX):
        return target_ref
    return f"@{target_ref}"


CHAT_TITLE_IN_NAME = 48  # a picked chat's title in the automatic name


def campaign_title(audience_name: str, target_ref: str, chat_title: str | None = None) -> str:
    """The automatic name «<audience> → <target>» (the chat's title when it was picked from
    the list), the audience cut to fit the name's limit."""
    tail = f" → {short(chat_title, CHAT_TITLE_IN_NAME) if chat_title else target_label(target_ref)}"
    return short(audience_name, MAX_CAMPAIGN_NAME - len(tail)) + tail


PICKER_CHATS = 20  # chats offered as buttons at the wizard's step 2


def render_chat_picker(
    chats: list[tuple[int, str, int | None]], *, workspace_id: int, lang: str
) -> InlineKeyboardMarkup:
    """One button per chat (id, title, members) where an account may add people."""
    builder = InlineKeyboardBuilder()
    for chat_id, title, members in chats[:PICKER_CHATS]:
        label = t(
            lang,
            "campaign_new.chat_button",
            title=short(title, 40),
            members=members if members is not None else "?",
        )
        builder.button(
            text=label, callback_data=CampaignNew(action="chat", ws=workspace_id, id=chat_id)
        )
    builder.adjust(1)
    return builder.as_markup()


def progress_bar(done: int, total: int) -> str:
    filled = BAR_CELLS * done // total if total else 0
    return "▓" * filled + "░" * (BAR_CELLS - filled)


def percent(done: int, total: int) -> int:
    return done * 100 // total if total else 0


def startable(preflight: Mapping[str, Any]) -> bool:
    """Whether a stored pre-flight lets a start go ahead (`core.campaigns.start_problem`)."""
    return start_problem(preflight) is None


def bullet(what: object, detail: object) -> str:
    """One line of a list: `• what — detail`."""
    return f"• {what} — {detail}"


def status_text(lang: str, status: str) -> str:
    return t(lang, f"campaign.status.{status}")


def _reason(lang: str, code: str) -> str:
    key = f"reason.{code}"
    return t(lang, key) if has_text(key) else code


def _kind(lang: str, kind: str | None) -> str:
    key = f"campaigns.kind.{kind}"
    return t(lang, key) if kind and has_text(key) else (kind or "")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def problem(lang: str, exc: InvalidInput) -> str:
    """A refused step in words, with campaign statuses named in the user's language."""
    details = {
        k: status_text(lang, v)
        if k in ("current", "wanted", "status") and has_text(f"campaign.status.{v}")
        else v
        for k, v in exc.details.items()
    }
    return problem_text(lang, InvalidInput(str(exc), **details))


def refusal(lang: str, exc: InvalidInput) -> str:
    """Why a button changed nothing: a status that does not allow it, or the problem."""
    if isinstance(exc, TransitionNotAllowed):
        return t(lang, "campaigns.cannot_now", status=status_text(lang, exc.current.value))
    return t(lang, "campaigns.cannot", problem=problem(lang, exc))


def schedule_lines(campaign: CampaignDTO, lang: str) -> list[str]:
    """When it starts (before it has) and the daily active hours (when limited)."""
    lines: list[str] = []
    if CampaignStatus(campaign.status) in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        lines.append(
            t(lang, "campaigns.start_at", at=_when(campaign.start_at))
            if campaign.start_at
            else t(lang, "campaigns.start_now")
        )
    if campaign.active_from_hour is not None and campaign.active_to_hour is not None:
        lines.append(
            t(lang, "campaigns.hours", start=campaign.active_from_hour, end=campaign.active_to_hour)
        )
    return lines


def _chat_line(campaign: CampaignDTO, lang: str, title: str | None, kind: str | None) -> str:
    if title:
        return t(lang, "campaigns.chat", title=title, kind=_kind(lang, kind))
    return t(lang, "campaigns.chat_unknown", target=target_label(campaign.target_ref))


# --- the wizard --------------------------------------------------------------------------------
def render_audience_picker(
    page: Page[AudienceDTO], *, workspace_id: int, cursor: int, lang: str
) -> tuple[str, InlineKeyboardMarkup]:
    """Step 1: the workspace's audiences as buttons, one page at a time."""
    builder = InlineKeyboardBuilder()
    for audience in page.items:
        builder.button(
            text=t(
                lang, "campaign_new.audience_button", name=short(audience.name), size=audience.size
            ),
            callback_data=CampaignNew(action="pick", ws=workspace_id, id=audience.id),
        )
    nav = add_page_buttons(
        builder,
        lang=lang,
        cursor=cursor,
        next_cursor=page.next_cursor,
        page=lambda at: CampaignNew(action="page", ws=workspace_id, id=at),
    )
    builder.adjust(*([1] * len(page.items)), *([nav] if nav else []))
    return t(lang, "campaign_new.pick_audience"), builder.as_markup()


def one_button(text: str, data: CallbackData) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=text, callback_data=data)
    return builder.as_markup()


# --- the pre-flight report ---------------------------------------------------------------------
def render_preflight(
    campaign: CampaignDTO, report: Mapping[str, Any], lang: str, *, owner: bool = False
) -> tuple[str, InlineKeyboardMarkup]:
    """What the accounts found in the chat, and the way on: start, keep as a draft, cancel;
    for the owner, a button for each account that could join the chat."""
    labels: dict[str, str] = {str(k): str(v) for k, v in (report.get("accounts") or {}).items()}

    def names(ids: Any) -> str:
        return ", ".join(labels.get(str(i), f"#{i}") for i in ids)

    head = [
        t(lang, "preflight.title", name=campaign.name),
        _chat_line(campaign, lang, report.get("title"), report.get("kind")),
        *schedule_lines(campaign, lang),
    ]
    accounts: list[str] = []
    eligible, unchecked = list(report.get("eligible") or ()), list(report.get("unchecked") or ())
    accounts.append(
        t(lang, "preflight.eligible", count=len(eligible), accounts=names(eligible))
        if eligible
        else t(lang, "preflight.eligible_none")
    )
    if unchecked:
        accounts.append(
            t(lang, "preflight.unchecked", count=len(unchecked), accounts=names(unchecked))
        )
    excluded: Mapping[str, str] = report.get("excluded") or {}
    if excluded:
        accounts.append(t(lang, "preflight.excluded"))
        for account_id, code in excluded.items():
            key = f"campaign.exclusion.{code}"
            accounts.append(
                bullet(
                    labels.get(str(account_id), f"#{account_id}"),
                    t(lang, key) if has_text(key) else code,
                )
            )
    counts = [
        t(
            lang,
            "preflight.counts",
            already=report.get("already_members", 0),
            before=report.get("attempted_before", 0),
            opted=report.get("opted_out", 0),
            to_invite=report.get("to_invite", 0),
        )
    ]
    if report.get("unreachable"):
        counts.append(t(lang, "preflight.unreachable", count=report["unreachable"]))
    days = report.get("days_to_finish")
    if days is not None:
        counts.append(t(lang, "preflight.days", days=days))
    elif eligible:
        cap = (report.get("limits") or {}).get("lifetime_per_chat", "?")
        counts.append(t(lang, "preflight.days_never", cap=cap))
    blocks = ["\n".join(head), "\n".join(accounts), "\n".join(counts)]
    warnings = [
        t(lang, f"campaign.warning.{w}") if has_text(f"campaign.warning.{w}") else str(w)
        for w in report.get("warnings") or ()
    ]
    if warnings:
        blocks.append("\n".join(f"⚠️ {w}" for w in warnings))
    ready = startable(report)
    blocks.append(t(lang, "preflight.ready" if ready else "preflight.not_ready"))
    builder = InlineKeyboardBuilder()
    for action in ("start" if ready else "check", "keep", "cancel"):
        builder.button(
            text=t(lang, f"preflight.{action}"),
            callback_data=CampaignAction(action=action, ws=campaign.workspace_id, id=campaign.id),
        )
    joiners = [int(i) for i in report.get("can_join") or ()] if owner else []
    for joiner in joiners:
        builder.button(
            text=t(lang, "campaign.join.button", account=labels.get(str(joiner), "")),
            callback_data=JoinTarget(ws=campaign.workspace_id, id=campaign.id, account=joiner),
        )
    builder.adjust(1, 2, *([1] * len(joiners)))
    return "\n\n".join(blocks), builder.as_markup()


def render_approval(
    campaign: CampaignDTO, report: Mapping[str, Any], lang: str, asked_by: str
) -> tuple[str, InlineKeyboardMarkup]:
    """To the owner: a manager's large campaign with its pre-flight, and Approve / Reject."""
    preflight_text, _ = render_preflight(campaign, report, lang)
    head = t(
        lang,
        "campaigns.approval_ask",
        by=asked_by,
        name=campaign.name,
        to_invite=report.get("to_invite", 0),
    )
    builder = InlineKeyboardBuilder()
    for action in ("approve", "reject"):
        builder.button(
            text=t(lang, f"campaigns.{action}"),
            callback_data=CampaignAction(action=action, ws=campaign.workspace_id, id=campaign.id),
        )
    builder.adjust(2)
    return f"{head}\n\n{preflight_text}", builder.as_markup()


# --- the card ----------------------------------------------------------------------------------
def controls(status: str) -> tuple[str, ...]:
    """The steering buttons a campaign in this status offers."""
    state = CampaignStatus(status)
    found: list[str] = []
    if state is CampaignStatus.DRAFT:
        found.append("start")
    if state in (CampaignStatus.RUNNING, CampaignStatus.WAITING, CampaignStatus.SCHEDULED):
        found.append("pause")
    if state is CampaignStatus.PAUSED:
        found.append("resume")
    if not state.finished:
        found.append("cancel")
    return tuple(found)


def counts_line(counts: Mapping[str, int], lang: str) -> str:
    line = t(
        lang,
        "campaigns.counts",
        pending=counts.get("pending", 0),
        invited=counts.get("invited", 0),
        already=counts.get("already_member", 0),
        failed=counts.get("failed", 0),
        skipped=counts.get("skipped", 0),
    )
    # Accepted by Telegram, waiting for the membership check that says whether they joined:
    # without this, people already in the chat are counted nowhere for a while.
    unconfirmed = counts.get("unconfirmed", 0)
    if unconfirmed:
        line += " · " + t(lang, "campaigns.counts_unconfirmed", count=unconfirmed)
    return line


def progress_line(view: CampaignView, lang: str) -> str:
    done, total = view.finished_targets, view.total
    return t(
        lang,
        "campaigns.progress",
        done=done,
        total=total,
        bar=progress_bar(done, total),
        percent=percent(done, total),
    )


def paused_reason_text(lang: str, reason: str) -> str:
    """Why a campaign paused itself, as a sentence (the code itself when there is none)."""
    key = f"campaign.paused.{reason}"
    return t(lang, key) if has_text(key) else reason


def render_card(
    view: CampaignView, reasons: Mapping[str, int], lang: str, *, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """One campaign: where it stands, how far it got, why people were not added, and its buttons."""
    campaign = view.campaign
    state = CampaignStatus(campaign.status)
    head = [t(lang, "campaigns.head", id=campaign.id, name=campaign.name)]
    if campaign.target_title:
        head.append(_chat_line(campaign, lang, campaign.target_title, campaign.target_kind))
    head.append(t(lang, "campaigns.status", status=status_text(lang, state.value)))
    if state is CampaignStatus.WAITING and campaign.waiting_reason:
        key = f"campaign.waiting.{campaign.waiting_reason}"
        head.append(
            t(
                lang,
                "campaigns.waiting",
                reason=t(lang, key) if has_text(key) else campaign.waiting_reason,
            )
        )
    if state is CampaignStatus.PAUSED and campaign.paused_reason:
        head.append(
            t(
                lang,
                "campaigns.paused_reason",
                reason=paused_reason_text(lang, campaign.paused_reason),
            )
        )
    head.extend(schedule_lines(campaign, lang))
    blocks = [*([notice] if notice else []), "\n".join(head)]
    if view.total:
        blocks.append("\n".join([progress_line(view, lang), counts_line(view.counts, lang)]))
    elif state is CampaignStatus.DRAFT and not startable(campaign.preflight):
        blocks.append(t(lang, "campaigns.not_checked"))
    top = list(reasons.items())[:TOP_REASONS]
    if top:
        blocks.append(
            "\n".join(
                [t(lang, "campaigns.reasons"), *(bullet(_reason(lang, code), n) for code, n in top)]
            )
        )
    follow_up = follow_up_count(reasons)
    if follow_up:
        blocks.append(t(lang, "campaigns.follow_up_hint", count=follow_up))
    builder = InlineKeyboardBuilder()
    moves = controls(campaign.status)
    for action in (*moves, "dup", "report", "card"):
        builder.button(
            text=t(lang, f"campaigns.{action}"),
            callback_data=CampaignAction(action=action, ws=campaign.workspace_id, id=campaign.id),
        )
    builder.adjust(*([len(moves)] if moves else []), 2, 1)
    return "\n\n".join(blocks), builder.as_markup()


# --- /campaigns --------------------------------------------------------------------------------
def render_campaigns(
    page: Page[CampaignView], *, workspace_id: int, at: int, lang: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /campaigns, newest first (`at`: the cursor it starts from, 0 for the newest)."""
    if not page.items and not at:
        return t(lang, "campaigns.empty"), None
    lines = [t(lang, "campaigns.title")]
    builder = InlineKeyboardBuilder()
    for view in page.items:
        campaign = view.campaign
        lines.append(
            t(
                lang,
                "campaigns.item",
                id=campaign.id,
                name=campaign.name,
                status=status_text(lang, campaign.status),
                done=view.finished_targets,
                total=view.total,
                invited=view.counts.get("invited", 0),
                failed=view.counts.get("failed", 0),
            )
        )
        builder.button(
            text=t(lang, "campaigns.open", id=campaign.id, name=short(campaign.name)),
            callback_data=CampaignAction(action="open", ws=workspace_id, id=campaign.id),
        )
    nav = add_page_buttons(
        builder,
        lang=lang,
        cursor=at,
        next_cursor=page.next_cursor,
        page=lambda cursor: CampaignAction(action="page", ws=workspace_id, id=cursor),
    )
    builder.adjust(*([1] * len(page.items)), *([nav] if nav else []))
    return "\n".join(lines), builder.as_markup()


# --- the report ----------------------------------------------------------------------------------
def _person(person: FollowUpDTO) -> str:
    if person.username:
        return f"• @{person.username}"
    known_as = f"id {person.tg_user_id}"
    return f"• {person.first_name} ({known_as})" if person.first_name else f"• {known_as}"


def render_report(report: CampaignReport, lang: str, *, optout_link: str | None = None) -> str:
    """Why people were not added, what each account did, and whom to send the invite link
    (with a line to print under it: the link that stops every invitation, `core.optouts`)."""
    campaign = report.campaign
    blocks = [
        "\n".join(
            [
                t(lang, "campaigns.report_title", id=campaign.id, name=campaign.name),
                t(lang, "campaigns.status", status=status_text(lang, campaign.status)),
                counts_line(report.counts, lang),
            ]
        )
    ]
    if report.reasons:
        blocks.append(
            "\n".join(
                [
                    t(lang, "campaigns.report_reasons"),
                    *(bullet(_reason(lang, code), n) for code, n in report.reasons.items()),
                ]
            )
        )
    else:
        blocks.append(t(lang, "campaigns.report_no_reasons"))
    if report.accounts:
        limit = report.limits.daily_per_account
        blocks.append(
            "\n".join(
                [
                    t(lang, "campaigns.report_accounts"),
                    *(
                        t(
                            lang,
                            "campaigns.report_account",
                            account=u.label,
                            invited=u.invited,
                            failed=u.failed,
                            today=u.today,
                            limit=limit,
                        )
                        for u in report.accounts
                    ),
                ]
            )
        )
    if report.follow_up:
        link = campaign.invite_link
        # All of them (the counters), not the page read with the report (at most 100).
        count = follow_up_count(report.reasons)
        head = (
            t(lang, "campaigns.follow_up", count=count, link=link)
            if link
            else t(lang, "campaigns.follow_up_no_link", count=count)
        )
        people = [_person(p) for p in report.follow_up[:FOLLOW_UP_SHOWN]]
        if report.follow_up_next is not None or len(report.follow_up) > FOLLOW_UP_SHOWN:
            people.append(t(lang, "campaigns.follow_up_more"))
        if optout_link:
            people.append(t(lang, "campaigns.follow_up_optout", link=optout_link))
        blocks.append("\n".join([head, *people]))
    else:
        blocks.append(t(lang, "campaigns.follow_up_none"))
    return "\n\n".join(blocks)


# --- the daily report ----------------------------------------------------------------------------
def render_daily(
    day: str, outcomes: Mapping[str, int], working: list[CampaignView], lang: str
) -> str:
    """One UTC day of a workspace: attempts by outcome, and the campaigns at work now."""
    total = sum(outcomes.values())
    lines = [t(lang, "daily.title", day=day)]
    if total:
        lines.append(t(lang, "daily.attempts", total=total))
        known = [*DAILY_OUTCOMES, *sorted(set(outcomes) - set(DAILY_OUTCOMES))]
        for outcome in known:
            if outcomes.get(outcome):
                key = f"daily.outcome.{outcome}"
                lines.append(bullet(t(lang, key) if has_text(key) else outcome, outcomes[outcome]))
    else:
        lines.append(t(lang, "daily.no_attempts"))
    blocks = ["\n".join(lines)]
    if working:
        blocks.append(
            "\n".join(
                [
                    t(lang, "daily.working"),
                    *(
                        t(
                            lang,
                            "daily.campaign",
                            id=v.campaign.id,
                            name=v.campaign.name,
                            status=status_text(lang, v.campaign.status),
                            progress=progress_line(v, lang),
                        )
                        for v in working
                    ),
                ]
            )
        )
    else:
        blocks.append(t(lang, "daily.none_working"))
    return "\n\n".join(blocks)
