"""Request and response bodies of the API. The OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class VerifyRequest(Body):
    username: str = Field(min_length=1, max_length=64, description="Telegram username, `@` optional")
    code: str = Field(min_length=1, max_length=32, description="The code from the bot's /web_auth")


class RefreshRequest(Body):
    refresh_token: str | None = Field(
        default=None, min_length=20, max_length=128,
        description="Omit to use the HttpOnly refresh cookie",
    )


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class OkResponse(BaseModel):
    ok: bool = True


class WorkspaceOut(BaseModel):
    id: int
    name: str
    role: Literal["owner", "manager"]
    personal: bool


class MeResponse(BaseModel):
    id: int
    telegram_id: int
    username: str | None
    first_name: str
    last_name: str | None
    language: str
    role: Literal["user", "admin"]
    workspaces: list[WorkspaceOut]


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadyResponse(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


class ErrorDetail(BaseModel):
    code: str
    message: str
    trace_id: str | None
    details: dict[str, Any]


class ErrorResponse(BaseModel):
    error: ErrorDetail


class AccountOut(BaseModel):
    id: int
    username: str | None
    first_name: str
    phone: str | None = Field(description="Masked: +7******67")
    status: Literal["active", "cooldown", "parked", "unauthorized", "banned", "disabled"]
    status_reason: str | None
    cooldown_until: datetime | None
    usage_today: int = Field(description="Invites sent by this account today (UTC day)")


class AccountList(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None


class UnlinkResponse(BaseModel):
    ok: bool = True
    logged_out: bool = Field(description="Telegram confirmed the session's log-out")
