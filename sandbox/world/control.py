"""Control API, world half: seed and inspect the simulated Telegram (DESIGN §9).

The JSON contract is stable, tests outside the code use it: bodies are checked strictly and
every failure is `{"error": {"code", "message"}}` with 400 (invalid input) or 404 (unknown
user, chat or login token).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.control import ControlError
from sandbox.world.model import (
    ADMIN_RIGHTS,
    CODE_TYPES,
    DC_IDS,
    INVITE_OUTCOMES,
    LAST_SEEN,
    MAX_PEER_ID,
    USERNAME_RE,
    MessageSpec,
    PostSpec,
    WorldChat,
    WorldUser,
)
from sandbox.world.world import World

WORLD = web.AppKey("sandbox_world", World)

MAX_BATCH = 50_000
MAX_TEXT = 4096
MAX_PASSWORD = 256

Handler = Callable[[web.Request], Awaitable[web.Response]]
JSON = dict[str, Any]


def _invalid(message: str) -> ControlError:
    return ControlError(400, "invalid_input", message)


def _not_found(message: str) -> ControlError:
    return ControlError(404, "not_found", message)


def _answers_errors(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except ControlError as error:
            return error.response()

    return wrapped


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# ---- checking JSON ------------------------------------------------------------------------
async def _body(request: web.Request, allowed: set[str], required: set[str]) -> JSON:
    try:
        body = await request.json()
    except ValueError:
        raise _invalid("body must be a JSON object") from None
    return _object(body, allowed, required, "body")


def _object(value: Any, allowed: set[str], required: set[str], where: str) -> JSON:
    if not isinstance(value, dict):
        raise _invalid(f"{where} must be a JSON object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _invalid(f"{where}: unknown field(s): {', '.join(unknown)}")
    missing = sorted(required - set(value))
    if missing:
        raise _invalid(f"{where}: {', '.join(missing)} required")
    return value


def _peer_id(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_PEER_ID:
        raise _invalid(f"{what} must be a positive integer id")
    return value


def _path_id(raw: str, what: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 16 or not 0 < int(raw) < MAX_PEER_ID:
        raise _invalid(f"{what} must be a positive integer id, got {raw!r}")
    return int(raw)


def _text(value: Any, what: str, *, max_len: int = MAX_TEXT, blank_ok: bool = True) -> str:
    if not isinstance(value, str) or len(value) > max_len or (not blank_ok and not value.strip()):
        limits = f"up to {max_len} characters" + ("" if blank_ok else ", not blank")
        raise _invalid(f"{what} must be a string, {limits}")
    return value


def _optional_text(body: JSON, name: str, where: str) -> str | None:
    value = body.get(name)
    return None if value is None else _text(value, f"{where}.{name}", max_len=256)


def _flag(body: JSON, name: str, where: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _invalid(f"{where}.{name} must be true or false")
    return value


def _choice(body: JSON, name: str, choices: tuple[str, ...], where: str) -> str | None:
    value = body.get(name)
    if value is not None and value not in choices:
        raise _invalid(f"{where}.{name} must be one of {', '.join(choices)}")
    return value


def _date(value: Any, what: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        # Since Python 3.11 fromisoformat reads a trailing "Z" as UTC by itself.
        parsed = dt.datetime.fromisoformat(_text(value, what, max_len=64))
    except ValueError:
        raise _invalid(f"{what} must be an ISO 8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _date_or(value: Any, problem: str) -> dt.datetime | None:
    if value is not None and not isinstance(value, str):
        raise _invalid(problem)
    try:
        return _date(value, "date")
    except ControlError:
        raise _invalid(problem) from None


def _list(value: Any, what: str, *, max_len: int = MAX_BATCH) -> list[Any]:
    if not isinstance(value, list) or len(value) > max_len:
        raise _invalid(f"{what} must be a list of at most {max_len} items")
    return value


def _message(value: Any, what: str) -> MessageSpec:
    item = _object(value, {"from", "text", "date"}, {"from", "text"}, what)
    return MessageSpec(
        sender_id=_peer_id(item["from"], f"{what}.from"),
        text=_text(item["text"], f"{what}.text"),
        date=_date(item.get("date"), f"{what}.date"),
    )


def _semantic(call: Callable[[], Any]) -> Any:
    """Run a world change, turning its ValueError / LookupError into 400 / 404."""
    try:
        return call()
    except LookupError as error:
        raise _not_found(str(error).strip("'\"")) from None
    except ValueError as error:
        raise _invalid(str(error)) from None


# ---- handlers ----------------------------------------------------------------------------
_USER_KEYS = {
    "id", "username", "first_name", "last_name", "phone", "bot", "deleted", "scam", "premium",
    "photo", "last_seen", "invite_outcome", "dc", "banned", "code_type", "spam_limited_until",
    "frozen_until",
}  # fmt: skip


@_answers_errors
async def _put_users(request: web.Request) -> web.Response:
    body = await _body(request, {"users"}, {"users"})
    specs = []
    for n, raw in enumerate(_list(body["users"], "users")):
        where = f"users[{n}]"
        item = _object(raw, _USER_KEYS, {"id"}, where)
        spec: JSON = {"id": _peer_id(item["id"], f"{where}.id")}
        for name in ("username", "first_name", "last_name", "phone"):
            if name in item:
                spec[name] = _optional_text(item, name, where)
        for name in ("bot", "deleted", "scam", "premium", "photo", "banned"):
            if item.get(name) is not None:
                spec[name] = _flag(item, name, where)
        if item.get("last_seen") is not None:
            spec["last_seen"] = _choice(item, "last_seen", LAST_SEEN, where)
        if item.get("invite_outcome") is not None:
            spec["invite_outcome"] = _choice(item, "invite_outcome", INVITE_OUTCOMES, where)
        if item.get("dc") is not None:
            if type(item["dc"]) is not int or item["dc"] not in DC_IDS:
                raise _invalid(f"{where}.dc must be one of {', '.join(map(str, DC_IDS))}")
            spec["dc"] = item["dc"]
        if item.get("code_type") is not None:
            spec["code_type"] = _choice(item, "code_type", CODE_TYPES, where)
        # What @SpamBot answers the account (null: no limits) and whether Telegram froze it
        # (null: not frozen); both null clear what was set before.
        if "spam_limited_until" in item:
            limited = item["spam_limited_until"]
            spec["spam_limited_until"] = (
                "forever"
                if limited == "forever"
                else _date_or(
                    limited,
                    f'{where}.spam_limited_until must be an ISO 8601 date-time, "forever" or null',
                )
            )
        if "frozen_until" in item:
            spec["frozen_until"] = _date_or(
                item["frozen_until"], f"{where}.frozen_until must be an ISO 8601 date-time or null"
            )
        specs.append(spec)
    world = request.app[WORLD]
    _semantic(lambda: world.put_users(specs))
    return web.json_response({"ok": True})


_CHAT_KEYS = {
    "id", "type", "title", "username", "creator", "members", "admins", "hidden_members",
    "linked_chat", "posts", "messages",
}  # fmt: skip


@_answers_errors
async def _put_chat(request: web.Request) -> web.Response:
    body = await _body(request, _CHAT_KEYS, {"id", "type", "title", "members"})
    chat_id = _peer_id(body["id"], "id")
    kind = body["type"]
    if kind not in ("group", "megagroup", "channel"):
        raise _invalid("type must be one of group, megagroup, channel")
    title = _text(body["title"], "title", max_len=128, blank_ok=False)
    members = [_peer_id(m, "members[]") for m in _list(body["members"], "members")]
    admins: dict[int, list[str]] = {}
    raw_admins = body.get("admins") or {}
    if not isinstance(raw_admins, dict):
        raise _invalid('admins must be an object like {"<user id>": ["invite_users"]}')
    for key, names in raw_admins.items():
        user_id = _path_id(key, "admins key")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _invalid(f"admins[{key}] must be a list of right names")
        unknown = sorted(set(names) - ADMIN_RIGHTS)
        if unknown:
            raise _invalid(f"admins[{key}]: unknown right(s) {', '.join(unknown)}")
        admins[user_id] = names
    posts = []
    for n, raw in enumerate(_list(body.get("posts") or [], "posts", max_len=10_000)):
        where = f"posts[{n}]"
        item = _object(raw, {"id", "text", "date", "comments"}, {"id"}, where)
        comments = _list(item.get("comments") or [], f"{where}.comments")
        posts.append(
            PostSpec(
                id=_peer_id(item["id"], f"{where}.id"),
                text=_text(item.get("text") or "", f"{where}.text"),
                date=_date(item.get("date"), f"{where}.date"),
                comments=tuple(
                    _message(c, f"{where}.comments[{i}]") for i, c in enumerate(comments)
                ),
            )
        )
    messages = [
        _message(m, f"messages[{n}]")
        for n, m in enumerate(_list(body.get("messages") or [], "messages"))
    ]
    creator = body.get("creator")
    linked = body.get("linked_chat")
    username = body.get("username")
    world = request.app[WORLD]
    _semantic(
        lambda: world.put_chat(
            chat_id,
            kind,
            title,
            username=None if username is None else _text(username, "username", max_len=64),
            creator=None if creator is None else _peer_id(creator, "creator"),
            members=members,
            admins=admins,
            hidden_members=bool(_flag(body, "hidden_members", "body")),
            linked_chat=None if linked is None else _peer_id(linked, "linked_chat"),
            posts=posts,
            messages=messages,
        )
    )
    return web.json_response({"ok": True})


@_answers_errors
async def _set_password(request: web.Request) -> web.Response:
    user_id = _path_id(request.match_info["user_id"], "user id")
    body = await _body(request, {"password"}, {"password"})
    password = _text(body["password"], "password", max_len=MAX_PASSWORD, blank_ok=False)
    world = request.app[WORLD]
    _semantic(lambda: world.set_password(user_id, password))
    return web.json_response({"ok": True})


@_answers_errors
async def _scan_qr(request: web.Request) -> web.Response:
    body = await _body(request, {"url", "user_id"}, {"url", "user_id"})
    url = _text(body["url"], "url", max_len=512, blank_ok=False)
    if not url.startswith("tg://login?token="):
        raise _invalid("url must be the tg://login?token=... link of the QR code")
    user_id = _peer_id(body["user_id"], "user_id")
    world = request.app[WORLD]
    _semantic(lambda: world.scan_qr(url, user_id))
    return web.json_response({"ok": True})


@_answers_errors
async def _pending_qr(request: web.Request) -> web.Response:
    tokens = request.app[WORLD].pending_login_tokens()
    urls = [
        {
            "url": "tg://login?token=" + base64.urlsafe_b64encode(t.token).decode().rstrip("="),
            "expires_at": _iso(t.expires_at),
        }
        for t in tokens
    ]
    return web.json_response({"tokens": urls})


@_answers_errors
async def _login_codes(request: web.Request) -> web.Response:
    user_id = _path_id(request.match_info["user_id"], "user id")
    world = request.app[WORLD]
    codes = _semantic(lambda: world.codes_for(user_id))
    now = world.now()
    return web.json_response(
        {
            "codes": [
                {
                    "code": c.code,
                    "phone": c.phone,
                    "at": _iso(c.sent_at),
                    "valid": not c.used and c.expires_at > now,
                    "type": c.kind,
                }
                for c in codes
            ]
        }
    )


@_answers_errors
async def _members(request: web.Request) -> web.Response:
    ref = _chat_ref(request.match_info["chat"])
    world = request.app[WORLD]
    chat = _semantic(lambda: world.find_chat(ref))
    return web.json_response({"members": list(chat.members)})


@_answers_errors
async def _leave(request: web.Request) -> web.Response:
    """A person leaves a chat of their own accord (as `channels.leaveChannel` or, in a basic
    group, `messages.deleteChatUser` on themself would): what a retention check later finds."""
    ref = _chat_ref(request.match_info["chat"])
    body = await _body(request, {"user"}, {"user"})
    user_id = _peer_id(body["user"], "user")
    world = request.app[WORLD]
    chat = _semantic(lambda: world.find_chat(ref))
    if user_id not in chat.members:
        raise _invalid(f"user {user_id} is not a member of chat {chat.id}")
    if user_id == chat.creator:
        # core.telegram.org/method/channels.leaveChannel: USER_CREATOR (400)
        raise _invalid("the creator cannot leave the chat")
    del chat.members[user_id]
    chat.admins.pop(user_id, None)
    return web.json_response({"ok": True, "member_count": len(chat.members)})


@_answers_errors
async def _add_fault(request: web.Request) -> web.Response:
    body = await _body(
        request, {"method", "error", "count", "account"}, {"method", "error", "count"}
    )
    method = _text(body["method"], "method", max_len=100, blank_ok=False)
    error = _text(body["error"], "error", max_len=100, blank_ok=False)
    count = body["count"]
    if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= 1_000_000:
        raise _invalid("count must be an integer from 1 to 1000000")
    account = body.get("account")
    account = None if account is None else _peer_id(account, "account")
    world = request.app[WORLD]
    _semantic(lambda: world.add_fault(method, error, count, account))
    return web.json_response({"ok": True})


@_answers_errors
async def _calls(request: web.Request) -> web.Response:
    method = request.query.get("method") or None
    world = request.app[WORLD]
    calls = _semantic(lambda: world.calls(method))
    return web.json_response(
        {
            "calls": [
                {
                    "method": c.method,
                    "account": c.account,
                    "users": list(c.users),
                    "at": _iso(c.at),
                    "dc": c.dc,
                    "error": c.error,
                }
                for c in calls
            ]
        }
    )


# ---- reading the whole world (the sandbox page's world view) ------------------------------
def _user_view(user: WorldUser) -> JSON:
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "phone": f"+{user.phone}" if user.phone else None,
        "bot": user.bot,
        "deleted": user.deleted,
        "invite_outcome": user.invite_outcome,
        "dc": user.dc,
        "password": user.password is not None,
    }


@_answers_errors
async def _users(request: web.Request) -> web.Response:
    users = sorted(request.app[WORLD].users.values(), key=lambda u: u.id)
    return web.json_response({"users": [_user_view(u) for u in users]})


def _chat_view(chat: WorldChat) -> JSON:
    return {
        "id": chat.id,
        "type": chat.kind,
        "title": chat.title,
        "username": chat.username,
        "creator": chat.creator,
        "hidden_members": chat.hidden_members,
        "linked_chat": chat.linked_chat,
        "member_count": len(chat.members),
    }


@_answers_errors
async def _chats(request: web.Request) -> web.Response:
    chats = sorted(request.app[WORLD].chats.values(), key=lambda c: c.id)
    return web.json_response({"chats": [_chat_view(c) for c in chats]})


def _chat_ref(raw: str) -> int | str:
    if raw.isascii() and raw.isdigit():
        return _path_id(raw, "chat id")
    if USERNAME_RE.fullmatch(raw.removeprefix("@")):
        return raw
    raise _invalid(f"chat must be an id or a username, got {raw!r}")


@_answers_errors
async def _chat(request: web.Request) -> web.Response:
    ref = _chat_ref(request.match_info["chat"])
    world = request.app[WORLD]
    chat = _semantic(lambda: world.find_chat(ref))
    members = [
        {"id": user_id, "joined_at": _iso(m.date), "inviter": m.inviter_id}
        for user_id, m in chat.members.items()
    ]
    admins = {str(user_id): sorted(rights) for user_id, rights in chat.admins.items()}
    return web.json_response(_chat_view(chat) | {"members": members, "admins": admins})


@_answers_errors
async def _faults(request: web.Request) -> web.Response:
    faults = request.app[WORLD].faults
    return web.json_response(
        {
            "faults": [
                {
                    "method": f.method,
                    "error": f.error,
                    "remaining": f.remaining,
                    "account": f.account,
                }
                for f in faults
            ]
        }
    )


def register_world_control(app: web.Application) -> None:
    """Add the /sandbox/world routes; the app must hold a `World` under WORLD."""
    app.router.add_post("/sandbox/world/users", _put_users)
    app.router.add_get("/sandbox/world/users", _users)
    app.router.add_get("/sandbox/world/chats", _chats)
    app.router.add_get("/sandbox/world/chats/{chat}", _chat)
    app.router.add_get("/sandbox/world/faults", _faults)
    app.router.add_post("/sandbox/world/chats", _put_chat)
    app.router.add_post("/sandbox/world/users/{user_id}/password", _set_password)
    app.router.add_get("/sandbox/world/users/{user_id}/login_codes", _login_codes)
    app.router.add_post("/sandbox/world/qr/scan", _scan_qr)
    app.router.add_get("/sandbox/world/qr", _pending_qr)
    app.router.add_get("/sandbox/world/chats/{chat}/members", _members)
    app.router.add_post("/sandbox/world/chats/{chat}/leave", _leave)
    app.router.add_post("/sandbox/world/faults", _add_fault)
    app.router.add_get("/sandbox/world/calls", _calls)
    # Imported here: that module imports this one.
    from sandbox.world.control_invites import register_invite_control

    register_invite_control(app)
