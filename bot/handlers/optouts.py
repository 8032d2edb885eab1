"""/optout and /optin (anyone, also the deep link `t.me/<bot>?start=optout`) and /optouts,
/optouts_add, /optouts_remove (the current workspace's own list, changed by its owner).

The rules are `core.optouts`; here only the chat side. This router comes before /start's,
so the deep link is answered here and a plain /start is not.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.commands import private_only
from bot.lists import Int64, add_page_buttons
from bot.parse_command import problem_text
from bot.progress import show_in_place
from core import optouts
from core.dto import UserDTO, WorkspaceRef, WorkspaceRole
from core.errors import Forbidden, InvalidInput, NotFound
from core.i18n import has_text, t
from core.pagination import Page
from core.users import current_workspace, workspace_of
from core.validation import is_number
from db.dal import SqlDal
from db.dal_optouts import OptOutDal

PAGE = 20


class OptOutsPage(CallbackData, prefix="oo"):
    """`oo:<workspace>:<cursor>`: a page of the list; membership is checked again on each press."""

    ws: Int64
    at: Int64


async def _link(bot: Bot) -> str:
    # aiogram keeps the answer of getMe for the bot's lifetime: one call per process.
    me = await bot.me()
    return optouts.optout_link(me.username or "")


def _person(tg_user_id: int, username: str | None = None) -> str:
    return f"@{username} (id {tg_user_id})" if username else f"id {tg_user_id}"


def _render(
    page: Page[optouts.OptOutEntry],
    count: int,
    workspace: WorkspaceRef,
    *,
    at: int,
    lang: str,
    link: str,
) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [t(lang, "optouts.title", workspace=workspace.name, count=count)]
    for entry in page.items:
        key = f"optouts.reason.{entry.reason}"
        lines.append(
            t(
                lang,
                "optouts.item",
                person=_person(entry.tg_user_id, entry.username),
                reason=t(lang, key) if has_text(key) else "",
                date=entry.created_at.date().isoformat(),
            )
        )
    if not page.items:
        lines.append(t(lang, "optouts.empty"))
    hint = "optouts.owner_hint" if workspace.role is WorkspaceRole.OWNER else "optouts.manager_hint"
    lines += ["", t(lang, hint, link=link)]
    builder = InlineKeyboardBuilder()
    add_page_buttons(
        builder,
        lang=lang,
        cursor=at,
        next_cursor=page.next_cursor,
        page=lambda cursor: OptOutsPage(ws=workspace.id, at=cursor),
    )
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup() if builder.export() else None


# --- anyone ---------------------------------------------------------------------------------
async def cmd_optout(message: Message, dal: SqlDal, lang: str) -> None:
    if message.from_user is None:
        return
    source = (
        optouts.SOURCE_DEEP_LINK
        if (message.text or "").startswith("/start")
        else optouts.SOURCE_COMMAND
    )
    added = await optouts.opt_out_everywhere(
        OptOutDal(dal.session), message.from_user.id, source=source
    )
    await message.answer(t(lang, "optout.done" if added else "optout.already"))


async def cmd_optin(message: Message, dal: SqlDal, lang: str) -> None:
    if message.from_user is None:
        return
    removed = await optouts.opt_in_everywhere(OptOutDal(dal.session), message.from_user.id)
    await message.answer(t(lang, "optin.done" if removed else "optin.not_listed"))


async def in_group(message: Message, lang: str) -> None:
    await message.answer(t(lang, "optout.group"))


# --- the workspace's list -------------------------------------------------------------------
async def cmd_optouts(message: Message, bot: Bot, dal: SqlDal, user: UserDTO, lang: str) -> None:
    workspace = await current_workspace(dal, user.id)
    page, count = await optouts.workspace_list(
        OptOutDal(dal.session), user.id, workspace.id, cursor=None, limit=PAGE
    )
    text, keyboard = _render(page, count, workspace, at=0, lang=lang, link=await _link(bot))
    await message.answer(text, reply_markup=keyboard)


async def on_page(
    query: CallbackQuery,
    callback_data: OptOutsPage,
    bot: Bot,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
) -> None:
    try:
        workspace = await workspace_of(dal, user.id, callback_data.ws)
        page, count = await optouts.workspace_list(
            OptOutDal(dal.session),
            user.id,
            workspace.id,
            cursor=callback_data.at or None,
            limit=PAGE,
        )
    except NotFound:
        await query.answer(t(lang, "error.not_found"), show_alert=True)
        return
    await show_in_place(
        query,
        *_render(page, count, workspace, at=callback_data.at, lang=lang, link=await _link(bot)),
    )
    await query.answer()


async def _change(
    message: Message, command: CommandObject, dal: SqlDal, user: UserDTO, lang: str, *, adding: bool
) -> None:
    workspace = await current_workspace(dal, user.id)
    raw = (command.args or "").strip()
    store = OptOutDal(dal.session)
    try:
        if workspace.role is not WorkspaceRole.OWNER:
            raise Forbidden("owner only")
        if not raw:
            await message.answer(t(lang, "optouts.add_usage" if adding else "optouts.remove_usage"))
            return
        if adding:
            tg_user_id, added = await optouts.add(store, user.id, workspace.id, raw)
        else:
            tg_user_id, added = await optouts.remove(store, user.id, workspace.id, raw), True
    except Forbidden:
        await message.answer(t(lang, "optouts.not_owner", workspace=workspace.name))
        return
    except InvalidInput as exc:
        await message.answer(t(lang, "optouts.failed", problem=problem_text(lang, exc)))
        return
    except NotFound as exc:
        person = _person(
            int(exc.details.get("tg_user_id", 0)), raw.lstrip("@") if not is_number(raw) else None
        )
        await message.answer(t(lang, "optouts.not_listed", person=person, workspace=workspace.name))
        return
    person = _person(tg_user_id, raw.lstrip("@") if not is_number(raw) else None)
    key = ("optouts.added" if added else "optouts.already") if adding else "optouts.removed"
    await message.answer(t(lang, key, person=person, workspace=workspace.name))


async def cmd_optouts_add(
    message: Message, command: CommandObject, dal: SqlDal, user: UserDTO, lang: str
) -> None:
    await _change(message, command, dal, user, lang, adding=True)


async def cmd_optouts_remove(
    message: Message, command: CommandObject, dal: SqlDal, user: UserDTO, lang: str
) -> None:
    await _change(message, command, dal, user, lang, adding=False)


def create_router() -> Router:
    router = Router(name=__name__)
    private = F.chat.type == "private"
    # core.telegram.org/bots/features#deep-linking: t.me/<bot>?start=optout arrives as "/start optout".
    router.message.register(
        cmd_optout, CommandStart(deep_link=True, magic=F.args == optouts.DEEP_LINK_PAYLOAD), private
    )
    router.message.register(cmd_optout, Command("optout"), private)
    router.message.register(cmd_optin, Command("optin"), private)
    router.message.register(in_group, Command("optout", "optin"))
    router.message.register(cmd_optouts, Command("optouts"), private)
    router.message.register(cmd_optouts_add, Command("optouts_add"), private)
    router.message.register(cmd_optouts_remove, Command("optouts_remove"), private)
    router.callback_query.register(on_page, OptOutsPage.filter())
    # The list names people: never shown in a group.
    router.message.register(private_only, Command("optouts", "optouts_add", "optouts_remove"))
    return router
