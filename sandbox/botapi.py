"""In-memory Telegram Bot API that the real aiogram stack runs against (DESIGN §9).

Tests cannot reach Telegram and a newcomer has no bot token on day one. Rather than mocking
aiogram, the sandbox answers the HTTP calls aiogram's `AiohttpSession` makes, so handlers,
filters, keyboards and uploads run unchanged. Private chats are kept as transcripts that the
control API (`sandbox.control`) drives and reads.

Faithful on purpose, because real bots trip over these: long polling where `offset` confirms
updates and a second poller gets 409; one message-id sequence per chat shared by both
directions; a bot cannot start a conversation; HTML and MarkdownV2 that Telegram would refuse
are refused; callback data over 64 bytes is refused; an edit that changes nothing answers
"message is not modified"; editMessageText without reply_markup drops the inline keyboard.

Webhooks as the Bot API server keeps them (tdlib/telegram-bot-api, Client.cpp and
WebhookActor.cpp): while one is set, getUpdates answers 409; setWebhook ends a waiting long
poll; drop_pending_updates empties the queue. Updates are POSTed, with the secret token
header, only to loopback URLs (accepted over http and on any port, as a local Bot API server
accepts them); a webhook elsewhere is kept but never contacted, so its updates wait, as they
would for an unreachable server.
Left out: groups, inline mode, payments, message entities of stored text, allowed_updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import ipaddress
import itertools
import json
import mimetypes
import re
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
Sender = Literal["bot", "user"]
FileKind = Literal["photo", "document"]

DEFAULT_BOT_ID = 4242
BOT_USERNAME = "tg_inviter_sandbox_bot"
BOT_FIRST_NAME = "tg-inviter (sandbox)"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_POLL_S = 50.0
MAX_UPDATES = 100

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WRONG_FILE = "wrong file identifier/HTTP URL specified"
# tdlib/telegram-bot-api Client.cpp process_get_updates_query and abort_long_poll.
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
ENDED_BY_SET_WEBHOOK = "Conflict: terminated by setWebhook request"
# core.telegram.org/bots/api#setwebhook: ports 443, 80, 88 and 8443, HTTPS only (the
# messages are WebhookActor.cpp's, prefixed "bad webhook: " by Client.cpp).
WEBHOOK_PORTS = (443, 80, 88, 8443)
MAX_SECRET_TOKEN = 256
WEBHOOK_TIMEOUT_S = 60.0
WEBHOOK_RETRY_MIN_S = 0.2
WEBHOOK_RETRY_MAX_S = 5.0


class BotApiError(Exception):
    """A Telegram-shaped failure; aiogram turns it into its own exception classes."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.error_code)


@dataclass(frozen=True, slots=True)
class Described:
    """A result that Telegram answers with a `description` too ("Webhook was set")."""

    result: Any
    description: str


def _bad_request(detail: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {detail}")


@dataclass(slots=True)
class Upload:
    """A file part of a multipart request, before it becomes a stored file."""

    filename: str | None
    content: bytes


@dataclass(slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: FileKind
    content: bytes
    file_name: str | None
    file_path: str

    def photo_sizes(self) -> list[JSON]:
        width, height = _image_size(self.content)
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": width,
                "height": height,
                "file_size": len(self.content),
            }
        ]

    def document_json(self) -> JSON:
        out: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "mime_type": _image_type(self.content)
            or mimetypes.guess_type(self.file_name or "")[0]
            or "application/octet-stream",
        }
        if self.file_name:
            out["file_name"] = self.file_name
        return out


@dataclass(slots=True)
class ChatUser:
    id: int
    first_name: str
    username: str | None = None
    language_code: str = "en"

    def to_bot_api(self) -> JSON:
        out: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            out["username"] = self.username
        out["language_code"] = self.language_code
        return out


@dataclass(slots=True)
class ChatMessage:
    id: int
    sender: Sender
    date: int
    text: str | None = None
    """The text, or the caption of a photo or document (None when there is none)."""
    photo: StoredFile | None = None
    document: StoredFile | None = None
    keyboard: list[list[JSON]] | None = None
    """Inline keyboard rows exactly as the bot sent them, echoed back in Bot API answers."""
    edited: bool = False
    deleted: bool = False
    edit_date: int | None = None

    @property
    def media(self) -> StoredFile | None:
        return self.photo or self.document

    @property
    def buttons(self) -> list[list[JSON]]:
        rows: list[list[JSON]] = []
        for row in self.keyboard or []:
            out_row: list[JSON] = []
            for button in row:
                item: JSON = {"text": button["text"]}
                if "callback_data" in button:
                    item["data"] = button["callback_data"]
                if "url" in button:
                    item["url"] = button["url"]
                out_row.append(item)
            rows.append(out_row)
        return rows

    def has_callback(self, data: str) -> bool:
        return any(b.get("callback_data") == data for row in self.keyboard or [] for b in row)


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str
    secret_token: str
    max_connections: int
    ip_address: str
    has_custom_certificate: bool

    @property
    def deliverable(self) -> bool:
        """Whether the sandbox POSTs to it: loopback only, nothing ever leaves the machine."""
        return _is_loopback(urlsplit(self.url).hostname or "")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(slots=True)
