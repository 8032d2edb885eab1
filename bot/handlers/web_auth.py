"""/web_auth: a one-time code for the web panel (the rules are in `core.auth`)."""

from __future__ import annotations

import math

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from core.auth import AuthService
from core.dto import UserDTO
from core.errors import RateLimited
from core.i18n import t
from core.settings import Settings
from db.dal import SqlDal


async def cmd_web_auth(
    message: Message,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    auth: AuthService,
    settings: Settings,
) -> None:
    if not user.username:
        # The panel looks the user up by username: a code without one could never be used.
        await message.answer(t(lang, "web_auth.no_username"))
        return
    try:
        issued = await auth.issue_code(dal, user)
    except RateLimited as exc:
        minutes = max(1, math.ceil(exc.retry_after / 60))
        await message.answer(t(lang, "web_auth.rate_limited", minutes=minutes))
        return
    text = t(
        lang,
        "web_auth.code",
        code=issued.code,
        panel_url=settings.effective_panel_url,
        username=user.username.lower(),
        minutes=issued.ttl_s // 60,
    )
    # Not forwardable: "forward me the message with the code" is the classic phishing ask.
    await message.answer(text, protect_content=True)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_web_auth, Command("web_auth"))
    return router
