"""/search <keywords>: communities worth collecting from, each with a one-tap collect button.

The search runs as one of the user's linked accounts (`gateway.community`); a pressed
button queues the same task /parse would (members of a group, commenters of a channel)
and answers with that task's progress message.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands import private_only
from bot.handlers.parsing import send_task_message
from bot.parse_command import problem_text
from bot.parsing_view import SearchParse, render_search
from core.accounts import AccountService
from core.audiences import AudienceService
from core.dto import UserDTO
from core.errors import Busy, InvalidInput, NoAccounts, NotFound
from core.i18n import t
from core.parsing import ParseKind
from core.search import MAX_QUERY, MIN_WORD, keyword_variants
from core.settings import Settings
from core.users import current_workspace
from db.dal import SqlDal
from db.leases import LeaseStore
from gateway.community import search_communities
from gateway.telegram import TelegramGateway

_KINDS = {kind.value[0]: kind for kind in (ParseKind.MEMBERS, ParseKind.COMMENTS)}


async def cmd_search(
    message: Message,
    command: CommandObject,
    bot: Bot,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    accounts: AccountService,
    gateway: TelegramGateway,
    leases: LeaseStore,
) -> None:
    keywords = " ".join((command.args or "").split())
    if not keywords:
        await message.answer(t(lang, "search.usage"))
        return
    try:
        keyword_variants(keywords)
    except InvalidInput:
        await message.answer(t(lang, "search.bad_keywords", min=MIN_WORD, max=MAX_QUERY))
        return
    workspace = await current_workspace(dal, user.id)
    await dal.rollback()  # the search takes a while: no transaction stays open meanwhile
    await bot.send_chat_action(message.chat.id, ChatAction.TYPING)
    try:
        found = await search_communities(
            keywords=keywords,
            user_id=user.id,
            workspace_id=workspace.id,
            sessionmaker=sessionmaker,
            service=accounts,
            gateway=gateway,
            leases=leases,
            flood_buffer_s=settings.flood_buffer_s,
        )
    except NoAccounts:
        await message.answer(t(lang, "search.no_accounts"))
        return
    except Busy:
        await message.answer(t(lang, "search.busy"))
        return
    text, keyboard = render_search(found, keywords, workspace_id=workspace.id, lang=lang)
    await message.answer(text, reply_markup=keyboard)


async def on_parse(
    query: CallbackQuery,
    callback_data: SearchParse,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    audience_service: AudienceService,
    trace_id: str,
) -> None:
    kind = _KINDS.get(callback_data.k)
    if kind is None or not isinstance(query.message, Message):
        await query.answer()
        return
    try:
        task = await audience_service.create_task(
            dal,
            user.id,
            callback_data.ws,
            source=f"@{callback_data.u}",
            kind=kind.value,
            trace_id=trace_id,
        )
    except NotFound:
        await query.answer(t(lang, "error.not_found"), show_alert=True)
        return
    except InvalidInput as exc:
        await query.answer(
            t(lang, "parse.invalid", problem=problem_text(lang, exc)), show_alert=True
        )
        return
    await send_task_message(query.message, task, dal, user, lang, audience_service)
    await query.answer(t(lang, "search.created", id=task.id))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_search, Command("search"), F.chat.type == "private")
    router.message.register(private_only, Command("search"))
    router.callback_query.register(on_parse, SearchParse.filter())
    return router
