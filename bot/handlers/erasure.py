"""/erase <id|@username>: the owner erases one person from the current workspace, after a
confirmation button. The rules are `core.erasure`; here only the chat side.

The person travels in the button's data (a Telegram id or a username: under Telegram's 64
bytes) and the presser's role is checked again on the press: callback data proves nothing.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.commands import private_only
from bot.lists import Int64
from bot.parse_command import problem_text
from bot.progress import show_in_place
from core import erasure
from core.dto import UserDTO
from core.errors import Forbidden, InvalidInput, NotFound
from core.i18n import t
from core.users import current_workspace, workspace_of
from db.dal import SqlDal


class EraseAction(CallbackData, prefix="er"):
    """`er:<yes|no>:<workspace>:<id or username>`."""

    action: str
    ws: Int64
    person: str


def _label(person: erasure.Person) -> str:
    return f"@{person.username}" if person.username else f"id {person.tg_user_id}"


def _raw(person: erasure.Person) -> str:
    return person.username or str(person.tg_user_id)


def result_text(lang: str, person: erasure.Person, result: erasure.Erasure) -> str:
    r = result.removed
    lines = [
        t(lang, "erase.done", person=_label(person), total=result.total),
        t(
            lang,
            "erase.counts",
            audiences=r.get("audience_members", 0) + r.get("audience_usernames", 0),
            targets=r.get("campaign_targets", 0),
            events=r.get("invite_events", 0),
            ledger=r.get("invite_ledger", 0) + r.get("retention_checks", 0),
        ),
    ]
    lines.append(t(lang, "erase.kept" if result.opted_out else "erase.no_id"))
    return "\n".join(lines)


async def cmd_erase(
    message: Message, command: CommandObject, dal: SqlDal, user: UserDTO, lang: str
) -> None:
    workspace = await current_workspace(dal, user.id)
    raw = (command.args or "").strip()
    if not raw:
        await message.answer(t(lang, "erase.usage"))
        return
    try:
        await erasure.check_erase(dal, user.id, workspace.id)
        person = erasure.parse_person(raw)
    except Forbidden:
        await message.answer(t(lang, "erase.not_owner", workspace=workspace.name))
        return
    except InvalidInput as exc:
        await message.answer(t(lang, "erase.failed", problem=problem_text(lang, exc)))
        return
    builder = InlineKeyboardBuilder()
    for action in ("yes", "no"):
        builder.button(
            text=t(lang, f"erase.{action}"),
            callback_data=EraseAction(action=action, ws=workspace.id, person=_raw(person)),
        )
    builder.adjust(2)
    await message.answer(
        t(lang, "erase.confirm", person=_label(person), workspace=workspace.name),
        reply_markup=builder.as_markup(),
    )


async def on_action(
    query: CallbackQuery, callback_data: EraseAction, dal: SqlDal, user: UserDTO, lang: str
) -> None:
    try:
        workspace = await workspace_of(dal, user.id, callback_data.ws)
        person = erasure.parse_person(callback_data.person)
        if callback_data.action != "yes":
            await show_in_place(query, t(lang, "erase.cancelled"), None)
            await query.answer()
            return
        result = await erasure.erase(dal, user.id, workspace.id, person)
    except Forbidden:
        await query.answer(t(lang, "error.forbidden"), show_alert=True)
        return
    except (NotFound, InvalidInput):
        await query.answer(t(lang, "error.not_found"), show_alert=True)
        return
    await show_in_place(query, result_text(lang, person, result), None)
    await query.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_erase, Command("erase"), F.chat.type == "private")
    router.callback_query.register(on_action, EraseAction.filter())
    # The command names a person: never in a group.
    router.message.register(private_only, Command("erase"))
    return router
