"""How the /accounts list looks in the chat: its text, its buttons and their callback data.

Kept apart from the handlers so that the list renders the same after every action (the
handlers edit the list message in place).
"""

from __future__ import annotations

from datetime import UTC

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.lists import Int64, add_page_buttons
from core.accounts import account_label
from core.dto import AccountDTO, AccountStatus
from core.i18n import t
from core.pagination import Page
from core.spambot import frozen_deadline

PAGE_SIZE = 10
"""Accounts per message: two buttons each stays far below Telegram's keyboard limits."""


class AccountAction(CallbackData, prefix="acc"):
    """`acc:<action>:<workspace>:<account id or page cursor>`, well under 64 bytes.

    The workspace travels with the button, and every action checks the presser's role in
    it again: callback data is typed by the client and proves nothing.
    """

    action: str
    """off | on | unlink | yes | no | page"""
    ws: Int64
    id: Int64


ACTIONS = ("off", "on", "unlink", "yes", "no", "page")


_UNTIL_SHOWN = (AccountStatus.COOLDOWN, AccountStatus.PARKED, AccountStatus.RESTRICTED)
_REASON_HIDDEN = (AccountStatus.ACTIVE, AccountStatus.DISABLED)


def _detail(account: AccountDTO, lang: str) -> str | None:
    """Until when a status lasts and Telegram's reason for it (e.g. USER_BANNED_IN_CHANNEL)."""
    parts: list[str] = []
    deadline = (
        frozen_deadline(account.status_reason) if account.status is AccountStatus.FROZEN else None
    )
    if deadline is not None:
        parts.append(t(lang, "accounts.frozen_deadline", until=deadline.strftime("%Y-%m-%d %H:%M")))
    elif account.cooldown_until is not None and account.status in _UNTIL_SHOWN:
        until = account.cooldown_until.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        parts.append(t(lang, "accounts.until", until=until))
    if account.status_reason and account.status not in _REASON_HIDDEN and deadline is None:
        parts.append(t(lang, "accounts.reason", reason=account.status_reason))
    return " · ".join(parts) or None


def _item(account: AccountDTO, lang: str, daily_limit: int) -> str:
    item = t(
        lang,
        "accounts.item",
        account=account_label(account.username, account.first_name),
        status=t(lang, f"accounts.status.{account.status.value}"),
        phone=account.phone_masked or t(lang, "accounts.no_phone"),
        used=account.usage_today,
        limit=daily_limit,
    )
    detail = _detail(account, lang)
    return f"{item}\n   {detail}" if detail else item


def render_list(
    page: Page,
    *,
    workspace_id: int,
    cursor: int,
    lang: str,
    daily_limit: int,
    owner: bool,
    notice: str | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The list message for one page (starting after account id `cursor`); Unlink is offered
    to the workspace's owner only, the one it works for (`core.users.ensure_owner`)."""
    head = [notice] if notice else []
    if not page.items and cursor == 0:
        return "\n\n".join([*head, t(lang, "accounts.empty")]), None
    lines = [t(lang, "accounts.title"), *(_item(a, lang, daily_limit) for a in page.items)]
    text = "\n\n".join([*head, "\n".join(lines), t(lang, "accounts.footer")])
    builder = InlineKeyboardBuilder()
    for account in page.items:
        name = account_label(account.username, account.first_name)
        disabled = account.status is AccountStatus.DISABLED
        builder.button(
            text=t(lang, "accounts.enable" if disabled else "accounts.disable", account=name),
            callback_data=AccountAction(
                action="on" if disabled else "off", ws=workspace_id, id=account.id
            ),
        )
        if owner:
            builder.button(
                text=t(lang, "accounts.unlink", account=name),
                callback_data=AccountAction(action="unlink", ws=workspace_id, id=account.id),
            )
    sizes = [2 if owner else 1] * len(page.items)
    nav = add_page_buttons(
        builder,
        lang=lang,
        cursor=cursor,
        next_cursor=page.next_cursor,
        page=lambda at: AccountAction(action="page", ws=workspace_id, id=at),
    )
    if nav:
        sizes.append(nav)
    builder.adjust(*sizes)
    return text, builder.as_markup()


def render_unlink_confirm(account: AccountDTO, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    name = account_label(account.username, account.first_name)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t(lang, "accounts.unlink_yes"),
        callback_data=AccountAction(action="yes", ws=account.workspace_id, id=account.id),
    )
    builder.button(
        text=t(lang, "accounts.unlink_no"),
        callback_data=AccountAction(action="no", ws=account.workspace_id, id=account.id),
    )
    builder.adjust(2)
    return t(lang, "accounts.unlink_confirm", account=name), builder.as_markup()