class PrivateChat:
    """A private chat between one user and the bot; its id is the user's id."""

    user: ChatUser
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    last_message_id: int = 0

    def add(self, sender: Sender, **content: Any) -> ChatMessage:
        self.last_message_id += 1
        message = ChatMessage(self.last_message_id, sender, int(time.time()), **content)
        self.messages[message.id] = message
        return message

    def to_bot_api(self) -> JSON:
        out: JSON = {"id": self.user.id, "type": "private", "first_name": self.user.first_name}
        if self.user.username:
            out["username"] = self.user.username
        return out


class BotApiState:
    """Everything the fake Telegram remembers for one bot token.

    Control-side calls (`user_sends`, `user_presses`, `transcript`) act as Telegram users;
    the Bot API handlers below act on behalf of the bot.
    """

    def __init__(self, token: str) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID
        self.chats: dict[int, PrivateChat] = {}
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.callback_answers: dict[str, JSON | None] = {}
        """Callback query id -> the bot's answer, None while unanswered."""
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._query_seq = itertools.count(1)
        self._updates: list[JSON] = []
        self._last_update_id = 0
        self._arrived = asyncio.Event()
        self._poller = 0
        self._poll_ended_by = CONFLICT
        self._closed = False
        self.webhook: Webhook | None = None
        self.last_webhook_error: tuple[int, str] | None = None
        """(unix time, message) of the last failed delivery, as getWebhookInfo shows it."""
        self._next_set_webhook_at = 0.0
        self._delivery: asyncio.Task[None] | None = None
        self.on_user_seen: Callable[[ChatUser], None] | None = None
        """Told about every user who writes to the bot (the simulated world adds them)."""

    # ---- the bot as Telegram shows it ---------------------------------------------------
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def message_json(self, chat: PrivateChat, message: ChatMessage) -> JSON:
        sender = self.bot_user() if message.sender == "bot" else chat.user.to_bot_api()
        out: JSON = {
            "message_id": message.id,
            "from": sender,
            "chat": chat.to_bot_api(),
            "date": message.date,
        }
        if message.edit_date is not None:
            out["edit_date"] = message.edit_date
        if message.photo is not None:
            out["photo"] = message.photo.photo_sizes()
        elif message.document is not None:
            out["document"] = message.document.document_json()
        if message.media is not None:
            if message.text:
                out["caption"] = message.text
        else:
            out["text"] = message.text or ""
            if message.sender == "user" and out["text"].startswith("/"):
                command = out["text"].split(maxsplit=1)[0]
                out["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
                ]
        if message.keyboard:
            out["reply_markup"] = {"inline_keyboard": message.keyboard}
        return out

    # ---- acting as users (control API) --------------------------------------------------
    def chat(self, user_id: int) -> PrivateChat:
        chat = self.chats.get(user_id)
        if chat is None:
            chat = self.chats[user_id] = PrivateChat(ChatUser(user_id, f"User {user_id}"))
        return chat

    def transcript(self, user_id: int) -> list[ChatMessage]:
        chat = self.chats.get(user_id)
        return list(chat.messages.values()) if chat else []

    def find_message(self, user_id: int, message_id: int) -> ChatMessage | None:
        chat = self.chats.get(user_id)
        return chat.messages.get(message_id) if chat else None

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        username: str | None = None,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> ChatMessage:
        """A private text message from the user to the bot; the profile fields given stick."""
        chat = self.chat(user_id)
        if username is not None:
            chat.user.username = username.removeprefix("@") or None
        if first_name is not None:
            chat.user.first_name = first_name
        if language_code is not None:
            chat.user.language_code = language_code
        if self.on_user_seen is not None:
            self.on_user_seen(chat.user)
        message = chat.add("user", text=text)
        self._push_update({"message": self.message_json(chat, message)})
        return message

    def user_presses(self, user_id: int, message_id: int, data: str) -> str:
        """Press an inline button of a bot message; returns the callback query id.

        Raises LookupError when the message is unknown, deleted, not the bot's, or has no
        button with that callback data.
        """
        chat = self.chats.get(user_id)
        message = chat.messages.get(message_id) if chat else None
        if chat is None or message is None or message.deleted or message.sender != "bot":
            raise LookupError(f"no bot message {message_id} in chat {user_id}")
        if not message.has_callback(data):
            raise LookupError(f"message {message_id} has no button with data {data!r}")
        query_id = f"{self.bot_id}{next(self._query_seq):08d}"
        self.callback_answers[query_id] = None
        self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": chat.user.to_bot_api(),
                    "message": self.message_json(chat, message),
                    "chat_instance": f"{user_id}{self.bot_id}",
                    "data": data,
                }
            }
        )
        return query_id

    # ---- updates and long polling -------------------------------------------------------
    def _push_update(self, payload: JSON) -> None:
        self._last_update_id += 1
        self._updates.append({"update_id": self._last_update_id, **payload})
        self._wake()

    def _wake(self) -> None:
        # Waiters hold the old event; replacing it lets each wake-up be seen exactly once.
        self._arrived.set()
        self._arrived = asyncio.Event()

    def close(self) -> None:
        """Answer pending long polls now, so the server can shut down without waiting."""
        self._closed = True
        self._stop_delivery()
        self._wake()

    async def wait_closed(self) -> None:
        """Wait for webhook delivery to finish unwinding (after `close`)."""
        if self._delivery is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery

    async def get_updates(self, offset: int, limit: int, timeout: float) -> list[JSON]:
        if self.webhook is not None:
            # core.telegram.org/bots/api#getupdates: "This method will not work if an
            # outgoing webhook is set up."
            raise BotApiError(409, WEBHOOK_ACTIVE)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self.end_poll(CONFLICT)  # an older poll still waiting gets 409, as on Telegram
        me = self._poller
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(timeout, 0.0), MAX_POLL_S)
        while True:
            if self._poller != me:
                raise BotApiError(409, self._poll_ended_by)
            remaining = deadline - loop.time()
            if self._updates or self._closed or remaining <= 0:
                return self._updates[:limit]
            arrived = self._arrived
            try:
                async with asyncio.timeout(remaining):
                    await arrived.wait()
            except TimeoutError:
                pass

    def end_poll(self, reason: str) -> None:
        """Answer a waiting long poll with 409 and `reason`."""
        self._poll_ended_by = reason
        self._poller += 1
        self._wake()

    @property
    def pending_update_count(self) -> int:
        return len(self._updates)

    def drop_pending_updates(self) -> None:
        self._updates.clear()

    # ---- webhooks -----------------------------------------------------------------------
    def set_webhook(self, webhook: Webhook | None) -> None:
        """Replace the webhook (None removes it); a waiting long poll ends with 409."""
        if webhook is not None:
            self.end_poll(ENDED_BY_SET_WEBHOOK)
        self._stop_delivery()
        self.webhook = webhook
        self.last_webhook_error = None
        if webhook is not None and webhook.deliverable:
            self._delivery = asyncio.get_running_loop().create_task(
                self._deliver(webhook), name="sandbox-webhook"
            )

    def _stop_delivery(self) -> None:
        if self._delivery is not None and not self._delivery.done():
            self._delivery.cancel()

    async def _deliver(self, webhook: Webhook) -> None:
        """POST updates in order, each until a 2xx answer (WebhookActor.cpp keeps retrying
        any other answer and records it as the last error)."""
        delay = WEBHOOK_RETRY_MIN_S
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while self.webhook is webhook and not self._closed:
                if not self._updates:
                    await self._arrived.wait()
                    continue
                update = self._updates[0]
                error = await self._post(http, webhook, update)
                if error is None:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    delay = WEBHOOK_RETRY_MIN_S
                    continue
                self.last_webhook_error = (int(time.time()), error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, WEBHOOK_RETRY_MAX_S)

    async def _post(
        self, http: aiohttp.ClientSession, webhook: Webhook, update: JSON
    ) -> str | None:
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        try:
            async with http.post(webhook.url, data=json.dumps(update), headers=headers) as resp:
                if not 200 <= resp.status <= 299:
                    return f"Wrong response from the webhook: {resp.status} {resp.reason}"
                values = await _response_params(resp)
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientError:
            return "Webhook connection closed"
        await self._call_from_response(values)
        return None

    async def _call_from_response(self, values: JSON) -> None:
        # core.telegram.org/bots/api#making-requests-when-getting-updates: the answer to a
        # webhook may itself be a method call; WebhookActor.cpp runs it unless it is a get*
        # method, setWebhook, deleteWebhook, close or logOut, and tells the bot nothing.
        method = str(values.pop("method", "") or "").lower()
        skipped = method in ("setwebhook", "deletewebhook", "close", "logout")
        impl = _METHODS.get(method)
        if impl is None or skipped or method.startswith("get"):
            return
        with contextlib.suppress(BotApiError):
            await impl(self, Params(values))

    # ---- files --------------------------------------------------------------------------
    def store_file(self, kind: FileKind, content: bytes, file_name: str | None) -> StoredFile:
        n = next(self._file_seq)
        if kind == "photo":
            path = f"photos/file_{n}{_image_suffix(content)}"
        else:
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", file_name or "")
            path = f"documents/file_{n}" + (f"_{safe}" if safe else "")
        stored = StoredFile(
            file_id=f"{kind}-{self.bot_id}-{n}",
            file_unique_id=f"u{n}",
            kind=kind,
            content=content,
            file_name=file_name,
            file_path=path,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[path] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return self._files_by_path.get(path)


# ---- request parameters -----------------------------------------------------------------
class Params:
    """Method parameters from a query string, a form, a multipart body or a JSON body.

    Form values all arrive as strings (aiogram sends `chat_id` as "777" and `reply_markup`
    as JSON text), JSON bodies carry real types; the getters accept both.
    """

    def __init__(self, values: JSON) -> None:
        self.values = values

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, Upload):
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise _bad_request(f"{name} is empty")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise _bad_request(f"invalid {name} specified")

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def json_value(self, name: str) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None


