"""/audiences: the workspace's audiences with export (a CSV document), import (the user
sends a CSV document) and delete (the owner's, after a confirmation).

The rules are `core.audiences` (who may delete, what an import accepts); here only the
chat side: the list message edited in place, and the wait for the import file, which
is kept in the FSM (Redis) so that it survives a restart of the bot.
"""

from __future__ import annotations

import io

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.audiences_view import (
    ACTIONS,
    AUDIENCES_PAGE,
    AudienceAction,
    render_audiences,
    render_delete_confirm,
    render_import_report,
)
from bot.commands import COMMANDS, private_only
from bot.parse_command import problem_text
from bot.progress import show_in_place
from core.audiences import IMPORT_MAX_BYTES, AudienceService
from core.dto import UserDTO, WorkspaceRole
from core.errors import Forbidden, InvalidInput, NotFound
from core.i18n import t
from core.users import current_workspace, require_workspace
from db.dal import SqlDal

# Telegram takes documents up to 50 MB from bots; bigger audiences go through the panel.
EXPORT_MAX_BYTES = 49 * 1024 * 1024


class AudienceImport(StatesGroup):
    file = State()
    """Waiting for the CSV document; the data holds `ws` and `audience_id`."""


async def cmd_audiences(
    message: Message, dal: SqlDal, user: UserDTO, lang: str, audience_service: AudienceService
) -> None:
    workspace = await current_workspace(dal, user.id)
    page = await audience_service.audiences(dal, user.id, workspace.id, limit=AUDIENCES_PAGE)
    text, keyboard = render_audiences(
        page,
        workspace_id=workspace.id,
        cursor=0,
        lang=lang,
        owner=workspace.role is WorkspaceRole.OWNER,
    )
    await message.answer(text, reply_markup=keyboard)


async def on_action(
    query: CallbackQuery,
    callback_data: AudienceAction,
    bot: Bot,
    state: FSMContext,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
) -> None:
    action, workspace_id, target = callback_data.action, callback_data.ws, callback_data.id
    cursor, notice = 0, None
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    try:
        if action == "page":
            cursor = target
        elif action == "export":
            await _export(bot, chat_id, dal, user, lang, audience_service, workspace_id, target)
            await query.answer()
            return
        elif action == "import":
            audience = await audience_service.audience(dal, user.id, workspace_id, target)
            await state.set_state(AudienceImport.file)
            await state.update_data(ws=workspace_id, audience_id=audience.id)
            await bot.send_message(chat_id, t(lang, "audiences.import_ask", name=audience.name))
            await query.answer()
            return
        elif action == "delete":
            audience = await audience_service.check_delete(dal, user.id, workspace_id, target)
            await show_in_place(query, *render_delete_confirm(audience, lang))
            await query.answer()
            return
        elif action == "yes":
            audience = await audience_service.check_delete(dal, user.id, workspace_id, target)
            await audience_service.delete(dal, user.id, workspace_id, target)
            notice = t(lang, "audiences.deleted", name=audience.name)
        page = await audience_service.audiences(
            dal, user.id, workspace_id, cursor=cursor, limit=AUDIENCES_PAGE
        )
        role = await require_workspace(dal, user.id, workspace_id)
    except Forbidden:
        await query.answer(t(lang, "error.forbidden"), show_alert=True)
        return
    except NotFound:
        await query.answer(t(lang, "error.not_found"), show_alert=True)
        return
    text, keyboard = render_audiences(
        page,
        workspace_id=workspace_id,
        cursor=cursor,
        lang=lang,
        owner=role is WorkspaceRole.OWNER,
        notice=notice,
    )
    await show_in_place(query, text, keyboard)
    await query.answer(notice)


async def _export(
    bot: Bot,
    chat_id: int,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
    workspace_id: int,
    audience_id: int,
) -> None:
    audience = await audience_service.audience(dal, user.id, workspace_id, audience_id)
    rows = await audience_service.export_csv(dal, user.id, workspace_id, audience_id)
    buffer = io.BytesIO()
    async for chunk in rows:
        buffer.write(chunk)
        if buffer.tell() > EXPORT_MAX_BYTES:
            await bot.send_message(chat_id, t(lang, "audiences.export_too_big"))
            return
    await bot.send_document(
        chat_id,
        BufferedInputFile(buffer.getvalue(), filename=f"audience-{audience.id}.csv"),
        caption=t(lang, "audiences.export_caption", name=audience.name, size=audience.size),
    )


async def on_import_file(
    message: Message,
    bot: Bot,
    state: FSMContext,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
) -> None:
    document = message.document
    assert document is not None  # the filter
    if document.file_size is not None and document.file_size > IMPORT_MAX_BYTES:
        await message.answer(
            t(lang, "audiences.import_too_big", mb=IMPORT_MAX_BYTES // 1024 // 1024)
        )
        return
    data = await state.get_data()
    workspace_id, audience_id = int(data.get("ws", 0)), int(data.get("audience_id", 0))
    downloaded = await bot.download(document)
    content = downloaded.read() if downloaded is not None else b""  # a BytesIO at its start
    try:
        audience = await audience_service.audience(dal, user.id, workspace_id, audience_id)
        report = await audience_service.import_csv(dal, user.id, workspace_id, audience_id, content)
    except NotFound:
        await state.clear()
        await message.answer(t(lang, "error.not_found"))
        return
    except InvalidInput as exc:
        problem = (
            t(lang, "problem.file")
            if exc.details.get("field") == "file"
            else problem_text(lang, exc)
        )
        await message.answer(t(lang, "audiences.import_failed", problem=problem))
        return
    await state.clear()
    await message.answer(render_import_report(report, audience.name, lang))


async def on_import_other(message: Message, lang: str) -> None:
    await message.answer(t(lang, "audiences.import_not_document"))


async def cancel_import(message: Message, state: FSMContext, lang: str) -> None:
    await state.clear()
    await message.answer(t(lang, "audiences.import_cancelled"))


def create_router() -> Router:
    router = Router(name=__name__)
    private = F.chat.type == "private"
    router.message.register(cmd_audiences, Command("audiences"), private)
    router.message.register(private_only, Command("audiences"))
    router.message.register(cancel_import, AudienceImport.file, Command("cancel"), private)
    router.message.register(on_import_file, AudienceImport.file, F.document, private)
    # Other commands keep working while the file is awaited.
    router.message.register(
        on_import_other, AudienceImport.file, private, ~Command(*COMMANDS, "cancel")
    )
    router.callback_query.register(on_action, AudienceAction.filter(F.action.in_(ACTIONS)))
    return router
