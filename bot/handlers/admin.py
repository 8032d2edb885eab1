"""/admin and /admin_limits: the installation admin menu, for admins only.

Everyone else never learns the menu exists: the router lets only admins' updates in, so
a non-admin's /admin falls through to the fallback and gets the same "unknown command"
answer as any other command nobody handles. The use cases check the role again.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.admin_view import (
    USER_ACTIONS,
    AdminAction,
    Screen,
    limits_usage,
    render_health,
    render_limits,
    render_menu,
    render_stats,
    render_user,
    render_users,
    render_users_ask,
    user_done,
)
from bot.commands import private_only
from bot.parse_command import problem_text
from bot.progress import show_in_place
from core.admin import AdminService
from core.dto import UserDTO
from core.errors import Forbidden, InvalidInput, NotFound
from core.i18n import t
from core.installation import parse_assignments
from db.dal import SqlDal

USERS_SHOWN = 10
HEALTH_PAGE = 10


class AdminSearch(StatesGroup):
    query = State()


async def is_admin(_: TelegramObject, user: UserDTO | None = None) -> bool:
    return user is not None and user.is_admin and not user.blocked


async def cmd_admin(message: Message, state: FSMContext, lang: str) -> None:
    await state.clear()
    text, keyboard = render_menu(lang)
    await message.answer(text, reply_markup=keyboard)


async def cmd_limits(
    message: Message,
    command: CommandObject,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    admin: AdminService,
) -> None:
    if not command.args:
        await message.answer(limits_usage(lang))
        return
    try:
        view = await admin.set_limits(dal, user.id, parse_assignments(command.args))
    except InvalidInput as exc:
        await message.answer(t(lang, "admin.limits_invalid", problem=problem_text(lang, exc)))
        return
    text, keyboard = render_limits(view, lang, notice=t(lang, "admin.limits_saved"))
    await message.answer(text, reply_markup=keyboard)


async def cancel_search(message: Message, state: FSMContext, lang: str) -> None:
    await state.clear()
    await message.answer(t(lang, "admin.search_cancelled"))


async def on_query(
    message: Message, dal: SqlDal, user: UserDTO, lang: str, admin: AdminService
) -> None:
    """A search sent while the Users section waits for one; the wait goes on for the next."""
    query = (message.text or "").strip()
    try:
        page = await admin.users(dal, user.id, query, limit=USERS_SHOWN)
    except InvalidInput as exc:
        await message.answer(problem_text(lang, exc))
        return
    if not page.items:
        await message.answer(t(lang, "admin.users_none", query=query))
        return
    if len(page.items) == 1:
        found = page.items[0]
        text, keyboard = render_user(
            found, lang, configured=found.telegram_id in admin.configured_admins
        )
    else:
        text, keyboard = render_users(page, query, lang)
    await message.answer(text, reply_markup=keyboard)


async def _screen(
    action: str,
    target: int,
    *,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    admin: AdminService,
    state: FSMContext,
) -> tuple[Screen, str | None]:
    """The screen an action leads to, and a short notice for the button press."""
    if action == "users":
        await admin.require_admin(dal, user.id)
        await state.set_state(AdminSearch.query)
        return render_users_ask(lang), None
    if action not in ("user", *USER_ACTIONS):
        await state.clear()  # a search goes on while its users' cards are open
    if action == "stats":
        return render_stats(await admin.stats(dal, user.id), lang), None
    if action == "limits":
        return render_limits(await admin.limits_view(dal, user.id), lang), None
    if action == "health":
        stats = await admin.stats(dal, user.id)
        page = await admin.accounts(dal, user.id, cursor=target, limit=HEALTH_PAGE)
        return render_health(page, stats.counts.accounts, target, lang), None
    if action == "user":
        found = await admin.user(dal, user.id, target)
        return render_user(
            found, lang, configured=found.telegram_id in admin.configured_admins
        ), None
    if action in USER_ACTIONS:
        change = {
            "block": admin.block,
            "unblock": admin.unblock,
            "grant": admin.grant_admin,
            "revoke": admin.revoke_admin,
        }[action]
        changed = await change(dal, user.id, target)
        notice = user_done(action, changed, lang)
        configured = changed.telegram_id in admin.configured_admins
        return render_user(changed, lang, configured=configured, notice=notice), notice
    return render_menu(lang), None


async def on_action(
    query: CallbackQuery,
    callback_data: AdminAction,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    admin: AdminService,
    state: FSMContext,
) -> None:
    try:
        (text, keyboard), notice = await _screen(
            callback_data.action,
            callback_data.id,
            dal=dal,
            user=user,
            lang=lang,
            admin=admin,
            state=state,
        )
    except (Forbidden, NotFound) as exc:
        await query.answer(t(lang, f"error.{exc.code}"), show_alert=True)
        return
    await show_in_place(query, text, keyboard)
    await query.answer(notice)


def create_router() -> Router:
    router = Router(name=__name__)
    # Only admins' updates enter this router; everything else goes on to the next ones.
    router.message.filter(is_admin)
    router.callback_query.filter(is_admin)
    private = F.chat.type == "private"
    router.message.register(cmd_admin, Command("admin"), private)
    router.message.register(cmd_limits, Command("admin_limits"), private)
    router.message.register(private_only, Command("admin", "admin_limits"))
    router.message.register(cancel_search, Command("cancel"), AdminSearch.query)
    router.message.register(on_query, AdminSearch.query, private, F.text, ~F.text.startswith("/"))
    router.callback_query.register(on_action, AdminAction.filter())
    return router
