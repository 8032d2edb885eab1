"""Messages: group history, channel posts, comment threads, the dialog list, and private
chats with bots (an account writing to @SpamBot and reading its answer).

Paging follows Telegram (newest first; offset_id / offset_date, add_offset, limit, max_id,
min_id), since Telethon's iterators compute their next request from each answer. A channel
post's comments are read through the post (messages.getReplies on the channel) but live in
the linked discussion group as replies to the post's automatic copy.
"""

from __future__ import annotations

import logging
from typing import Any

from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.world import render
from sandbox.world.errors import RpcFailure
from sandbox.world.model import WorldChat, WorldMessage, WorldUser
from sandbox.world.rpc import Call, Routes

log = logging.getLogger(__name__)
ROUTES = Routes()
HISTORY_PAGE_MAX = 100
STATE_PTS = 1
MESSAGE_LENGTH_MAX = 4096
"""help.getConfig's message_length_max, as the world reports it."""


def _page(newest_first: list[WorldMessage], request: Any) -> list[WorldMessage]:
    start = 0
    # An absent date travels as 0 and is read back as 1970-01-01.
    offset_date = (
        request.offset_date if request.offset_date and request.offset_date.timestamp() > 0 else None
    )
    if request.offset_id:
        start = next(
            (n for n, m in enumerate(newest_first) if m.id < request.offset_id), len(newest_first)
        )
    elif offset_date is not None:
        start = next(
            (n for n, m in enumerate(newest_first) if m.date < offset_date), len(newest_first)
        )
    start += request.add_offset
    end = start + max(0, min(request.limit, HISTORY_PAGE_MAX))
    page = newest_first[max(start, 0) : max(end, 0)]
    return [
        m
        for m in page
        if (not request.max_id or m.id < request.max_id)
        and (not request.min_id or m.id > request.min_id)
    ]


def _answer(
    call: Call,
    chat: WorldChat,
    total: list[WorldMessage],
    page: list[WorldMessage],
    *more: WorldChat,
) -> tt.messages.TypeMessages:
    chats, users = render.entities_of(call.world, page, call.viewer, chat, *more)
    rendered = [render.message(call.world, chat, m) for m in page]
    if chat.is_channel:
        return tt.messages.ChannelMessages(
            pts=STATE_PTS, count=len(total), messages=rendered, topics=[], chats=chats, users=users
        )
    if len(page) == len(total):
        return tt.messages.Messages(messages=rendered, topics=[], chats=chats, users=users)
    return tt.messages.MessagesSlice(
        count=len(total), messages=rendered, topics=[], chats=chats, users=users
    )


def _newest_first(messages: Any) -> list[WorldMessage]:
    return sorted(messages, key=lambda m: m.id, reverse=True)


def _private_message(viewer: int, other: int, m: WorldMessage) -> tt.Message:
    """A message of a private chat as `viewer` sees it: the chat is the other person."""
    return tt.Message(
        id=m.id,
        peer_id=tt.PeerUser(other),
        date=m.date,
        message=m.text,
        out=m.sender_id == viewer or None,
        from_id=tt.PeerUser(m.sender_id) if m.sender_id is not None else None,
    )


def _private_history(call: Call, other: WorldUser, request: Any) -> tt.messages.TypeMessages:
    me = call.me()
    chat = call.world.private_chat(me.id, other.id)
    everything = _newest_first(chat.messages.values()) if chat is not None else []
    page = _page(everything, request)
    rendered = [_private_message(me.id, other.id, m) for m in page]
    users = [render.user(call.world, u, call.viewer) for u in (me, other)]
    if len(page) == len(everything):
        return tt.messages.Messages(messages=rendered, topics=[], chats=[], users=users)
    return tt.messages.MessagesSlice(
        count=len(everything), messages=rendered, topics=[], chats=[], users=users
    )


@ROUTES.on(fn.messages.SendMessageRequest)
def send_message(call: Call, request: fn.messages.SendMessageRequest) -> tt.UpdateShortSentMessage:
    """A text message to a bot, in their private chat. Only bots are written to: the product
    talks to @SpamBot and to nobody else (mass messages are a non-goal, DESIGN §10)."""
    me = call.me()
    peer = call.peer(request.peer)
    if not isinstance(peer, WorldUser) or not peer.bot or peer.id == me.id:
        log.error("sandbox world: messages.sendMessage is simulated only to bots")
        raise RpcFailure("METHOD_NOT_SIMULATED_SendMessageRequest", 400)
    if peer.deleted:
        raise RpcFailure("INPUT_USER_DEACTIVATED")
    # Telethon's error list: MESSAGE_EMPTY (400) "Empty or invalid UTF-8 message was sent",
    # MESSAGE_TOO_LONG (400) "Message was too long".
    if not request.message.strip():
        raise RpcFailure("MESSAGE_EMPTY")
    if len(request.message) > MESSAGE_LENGTH_MAX:
        raise RpcFailure("MESSAGE_TOO_LONG")
    sent = call.world.send_private(me, peer, request.message)
    # The world's one constant pts (getState, getDifference): a client never sees a gap.
    return tt.UpdateShortSentMessage(
        id=sent.id, pts=STATE_PTS, pts_count=0, date=sent.date, out=True
    )


