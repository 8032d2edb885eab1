"""How the /admin menu looks in the chat: its texts, its buttons and their callback data.

Kept apart from the handlers so that every section renders the same whether it is opened
from the menu, after an action or from a command.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.lists import Int64, add_page_buttons
from core.accounts import account_label
from core.dto import AccountDTO, UserDTO
from core.i18n import t
from core.installation import LIMIT_FIELDS, InstallationStats, LimitsView
from core.pagination import Page

Screen = tuple[str, InlineKeyboardMarkup]


class AdminAction(CallbackData, prefix="adm"):
    """`adm:<action>:<id>`: a section, or an action on a user (id) or a page (cursor).

    The router lets only admins' presses through, and the use case checks the role again:
    callback data is typed by the client and proves nothing.
    """

    action: str
    """menu | stats | users | limits | health | user | block | unblock | grant | revoke"""
    id: Int64 = 0


USER_ACTIONS = ("block", "unblock", "grant", "revoke")


def _menu_button(builder: InlineKeyboardBuilder, lang: str) -> None:
    builder.button(text=t(lang, "admin.btn.menu"), callback_data=AdminAction(action="menu"))


def _single(text: str, lang: str) -> Screen:
    builder = InlineKeyboardBuilder()
    _menu_button(builder, lang)
    return text, builder.as_markup()


def render_menu(lang: str) -> Screen:
    builder = InlineKeyboardBuilder()
    for section in ("stats", "users", "limits", "health"):
        builder.button(
            text=t(lang, f"admin.btn.{section}"), callback_data=AdminAction(action=section)
        )
    builder.adjust(2, 2)
    return t(lang, "admin.menu"), builder.as_markup()


def _breakdown(counts: dict[str, int], label_prefix: str, lang: str) -> str:
    """`4 (active 3, resting 1)`, or "none"."""
    total = sum(counts.values())
    if not total:
        return t(lang, "admin.none")
    parts = ", ".join(f"{t(lang, label_prefix + key)} {n}" for key, n in sorted(counts.items()))
    return f"{total} ({parts})"


def render_stats(stats: InstallationStats, lang: str) -> Screen:
    c = stats.counts
    text = t(
        lang,
        "admin.stats",
        users=c.users,
        admins=c.admins,
        blocked=c.blocked,
        workspaces=c.workspaces,
        accounts=_breakdown(c.accounts, "admin.status.", lang),
        invites=_breakdown(c.invites_today, "daily.outcome.", lang),
        workers=len(stats.workers) or t(lang, "admin.none"),
        tasks=_breakdown(c.parse_tasks, "task.state.", lang),
        campaigns=_breakdown(c.campaigns, "campaign.status.", lang),
    )
    return _single(text, lang)


def _name(user: UserDTO) -> str:
    return f"@{user.username}" if user.username else user.first_name or str(user.telegram_id)


def render_users_ask(lang: str) -> Screen:
    return _single(t(lang, "admin.users_ask"), lang)


def render_users(page: Page[UserDTO], query: str, lang: str) -> Screen:
    builder = InlineKeyboardBuilder()
    for user in page.items:
        builder.button(
            text=f"{_name(user)} · {user.telegram_id}",
            callback_data=AdminAction(action="user", id=user.id),
        )
    _menu_button(builder, lang)
    builder.adjust(1)
    lines = [t(lang, "admin.users_found", query=query)]
    if page.next_cursor is not None:
        lines.append(t(lang, "admin.users_more", count=len(page.items)))
    return "\n".join(lines), builder.as_markup()


def render_user(user: UserDTO, lang: str, *, configured: bool, notice: str | None = None) -> Screen:
    lines = [notice] if notice else []
    lines.append(
        t(
            lang,
            "admin.user_card",
            name=_name(user),
            telegram_id=user.telegram_id,
            id=user.id,
            role=t(lang, f"admin.role.{user.role.value}"),
            access=t(lang, "admin.access.blocked" if user.blocked else "admin.access.allowed"),
        )
    )
    if configured:
        lines.append(t(lang, "admin.user_configured"))
    builder = InlineKeyboardBuilder()
    access = "unblock" if user.blocked else "block"
    role = "revoke" if user.is_admin else "grant"
    for action in (access, role):
        builder.button(
            text=t(lang, f"admin.btn.{action}"),
            callback_data=AdminAction(action=action, id=user.id),
        )
    builder.button(text=t(lang, "admin.btn.users"), callback_data=AdminAction(action="users"))
    _menu_button(builder, lang)
    builder.adjust(2, 2)
    return "\n\n".join(lines), builder.as_markup()


def user_done(action: str, user: UserDTO, lang: str) -> str:
    return t(lang, f"admin.done.{action}", name=_name(user))


def render_limits(view: LimitsView, lang: str, *, notice: str | None = None) -> Screen:
    configured, maximum, effective = (
        asdict(view.configured),
        asdict(view.maximum),
        asdict(view.effective),
    )
    rows = "\n".join(
        t(
            lang,
            "admin.limits_row",
            name=name,
            effective=effective[name],
            configured=configured[name],
            maximum=maximum[name],
        )
        for name in LIMIT_FIELDS
    )
    stored = t(lang, "admin.limits_stored" if view.stored else "admin.limits_not_stored")
    text = t(lang, "admin.limits", rows=rows, stored=stored)
    return _single(f"{notice}\n\n{text}" if notice else text, lang)


def limits_usage(lang: str) -> str:
    return t(lang, "admin.limits_usage", names=", ".join(LIMIT_FIELDS))


def _health_item(account: AccountDTO, lang: str) -> str:
    until = account.cooldown_until
    return t(
        lang,
        "admin.health_item",
        id=account.id,
        account=account_label(account.username, account.first_name),
        workspace=account.workspace_id,
        status=t(lang, f"admin.status.{account.status.value}"),
        reason=t(lang, "admin.health_reason", reason=account.status_reason)
        if account.status_reason
        else "",
        until=t(lang, "admin.health_until", until=until.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))
        if until
        else "",
    )


def render_health(
    page: Page[AccountDTO], by_status: dict[str, int], cursor: int, lang: str
) -> Screen:
    if not page.items and not cursor:
        return _single(t(lang, "admin.health_empty"), lang)
    head = t(lang, "admin.health", counts=_breakdown(by_status, "admin.status.", lang))
    text = "\n".join([head, "", *(_health_item(a, lang) for a in page.items)])
    builder = InlineKeyboardBuilder()
    nav = add_page_buttons(
        builder,
        lang=lang,
        cursor=cursor,
        next_cursor=page.next_cursor,
        page=lambda at: AdminAction(action="health", id=at),
    )
    _menu_button(builder, lang)
    builder.adjust(*([nav] if nav else []), 1)
    return text, builder.as_markup()
