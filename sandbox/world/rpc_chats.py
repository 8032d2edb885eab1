"""Chats and their members: full info, participant lists, membership checks and invites.

Faithful where the product depends on it (DESIGN §6, §7): participant lists page by offset
and stop at Telegram's 10,000 cap; broadcast subscriber lists are for admins only and a
hidden member list shows non-admins nothing but admins and bots; invites need the
invite_users right and answer per invitee the way Telegram does, including the soft failure
where the call succeeds and the user comes back in `missing_invitees`; a broadcast channel
takes at most 200 members added by admins.
"""

from __future__ import annotations

import logging
import secrets

from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.world import render
from sandbox.world.errors import RpcFailure
from sandbox.world.model import Membership, WorldChat, WorldUser
from sandbox.world.rpc import Call, Routes

log = logging.getLogger(__name__)

ROUTES = Routes()
PARTICIPANTS_CAP = 10_000
"""Telegram never lists more members than this through getParticipants, whatever the paging."""
PARTICIPANTS_PAGE_MAX = 200
BROADCAST_ADD_CAP = 200
"""Admins may add people to a broadcast channel only while it has fewer than 200 members,
whoever brought them: "After 200 members you can't add any more readers by yourself"
(tdesktop#1597, from Telegram's desktop team); a channel of 150 took only 50 more
(Telethon#1434); "allowed add member count = 200 - channel members" (MadelineProto#285)."""
BASIC_GROUP_MAX = 200
INVITE_BATCH_MAX = 200

_OUTCOME_ERRORS = {
    "privacy": "USER_PRIVACY_RESTRICTED",
    "not_mutual": "USER_NOT_MUTUAL_CONTACT",
    "too_many_channels": "USER_CHANNELS_TOO_MUCH",
    "deactivated": "INPUT_USER_DEACTIVATED",
}


def _is_admin(chat: WorldChat, user_id: int) -> bool:
    return chat.rights_of(user_id) is not None


def _name_matches(user: WorldUser, query: str) -> bool:
    """Telegram's member search: a name word or the username starts with the query."""
    if user.deleted:
        return False
    words = f"{user.first_name} {user.last_name or ''}".casefold().split()
    full = " ".join(words)
    return (
        full.startswith(query)
        or any(word.startswith(query) for word in words)
        or (user.username or "").casefold().startswith(query)
    )


def _admin_ids(chat: WorldChat) -> list[int]:
    admins = [chat.creator] if chat.creator in chat.members else []
    return admins + [i for i in chat.members if i in chat.admins and i != chat.creator]


# ---- supergroups and broadcast channels -------------------------------------------------
@ROUTES.on(fn.channels.GetFullChannelRequest)
def get_full_channel(
    call: Call, request: fn.channels.GetFullChannelRequest
) -> tt.messages.ChatFull:
    chat = call.readable(call.channel(request.channel))
    admin = _is_admin(chat, call.viewer)
    linked = call.world.chats.get(chat.linked_chat) if chat.linked_chat is not None else None
    full = tt.ChannelFull(
        id=chat.id,
        about="",
        read_inbox_max_id=0,
        read_outbox_max_id=0,
        unread_count=0,
        chat_photo=tt.PhotoEmpty(id=0),
        notify_settings=tt.PeerNotifySettings(),
        bot_info=[],
        pts=1,
        can_view_participants=admin or not (chat.broadcast or chat.hidden_members) or None,
        participants_hidden=chat.hidden_members or None,
        participants_count=len(chat.members),
        admins_count=len(_admin_ids(chat)),
        linked_chat_id=chat.linked_chat,
    )
    chats = [render.chat(call.world, c, call.viewer) for c in (chat, linked) if c is not None]
    return tt.messages.ChatFull(full_chat=full, chats=chats, users=[])


