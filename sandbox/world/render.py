"""World state as the TL objects one account sees.

Everything viewer-dependent lives here: access hashes (per account, as in Telegram), `is_self`,
whether the viewer has left a chat, its admin rights, participant kinds, and which phone
numbers are visible. Objects are built fresh per request, so no answer shares state with
the world.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from telethon.tl import types as tt

from sandbox.world.model import ADMIN_RIGHTS, WorldChat, WorldMessage, WorldUser

if TYPE_CHECKING:
    from sandbox.world.world import World

ONLINE_FOR = dt.timedelta(minutes=5)


def rights(names: Iterable[str]) -> tt.ChatAdminRights:
    return tt.ChatAdminRights(**dict.fromkeys(names, True))


def status(user: WorldUser, now: dt.datetime) -> tt.TypeUserStatus | None:
    if user.bot or user.deleted:
        return None
    match user.last_seen:
        case "online":
            return tt.UserStatusOnline(expires=now + ONLINE_FOR)
        case "recently":
            return tt.UserStatusRecently()
        case "week":
            return tt.UserStatusLastWeek()
        case "month":
            return tt.UserStatusLastMonth()
        case _:
            # "Last seen a long time ago" is what an empty status means to clients.
            return tt.UserStatusEmpty()


def user(world: World, u: WorldUser, viewer: int) -> tt.User:
    is_self = u.id == viewer or None
    access_hash = world.user_hash(viewer, u.id)
    if u.deleted:
        return tt.User(id=u.id, is_self=is_self, deleted=True, access_hash=access_hash)
    return tt.User(
        id=u.id,
        is_self=is_self,
        bot=u.bot or None,
        bot_info_version=1 if u.bot else None,
        scam=u.scam or None,
        premium=u.premium or None,
        access_hash=access_hash,
        first_name=u.first_name,
        last_name=u.last_name,
        username=u.username,
        phone=u.phone if is_self else None,
        photo=tt.UserProfilePhoto(photo_id=u.id * 1000 + 1, dc_id=2) if u.photo else None,
        status=status(u, world.now()),
    )


def chat(world: World, c: WorldChat, viewer: int) -> tt.TypeChat:
    member = viewer in c.members
    own_rights = c.rights_of(viewer)
    if not c.is_channel:
        if not member:
            return tt.ChatForbidden(id=c.id, title=c.title)
        return tt.Chat(
            id=c.id,
            title=c.title,
            photo=tt.ChatPhotoEmpty(),
            participants_count=len(c.members),
            date=c.date,
            version=1,
            creator=viewer == c.creator or None,
            admin_rights=rights(own_rights) if own_rights is not None else None,
            # core.telegram.org/constructor/chat: a group that became a supergroup is
            # `deactivated` with `migrated_to` naming the channel (with this viewer's hash).
            deactivated=c.migrated_to is not None or None,
            migrated_to=(
                tt.InputChannel(c.migrated_to, world.chat_hash(viewer, c.migrated_to))
                if c.migrated_to is not None
                else None
            ),
        )
    return tt.Channel(
        id=c.id,
        title=c.title,
        photo=tt.ChatPhotoEmpty(),
        date=c.date,
        creator=viewer == c.creator or None,
        left=not member or None,
        broadcast=c.broadcast or None,
        megagroup=not c.broadcast or None,
        has_link=c.linked_chat is not None or None,
        access_hash=world.chat_hash(viewer, c.id),
        username=c.username,
        admin_rights=rights(own_rights) if own_rights is not None else None,
        participants_count=len(c.members),
    )


def channel_participant(c: WorldChat, user_id: int, viewer: int) -> tt.TypeChannelParticipant:
    joined = c.members[user_id]
    if user_id == c.creator:
        return tt.ChannelParticipantCreator(user_id=user_id, admin_rights=rights(ADMIN_RIGHTS))
    admin = c.admins.get(user_id)
    if admin is not None:
        return tt.ChannelParticipantAdmin(
            user_id=user_id,
            promoted_by=c.creator or user_id,
            date=joined.date,
            admin_rights=rights(admin),
            can_edit=viewer == c.creator or None,
            is_self=user_id == viewer or None,
            inviter_id=joined.inviter_id if user_id == viewer else None,
        )
    if user_id == viewer:
        return tt.ChannelParticipantSelf(
            user_id=user_id, inviter_id=joined.inviter_id or user_id, date=joined.date
        )
    return tt.ChannelParticipant(user_id=user_id, date=joined.date)


def chat_participant(c: WorldChat, user_id: int) -> tt.TypeChatParticipant:
    joined = c.members[user_id]
    if user_id == c.creator:
        return tt.ChatParticipantCreator(user_id=user_id)
    inviter = joined.inviter_id or c.creator or user_id
    if user_id in c.admins:
        return tt.ChatParticipantAdmin(user_id=user_id, inviter_id=inviter, date=joined.date)
    return tt.ChatParticipant(user_id=user_id, inviter_id=inviter, date=joined.date)


def peer_of(c: WorldChat) -> tt.TypePeer:
    return tt.PeerChannel(c.id) if c.is_channel else tt.PeerChat(c.id)


def message(world: World, c: WorldChat, m: WorldMessage) -> tt.Message:
    from_id: tt.TypePeer | None = None
    fwd_from = None
    if m.sender_id is not None:
        from_id = tt.PeerUser(m.sender_id)
    elif m.channel_post is not None:
        channel_id, post_id = m.channel_post
        from_id = tt.PeerChannel(channel_id)
        fwd_from = tt.MessageFwdHeader(
            date=m.date,
            from_id=tt.PeerChannel(channel_id),
            channel_post=post_id,
            saved_from_peer=tt.PeerChannel(channel_id),
            saved_from_msg_id=post_id,
        )
    return tt.Message(
        id=m.id,
        peer_id=peer_of(c),
        date=m.date,
        message=m.text,
        post=c.broadcast or None,
        from_id=from_id,
        fwd_from=fwd_from,
        reply_to=tt.MessageReplyHeader(reply_to_msg_id=m.reply_to) if m.reply_to else None,
        replies=_replies(world, c, m),
    )


def _replies(world: World, c: WorldChat, m: WorldMessage) -> tt.MessageReplies | None:
    if c.broadcast:
        group = world.chats.get(c.linked_chat) if c.linked_chat is not None else None
        copy_id = c.discussion_copies.get(m.id)
        if group is None or copy_id is None:
            return None
        thread = world.thread(group, copy_id)
        return tt.MessageReplies(
            replies=len(thread),
            replies_pts=1,
            comments=True,
            recent_repliers=[tt.PeerUser(r.sender_id) for r in thread[-3:] if r.sender_id] or None,
            channel_id=group.id,
            max_id=thread[-1].id if thread else None,
        )
    if c.is_channel and m.channel_post is not None:
        thread = world.thread(c, m.id)
        return tt.MessageReplies(
            replies=len(thread), replies_pts=1, max_id=thread[-1].id if thread else None
        )
    return None


def entities_of(
    world: World, messages: Iterable[WorldMessage], viewer: int, *chats: WorldChat
) -> tuple[list[tt.TypeChat], list[tt.User]]:
    """The chats and users a list of messages refers to, for the answer's entity lists."""
    user_ids: dict[int, None] = {}
    chat_ids: dict[int, None] = {c.id: None for c in chats}
    for m in messages:
        if m.sender_id is not None:
            user_ids[m.sender_id] = None
        if m.channel_post is not None:
            chat_ids[m.channel_post[0]] = None
    users = [user(world, world.users[i], viewer) for i in user_ids if i in world.users]
    return [chat(world, world.chats[i], viewer) for i in chat_ids if i in world.chats], users
