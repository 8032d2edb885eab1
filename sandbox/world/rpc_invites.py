"""messages.checkChatInvite and messages.importChatInvite over the world's invite links.

Errors as Telegram documents them (core.telegram.org/method/messages.checkChatInvite and
.../messages.importChatInvite; Telethon's rpcerrorlist.py): an unknown link is
INVITE_HASH_INVALID, an expired or revoked one INVITE_HASH_EXPIRED; a link that asks for
approval files a join request and answers INVITE_REQUEST_SENT; an account in the chat
already gets USER_ALREADY_PARTICIPANT from importChatInvite and chatInviteAlready from
checkChatInvite; an account in too many chats gets CHANNELS_TOO_MUCH.
"""

from __future__ import annotations

from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.world import render
from sandbox.world.errors import RpcFailure
from sandbox.world.invites import WorldInvite, invites_of
from sandbox.world.model import Membership, WorldChat
from sandbox.world.rpc import Call, Routes

ROUTES = Routes()


def _invite(call: Call, raw_hash: str) -> tuple[WorldInvite, WorldChat]:
    if not raw_hash:
        raise RpcFailure("INVITE_HASH_EMPTY")
    invite = invites_of(call.world).links.get(raw_hash)
    if invite is None:
        raise RpcFailure("INVITE_HASH_INVALID")
    if invite.expired(call.now):
        raise RpcFailure("INVITE_HASH_EXPIRED")
    chat = call.world.chats[invite.chat_id]
    return invite, chat


@ROUTES.on(fn.messages.CheckChatInviteRequest)
def check_chat_invite(call: Call, request: fn.messages.CheckChatInviteRequest) -> tt.TypeChatInvite:
    invite, chat = _invite(call, request.hash)
    if call.viewer in chat.members:
        return tt.ChatInviteAlready(chat=render.chat(call.world, chat, call.viewer))
    return tt.ChatInvite(
        title=chat.title,
        photo=tt.PhotoEmpty(id=0),
        participants_count=len(chat.members),
        color=0,
        channel=chat.is_channel or None,
        broadcast=chat.broadcast or None,
        megagroup=chat.kind == "megagroup" or None,
        public=chat.username is not None or None,
        request_needed=invite.request_needed or None,
    )


@ROUTES.on(fn.messages.ImportChatInviteRequest)
def import_chat_invite(call: Call, request: fn.messages.ImportChatInviteRequest) -> tt.Updates:
    invite, chat = _invite(call, request.hash)
    me = call.me()
    if me.id in chat.members:
        raise RpcFailure("USER_ALREADY_PARTICIPANT")
    if me.invite_outcome == "too_many_channels" and chat.is_channel:
        # The same cap that refuses invites of this person refuses their own joins:
        # CHANNELS_TOO_MUCH "You have joined too many channels/supergroups".
        raise RpcFailure("CHANNELS_TOO_MUCH")
    if invite.request_needed:
        invites_of(call.world).requests.setdefault(chat.id, {})[me.id] = call.now
        raise RpcFailure("INVITE_REQUEST_SENT")
    chat.members[me.id] = Membership(call.now)
    return tt.Updates(
        updates=[],
        users=[],
        chats=[render.chat(call.world, chat, call.viewer)],
        date=call.now,
        seq=0,
    )
