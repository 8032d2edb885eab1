"""/accounts: the current workspace's linked accounts, with disable / enable / unlink buttons.

Who may do what is `core.accounts` (unlinking is the owner's); unlinking itself, which logs
the session out of Telegram under the account's lease, is `gateway.accounts.unlink_account`.
After every action the list message is edited in place.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.accounts import ACTIONS, PAGE_SIZE, AccountAction, render_list, render_unlink_confirm
from bot.commands import private_only
from bot.progress import show_in_place
from core.accounts import AccountService, account_label
from core.dto import UserDTO, WorkspaceRole
from core.errors import Busy, Forbidden, NotFound
from core.i18n import t
from core.settings import Settings
from core.users import current_workspace, require_workspace
from db.dal import SqlDal
from db.leases import LeaseStore
from gateway.accounts import unlink_account
from gateway.telegram import TelegramGateway


async def _page(
    accounts: AccountService,
    dal: SqlDal,
    user: UserDTO,
    workspace_id: int,
    cursor: int,
    lang: str,
    settings: Settings,
    notice: str | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    page = await accounts.page(dal, user.id, workspace_id, cursor=cursor, limit=PAGE_SIZE)
    role = await require_workspace(dal, user.id, workspace_id)
    return render_list(
        page,
        workspace_id=workspace_id,
        cursor=cursor,
        lang=lang,
        daily_limit=settings.invite_daily_per_account,
        owner=role is WorkspaceRole.OWNER,
        notice=notice,
    )


async def cmd_accounts(
    message: Message,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    accounts: AccountService,
    settings: Settings,
) -> None:
    workspace = await current_workspace(dal, user.id)
    text, keyboard = await _page(accounts, dal, user, workspace.id, 0, lang, settings)
    await message.answer(text, reply_markup=keyboard)


async def on_action(
    query: CallbackQuery,
    callback_data: AccountAction,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    settings: Settings,
    accounts: AccountService,
    gateway: TelegramGateway,
    leases: LeaseStore,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    action, workspace_id, target = callback_data.action, callback_data.ws, callback_data.id
    cursor, notice = 0, None
    try:
        if action == "page":
            cursor = target
        elif action in ("off", "on"):
            account = await accounts.set_enabled(
                dal, user.id, workspace_id, target, enabled=action == "on"
            )
            key = "accounts.enabled_done" if action == "on" else "accounts.disabled_done"
            notice = t(lang, key, account=account_label(account.username, account.first_name))
        elif action == "unlink":
            account = await accounts.check_unlink(dal, user.id, workspace_id, target)
            await show_in_place(query, *render_unlink_confirm(account, lang))
            await query.answer()
            return
        elif action == "yes":
            account = await accounts.check_unlink(dal, user.id, workspace_id, target)
            logged_out = await unlink_account(
                service=accounts,
                gateway=gateway,
                leases=leases,
                sessionmaker=sessionmaker,
                user_id=user.id,
                workspace_id=workspace_id,
                account_id=target,
            )
            key = "accounts.unlinked" if logged_out else "accounts.unlinked_gone"
            notice = t(lang, key, account=account_label(account.username, account.first_name))
        text, keyboard = await _page(
            accounts, dal, user, workspace_id, cursor, lang, settings, notice
        )
    except Forbidden:
        await query.answer(t(lang, "error.forbidden"), show_alert=True)
        return
    except NotFound:
        await query.answer(t(lang, "error.not_found"), show_alert=True)
        return
    except Busy:
        await query.answer(t(lang, "error.busy"), show_alert=True)
        return
    await show_in_place(query, text, keyboard)
    await query.answer(notice)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_accounts, Command("accounts"), F.chat.type == "private")
    router.message.register(private_only, Command("accounts"))
    router.callback_query.register(on_action, AccountAction.filter(F.action.in_(ACTIONS)))
    return router
