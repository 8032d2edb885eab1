"""How /team and /team_remove look in the chat: the team with its roles, the buttons that
switch the bot's workspace, and the buttons that remove a manager (or leave a team)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.lists import Int64, short
from core.dto import WorkspaceRef, WorkspaceRole
from core.i18n import t
from core.teams import Team


class TeamAction(CallbackData, prefix="team"):
    """`team:<action>:<workspace>:<user id or 0>`.

    The presser's membership (and for removals, ownership) is checked again on every press.
    """

    action: str
    """ws (switch to this workspace) | rm (remove this member; oneself: leave)"""
    ws: Int64
    id: Int64


ACTIONS = ("ws", "rm")


def _role(lang: str, role: WorkspaceRole) -> str:
    return t(lang, f"team.role.{role.value}")


def render_team(
    team: Team,
    workspaces: list[WorkspaceRef],
    *,
    user_id: int,
    lang: str,
    notice: str | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The current workspace's team, then the user's workspaces as switch buttons."""
    current = team.workspace
    lines = [notice] if notice else []
    lines.append(t(lang, "team.title", workspace=current.name, role=_role(lang, current.role)))
    lines += [f"• {m.label} — {_role(lang, m.role)}" for m in team.members]
    owner = current.role is WorkspaceRole.OWNER
    lines += ["", t(lang, "team.owner_hint" if owner else "team.manager_hint")]
    builder = InlineKeyboardBuilder()
    if len(workspaces) > 1:
        lines += ["", t(lang, "team.workspaces")]
        for ws in workspaces:
            # Layout, not words: the same in every language.
            text = (
                f"✓ {short(ws.name)}"
                if ws.id == current.id
                else f"{short(ws.name)} ({_role(lang, ws.role)})"
            )
            builder.button(text=text, callback_data=TeamAction(action="ws", ws=ws.id, id=0))
    if not owner:
        builder.button(
            text=t(lang, "team.leave", workspace=short(current.name)),
            callback_data=TeamAction(action="rm", ws=current.id, id=user_id),
        )
    builder.adjust(1)
    keyboard = builder.as_markup() if builder.export() else None
    return "\n".join(lines), keyboard


def render_remove_choice(
    team: Team, *, lang: str, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """/team_remove without a name: one button per manager."""
    head = [notice] if notice else []
    name = team.workspace.name
    if not team.managers:
        return "\n\n".join([*head, t(lang, "team_remove.none", workspace=name)]), None
    builder = InlineKeyboardBuilder()
    for member in team.managers:
        builder.button(
            text=t(lang, "team_remove.button", name=short(member.label)),
            callback_data=TeamAction(action="rm", ws=team.workspace.id, id=member.user_id),
        )
    builder.adjust(1)
    return "\n\n".join([*head, t(lang, "team_remove.choose", workspace=name)]), builder.as_markup()
