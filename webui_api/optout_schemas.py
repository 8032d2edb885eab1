"""Request and response bodies of `/api/v1/opt-outs`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from webui_api.schemas import Body


class OptOutAdd(Body):
    """One of `user_id` and `username`."""

    user_id: int | None = Field(
        default=None, ge=1, lt=2**52, description="Telegram id of the person"
    )
    username: str | None = Field(
        default=None,
        min_length=1,
        max_length=33,
        description="Telegram username, `@` optional: only one that an audience of the workspace has "
        "(a username alone is never looked up in Telegram)",
    )


class OptOutOut(BaseModel):
    user_id: int
    username: str | None = Field(description="As an audience of the workspace knows them, if any")
    reason: str | None = Field(description="owner (added by hand) or import")
    created_at: datetime


class OptOutAdded(BaseModel):
    user_id: int
    added: bool = Field(description="False when the person was already on the list")


class OptOutList(BaseModel):
    items: list[OptOutOut]
    total: int = Field(description="People on the workspace's list")
    next_cursor: str | None


class OptOutImportError(BaseModel):
    line: int
    value: str
    problem: str = Field(
        description="bad_person (not an id or a @username) or unknown_username "
        "(no audience of the workspace has it)"
    )


class OptOutImportOut(BaseModel):
    lines: int = Field(description="Data lines read")
    accepted: int = Field(description="Distinct people named by good lines")
    added: int = Field(description="Of those, people not on the list before")
    errors: list[OptOutImportError]
