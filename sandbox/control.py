"""Control API: act as Telegram users in private chats with the bot and read the transcript.

This is the chat half of the stable JSON contract in DESIGN §9; tests outside the code and
people trying the bot without a token drive the sandbox through it, so inputs are checked
strictly and every failure is `{"error": {"code", "message"}}` with 400 or 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.botapi import BOT_API_STATE, MAX_TEXT, BotApiState, ChatMessage

MAX_USER_ID = 2**63 - 1

Handler = Callable[[web.Request], Awaitable[web.Response]]


class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        body = {"error": {"code": self.code, "message": self.message}}
        return web.json_response(body, status=self.status)


def _invalid(message: str) -> ControlError:
    return ControlError(400, "invalid_input", message)


def _not_found(message: str) -> ControlError:
    return ControlError(404, "not_found", message)


def _positive_int(raw: str, what: str) -> int:
    digits_ok = raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_USER_ID))
    if not digits_ok or not 0 < int(raw) <= MAX_USER_ID:
        raise _invalid(f"{what} must be a positive integer, got {raw!r}")
    return int(raw)


def _user_id(request: web.Request) -> int:
    return _positive_int(request.match_info["user_id"], "user_id")


async def _json_object(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise _invalid("body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _invalid("body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _invalid(f"unknown field(s): {', '.join(unknown)}")
    return body


def _string(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _invalid(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise _invalid(f"{name} must be a string")
    return value


def _message_view(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "from": message.sender,
        "text": message.text,
        "photo": message.photo is not None,
        "document": (
            {"file_name": message.document.file_name} if message.document is not None else None
        ),
        "buttons": message.buttons,
        "edited": message.edited,
        "deleted": message.deleted,
        "date": message.date,
        "edit_date": message.edit_date,
    }


def _answers_errors(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except ControlError as error:
            return error.response()

    return wrapped


def _state(request: web.Request) -> BotApiState:
    return request.app[BOT_API_STATE]


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@_answers_errors
async def _send(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    body = await _json_object(request, {"text", "username", "first_name", "language_code"})
    text = _string(body, "text", required=True)
    assert text is not None
    if not text.strip() or len(text) > MAX_TEXT:
        raise _invalid(f"text must be 1-{MAX_TEXT} characters and not blank")
    first_name = _string(body, "first_name")
    if first_name is not None and not first_name.strip():
        raise _invalid("first_name must not be blank")
    message = _state(request).user_sends(
        user_id,
        text,
        username=_string(body, "username"),
        first_name=first_name,
        language_code=_string(body, "language_code"),
    )
    return web.json_response({"message_id": message.id})


@_answers_errors
async def _press(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    body = await _json_object(request, {"message_id", "data"})
    message_id = body.get("message_id")
    if isinstance(message_id, bool) or not isinstance(message_id, int) or message_id <= 0:
        raise _invalid("message_id must be a positive integer")
    data = _string(body, "data", required=True)
    assert data is not None
    try:
        _state(request).user_presses(user_id, message_id, data)
    except LookupError as error:
        raise _not_found(str(error)) from None
    return web.json_response({"ok": True})


@_answers_errors
async def _messages(request: web.Request) -> web.Response:
    transcript = _state(request).transcript(_user_id(request))
    return web.json_response({"messages": [_message_view(m) for m in transcript]})


@_answers_errors
async def _file(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    message_id = _positive_int(request.match_info["message_id"], "message_id")
    message = _state(request).find_message(user_id, message_id)
    stored = message.media if message is not None else None
    if stored is None:
        raise _not_found(f"message {message_id} in chat {user_id} has no photo or document")
    content_type = "application/octet-stream"
    if stored.kind == "photo" and stored.content.startswith(b"\x89PNG\r\n\x1a\n"):
        content_type = "image/png"
    return web.Response(body=stored.content, content_type=content_type)


def register_control(app: web.Application) -> None:
    """Add the /sandbox/chat routes; the app must hold a `BotApiState` under BOT_API_STATE."""
    app.router.add_get("/sandbox/health", _health)
    app.router.add_post("/sandbox/chat/{user_id}/send", _send)
    app.router.add_post("/sandbox/chat/{user_id}/press", _press)
    app.router.add_get("/sandbox/chat/{user_id}/messages", _messages)
    app.router.add_get("/sandbox/chat/{user_id}/files/{message_id}", _file)
