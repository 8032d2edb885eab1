"""Finding people and chats: users.getUsers/getFullUser, usernames, global search.

Every user and chat in an answer carries the access hash for the asking account only.
"""

from __future__ import annotations

from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.world import render
from sandbox.world.errors import RpcFailure
from sandbox.world.model import USERNAME_RE, WorldChat, WorldUser
from sandbox.world.rpc import Call, Routes

ROUTES = Routes()
SEARCH_LIMIT = 100


@ROUTES.on(fn.users.GetUsersRequest)
def get_users(call: Call, request: fn.users.GetUsersRequest) -> list[tt.User]:
    found = []
    for inp in request.id:
        try:
            user = call.user(inp)
        except RpcFailure:
            continue  # Telegram leaves out users this account has no valid hash for
        found.append(render.user(call.world, user, call.viewer))
    return found


@ROUTES.on(fn.users.GetFullUserRequest)
def get_full_user(call: Call, request: fn.users.GetFullUserRequest) -> tt.users.UserFull:
    user = call.user(request.id)
    common = sum(
        1 for c in call.world.chats.values() if user.id in c.members and call.viewer in c.members
    )
    return tt.users.UserFull(
        full_user=tt.UserFull(
            id=user.id,
            settings=tt.PeerSettings(),
            notify_settings=tt.PeerNotifySettings(),
            common_chats_count=common,
        ),
        chats=[],
        users=[render.user(call.world, user, call.viewer)],
    )


@ROUTES.on(fn.contacts.ResolveUsernameRequest)
def resolve_username(
    call: Call, request: fn.contacts.ResolveUsernameRequest
) -> tt.contacts.ResolvedPeer:
    if not USERNAME_RE.fullmatch(request.username):
        raise RpcFailure("USERNAME_INVALID")
    peer = call.world.find_peer(request.username)
    if isinstance(peer, WorldUser) and not peer.deleted:
        return tt.contacts.ResolvedPeer(
            peer=tt.PeerUser(peer.id), chats=[], users=[render.user(call.world, peer, call.viewer)]
        )
    if isinstance(peer, WorldChat):
        return tt.contacts.ResolvedPeer(
            peer=render.peer_of(peer), chats=[render.chat(call.world, peer, call.viewer)], users=[]
        )
    raise RpcFailure("USERNAME_NOT_OCCUPIED")


def _matches(query: str, *texts: str | None) -> bool:
    return any(query in text.casefold() for text in texts if text)


@ROUTES.on(fn.contacts.SearchRequest)
def search(call: Call, request: fn.contacts.SearchRequest) -> tt.contacts.Found:
    """Chats and users whose title, name or username contains the query.

    Chats the account is in come as my_results (public or not); others only when public.
    """
    query = request.q.strip().casefold()
    if not query:
        raise RpcFailure("QUERY_TOO_SHORT")
    limit = max(0, min(request.limit, SEARCH_LIMIT))
    mine: list[WorldChat] = []
    public: list[WorldChat] = []
    for chat in call.world.chats.values():
        if not _matches(query, chat.title, chat.username):
            continue
        if call.viewer in chat.members:
            mine.append(chat)
        elif chat.username is not None:
            public.append(chat)
    people = [
        u
        for u in call.world.users.values()
        if u.username
        and not u.deleted
        and u.id != call.viewer
        and _matches(query, u.username, f"{u.first_name} {u.last_name or ''}")
    ]
    mine, public, people = mine[:limit], public[:limit], people[: max(0, limit - len(public))]
    return tt.contacts.Found(
        my_results=[render.peer_of(c) for c in mine],
        results=[render.peer_of(c) for c in public] + [tt.PeerUser(u.id) for u in people],
        chats=[render.chat(call.world, c, call.viewer) for c in mine + public],
        users=[render.user(call.world, u, call.viewer) for u in people],
    )


@ROUTES.on(fn.channels.GetChannelsRequest)
def get_channels(call: Call, request: fn.channels.GetChannelsRequest) -> tt.messages.Chats:
    return tt.messages.Chats(
        chats=[render.chat(call.world, call.channel(inp), call.viewer) for inp in request.id]
    )


@ROUTES.on(fn.messages.GetChatsRequest)
def get_chats(call: Call, request: fn.messages.GetChatsRequest) -> tt.messages.Chats:
    return tt.messages.Chats(
        chats=[render.chat(call.world, call.basic_group(i), call.viewer) for i in request.id]
    )
