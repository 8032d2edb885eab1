"""/team, /team_add and /team_remove: the current workspace's team, switching the bot's
workspace, and the owner adding and removing managers.

Who may do what is `core.teams` (the owner manages the team, a manager may leave); which
workspace the bot works in is `core.users.current_workspace`. Here only the chat side.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.commands import private_only
from bot.parse_command import problem_text
from bot.progress import show_in_place
from bot.team_view import ACTIONS, TeamAction, render_remove_choice, render_team
from core.dto import TeamMember, UserDTO, WorkspaceRef
from core.errors import DomainError, Forbidden, InvalidInput, NotFound
from core.i18n import t
from core.teams import TeamService
from core.users import current_workspace, switch_workspace, workspace_of, workspaces_of
from db.dal import SqlDal

_COMMANDS = ("team", "team_add", "team_remove")


def _refusal(lang: str, exc: DomainError, workspace: WorkspaceRef | None = None) -> str:
    if isinstance(exc, Forbidden):
        return (
            t(lang, "team.not_owner", workspace=workspace.name)
            if workspace
            else t(lang, "error.forbidden")
        )
    if isinstance(exc, InvalidInput):
        return t(lang, "team.failed", problem=problem_text(lang, exc))
    return t(lang, "error.not_found")


async def _team_view(
    teams: TeamService, dal: SqlDal, user: UserDTO, lang: str, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    workspace = await current_workspace(dal, user.id)
    team = await teams.team(dal, user.id, workspace.id)
    return render_team(
        team, await workspaces_of(dal, user.id), user_id=user.id, lang=lang, notice=notice
    )


async def _removed(
    dal: SqlDal, user: UserDTO, lang: str, workspace: WorkspaceRef, member: TeamMember
) -> str:
    """What the remover reads: who went, or (having left) where the bot works now."""
    if member.user_id != user.id:
        return t(lang, "team.removed", name=member.label, workspace=workspace.name)
    now = await current_workspace(dal, user.id)
    return t(lang, "team.left", workspace=workspace.name, current=now.name)


async def cmd_team(
    message: Message, dal: SqlDal, user: UserDTO, lang: str, teams: TeamService
) -> None:
    text, keyboard = await _team_view(teams, dal, user, lang)
    await message.answer(text, reply_markup=keyboard)


async def cmd_team_add(
    message: Message,
    command: CommandObject,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    teams: TeamService,
) -> None:
    workspace = await current_workspace(dal, user.id)
    try:
        member = await teams.add_manager(dal, user.id, workspace.id, command.args or "")
    except (Forbidden, InvalidInput) as exc:
        # The owner sending the bare command is asking how it works.
        usage = isinstance(exc, InvalidInput) and not command.args
        await message.answer(t(lang, "team_add.usage") if usage else _refusal(lang, exc, workspace))
        return
    await message.answer(t(lang, "team.added", name=member.label, workspace=workspace.name))


async def cmd_team_remove(
    message: Message,
    command: CommandObject,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    teams: TeamService,
) -> None:
    workspace = await current_workspace(dal, user.id)
    keyboard = None
    try:
        if command.args:
            member = await teams.remove_by_username(dal, user.id, workspace.id, command.args)
            text = await _removed(dal, user, lang, workspace, member)
        else:
            team = await teams.team_to_manage(dal, user.id, workspace.id)
            text, keyboard = render_remove_choice(team, lang=lang)
    except (Forbidden, InvalidInput, NotFound) as exc:
        text = _refusal(lang, exc, workspace)
    await message.answer(text, reply_markup=keyboard)


async def on_action(
    query: CallbackQuery,
    callback_data: TeamAction,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    teams: TeamService,
) -> None:
    workspace_id, target = callback_data.ws, callback_data.id
    try:
        if callback_data.action == "ws":
            chosen = await switch_workspace(dal, user.id, workspace_id)
            notice = t(lang, "team.switched", workspace=chosen.name)
            text, keyboard = await _team_view(teams, dal, user, lang, notice)
        else:
            workspace = await workspace_of(dal, user.id, workspace_id)
            member = await teams.remove_member(dal, user.id, workspace_id, target)
            notice = await _removed(dal, user, lang, workspace, member)
            if member.user_id == user.id:
                text, keyboard = await _team_view(teams, dal, user, lang, notice)
            else:
                team = await teams.team(dal, user.id, workspace_id)
                text, keyboard = render_remove_choice(team, lang=lang, notice=notice)
    except (Forbidden, InvalidInput, NotFound) as exc:
        await query.answer(_refusal(lang, exc), show_alert=True)
        return
    await show_in_place(query, text, keyboard)
    await query.answer(notice)


def create_router() -> Router:
    router = Router(name=__name__)
    private = F.chat.type == "private"
    router.message.register(cmd_team, Command("team"), private)
    router.message.register(cmd_team_add, Command("team_add"), private)
    router.message.register(cmd_team_remove, Command("team_remove"), private)
    # A team's members are nobody else's business: never listed in a group.
    router.message.register(private_only, Command(*_COMMANDS))
    router.callback_query.register(on_action, TeamAction.filter(F.action.in_(ACTIONS)))
    return router