async def _response_params(resp: aiohttp.ClientResponse) -> JSON:
    """The fields of a webhook's answer: JSON, a form or multipart, as a request's."""
    if resp.content_type == "application/json":
        with contextlib.suppress(ValueError):
            body = json.loads(await resp.text())
            if isinstance(body, dict):
                return body
        return {}
    if resp.content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(await resp.text()))
    if resp.content_type.startswith("multipart/"):
        values: JSON = {}
        reader = aiohttp.MultipartReader.from_response(resp)
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                continue
            data = await part.read(decode=True)
            values[part.name] = (
                Upload(part.filename, bytes(data)) if part.filename else bytes(data).decode()
            )
        return values
    await resp.read()
    return {}


async def _read_params(request: web.Request) -> Params:
    values: JSON = dict(request.query)
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _bad_request("JSON object expected")
            values.update(body)
        else:
            try:
                form = await request.post()
            except web.HTTPRequestEntityTooLarge:
                raise BotApiError(413, "Request Entity Too Large") from None
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    values[key] = Upload(value.filename, value.file.read())
                else:
                    values[key] = value
    return Params(values)


# ---- text formatting --------------------------------------------------------------------
_HTML_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a tg-emoji code pre blockquote".split()
)
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)?((?:\"[^\"]*\"|'[^']*'|[^>\"'])*)>")
_MARKDOWN_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MARKDOWN_V2_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}


