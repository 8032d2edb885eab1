"""The world over loopback HTTP: MTProto transport for other processes, plus its control API.

A sender in another process (`sandbox.world.client.RemoteSender`) opens a connection, posts
each serialized request to `/sandbox/mtproto/invoke` and long-polls
`/sandbox/mtproto/updates`. Request and result bodies are the raw TL bytes; an RPC error
comes back as JSON `{"rpc_error": {"code", "message"}}`.
"""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from sandbox.botapi import BOT_API_STATE, ChatUser
from sandbox.control import ControlError
from sandbox.world.control import WORLD, register_world_control
from sandbox.world.errors import RpcFailure
from sandbox.world.model import DEFAULT_DC
from sandbox.world.world import UnknownAuthKey, UnknownConnection, World

MAX_POLL_S = 30.0


def _connection_id(request: web.Request) -> str:
    connection_id = request.query.get("connection", "")
    if not connection_id:
        raise ControlError(400, "invalid_input", "connection is required")
    return connection_id


def _unknown(connection_id: str) -> web.Response:
    return ControlError(404, "not_found", f"no open connection {connection_id!r}").response()


async def _connect(request: web.Request) -> web.Response:
    try:
        body = await request.json()
        raw = body.get("auth_key") if isinstance(body, dict) else None
        auth_key = base64.b64decode(raw, validate=True) if raw else None
        dc = body.get("dc_id", DEFAULT_DC) if isinstance(body, dict) else DEFAULT_DC
        if type(dc) is not int:
            return ControlError(400, "invalid_input", "dc_id must be an integer").response()
        connection_id, key = request.app[WORLD].open_connection(auth_key, remote=True, dc=dc)
    except UnknownAuthKey as error:
        return ControlError(404, "auth_key_unknown", str(error)).response()
    except (ValueError, binascii.Error) as error:
        return ControlError(400, "invalid_input", f"bad connect request: {error}").response()
    return web.json_response(
        {"connection": connection_id, "auth_key": base64.b64encode(key).decode()}
    )


async def _invoke(request: web.Request) -> web.Response:
    try:
        connection_id = _connection_id(request)
    except ControlError as error:
        return error.response()
    data = await request.read()
    try:
        result = request.app[WORLD].invoke(connection_id, data)
    except UnknownConnection:
        return _unknown(connection_id)
    except RpcFailure as failure:
        return web.json_response({"rpc_error": {"code": failure.code, "message": failure.message}})
    return web.Response(body=result, content_type="application/octet-stream")


async def _updates(request: web.Request) -> web.Response:
    try:
        connection_id = _connection_id(request)
        timeout = min(max(float(request.query.get("timeout", "0")), 0.0), MAX_POLL_S)
    except ControlError as error:
        return error.response()
    except ValueError:
        return ControlError(400, "invalid_input", "timeout must be a number").response()

    def gone() -> bool:
        transport = request.transport
        return transport is None or transport.is_closing()

    try:
        batch = await request.app[WORLD].wait_updates(connection_id, timeout, gone)
    except UnknownConnection:
        return _unknown(connection_id)
    return web.json_response({"updates": [base64.b64encode(u).decode() for u in batch]})


async def _disconnect(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        body = None
    connection_id = body.get("connection") if isinstance(body, dict) else None
    if not isinstance(connection_id, str):
        return ControlError(400, "invalid_input", "connection is required").response()
    request.app[WORLD].close_connection(connection_id)
    return web.json_response({"ok": True})


async def _drop_connections(app: web.Application) -> None:
    app[WORLD].drop_remote_connections()


def register_world(app: web.Application, world: World) -> None:
    """Serve `world` on this app: the MTProto transport and the /sandbox/world control API.

    The person chatting with the bot through /sandbox/chat becomes a user of the world too
    (same id, name and username), so the account they link is the one they are.
    """
    app[WORLD] = world
    app.router.add_post("/sandbox/mtproto/connect", _connect)
    app.router.add_post("/sandbox/mtproto/invoke", _invoke)
    app.router.add_get("/sandbox/mtproto/updates", _updates)
    app.router.add_post("/sandbox/mtproto/disconnect", _disconnect)
    register_world_control(app)
    if BOT_API_STATE in app:

        def seen(user: ChatUser) -> None:
            world.see_chat_user(user.id, user.username, user.first_name)

        app[BOT_API_STATE].on_user_seen = seen
    app.on_shutdown.append(_drop_connections)