@ROUTES.on(fn.messages.GetHistoryRequest)
def get_history(call: Call, request: fn.messages.GetHistoryRequest) -> tt.messages.TypeMessages:
    peer = call.peer(request.peer)
    if isinstance(peer, WorldUser):
        return _private_history(call, peer, request)
    chat = call.readable(peer)
    everything = _newest_first(chat.messages.values())
    return _answer(call, chat, everything, _page(everything, request))


def _thread_of(call: Call, inp: Any, msg_id: int) -> tuple[WorldChat, WorldChat, int]:
    """(chat asked about, discussion group, id of the thread root inside that group)."""
    peer = call.peer(inp)
    if not isinstance(peer, WorldChat) or not peer.is_channel:
        raise RpcFailure("PEER_ID_INVALID")
    chat = call.readable(peer)
    if chat.broadcast:
        group = call.world.chats.get(chat.linked_chat) if chat.linked_chat is not None else None
        root = chat.discussion_copies.get(msg_id)
        if group is None or root is None:
            raise RpcFailure("MSG_ID_INVALID")
        return chat, group, root
    if msg_id not in chat.messages:
        raise RpcFailure("MSG_ID_INVALID")
    return chat, chat, msg_id


@ROUTES.on(fn.messages.GetRepliesRequest)
def get_replies(call: Call, request: fn.messages.GetRepliesRequest) -> tt.messages.TypeMessages:
    chat, group, root = _thread_of(call, request.peer, request.msg_id)
    thread = _newest_first(call.world.thread(group, root))
    return _answer(call, group, thread, _page(thread, request), chat)


@ROUTES.on(fn.messages.GetDiscussionMessageRequest)
def get_discussion_message(
    call: Call, request: fn.messages.GetDiscussionMessageRequest
) -> tt.messages.DiscussionMessage:
    chat, group, root = _thread_of(call, request.peer, request.msg_id)
    thread = call.world.thread(group, root)
    last = thread[-1].id if thread else None
    copy = group.messages[root]
    chats, users = render.entities_of(call.world, [copy], call.viewer, chat, group)
    return tt.messages.DiscussionMessage(
        messages=[render.message(call.world, group, copy)],
        unread_count=0,
        chats=chats,
        users=users,
        max_id=last,
        read_inbox_max_id=last,
        read_outbox_max_id=last,
    )


@ROUTES.on(fn.channels.GetMessagesRequest)
def get_channel_messages(
    call: Call, request: fn.channels.GetMessagesRequest
) -> tt.messages.ChannelMessages:
    chat = call.readable(call.channel(request.channel))
    found: list[WorldMessage] = []
    rendered: list[tt.TypeMessage] = []
    for inp in request.id:
        message = chat.messages.get(inp.id) if isinstance(inp, tt.InputMessageID) else None
        if message is None:
            rendered.append(tt.MessageEmpty(id=getattr(inp, "id", 0)))
        else:
            found.append(message)
            rendered.append(render.message(call.world, chat, message))
    chats, users = render.entities_of(call.world, found, call.viewer, chat)
    return tt.messages.ChannelMessages(
        pts=STATE_PTS, count=len(found), messages=rendered, topics=[], chats=chats, users=users
    )


@ROUTES.on(fn.messages.GetDialogsRequest)
def get_dialogs(call: Call, request: fn.messages.GetDialogsRequest) -> tt.messages.Dialogs:
    """Every chat the account is in, most recent first, in one answer (no paging needed)."""
    me = call.me()
    if request.folder_id:
        return tt.messages.Dialogs(dialogs=[], messages=[], chats=[], users=[])
    mine = [c for c in call.world.chats.values() if me.id in c.members]
    tops: dict[int, WorldMessage | None] = {
        c.id: max(c.messages.values(), key=lambda m: m.id, default=None) for c in mine
    }
    mine.sort(key=lambda c: m.date if (m := tops[c.id]) else c.date, reverse=True)
    # Telethon's TL objects carry no types.
    dialogs: list[Any] = []
    messages: list[Any] = []
    chats: list[Any] = []
    users: dict[int, Any] = {}
    for chat in mine:
        top = tops[chat.id]
        top_id = top.id if top else 0
        dialogs.append(
            tt.Dialog(
                peer=render.peer_of(chat),
                top_message=top_id,
                read_inbox_max_id=top_id,
                read_outbox_max_id=top_id,
                unread_count=0,
                unread_mentions_count=0,
                unread_reactions_count=0,
                unread_poll_votes_count=0,
                notify_settings=tt.PeerNotifySettings(),
            )
        )
        chat_list, user_list = render.entities_of(
            call.world, [top] if top else [], call.viewer, chat
        )
        chats.extend(c for c in chat_list if c.id not in {x.id for x in chats})
        users.update({u.id: u for u in user_list})
        if top is not None:
            messages.append(render.message(call.world, chat, top))
    return tt.messages.Dialogs(
        dialogs=dialogs, messages=messages, chats=chats, users=list(users.values())
    )
