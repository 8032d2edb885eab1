"""Linking from the bot while Telegram cannot be reached: the login ends with a sentence.

The rule is the shared login's (`gateway/pending_login.py`), also tested for the panel in
tests/api/test_panel_linking.py. Here the bot's logins use real Telethon clients pointed at
a loopback port where nothing listens.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import SendPhoto

from bot.linking import PendingLogins
from core.i18n import t
from gateway.telegram import TelegramGateway
from sandbox.world import SandboxClientFactory
from tests.bot.conftest import TgUser


@pytest.fixture
def gateway(free_port: int) -> TelegramGateway:
    return TelegramGateway(SandboxClientFactory(f"http://127.0.0.1:{free_port}"))


async def test_telegram_out_of_reach_ends_a_login_with_a_sentence(
    make_user: Callable[..., TgUser], logins: PendingLogins, dispatcher: Dispatcher, bot: Bot
) -> None:
    ann = make_user(5040, language_code="ru")

    calls = await ann.send("/link")

    assert not [c for c in calls if isinstance(c, SendPhoto)]  # no code to show
    assert [c.text for c in ann.recording.sent() if c.chat_id == 5040] == [
        t("ru", "linking.no_connection")
    ]
    assert logins.stage(5040) is None

    # A phone login asks for the number (nothing reaches Telegram yet), then ends the same way.
    assert await ann.reply_to("/link_phone") == t("ru", "linking.phone_ask")
    assert await ann.reply_to("+10000000100") == t("ru", "linking.no_connection")
    assert logins.stage(5040) is None
    key = StorageKey(bot_id=bot.id, chat_id=5040, user_id=5040)
    assert await dispatcher.storage.get_state(key) is None