def _entities_error(detail: str) -> BotApiError:
    return _bad_request(f"can't parse entities: {detail}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text a user sees: markup removed, or the refusal Telegram would answer."""
    mode = (parse_mode or "").strip().lower()
    if not mode:
        return text
    if mode == "html":
        return _strip_html(text)
    if mode == "markdownv2":
        return _strip_markdown_v2(text)
    if mode == "markdown":
        return _strip_markdown(text)
    raise _bad_request("unsupported parse_mode")


def _strip_html(text: str) -> str:
    out: list[str] = []
    open_tags: list[str] = []
    pos = 0
    while (lt := text.find("<", pos)) >= 0:
        out.append(text[pos:lt])
        match = _HTML_TAG.match(text, lt)
        if match is None or match.group(2) is None:
            raise _entities_error(f"Unexpected '<' at byte offset {_byte_offset(text, lt)}")
        closing, name = match.group(1), match.group(2).lower()
        if not closing:
            if name not in _HTML_TAGS:
                raise _entities_error(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, lt)}'
                )
            open_tags.append(name)
        elif not open_tags or open_tags[-1] != name:
            raise _entities_error(
                f'Unexpected end tag "{name}" at byte offset {_byte_offset(text, lt)}'
            )
        else:
            open_tags.pop()
        pos = match.end()
    out.append(text[pos:])
    if open_tags:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return html.unescape("".join(out))


