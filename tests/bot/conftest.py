"""Bot tests: the real Dispatcher from `build_dispatcher`, the real Bot, a recording session.

Updates go in through `dp.feed_update`; every Bot API call the handlers make is recorded
(and answered with a plausible result), so tests assert on what the bot sent and on rows.
"""

from __future__ import annotations

import datetime
import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    DeleteMessage,
    EditMessageText,
    GetFile,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import CallbackQuery, Chat, Document, Message, MessageEntity, Update, User
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import build_dispatcher
from bot.linking import PendingLogins
from core.accounts import AccountService, build_account_service
from core.i18n import t
from core.settings import SANDBOX_BOT_TOKEN, Settings
from db.kv import RedisNotifier
from db.sender_cache import SenderCache
from gateway.telegram import TelegramGateway
from sandbox.world import InProcessClientFactory, World

BOT_ID = 4242
BOT_USERNAME = "tg_inviter_test_bot"


class RecordingSession(BaseSession):
    """Records every request; answers from a FIFO of queued replies, else with a default."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self._queued: list[tuple[type, Callable[[Any], bool], int, dict[str, Any]]] = []
        self._message_ids = itertools.count(1000)
        # Files users "uploaded": file id -> bytes, served by getFile and the download URL.
        self.files: dict[str, bytes] = {}

    def queue(
        self,
        method_cls: type,
        status: int = 200,
        match: Callable[[Any], bool] = lambda _: True,
        **body: Any,
    ) -> None:
        self._queued.append((method_cls, match, status, body))

    def _take(self, method: TelegramMethod[Any]) -> tuple[int, dict[str, Any]] | None:
        for i, (cls, match, status, body) in enumerate(self._queued):
            if isinstance(method, cls) and match(method):
                del self._queued[i]
                return status, body
        return None

    def _default(self, method: TelegramMethod[Any]) -> dict[str, Any]:
        if isinstance(method, GetMe):
            result: Any = {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Bot",
                "username": BOT_USERNAME,
            }
        elif isinstance(method, (SendMessage, EditMessageText)):
            message_id = (
                method.message_id
                if isinstance(method, EditMessageText) and method.message_id
                else next(self._message_ids)
            )
            result = {
                "message_id": message_id,
                "date": 0,
                "text": method.text,
                "chat": {"id": method.chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"},
            }
        elif isinstance(method, SendPhoto):
            result = {
                "message_id": next(self._message_ids),
                "date": 0,
                "caption": method.caption,
                "photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}],
                "chat": {"id": method.chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"},
            }
        elif isinstance(method, SendDocument):
            name = getattr(method.document, "filename", None) or "file"
            result = {
                "message_id": next(self._message_ids),
                "date": 0,
                "caption": method.caption,
                "document": {"file_id": f"sent-{name}", "file_unique_id": name, "file_name": name},
                "chat": {"id": method.chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"},
            }
        elif isinstance(method, GetFile):
            result = {
                "file_id": method.file_id,
                "file_unique_id": method.file_id,
                "file_size": len(self.files.get(method.file_id, b"")),
                "file_path": f"documents/{method.file_id}",
            }
        else:
            result = True
        return {"ok": True, "result": result}

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        self.requests.append(method)
        hit = self._take(method)
        status, body = hit or (200, self._default(method))
        response = self.check_response(
            bot=bot, method=method, status_code=status, content=json.dumps(body)
        )
        return response.result

    async def close(self) -> None:
        pass

    async def stream_content(self, url: str, *args: Any, **kwargs: Any) -> AsyncIterator[bytes]:  # type: ignore[override]
        yield self.files.get(url.rsplit("/", 1)[-1], b"")

    def sent(self, method_cls: type = SendMessage) -> list[Any]:
        return [r for r in self.requests if isinstance(r, method_cls)]


@pytest.fixture
def recording() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def bot(recording: RecordingSession) -> Bot:
    return Bot(SANDBOX_BOT_TOKEN, session=recording, default=DefaultBotProperties(parse_mode=None))


@pytest.fixture
def world() -> World:
    """An empty simulated Telegram in this process; tests add the users they need."""
    return World()


@pytest.fixture
def gateway(world: World) -> TelegramGateway:
    return TelegramGateway(InProcessClientFactory(world))


@pytest.fixture
def accounts(settings: Settings, redis: Redis) -> AccountService:
    return build_account_service(settings, RedisNotifier(redis))


@pytest.fixture
async def logins(
    gateway: TelegramGateway,
    accounts: AccountService,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[PendingLogins]:
    pending = PendingLogins(gateway, accounts, sessionmaker)
    yield pending
    await pending.close()


@pytest.fixture
async def senders(engine: AsyncEngine) -> AsyncIterator[SenderCache]:
    """The bot's sender cache, listening (as `python -m bot` runs it)."""
    cache = SenderCache(engine)
    await cache.start()
    await cache.wait_listening()
    yield cache
    await cache.close()


