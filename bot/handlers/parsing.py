"""/parse and /tasks: queue collection tasks and steer them (pause, resume, cancel).

The rules and the rows are `core.audiences`; the workers run the tasks and tell the bot
when one moved on (`bot.progress` redraws its message). A task made here gets one message
that acknowledges it at once and is then kept up to date.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.commands import private_only
from bot.lists import Int64
from bot.parse_command import BadCommand, ParseRequest, problem_text, read_parse_args
from bot.parsing_view import (
    CONTROLS,
    TASKS_PAGE,
    TaskAction,
    TaskListAction,
    render_task,
    render_tasks,
)
from bot.progress import show_in_place, show_task
from core.accounts import account_label, can_work
from core.audiences import AudienceService
from core.dto import ParseTaskDTO, UserDTO
from core.errors import Forbidden, InvalidInput, NotFound
from core.i18n import t
from core.parsing import InvitePreview, parse_source
from core.users import current_workspace
from db.dal import SqlDal
from gateway.sources import SourceChecker


class JoinPick(CallbackData, prefix="pj"):
    """The account that joins a private source (the command waits in the chat's state)."""

    acc: Int64


_PENDING = "parse_join"  # the /parse arguments waiting for the account's choice


async def cmd_parse(
    message: Message,
    command: CommandObject,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
    trace_id: str,
    source_check: SourceChecker,
    state: FSMContext,
) -> None:
    try:
        request = read_parse_args(command.args or "")
    except BadCommand as exc:
        await message.answer(t(lang, "parse.invalid", problem=exc.text(lang)))
        return
    if request is None:
        await message.answer(t(lang, "parse.usage"))
        return
    workspace = await current_workspace(dal, user.id)
    invite = _invite_hash(request.source)
    if invite is not None:
        # A private chat: the owner picks which account joins it, when there is a choice,
        # knowing what the link leads to (messages.checkChatInvite through the first one).
        now = datetime.now(UTC)
        accounts = await dal.list_accounts(workspace.id, after_id=0, limit=100)
        usable = [a for a in accounts if can_work(a, now)]
        if len(usable) > 1:
            try:
                preview = await source_check.check_invite(workspace.id, invite, usable[0].id)
            except InvalidInput as exc:
                await message.answer(t(lang, "parse.invalid", problem=problem_text(lang, exc)))
                return
            await state.update_data({_PENDING: command.args or ""})
            rows = [
                [
                    InlineKeyboardButton(
                        text=account_label(a.username, a.first_name),
                        callback_data=JoinPick(acc=a.id).pack(),
                    )
                ]
                for a in usable[:20]
            ]
            await message.answer(
                _pick_text(lang, preview), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
            )
            return
    await _queue(message, request, None, dal, user, lang, audience_service, trace_id, source_check)


def _invite_hash(source: str) -> str | None:
    try:
        return parse_source(source).invite
    except InvalidInput:
        return None


def _pick_text(lang: str, preview: InvitePreview | None) -> str:
    if preview is None:  # Telegram could not be asked now: the worker finds out
        return t(lang, "parse.join_pick")
    about = t(lang, "parse.join_chat", title=preview.title, members=preview.members or 0)
    if preview.request_needed:
        about += "\n" + t(lang, "parse.join_approval")
    return about + "\n\n" + t(lang, "parse.join_pick")


async def _queue(
    message: Message,
    request: ParseRequest,
    account_id: int | None,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
    trace_id: str,
    source_check: SourceChecker,
) -> None:
    workspace = await current_workspace(dal, user.id)
    try:
        task = await audience_service.create_task(
            dal,
            user.id,
            workspace.id,
            source=request.source,
            kind=request.kind,
            speed=request.speed,
            priority=request.priority,
            audience=request.audience,
            posts=request.posts,
            days=request.days,
            trace_id=trace_id,
            check_source=source_check,
            account_id=account_id,
            check_invite=source_check.check_invite,
        )
    except InvalidInput as exc:
        await message.answer(t(lang, "parse.invalid", problem=problem_text(lang, exc)))
        return
    await send_task_message(message, task, dal, user, lang, audience_service)


async def on_join_pick(
    query: CallbackQuery,
    callback_data: JoinPick,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
    trace_id: str,
    source_check: SourceChecker,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    args = data.get(_PENDING)
    message = query.message
    request = read_parse_args(args) if isinstance(args, str) else None
    if request is None or not isinstance(message, Message):
        await query.answer(t(lang, "parse.join_gone"), show_alert=True)
        return
    await state.update_data({_PENDING: None})
    workspace = await current_workspace(dal, user.id)
    chosen = next(
        (
            a
            for a in await dal.list_accounts(workspace.id, after_id=0, limit=100)
            if a.id == callback_data.acc
        ),
        None,
    )
    who = account_label(chosen.username, chosen.first_name) if chosen is not None else "-"
    await message.edit_text((message.text or "") + "\n" + t(lang, "parse.join_by", account=who))
    await query.answer()
    await _queue(
        message,
        request,
        callback_data.acc,
        dal,
        user,
        lang,
        audience_service,
        trace_id,
        source_check,
    )


async def send_task_message(
    message: Message,
    task: ParseTaskDTO,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
) -> None:
    """The task's progress message, remembered on the task so that notices can edit it."""
    audience = await audience_service.audience(dal, user.id, task.workspace_id, task.audience_id)
    text, keyboard = render_task(task, audience, lang, datetime.now(UTC))
    sent = await message.answer(text, reply_markup=keyboard)
    await audience_service.track_message(
        dal, user.id, task.workspace_id, task.id, sent.chat.id, sent.message_id
    )


async def _control(
    audience_service: AudienceService,
    dal: SqlDal,
    user: UserDTO,
    action: str,
    workspace_id: int,
    task_id: int,
) -> ParseTaskDTO:
    if action not in CONTROLS:
        raise NotFound("action", action=action)
    move = getattr(audience_service, action)
    return await move(dal, user.id, workspace_id, task_id)


async def _refused(
    query: CallbackQuery, lang: str, exc: Exception, task: ParseTaskDTO | None = None
) -> None:
    if isinstance(exc, Forbidden):
        text = t(lang, "error.forbidden")
    elif isinstance(exc, InvalidInput) and task is not None:
        text = t(lang, "task.cannot", status=t(lang, f"task.state.{task.status}"))
    else:
        text = t(lang, "error.not_found")
    await query.answer(text, show_alert=True)


async def on_task_action(
    query: CallbackQuery,
    callback_data: TaskAction,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
) -> None:
    workspace_id, task_id = callback_data.ws, callback_data.id
    try:
        task = await _control(
            audience_service, dal, user, callback_data.action, workspace_id, task_id
        )
    except InvalidInput as exc:
        current = await audience_service.task(dal, user.id, workspace_id, task_id)
        await _refused(query, lang, exc, current)
        await _redraw(query, current, dal, user, lang, audience_service)
        return
    except (NotFound, Forbidden) as exc:
        await _refused(query, lang, exc)
        return
    await _redraw(query, task, dal, user, lang, audience_service)
    await query.answer(t(lang, f"task.{_DONE[callback_data.action]}"))


_DONE = {"pause": "paused_done", "resume": "resumed_done", "cancel": "cancelled_done"}


async def _redraw(
    query: CallbackQuery,
    task: ParseTaskDTO,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
) -> None:
    audience = await audience_service.audience(dal, user.id, task.workspace_id, task.audience_id)
    text, keyboard = render_task(task, audience, lang, datetime.now(UTC))
    await show_in_place(query, text, keyboard)


# --- /tasks --------------------------------------------------------------------------------
async def cmd_tasks(
    message: Message, dal: SqlDal, user: UserDTO, lang: str, audience_service: AudienceService
) -> None:
    workspace = await current_workspace(dal, user.id)
    page = await audience_service.tasks(dal, user.id, workspace.id, limit=TASKS_PAGE)
    text, keyboard = render_tasks(page, workspace_id=workspace.id, at=0, lang=lang)
    await message.answer(text, reply_markup=keyboard)


async def on_list_action(
    query: CallbackQuery,
    callback_data: TaskListAction,
    bot: Bot,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
) -> None:
    workspace_id, action = callback_data.ws, callback_data.action
    at = callback_data.id if action == "page" else callback_data.at
    notice: str | None = None
    try:
        if action != "page":
            task = await _control(
                audience_service, dal, user, action, workspace_id, callback_data.id
            )
            notice = t(lang, f"task.{_DONE[action]}")
            if task.notify_message_id != _message_id(query):
                # The task's own progress message shows the new state too.
                audience = await audience_service.audience(
                    dal, user.id, workspace_id, task.audience_id
                )
                await show_task(bot, task, audience, lang)
        page = await audience_service.tasks(
            dal, user.id, workspace_id, cursor=at or None, limit=TASKS_PAGE
        )
    except InvalidInput as exc:
        current = await audience_service.task(dal, user.id, workspace_id, callback_data.id)
        await _refused(query, lang, exc, current)
        return
    except (NotFound, Forbidden) as exc:
        await _refused(query, lang, exc)
        return
    text, keyboard = render_tasks(page, workspace_id=workspace_id, at=at, lang=lang)
    await show_in_place(query, text, keyboard)
    await query.answer(notice)


def _message_id(query: CallbackQuery) -> int | None:
    return query.message.message_id if query.message is not None else None


def create_router() -> Router:
    router = Router(name=__name__)
    private = F.chat.type == "private"
    router.message.register(cmd_parse, Command("parse"), private)
    router.message.register(cmd_tasks, Command("tasks"), private)
    router.message.register(private_only, Command("parse", "tasks"))
    router.callback_query.register(on_task_action, TaskAction.filter(F.action.in_(CONTROLS)))
    router.callback_query.register(on_join_pick, JoinPick.filter())
    router.callback_query.register(
        on_list_action, TaskListAction.filter(F.action.in_((*CONTROLS, "page")))
    )
    return router