def _strip_markdown_v2(text: str) -> str:
    out: list[str] = []
    open_marks: dict[str, int] = {}
    i, n = 0, len(text)

    def literal_until(closing: str, start: int, name: str) -> tuple[str, int]:
        """Code and link bodies: only backslash escapes count until the closing mark."""
        chunk: list[str] = []
        j = start
        while j < n:
            if text[j] == "\\" and j + 1 < n:
                chunk.append(text[j + 1])
                j += 2
            elif text.startswith(closing, j):
                return "".join(chunk), j + len(closing)
            else:
                chunk.append(text[j])
                j += 1
        raise _entities_error(
            f"Can't find end of {name} entity at byte offset {_byte_offset(text, start)}"
        )

    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 >= n:
                raise _entities_error(
                    "Character '\\' is reserved and must be escaped with the preceding '\\'"
                )
            out.append(text[i + 1])
            i += 2
        elif text.startswith("```", i):
            body, i = literal_until("```", i + 3, "Pre")
            first, newline, rest = body.partition("\n")
            out.append(rest if newline and first and " " not in first else body)
        elif c == "`":
            body, i = literal_until("`", i + 1, "Code")
            out.append(body)
        elif c == "]" and "[" in open_marks:
            del open_marks["["]
            if not text.startswith("(", i + 1):
                raise _entities_error(
                    f"Can't find end of TextUrl entity at byte offset {_byte_offset(text, i)}"
                )
            _, i = literal_until(")", i + 2, "TextUrl")
        elif c == "[" or (c == "!" and text.startswith("[", i + 1)):
            if "[" in open_marks:
                raise _entities_error(
                    "Character '[' is reserved and must be escaped with the preceding '\\'"
                )
            open_marks["["] = i
            i += 1 if c == "[" else 2
        elif c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote line marker
        elif text.startswith("||", i) or text.startswith("__", i) or c in "*_~":
            mark = text[i : i + 2] if text.startswith(("||", "__"), i) else c
            if mark in open_marks:
                del open_marks[mark]
            else:
                open_marks[mark] = i
            i += len(mark)
        elif c in _MARKDOWN_V2_RESERVED:
            raise _entities_error(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.append(c)
            i += 1
    if open_marks:
        mark, start = min(open_marks.items(), key=lambda item: item[1])
        raise _entities_error(
            f"Can't find end of {_MARKDOWN_V2_NAMES[mark]} entity at byte offset "
            f"{_byte_offset(text, start)}"
        )
    return "".join(out)


def _strip_markdown(text: str) -> str:
    """Legacy Markdown: * _ ` ``` and [text](url), no nesting, few escapes."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        mark = "```" if text.startswith("```", i) else c
        if mark in ("```", "`", "*", "_"):
            end = text.find(mark, i + len(mark))
            if end < 0:
                raise _entities_error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            out.append(text[i + len(mark) : end])
            i = end + len(mark)
        elif c == "[":
            close = text.find("](", i)
            end = text.find(")", close + 2) if close >= 0 else -1
            if end < 0:
                raise _entities_error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            out.append(text[i + 1 : close])
            i = end + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


# ---- images -----------------------------------------------------------------------------
def _image_type(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM"):
        return "image/bmp"
    return None


def _image_suffix(data: bytes) -> str:
    kind = _image_type(data)
    return "." + kind.split("/")[1].replace("jpeg", "jpg") if kind else ""


def _image_size(data: bytes) -> tuple[int, int]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 512, 512


# ---- Bot API methods --------------------------------------------------------------------
MethodImpl = Callable[[BotApiState, Params], Awaitable[Any]]
_METHODS: dict[str, MethodImpl] = {}


def _method(*names: str) -> Callable[[MethodImpl], MethodImpl]:
    def register(impl: MethodImpl) -> MethodImpl:
        for name in names:
            _METHODS[name.lower()] = impl  # Telegram matches method names case-insensitively
        return impl

    return register


def _target_chat(state: BotApiState, p: Params) -> PrivateChat:
    chat_id = p.raw("chat_id")
    if chat_id is None or chat_id == "":
        raise _bad_request("chat_id is empty")
    try:
        numeric = p.integer("chat_id")
    except BotApiError:
        numeric = None
    chat = state.chats.get(numeric) if numeric is not None and numeric > 0 else None
    if chat is None:
        if numeric is not None and numeric > 0:
            raise BotApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise _bad_request("chat not found")
    return chat


def _bot_message(chat: PrivateChat, p: Params, action: str) -> ChatMessage:
    if p.raw("inline_message_id"):
        raise _bad_request("MESSAGE_ID_INVALID")
    message_id = p.integer("message_id", required=True)
    assert message_id is not None
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise _bad_request(f"message to {action} not found")
    if message.sender != "bot":
        raise _bad_request(f"message can't be {action}ed")
    return message


def _inline_keyboard(p: Params) -> list[list[JSON]] | None:
    markup = p.json_value("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return None  # reply keyboards and their removal are not kept in the transcript
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _bad_request("can't parse inline keyboard button: Text is empty")
            if len(button) < 2:
                raise _bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and (
                not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
            ):
                raise _bad_request("BUTTON_DATA_INVALID")
    return [row for row in rows if row] or None


def _caption(p: Params) -> str | None:
    caption = p.text("caption")
    if caption is None:
        return None
    caption = plain_text(caption, p.text("parse_mode"))
    if len(caption) > MAX_CAPTION:
        raise _bad_request("message caption is too long")
    return caption or None


def _message_text(p: Params) -> str:
    text = plain_text(p.text("text") or "", p.text("parse_mode"))
    if not text.strip():
        raise _bad_request("message text is empty")
    if len(text) > MAX_TEXT:
        raise _bad_request("message is too long")
    return text


def _input_file(state: BotApiState, p: Params, value: Any, kind: FileKind) -> StoredFile:
    if isinstance(value, str) and value.startswith("attach://"):
        value = p.raw(value.removeprefix("attach://"))
        if not isinstance(value, Upload):
            raise _bad_request("can't find attached file")
    if isinstance(value, Upload):
        if not value.content:
            raise _bad_request("file must be non-empty")
        if kind == "photo" and _image_type(value.content) is None:
            raise _bad_request("IMAGE_PROCESS_FAILED")
        return state.store_file(kind, value.content, value.filename)
    if not isinstance(value, str) or not value:
        raise _bad_request(f"there is no {kind} in the request")
    stored = state.files.get(value)
    if stored is None or stored.kind != kind:
        raise _bad_request(WRONG_FILE)
    return stored


@_method("getMe")
async def _get_me(state: BotApiState, p: Params) -> Any:
    return state.bot_user()


@_method("getUpdates")
async def _get_updates(state: BotApiState, p: Params) -> Any:
    limit = p.integer("limit") or MAX_UPDATES
    timeout = p.integer("timeout") or 0
    offset = p.integer("offset") or 0
    return await state.get_updates(offset, min(max(limit, 1), MAX_UPDATES), timeout)


@_method("getWebhookInfo")
async def _get_webhook_info(state: BotApiState, p: Params) -> Any:
    # The fields of Client.cpp JsonWebhookInfo, in its order and under its conditions.
    hook = state.webhook
    info: JSON = {
        "url": hook.url if hook else "",
        "has_custom_certificate": bool(hook and hook.has_custom_certificate),
        "pending_update_count": state.pending_update_count,
    }
    if state.last_webhook_error is not None:
        info["last_error_date"], info["last_error_message"] = state.last_webhook_error
    if hook is not None:
        info["max_connections"] = hook.max_connections
        info["ip_address"] = hook.ip_address or "<unknown>"
    return info


@_method("setWebhook")
async def _set_webhook(state: BotApiState, p: Params) -> Any:
    url = p.text("url") or ""
    if not url:
        return await _delete_webhook(state, p)
    # Client.cpp process_set_webhook_query: one setWebhook with a URL per second.
    now = time.monotonic()
    if now < state._next_set_webhook_at:
        raise BotApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
    state._next_set_webhook_at = now + 1
    max_connections = min(max(p.integer("max_connections") or 40, 1), 100)
    wanted = Webhook(
        url=url,
        secret_token=p.text("secret_token") or "",
        max_connections=max_connections,
        ip_address=p.text("ip_address") or "",
        has_custom_certificate=p.raw("certificate") is not None,
    )
    drop = p.flag("drop_pending_updates")
    if wanted == state.webhook and not drop:
        return Described(True, "Webhook is already set")
    # A waiting long poll ends, and the old webhook is closed, before the new one is checked
    # (abort_long_poll, then do_set_webhook once the old WebhookActor is gone): a refused
    # setWebhook leaves no webhook.
    state.end_poll(ENDED_BY_SET_WEBHOOK)
    state.set_webhook(None)
    if drop:
        state.drop_pending_updates()
    parsed = urlsplit(url)
    try:
        port = parsed.port or (80 if parsed.scheme == "http" else 443)
    except ValueError:
        raise _bad_request("invalid webhook URL specified") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise _bad_request("invalid webhook URL specified")
    if len(wanted.secret_token) > MAX_SECRET_TOKEN:
        raise _bad_request("secret token is too long")
    if not re.fullmatch(r"[A-Za-z0-9_-]*", wanted.secret_token):
        raise _bad_request("secret token contains unallowed characters")
    if not wanted.deliverable:
        # What api.telegram.org checks (WebhookActor::start_up outside local mode); loopback
        # URLs stand for a local Bot API server, which allows http and any port.
        if parsed.scheme != "https":
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if port not in WEBHOOK_PORTS:
            raise _bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
    state.set_webhook(wanted)
    return Described(True, "Webhook was set")


@_method("deleteWebhook")
async def _delete_webhook(state: BotApiState, p: Params) -> Any:
    if p.flag("drop_pending_updates"):
        state.drop_pending_updates()
    if state.webhook is None:
        return Described(True, "Webhook is already deleted")
    state.set_webhook(None)
    return Described(True, "Webhook was deleted")


@_method(
    "setChatMenuButton",
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setMyDefaultAdministratorRights",
    "close",
    "logOut",
)
async def _accepted(state: BotApiState, p: Params) -> Any:
    return True


@_method("getChatMenuButton")
async def _get_chat_menu_button(state: BotApiState, p: Params) -> Any:
    return {"type": "commands"}


def _commands_key(p: Params) -> tuple[str, str]:
    scope = p.json_value("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), p.text("language_code") or ""


@_method("setMyCommands")
async def _set_my_commands(state: BotApiState, p: Params) -> Any:
    commands = p.json_value("commands")
    if not isinstance(commands, list):
        raise _bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not re.fullmatch(
            r"[a-z0-9_]{1,32}", str(command.get("command", ""))
        ):
            raise _bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    state.commands[_commands_key(p)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


@_method("deleteMyCommands")
async def _delete_my_commands(state: BotApiState, p: Params) -> Any:
    state.commands.pop(_commands_key(p), None)
    return True


@_method("getMyCommands")
async def _get_my_commands(state: BotApiState, p: Params) -> Any:
    return state.commands.get(_commands_key(p), [])


@_method("sendMessage")
async def _send_message(state: BotApiState, p: Params) -> Any:
    chat = _target_chat(state, p)
    text = _message_text(p)
    message = chat.add("bot", text=text, keyboard=_inline_keyboard(p))
    return state.message_json(chat, message)


@_method("sendPhoto")
async def _send_photo(state: BotApiState, p: Params) -> Any:
    chat = _target_chat(state, p)
    caption = _caption(p)
    keyboard = _inline_keyboard(p)
    photo = _input_file(state, p, p.raw("photo"), "photo")
    message = chat.add("bot", text=caption, photo=photo, keyboard=keyboard)
    return state.message_json(chat, message)


@_method("sendDocument")
async def _send_document(state: BotApiState, p: Params) -> Any:
    chat = _target_chat(state, p)
    caption = _caption(p)
    keyboard = _inline_keyboard(p)
    document = _input_file(state, p, p.raw("document"), "document")
    message = chat.add("bot", text=caption, document=document, keyboard=keyboard)
    return state.message_json(chat, message)


@_method("sendChatAction")
async def _send_chat_action(state: BotApiState, p: Params) -> Any:
    _target_chat(state, p)
    if not p.text("action"):
        raise _bad_request("action is empty")
    return True


def _apply_edit(
    state: BotApiState, chat: PrivateChat, message: ChatMessage, **changes: Any
) -> JSON:
    if all(getattr(message, key) == value for key, value in changes.items()):
        raise _bad_request(NOT_MODIFIED)
    for key, value in changes.items():
        setattr(message, key, value)
    message.edited = True
    message.edit_date = int(time.time())
    return state.message_json(chat, message)


@_method("editMessageText")
async def _edit_message_text(state: BotApiState, p: Params) -> Any:
    chat = _target_chat(state, p)
    message = _bot_message(chat, p, "edit")
    text = _message_text(p)
    if message.media is not None:
        raise _bad_request("there is no text in the message to edit")
    return _apply_edit(state, chat, message, text=text, keyboard=_inline_keyboard(p))


@_method("editMessageCaption")
async def _edit_message_caption(state: BotApiState, p: Params) -> Any:
    chat = _target_chat(state, p)
    message = _bot_message(chat, p, "edit")
    caption = _caption(p)
    if message.media is None:
        raise _bad_request("there is no caption in the message to edit")
    return _apply_edit(state, chat, message, text=caption, keyboard=_inline_keyboard(p))


@_method("editMessageMedia")
async def _edit_message_media(state: BotApiState, p: Params) -> Any:
    chat = _target_chat(state, p)
    message = _bot_message(chat, p, "edit")
    media = p.json_value("media")
    if not isinstance(media, dict) or media.get("type") not in ("photo", "document"):
        raise _bad_request("can't parse InputMedia: media type must be photo or document")
    if message.media is None:
        raise _bad_request("there is no media in the message to edit")
    kind: FileKind = media["type"]
    stored = _input_file(state, p, media.get("media"), kind)
    caption = media.get("caption")
    if isinstance(caption, str):
        caption = plain_text(caption, media.get("parse_mode")) or None
    else:
        caption = None
    return _apply_edit(
        state,
        chat,
        message,
        photo=stored if kind == "photo" else None,
        document=stored if kind == "document" else None,
        text=caption,
        keyboard=_inline_keyboard(p),
    )


@_method("editMessageReplyMarkup")
async def _edit_message_reply_markup(state: BotApiState, p: Params) -> Any:
    chat = _target_chat(state, p)
    message = _bot_message(chat, p, "edit")
    return _apply_edit(state, chat, message, keyboard=_inline_keyboard(p))


@_method("deleteMessage")
async def _delete_message(state: BotApiState, p: Params) -> Any:
    chat = _target_chat(state, p)
    message_id = p.integer("message_id", required=True)
    message = chat.messages.get(message_id or 0)
    if message is None or message.deleted:
        raise _bad_request("message to delete not found")
    message.deleted = True  # in a private chat the bot may delete messages of both sides
    return True


@_method("deleteMessages")
async def _delete_messages(state: BotApiState, p: Params) -> Any:
    chat = _target_chat(state, p)
    ids = p.json_value("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise _bad_request("message_ids must be a list of 1-100 message identifiers")
    for message_id in ids:
        message = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if message is not None:  # Telegram skips the ones it cannot find
            message.deleted = True
    return True


@_method("answerCallbackQuery")
async def _answer_callback_query(state: BotApiState, p: Params) -> Any:
    query_id = p.text("callback_query_id") or ""
    if query_id not in state.callback_answers or state.callback_answers[query_id] is not None:
        raise _bad_request("query is too old and response timeout expired or query ID is invalid")
    state.callback_answers[query_id] = {
        "text": p.text("text"),
        "show_alert": p.flag("show_alert"),
        "url": p.text("url"),
    }
    return True


@_method("getFile")
async def _get_file(state: BotApiState, p: Params) -> Any:
    stored = state.files.get(p.text("file_id") or "")
    if stored is None:
        raise _bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
        "file_path": stored.file_path,
    }


# ---- HTTP -------------------------------------------------------------------------------
BOT_API_STATE = web.AppKey("bot_api_state", BotApiState)


async def _handle_method(request: web.Request) -> web.Response:
    state = request.app[BOT_API_STATE]
    if request.match_info["token"] != state.token:
        return BotApiError(401, "Unauthorized").response()
    impl = _METHODS.get(request.match_info["method"].lower())
    if impl is None:
        return BotApiError(404, "Not Found: method not found").response()
    try:
        result = await impl(state, await _read_params(request))
    except BotApiError as error:
        return error.response()
    if isinstance(result, Described):
        return web.json_response(
            {"ok": True, "result": result.result, "description": result.description}
        )
    return web.json_response({"ok": True, "result": result})


async def _handle_file(request: web.Request) -> web.Response:
    state = request.app[BOT_API_STATE]
    if request.match_info["token"] != state.token:
        return BotApiError(401, "Unauthorized").response()
    stored = state.file_by_path(request.match_info["file_path"])
    if stored is None:
        return BotApiError(404, "Not Found").response()
    return web.Response(body=stored.content, content_type="application/octet-stream")


def register_bot_api(app: web.Application) -> None:
    """Serve the Bot API paths aiogram builds from `TelegramAPIServer.from_base(url)`.

    The app must hold a `BotApiState` under `BOT_API_STATE`.
    """
    app.router.add_route("*", "/bot{token}/{method}", _handle_method)
    app.router.add_get("/file/bot{token}/{file_path:.+}", _handle_file)
    app.on_cleanup.append(_stop_webhook_delivery)


async def _stop_webhook_delivery(app: web.Application) -> None:
    state = app[BOT_API_STATE]
    state.close()
    await state.wait_closed()