@ROUTES.on(fn.channels.GetParticipantsRequest)
def get_participants(
    call: Call, request: fn.channels.GetParticipantsRequest
) -> tt.channels.ChannelParticipants:
    chat = call.readable(call.channel(request.channel))
    admin = _is_admin(chat, call.viewer)
    kind = request.filter
    if isinstance(kind, tt.ChannelParticipantsAdmins):
        ids = _admin_ids(chat)
    else:
        if chat.broadcast and not admin:
            raise RpcFailure("CHAT_ADMIN_REQUIRED")
        newest_first = list(reversed(chat.members))
        if chat.hidden_members and not admin:
            # A hidden member list shows non-admins only the admins and bots.
            users = call.world.users
            newest_first = [i for i in newest_first if i in _admin_ids(chat) or users[i].bot]
        if isinstance(kind, tt.ChannelParticipantsRecent):
            ids = newest_first
        elif isinstance(kind, (tt.ChannelParticipantsSearch, tt.ChannelParticipantsMentions)):
            query = (kind.q or "").strip().casefold()
            users = call.world.users
            ids = [i for i in newest_first if not query or _name_matches(users[i], query)]
        elif isinstance(kind, tt.ChannelParticipantsBots):
            ids = [i for i in newest_first if call.world.users[i].bot]
        elif isinstance(
            kind,
            (
                tt.ChannelParticipantsKicked,
                tt.ChannelParticipantsBanned,
                tt.ChannelParticipantsContacts,
            ),
        ):
            ids = []  # nobody is banned and accounts have no contacts in the sandbox
        else:
            name = type(kind).__name__
            log.error("sandbox world: participants filter %s is not simulated", name)
            raise RpcFailure(f"METHOD_NOT_SIMULATED_{name}")
    offset = max(request.offset, 0)
    limit = max(0, min(request.limit, PARTICIPANTS_PAGE_MAX))
    page = ids[:PARTICIPANTS_CAP][offset : offset + limit]
    return tt.channels.ChannelParticipants(
        count=len(ids),
        participants=[render.channel_participant(chat, i, call.viewer) for i in page],
        chats=[],
        users=[render.user(call.world, call.world.users[i], call.viewer) for i in page],
    )


@ROUTES.on(fn.channels.GetParticipantRequest)
def get_participant(
    call: Call, request: fn.channels.GetParticipantRequest
) -> tt.channels.ChannelParticipant:
    chat = call.readable(call.channel(request.channel))
    target = call.peer(request.participant)
    if not isinstance(target, WorldUser):
        raise RpcFailure("PEER_ID_INVALID")
    if (
        target.id != call.viewer
        and (chat.broadcast or chat.hidden_members)
        and not _is_admin(chat, call.viewer)
    ):
        raise RpcFailure("CHAT_ADMIN_REQUIRED")
    if target.id not in chat.members:
        raise RpcFailure("USER_NOT_PARTICIPANT")
    return tt.channels.ChannelParticipant(
        participant=render.channel_participant(chat, target.id, call.viewer),
        chats=[],
        users=[render.user(call.world, target, call.viewer)],
    )


def _check_inviter(chat: WorldChat, me: WorldUser) -> None:
    if me.id not in chat.members:
        raise RpcFailure("CHAT_WRITE_FORBIDDEN")
    if not chat.can_invite(me.id):
        raise RpcFailure("CHAT_ADMIN_REQUIRED")


def _invite(
    call: Call, chat: WorldChat, invitees: list[WorldUser], *, existing: str | None
) -> tt.messages.InvitedUsers:
    """Add users the way Telegram answers: the first hard refusal fails the whole call.

    `existing`: the error for someone already in the chat, or None when the method takes
    them silently (see the callers). The answer's `updates` hold the service message that
    adds the people who were added (`messageActionChatAddUser`): that is what tells a
    client who really joined. A `silent` user makes the call succeed with empty updates and
    nobody added; a `phantom` one gets the service message without being added (both
    reported on real Telegram: Telethon#1451, #3897, #298, tdlib#455, MadelineProto#976).
    """
    me = call.me()
    added: list[WorldUser] = []
    shown: list[int] = []  # named by the service message (a phantom is shown, not added)
    missing: list[int] = []
    for user in invitees:
        if user.id in chat.members:
            if existing is not None:
                raise RpcFailure(existing)
            continue
        if user.deleted:
            raise RpcFailure("INPUT_USER_DEACTIVATED")
        if chat.broadcast and user.bot:
            raise RpcFailure("USER_BOT")
        outcome = user.invite_outcome
        if outcome in _OUTCOME_ERRORS:
            raise RpcFailure(_OUTCOME_ERRORS[outcome])
        if outcome == "missing_invitee":
            missing.append(user.id)
        elif outcome == "phantom":
            shown.append(user.id)
        elif outcome != "silent":
            added.append(user)
            shown.append(user.id)
    if chat.broadcast and len(chat.members) + len(added) > BROADCAST_ADD_CAP:
        raise RpcFailure("USERS_TOO_MUCH")
    if chat.kind == "group" and len(chat.members) + len(added) > BASIC_GROUP_MAX:
        raise RpcFailure("USERS_TOO_MUCH")
    for user in added:
        chat.members[user.id] = Membership(call.now, inviter_id=me.id)
    updates: list[tt.TypeUpdate] = []
    if shown:
        service = tt.MessageService(
            id=chat.next_message_id,
            peer_id=render.peer_of(chat),
            date=call.now,
            action=tt.MessageActionChatAddUser(users=shown),
            from_id=tt.PeerUser(me.id),
        )
        chat.next_message_id += 1
        updates.append(
            tt.UpdateNewChannelMessage(service, pts=chat.next_message_id, pts_count=1)
            if chat.is_channel
            else tt.UpdateNewMessage(service, pts=chat.next_message_id, pts_count=1)
        )
    return tt.messages.InvitedUsers(
        updates=tt.Updates(
            updates=updates,
            users=[render.user(call.world, u, call.viewer) for u in [me, *added]],
            chats=[render.chat(call.world, chat, call.viewer)],
            date=call.now,
            seq=0,
        ),
        missing_invitees=[tt.MissingInvitee(user_id=i) for i in missing],
    )


