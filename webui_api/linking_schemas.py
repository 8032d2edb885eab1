"""Request and response bodies of `/api/v1/account-logins` (linking an account in the panel)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from webui_api.schemas import AccountOut, Body

LoginStateName = Literal["waiting", "phone", "code", "password", "linked", "expired", "failed"]


class LoginStart(Body):
    method: Literal["qr", "phone"] = Field(
        description="`qr`: scan a QR code with Telegram on a phone; `phone`: a login code "
        "sent by Telegram (then the password when the account has two-step verification)"
    )


class PhoneIn(Body):
    phone: str = Field(
        min_length=1,
        max_length=32,
        description="International format: + and 7 to 15 digits (spaces, dashes, dots, "
        "brackets allowed)",
    )


class CodeIn(Body):
    code: str = Field(
        min_length=1,
        max_length=32,
        description="The digits Telegram sent (spaces and dashes allowed)",
    )


class PasswordIn(BaseModel):
    # Not `Body`: a password is taken as typed, spaces at either end included.
    model_config = ConfigDict(extra="forbid")

    password: SecretStr = Field(
        min_length=1,
        max_length=256,
        description="The account's two-step verification password: checked by Telegram "
        "(SRP), never stored, logged or sent back",
    )


class QrOut(BaseModel):
    url: str = Field(description="The `tg://login?token=…` URL the QR code encodes")
    svg: str = Field(description="The QR code as an SVG document")
    expires_at: datetime = Field(
        description="When Telegram lets this code expire; the API replaces it a few "
        "seconds before (poll the login for the new one)"
    )


class LoginProblem(BaseModel):
    code: str = Field(
        description="Why: `password_wrong`, `code_wrong`, `phone_invalid`, `phone_rejected`, "
        "`code_invalid` (the login stays at its step); or why it ended: `password_aborted`, "
        "`code_aborted`, `code_expired`, `flood_wait`, `flood_wait_hours`, `phone_banned`, "
        "`phone_flood`, `password_flood`, `phone_not_registered`, `email_setup_required`, "
        "`store_failed`, `no_connection`, `expired`, `failed`"
    )
    message: str = Field(description="A sentence for the person, in the caller's language")


class LoginOut(BaseModel):
    id: str = Field(description="The login's id; only the user who started it can use it")
    method: Literal["qr", "phone"]
    state: LoginStateName = Field(
        description="`waiting` for the QR scan, `phone`/`code`/`password` waiting for that "
        "answer; ended: `linked`, `expired`, `failed`"
    )
    message: str = Field(description="What to do now, or how the login ended, as a sentence")
    problem: LoginProblem | None = Field(
        description="The last answer's refusal (the login stays at its step), or why it failed"
    )
    tries_left: int | None = Field(description="Wrong codes or passwords still allowed")
    expires_at: datetime = Field(description="When the login ends unless finished")
    qr: QrOut | None = Field(description="While `waiting`: the QR code to show")
    code_via: Literal["app", "sms", "call", "email", "other"] | None = Field(
        description="While `code`: where Telegram sent the code"
    )
    account: AccountOut | None = Field(description="Once `linked`: the account")
    created: bool | None = Field(
        description="Once `linked`: false when the account was linked already (its session "
        "was replaced)"
    )
