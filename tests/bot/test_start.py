"""/start, /help, /lang and the fallback, through the real Dispatcher and real PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands import COMMANDS
from core.i18n import t
from db.models import Membership, User, Workspace
from tests.bot.conftest import TgUser, only_the_hint

DESIGN_COMMANDS = (
    "/start /help /lang /web_auth /accounts /link /link_phone /parse /search /tasks "
    "/audiences /campaign_new /campaigns /team /erase /optouts /admin /optout /optin"
).split()


async def _user_row(sm: async_sessionmaker[AsyncSession], telegram_id: int) -> User | None:
    async with sm() as session:
        return await session.scalar(select(User).where(User.telegram_id == telegram_id))


async def test_start_registers_user_with_personal_workspace(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    alice = make_user(1001, username="Alice", first_name="Alice", language_code="en")

    reply = await alice.reply_to("/start")

    assert reply == t("en", "start.new", name="Alice")
    async with sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == 1001))
        assert user is not None and user.username == "Alice" and user.language == "en"
        workspaces = (
            await session.scalars(select(Workspace).where(Workspace.owner_id == user.id))
        ).all()
        assert [(w.personal, w.owner_id) for w in workspaces] == [(True, user.id)]
        memberships = (
            await session.scalars(select(Membership).where(Membership.user_id == user.id))
        ).all()
        assert [(m.workspace_id, m.role.value) for m in memberships] == [
            (workspaces[0].id, "owner")
        ]


async def test_greeting_in_russian_for_russian_clients(make_user: Callable[..., TgUser]) -> None:
    ivan = make_user(1002, first_name="Иван", language_code="ru")
    assert await ivan.reply_to("/start") == t("ru", "start.new", name="Иван")
    other = make_user(1003, first_name="Jo", language_code="de")
    assert await other.reply_to("/start") == t("en", "start.new", name="Jo")
    nolang = make_user(1004, first_name="No", language_code=None)
    assert await nolang.reply_to("/start") == t("en", "start.new", name="No")


async def test_second_start_says_again_and_does_not_duplicate(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bob = make_user(1005, first_name="Bob", language_code="ru")
    await bob.send("/start")
    assert await bob.reply_to("/start") == t("ru", "start.again", name="Bob")
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
        assert await session.scalar(select(func.count()).select_from(Workspace)) == 1
        assert await session.scalar(select(func.count()).select_from(Membership)) == 1


async def test_lang_button_switches_language_for_good(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    carol = make_user(1006, first_name="Carol", language_code="en")
    await carol.send("/start")
    (menu,) = [c for c in await carol.send("/lang") if isinstance(c, SendMessage)]
    assert menu.text == t("en", "lang.choose")
    buttons = [(b.text, b.callback_data) for row in menu.reply_markup.inline_keyboard for b in row]
    assert buttons == [("Русский", "lang:ru"), ("English", "lang:en")]

    calls = await carol.press(menu, "lang:ru")

    edits = [c for c in calls if isinstance(c, EditMessageText)]
    assert [e.text for e in edits] == [t("ru", "lang.set")]
    assert edits[0].reply_markup is None  # the keyboard goes away
    assert any(isinstance(c, AnswerCallbackQuery) for c in calls)
    row = await _user_row(sessionmaker, 1006)
    assert row is not None and row.language == "ru" and row.language_explicit
    # The client still says "en"; the explicit choice wins, also after re-registration.
    assert await carol.reply_to("/help") == t("ru", "help")
    assert await carol.reply_to("/start") == t("ru", "start.again", name="Carol")

    calls = await carol.press(menu, "lang:en")
    assert [c.text for c in calls if isinstance(c, EditMessageText)] == [t("en", "lang.set")]
    assert await carol.reply_to("/help") == t("en", "help")


async def test_unsupported_language_button_changes_nothing(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    dan = make_user(1007, first_name="Dan", language_code="en")
    (menu,) = [c for c in await dan.send("/lang") if isinstance(c, SendMessage)]
    calls = await dan.press(menu, "lang:de")
    assert not [c for c in calls if isinstance(c, EditMessageText)]
    assert [type(c) for c in calls] == [AnswerCallbackQuery]
    row = await _user_row(sessionmaker, 1007)
    assert row is not None and row.language == "en" and not row.language_explicit


async def test_help_lists_every_public_command(make_user: Callable[..., TgUser]) -> None:
    for language_code, lang in (("en", "en"), ("ru", "ru")):
        user = make_user(1010 + len(lang) * 10 + (lang == "ru"), language_code=language_code)
        reply = await user.reply_to("/help")
        assert reply == t(lang, "help")
        listed = re.findall(r"^(/[a-z_]+)", reply, flags=re.MULTILINE)
        assert listed == DESIGN_COMMANDS
    assert ["/" + c for c in COMMANDS] == DESIGN_COMMANDS


async def test_unknown_and_not_yet_available_commands(make_user: Callable[..., TgUser]) -> None:
    erin = make_user(1020, language_code="ru")
    assert await erin.reply_to("/frobnicate") == t("ru", "unknown_command")
    # /admin exists only for admins: to everyone else it is as unknown as any other command.
    assert await erin.reply_to("/admin") == t("ru", "unknown_command")
    # In a private chat, text and a command for another bot get the hint of what works.
    for text in ("hello", "/start@some_other_bot"):
        assert only_the_hint(await erin.send(text), "ru"), text
    # In a group, other people's talk and other bots' commands are not for the bot.
    for text in ("hello", "/start@some_other_bot"):
        assert [c for c in await erin.send_in_group(text) if isinstance(c, SendMessage)] == [], text


async def test_blocked_user_is_told_once_and_nothing_else_runs(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    mallory = make_user(1030, username="mallory", language_code="ru")
    await mallory.send("/start")
    async with sessionmaker() as session:
        await session.execute(update(User).where(User.telegram_id == 1030).values(blocked=True))
        await session.commit()

    calls = await mallory.send("/web_auth")

    assert [(type(c), c.text) for c in calls] == [(SendMessage, t("ru", "blocked"))]


async def test_failing_handler_apologises_with_trace_id(make_user: Callable[..., TgUser]) -> None:
    frank = make_user(1040, language_code="ru")
    await frank.send("/start")
    frank.recording.queue(
        SendMessage,
        400,
        match=lambda m: m.text == t("ru", "help"),
        ok=False,
        error_code=400,
        description="Bad Request: something broke",
    )

    calls = await frank.send("/help")

    texts = [c.text for c in calls if isinstance(c, SendMessage)]
    assert texts[0] == t("ru", "help")  # the attempt that failed
    apology = re.fullmatch(
        t("ru", "bot.error", trace_id="([0-9a-f]{16})").replace(".", r"\."), texts[1]
    )
    assert apology is not None, texts