@pytest.fixture
def dispatcher(
    request: pytest.FixtureRequest,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    gateway: TelegramGateway,
    accounts: AccountService,
    logins: PendingLogins,
    senders: SenderCache,
) -> Dispatcher:
    # A test module that needs installation admins names them in `BOT_ADMINS`.
    admins = list(getattr(request.module, "BOT_ADMINS", ()))
    return build_dispatcher(
        settings=settings.model_copy(update={"admin_telegram_ids": admins}) if admins else settings,
        sessionmaker=sessionmaker,
        redis=redis,
        gateway=gateway,
        accounts=accounts,
        logins=logins,
        senders=senders,
    )


_update_ids = itertools.count(1)


class TgUser:
    """A Telegram user in a private chat with the bot, as the updates describe them."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        recording: RecordingSession,
        telegram_id: int,
        *,
        username: str | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> None:
        self.dp, self.bot, self.recording = dp, bot, recording
        self.telegram_id = telegram_id
        self.username = username
        self.first_name = first_name
        self.last_name = last_name
        self.language_code = language_code
        self._message_ids = itertools.count(1)

    @property
    def tg(self) -> User:
        return User(
            id=self.telegram_id,
            is_bot=False,
            first_name=self.first_name,
            last_name=self.last_name,
            username=self.username,
            language_code=self.language_code,
        )

    @property
    def chat(self) -> Chat:
        return Chat(id=self.telegram_id, type="private", first_name=self.first_name)

    async def _feed(self, update: Update) -> list[TelegramMethod[Any]]:
        senders: SenderCache | None = self.dp.workflow_data.get("senders")
        if senders is not None:
            # An update from Telegram reaches the bot after PostgreSQL announced the commits
            # made before it was sent (a block, a role, a language written by a test or by the
            # previous update): here the update is handed over in the same instant.
            await senders.settled()
        before = len(self.recording.requests)
        await self.dp.feed_update(self.bot, update)
        return self.recording.requests[before:]

    async def send_in_group(self, text: str, group_id: int = -100_777) -> list[TelegramMethod[Any]]:
        """Send a text message in a group the bot is in."""
        return await self.send(text, chat=Chat(id=group_id, type="supergroup", title="Some group"))

    async def send(self, text: str, *, chat: Chat | None = None) -> list[TelegramMethod[Any]]:
        """Send a text message; returns the Bot API calls the bot made while handling it."""
        entities = None
        if text.startswith("/"):
            length = len(text.split()[0])
            entities = [MessageEntity(type="bot_command", offset=0, length=length)]
        message = Message(
            message_id=next(self._message_ids),
            date=datetime.datetime.now(datetime.UTC),
            chat=chat or self.chat,
            from_user=self.tg,
            text=text,
            entities=entities,
        )
        return await self._feed(Update(update_id=next(_update_ids), message=message))

    async def send_document(self, file_name: str, data: bytes) -> list[TelegramMethod[Any]]:
        """Send a file as a document; the bot can download it through getFile."""
        file_id = f"doc{next(self._message_ids)}-{self.telegram_id}"
        self.recording.files[file_id] = data
        message = Message(
            message_id=next(self._message_ids),
            date=datetime.datetime.now(datetime.UTC),
            chat=self.chat,
            from_user=self.tg,
            document=Document(
                file_id=file_id,
                file_unique_id=file_id,
                file_name=file_name,
                mime_type="text/csv",
                file_size=len(data),
            ),
        )
        return await self._feed(Update(update_id=next(_update_ids), message=message))

    async def press(
        self, message: SendMessage | SendPhoto, data: str, *, message_id: int = 900
    ) -> list[TelegramMethod[Any]]:
        """Press an inline button with `data` under a message the bot sent earlier."""
        bot_message = Message(
            message_id=message_id,
            date=datetime.datetime.now(datetime.UTC),
            chat=self.chat,
            from_user=User(id=BOT_ID, is_bot=True, first_name="Bot"),
            text=message.text if isinstance(message, SendMessage) else None,
            caption=message.caption if isinstance(message, SendPhoto) else None,
            reply_markup=message.reply_markup,
        )
        query = CallbackQuery(
            id=str(next(_update_ids)),
            from_user=self.tg,
            chat_instance="ci",
            message=bot_message,
            data=data,
        )
        return await self._feed(Update(update_id=next(_update_ids), callback_query=query))

    async def reply_to(self, text: str) -> str:
        """Send `text` and return the text of the bot's only reply."""
        calls = await self.send(text)
        replies = [c for c in calls if isinstance(c, SendMessage)]
        assert len(replies) == 1, calls
        return replies[0].text


@pytest.fixture
def make_user(
    dispatcher: Dispatcher, bot: Bot, recording: RecordingSession
) -> Callable[..., TgUser]:
    def make(telegram_id: int, **kwargs: Any) -> TgUser:
        return TgUser(dispatcher, bot, recording, telegram_id, **kwargs)

    return make


def only_the_hint(calls: list[TelegramMethod[Any]], lang: str) -> bool:
    """The bot's whole answer was the fallback's hint: the message was taken as no flow's
    answer (no question repeated, nothing deleted, edited or sent besides)."""
    said = [
        (type(c).__name__, getattr(c, "text", None))
        for c in calls
        if isinstance(c, (SendMessage, DeleteMessage, EditMessageText, SendDocument))
    ]
    return said == [("SendMessage", t(lang, "outside_flow"))]
