"""/web_auth through the real Dispatcher: issuing, the reply's shape, storage, limits."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable

import pytest
from aiogram import Dispatcher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.auth import AuthService
from core.dto import ClientInfo
from core.errors import InvalidCode
from core.i18n import t
from core.logincodes import CODE_ALPHABET
from core.settings import Settings
from db.dal import open_dal
from db.models import LoginCode, User
from tests.bot.conftest import TgUser

# A "token" is a maximal run of Latin letters and digits; underscores and punctuation split.
TOKEN_RE = re.compile(r"[A-Za-z0-9]+")
CLIENT = ClientInfo(ip="127.0.0.1", user_agent="pytest")


def code_tokens(text: str) -> list[str]:
    return [
        tok for tok in TOKEN_RE.findall(text) if len(tok) == 6 and set(tok) <= set(CODE_ALPHABET)
    ]


def the_code(text: str) -> str:
    tokens = code_tokens(text)
    assert len(tokens) == 1, text
    return tokens[0]


@pytest.mark.parametrize("language_code", ["en", "ru"])
async def test_code_issued_and_stored_only_as_hmac(
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    language_code: str,
) -> None:
    alice = make_user(
        2001, username="Alice_Wonder", first_name="Alice", language_code=language_code
    )
    await alice.send("/start")

    reply = await alice.reply_to("/web_auth")

    code = the_code(reply)
    assert reply == t(
        language_code,
        "web_auth.code",
        code=code,
        panel_url=settings.effective_panel_url,
        username="alice_wonder",
        minutes=5,
    )
    (sent,) = [c for c in alice.recording.requests if getattr(c, "text", None) == reply]
    assert sent.protect_content is True
    async with sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == 2001))
        assert user is not None
        rows = (await session.scalars(select(LoginCode))).all()
    assert len(rows) == 1 and rows[0].user_id == user.id
    stored = bytes(rows[0].code_hash)
    assert code.encode() not in stored and len(stored) == 32
    pepper = settings.code_pepper.get_secret_value().encode()
    assert stored == hmac.new(pepper, f"2001:{code}".encode(), hashlib.sha256).digest()


@pytest.mark.parametrize("language_code", ["en", "ru"])
async def test_fourth_code_within_15_minutes_is_refused(
    make_user: Callable[..., TgUser], language_code: str
) -> None:
    bob = make_user(2002, username="bob_builder", language_code=language_code)
    codes = [the_code(await bob.reply_to("/web_auth")) for _ in range(3)]
    assert len(set(codes)) == 3

    reply = await bob.reply_to("/web_auth")

    assert reply == t(language_code, "web_auth.rate_limited", minutes=15)
    assert code_tokens(reply) == []


async def test_no_username_no_code(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    carol = make_user(2003, username=None, language_code="ru")
    reply = await carol.reply_to("/web_auth")
    assert reply == t("ru", "web_auth.no_username")
    assert code_tokens(reply) == []
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(LoginCode)) == 0


async def test_new_code_replaces_the_old_one(
    make_user: Callable[..., TgUser],
    dispatcher: Dispatcher,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    dave = make_user(2004, username="DaveX", language_code="en")
    old = the_code(await dave.reply_to("/web_auth"))
    new = the_code(await dave.reply_to("/web_auth"))
    assert old != new
    auth: AuthService = dispatcher["auth"]

    async with open_dal(sessionmaker) as dal:
        with pytest.raises(InvalidCode):
            await auth.verify(dal, "@davex", old, CLIENT)
    async with open_dal(sessionmaker) as dal:
        pair = await auth.verify(dal, "DAVEX", new.lower(), CLIENT)
    async with open_dal(sessionmaker) as dal:
        claims = await auth.authenticate(pair.access_token, dal)
    async with sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == 2004))
    assert user is not None and claims.user_id == user.id
