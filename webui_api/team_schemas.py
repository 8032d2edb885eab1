"""Request and response bodies of `/api/v1/workspace/members`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from webui_api.schemas import Body


class MemberAdd(Body):
    username: str = Field(
        min_length=1,
        max_length=64,
        description="Telegram username, `@` optional; the person must have sent /start to the bot",
    )


class TeamMemberOut(BaseModel):
    user_id: int
    username: str | None
    first_name: str
    role: Literal["owner", "manager"]


class TeamMemberList(BaseModel):
    """The whole team, the owner first (at most `core.teams.MAX_TEAM` people: one page)."""

    items: list[TeamMemberOut]
    next_cursor: str | None = Field(default=None, description="Always null: a team fits one page")
