"""Control API for invite links, join requests and migrations (`sandbox.world.invites`).

POST /sandbox/world/chats/{chat}/invites        {"request_needed"?, "expired"?, "hash"?}
      -> {"hash", "link", "request_needed", "expired"}
GET  /sandbox/world/chats/{chat}/join-requests  -> {"requests": [user id, ...]}
POST /sandbox/world/chats/{chat}/join-requests/{user}/approve
POST /sandbox/world/chats/{chat}/migrate        {"new_id"} -> {"migrated_to"}
"""

from __future__ import annotations

import re

from aiohttp import web

from sandbox.world.control import (
    WORLD,
    _answers_errors,
    _body,
    _chat_ref,
    _flag,
    _invalid,
    _path_id,
    _peer_id,
    _semantic,
)
from sandbox.world.invites import approve, invites_of, make_invite, migrate

_HASH = re.compile(r"[A-Za-z0-9_-]{4,64}")


@_answers_errors
async def _new_invite(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    chat = _semantic(lambda: world.find_chat(_chat_ref(request.match_info["chat"])))
    body = await _body(request, {"request_needed", "expired", "hash"}, set())
    raw_hash = body.get("hash")
    if raw_hash is not None and not (isinstance(raw_hash, str) and _HASH.fullmatch(raw_hash)):
        raise _invalid("hash: 4-64 letters, digits, - or _")
    invite = _semantic(
        lambda: make_invite(
            world,
            chat,
            request_needed=bool(_flag(body, "request_needed", "body")),
            expired=bool(_flag(body, "expired", "body")),
            hash_=raw_hash,
        )
    )
    return web.json_response(
        {
            "hash": invite.hash,
            "link": invite.link,
            "request_needed": invite.request_needed,
            "expired": invite.expired(world.now()),
        }
    )


@_answers_errors
async def _join_requests(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    chat = _semantic(lambda: world.find_chat(_chat_ref(request.match_info["chat"])))
    return web.json_response({"requests": list(invites_of(world).requests.get(chat.id, {}))})


@_answers_errors
async def _approve(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    chat = _semantic(lambda: world.find_chat(_chat_ref(request.match_info["chat"])))
    user_id = _path_id(request.match_info["user"], "user id")
    _semantic(lambda: approve(world, chat, user_id))
    return web.json_response({"ok": True, "member_count": len(chat.members)})


@_answers_errors
async def _migrate(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    chat = _semantic(lambda: world.find_chat(_chat_ref(request.match_info["chat"])))
    body = await _body(request, {"new_id"}, {"new_id"})
    new_id = _peer_id(body["new_id"], "new_id")
    new = _semantic(lambda: migrate(world, chat, new_id))
    return web.json_response({"migrated_to": new.id})


def register_invite_control(app: web.Application) -> None:
    app.router.add_post("/sandbox/world/chats/{chat}/invites", _new_invite)
    app.router.add_get("/sandbox/world/chats/{chat}/join-requests", _join_requests)
    app.router.add_post("/sandbox/world/chats/{chat}/join-requests/{user}/approve", _approve)
    app.router.add_post("/sandbox/world/chats/{chat}/migrate", _migrate)