@ROUTES.on(fn.channels.InviteToChannelRequest)
def invite_to_channel(
    call: Call, request: fn.channels.InviteToChannelRequest
) -> tt.messages.InvitedUsers:
    chat = call.channel(request.channel)
    _check_inviter(chat, call.me())
    if not request.users or len(request.users) > INVITE_BATCH_MAX:
        raise RpcFailure("USERS_TOO_MUCH" if request.users else "USERS_TOO_FEW")
    # channels.inviteToChannel takes people already in the chat without an error
    # (USER_ALREADY_PARTICIPANT is not among its documented errors).
    return _invite(call, chat, [call.user(inp) for inp in request.users], existing=None)


def _membership_updates(call: Call, chat: WorldChat) -> tt.Updates:
    return tt.Updates(
        updates=[],
        users=[],
        chats=[render.chat(call.world, chat, call.viewer)],
        date=call.now,
        seq=0,
    )


@ROUTES.on(fn.channels.JoinChannelRequest)
def join_channel(call: Call, request: fn.channels.JoinChannelRequest) -> tt.Updates:
    chat = call.channel(request.channel)
    me = call.me()
    if me.id in chat.members:
        raise RpcFailure("USER_ALREADY_PARTICIPANT")
    if chat.username is None:
        raise RpcFailure("CHANNEL_PRIVATE")  # private chats are joined through invite links
    chat.members[me.id] = Membership(call.now)
    return _membership_updates(call, chat)


@ROUTES.on(fn.channels.LeaveChannelRequest)
def leave_channel(call: Call, request: fn.channels.LeaveChannelRequest) -> tt.Updates:
    chat = call.channel(request.channel)
    me = call.me()
    if me.id not in chat.members:
        raise RpcFailure("USER_NOT_PARTICIPANT")
    if me.id == chat.creator:
        raise RpcFailure("USER_CREATOR")
    del chat.members[me.id]
    chat.admins.pop(me.id, None)
    return _membership_updates(call, chat)


# ---- basic groups ---------------------------------------------------------------------------
@ROUTES.on(fn.messages.GetFullChatRequest)
def get_full_chat(call: Call, request: fn.messages.GetFullChatRequest) -> tt.messages.ChatFull:
    chat = call.basic_group(request.chat_id)
    if call.viewer in chat.members:
        participants: tt.TypeChatParticipants = tt.ChatParticipants(
            chat_id=chat.id,
            participants=[render.chat_participant(chat, i) for i in chat.members],
            version=1,
        )
        users = [render.user(call.world, call.world.users[i], call.viewer) for i in chat.members]
    else:
        participants, users = tt.ChatParticipantsForbidden(chat_id=chat.id), []
    return tt.messages.ChatFull(
        full_chat=tt.ChatFull(
            id=chat.id,
            about="",
            participants=participants,
            notify_settings=tt.PeerNotifySettings(),
        ),
        chats=[render.chat(call.world, chat, call.viewer)],
        users=users,
    )


@ROUTES.on(fn.messages.AddChatUserRequest)
def add_chat_user(call: Call, request: fn.messages.AddChatUserRequest) -> tt.messages.InvitedUsers:
    chat = call.basic_group(request.chat_id)
    if chat.migrated_to is not None:
        # A basic group that became a supergroup takes no new members (tdlib#819: "Deactivated
        # basic group can't be used to send new messages, nor add new members"); the error is
        # the one messages.addChatUser documents for a chat it cannot use.
        raise RpcFailure("CHAT_ID_INVALID")
    _check_inviter(chat, call.me())
    # messages.addChatUser documents USER_ALREADY_PARTICIPANT.
    return _invite(call, chat, [call.user(request.user_id)], existing="USER_ALREADY_PARTICIPANT")


@ROUTES.on(fn.messages.ExportChatInviteRequest)
def export_chat_invite(
    call: Call, request: fn.messages.ExportChatInviteRequest
) -> tt.ChatInviteExported:
    """A new invite link (the product shares one with users its invites could not add).

    Links are not tracked: joining through them is not simulated.
    """
    chat = call.peer(request.peer)
    if not isinstance(chat, WorldChat):
        raise RpcFailure("PEER_ID_INVALID")
    _check_inviter(chat, call.me())
    return tt.ChatInviteExported(
        link=f"https://t.me/+{secrets.token_urlsafe(12)}",
        admin_id=call.viewer,
        date=call.now,
        expire_date=request.expire_date,
        usage_limit=request.usage_limit,
        title=request.title,
        request_needed=request.request_needed,
        usage=0,
    )
