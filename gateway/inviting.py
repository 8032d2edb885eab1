"""Inviting with a linked account: resolving the target, rights, invites, membership checks."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from telethon import functions, types

from core import campaigns as cg
from core import telegram as tg
from core.campaign_service import CHANNEL_REF_PREFIX, INVITE_REF_PREFIX
from core.validation import is_number
from gateway.errors import reading_chat, translated
from gateway.joining import JoinRequested
from gateway.reading import AccountClient

_LONG_AGO = datetime(2013, 8, 14, tzinfo=UTC)  # Telegram's first day: "joined before anything"
DIALOGS_PAGE = 100  # messages.getDialogs answers at most 100 dialogs a call


@dataclass(frozen=True, slots=True)
class DialogChat:
    """A group or channel of one account's dialogs, as that account sees it."""

    chat: cg.TargetChat
    members: int | None
    rights: cg.ChatRights


def dialog_chat(chat: Any) -> DialogChat | None:
    """What a `Chat` or `Channel` of a dialogs answer says about the account that asked.

    `creator`, `admin_rights` (core.telegram.org/constructor/channel, /constructor/chat) are
    the asker's own; `left` means it is no longer in a channel, and a basic group that became
    a supergroup (`migrated_to`) or was `deactivated` takes nobody. In a basic group every
    member may add people unless `default_banned_rights.invite_users` forbids it
    (core.telegram.org/constructor/chatBannedRights).
    """
    if isinstance(chat, types.Channel):
        if chat.left:
            return None
        kind = "channel" if chat.broadcast else "megagroup"
        target = cg.TargetChat(chat.id, kind, chat.title, chat.username, chat.access_hash)
        admin = chat.admin_rights is not None
        can_invite = bool(chat.creator or (chat.admin_rights and chat.admin_rights.invite_users))
        rights = cg.ChatRights(
            member=True,
            creator=bool(chat.creator),
            admin=bool(chat.creator) or admin,
            can_invite=can_invite,
        )
        return DialogChat(target, chat.participants_count, rights)
    if isinstance(chat, types.Chat):
        if chat.left or chat.deactivated or chat.migrated_to is not None:
            return None
        banned = chat.default_banned_rights
        admin = bool(chat.creator) or chat.admin_rights is not None
        can_invite = admin or not (banned and banned.invite_users)
        rights = cg.ChatRights(
            member=True, creator=bool(chat.creator), admin=admin, can_invite=can_invite
        )
        return DialogChat(
            cg.TargetChat(chat.id, "group", chat.title, None), chat.participants_count, rights
        )
    return None


class Inviter:
    """Invites into one target chat with one account's connected client (inside its lease).

    Access hashes are per account: a person is addressed with the hash the inviting account
    saw, or resolved by username with this account; a channel is resolved by this account.
    """

    def __init__(self, account: AccountClient) -> None:
        self._client = account._client
        self._channels: dict[int, int] = {}
        self._users: dict[int, int] = {}
        self._me: int | None = None  # this account's own id, asked once per client

    async def resolve_target(self, ref: str | int) -> cg.TargetChat:
        """The chat behind a stored target (`core.campaign_service.parse_target`), as this
        account addresses it (access hashes are per account, core.telegram.org/api/peers):

        - a public username: resolved;
        - `+<hash>`, an invite link: `messages.checkChatInvite` answers `chatInviteAlready`
          with the chat (and this account's hash) when the account is in it, `chatInvite`
          (a preview) when it is not (core.telegram.org/method/messages.checkChatInvite);
        - `-100<id>`, a supergroup or channel: found in this account's dialogs;
        - `<id>`: a chat of this account's dialogs, else a basic group by id.

        Raises `SourceNotFound` (no such chat), `NotAMember` (a link to a chat this account
        is not in), `NotAGroup` (a person), `NoAccess`.
        """
        text = str(ref)
        if text.startswith(INVITE_REF_PREFIX):
            return await self._by_invite(text[len(INVITE_REF_PREFIX) :])
        if text.startswith(CHANNEL_REF_PREFIX) and is_number(text[len(CHANNEL_REF_PREFIX) :]):
            found = await self.in_dialogs(int(text[len(CHANNEL_REF_PREFIX) :]), channel=True)
            if found is None:
                # Without a dialog this account has no access hash for the channel: it is
                # not in it, or no such channel exists (an id alone does not tell which).
                raise tg.SourceNotFound("CHANNEL_NOT_IN_DIALOGS")
            return found
        if isinstance(ref, int) or is_number(text.lstrip("-")):
            chat_id = abs(int(text))
            found = await self.in_dialogs(chat_id)
            if found is not None:
                return found
            with reading_chat():
                full = await self._client(functions.messages.GetFullChatRequest(chat_id))
            chat = next((c for c in full.chats if c.id == chat_id), None)
            moved = getattr(chat, "migrated_to", None)
            if isinstance(moved, types.InputChannel):
                return await self._migrated(chat_id, moved)
            return cg.TargetChat(chat_id, "group", getattr(chat, "title", "") or "", None)
        with reading_chat():
            resolved = await self._client(
                functions.contacts.ResolveUsernameRequest(text.lstrip("@"))
            )
        peer = resolved.peer
        if isinstance(peer, types.PeerUser):
            raise tg.NotAGroup("PEER_IS_USER")
        if isinstance(peer, types.PeerChat):
            return await self.resolve_target(peer.chat_id)
        channel = next((c for c in resolved.chats if c.id == peer.channel_id), None)
        if not isinstance(channel, types.Channel):
            raise tg.NoAccess("CHANNEL_FORBIDDEN")
        return self._keep(channel)

    async def _migrated(self, old_id: int, moved: types.InputChannel) -> cg.TargetChat:
        """The supergroup a basic group became: `migrated_to` names it with this account's
        access hash (core.telegram.org/constructor/chat); the old group is deactivated for
        good and takes no new members ("Deactivated basic group can't be used to send new
        messages, nor add new members", tdlib#819)."""
        with reading_chat():
            answer = await self._client(functions.channels.GetChannelsRequest([moved]))
        channel = next((c for c in answer.chats if c.id == moved.channel_id), None)
        if not isinstance(channel, types.Channel):
            raise tg.NoAccess("CHANNEL_PRIVATE")
        return replace(self._keep(channel), migrated_from=old_id)

    def _keep(self, channel: types.Channel) -> cg.TargetChat:
        self._channels[channel.id] = channel.access_hash
        kind = "channel" if channel.broadcast else "megagroup"
        return cg.TargetChat(channel.id, kind, channel.title, channel.username, channel.access_hash)

    async def _by_invite(self, invite_hash: str) -> cg.TargetChat:
        try:
            with translated():
                answer = await self._client(functions.messages.CheckChatInviteRequest(invite_hash))
        except tg.TelegramError as exc:
            # core.telegram.org/method/messages.checkChatInvite: INVITE_HASH_EMPTY,
            # INVITE_HASH_EXPIRED, INVITE_HASH_INVALID (400) — a link that leads nowhere.
            if exc.rpc.startswith("INVITE_HASH_"):
                raise tg.SourceNotFound(exc.rpc) from exc
            raise
        if isinstance(answer, types.ChatInviteAlready):
            chat = answer.chat
            if isinstance(chat, types.Channel):
                return self._keep(chat)
            if isinstance(chat, types.Chat):
                if isinstance(chat.migrated_to, types.InputChannel):
                    return await self._migrated(chat.id, chat.migrated_to)
                return cg.TargetChat(chat.id, "group", chat.title, None)
            raise tg.NoAccess("CHAT_FORBIDDEN")
        # chatInvite: a preview for someone not in the chat; chatInvitePeek: a short look
        # granted to a non-member (core.telegram.org/constructor/chatInvitePeek).
        raise tg.NotAMember("INVITE_NOT_MEMBER")

    async def dialogs(self, limit: int = DIALOGS_PAGE) -> list[DialogChat]:
        """The groups and channels among this account's newest dialogs: one
        `messages.getDialogs` page (core.telegram.org/method/messages.getDialogs), each chat
        with this account's access hash and its own rights there."""
        with translated():
            answer = await self._client(
                functions.messages.GetDialogsRequest(
                    offset_date=None,
                    offset_id=0,
                    offset_peer=types.InputPeerEmpty(),
                    limit=limit,
                    hash=0,
                )
            )
        found = []
        for chat in getattr(answer, "chats", ()):
            seen = dialog_chat(chat)
            if seen is not None:
                found.append(seen)
                if seen.chat.access_hash is not None:
                    self._channels[seen.chat.chat_id] = seen.chat.access_hash
        return found

    async def in_dialogs(
        self, chat_id: int, *, channel: bool | None = None
    ) -> cg.TargetChat | None:
        """The chat with this id among this account's dialogs (`channel`: only a supergroup
        or channel, only a basic group, or either)."""
        for seen in await self.dialogs():
            is_channel = seen.chat.kind != "group"
            if seen.chat.chat_id == chat_id and (channel is None or channel == is_channel):
                return seen.chat
        return None

    def use(self, chat: cg.TargetChat) -> None:
        """Address a chat this account resolved before (its access hash was kept)."""
        if chat.access_hash is not None:
            self._channels[chat.chat_id] = chat.access_hash

    def _channel(self, chat: cg.TargetChat) -> types.InputChannel:
        access_hash = self._channels.get(chat.chat_id)
        if access_hash is None:
            raise LookupError(f"chat {chat.chat_id} was not resolved by this account")
        return types.InputChannel(chat.chat_id, access_hash)

    async def my_rights(self, chat: cg.TargetChat) -> cg.ChatRights:
        """Whether this account is in the chat, and may add people to it."""
        if chat.kind == "group":
            with reading_chat():
                full = await self._client(functions.messages.GetFullChatRequest(chat.chat_id))
            if self._me is None:
                self._me = (
                    await self._client(functions.users.GetUsersRequest([types.InputUserSelf()]))
                )[0].id
            me = self._me
            rows = getattr(full.full_chat.participants, "participants", [])
            row = next((p for p in rows if p.user_id == me), None)
            if row is None:
                return cg.ChatRights(member=False)
            creator = isinstance(row, types.ChatParticipantCreator)
            admin = creator or isinstance(row, types.ChatParticipantAdmin)
            # In a basic group every member may add people unless the chat forbids it.
            return cg.ChatRights(member=True, creator=creator, admin=admin, can_invite=True)
        try:
            with reading_chat():
                answer = await self._client(
                    functions.channels.GetParticipantRequest(
                        self._channel(chat), types.InputPeerSelf()
                    )
                )
        except tg.TelegramError as exc:
            if exc.rpc == "USER_NOT_PARTICIPANT":
                return cg.ChatRights(member=False)
            raise
        row = answer.participant
        if isinstance(row, types.ChannelParticipantCreator):
            return cg.ChatRights(member=True, creator=True, admin=True, can_invite=True)
        if isinstance(row, types.ChannelParticipantAdmin):
            rights = row.admin_rights
            return cg.ChatRights(
                member=True, admin=True, can_invite=bool(rights and rights.invite_users)
            )
        return cg.ChatRights(member=True)

    async def _input_user(
        self, user_id: int, access_hash: int | None, username: str | None
    ) -> types.InputUser:
        """The person as this account may name them: a hash it saw, or its own resolve."""
        if access_hash is None:
            access_hash = self._users.get(user_id)
        if access_hash is None and username:
            with translated():
                resolved = await self._client(functions.contacts.ResolveUsernameRequest(username))
            found = next((u for u in resolved.users if isinstance(u, types.User)), None)
            if found is None or found.id != user_id:
                # The username now belongs to someone else (or nobody): never invite a stranger.
                raise tg.TelegramError("USERNAME_NOT_OCCUPIED")
            access_hash = found.access_hash
            self._users[user_id] = access_hash
        if access_hash is None:
            # An id alone names nobody to Telegram (core.telegram.org/api/peers#access-hash):
            # sent with a zero hash it fails with USER_ID_INVALID and spends the account's quota.
            raise tg.Unreachable("NO_ACCESS_HASH")
        return types.InputUser(user_id, access_hash)

    async def resolve_person(self, username: str) -> tuple[int, int, bool] | None:
        """(id, access hash for this account, is a bot) of the person behind a username;
        None when nobody (or a chat) has it."""
        try:
            with translated():
                resolved = await self._client(
                    functions.contacts.ResolveUsernameRequest(username.lstrip("@"))
                )
        except tg.TelegramError as exc:
            if exc.rpc in ("USERNAME_NOT_OCCUPIED", "USERNAME_INVALID"):
                return None
            raise
        found = next((u for u in resolved.users if isinstance(u, types.User)), None)
        if found is None or not isinstance(resolved.peer, types.PeerUser):
            return None
        self._users[found.id] = found.access_hash
        return found.id, found.access_hash, bool(found.bot)

    async def invite(
        self, chat: cg.TargetChat, user_id: int, access_hash: int | None, username: str | None
    ) -> cg.Sent:
        """Add one person; failures are domain errors (`tg.TelegramError.rpc` names the RPC)."""
        user = await self._input_user(user_id, access_hash, username)
        try:
            with translated():
                if chat.kind == "group":
                    answer = await self._client(
                        functions.messages.AddChatUserRequest(chat.chat_id, user, fwd_limit=0)
                    )
                else:
                    answer = await self._client(
                        functions.channels.InviteToChannelRequest(self._channel(chat), [user])
                    )
        except tg.TelegramError as exc:
            if exc.rpc == "USER_ALREADY_PARTICIPANT":
                return cg.Sent.ALREADY_MEMBER
            raise
        return sent_of(answer, user_id)

    async def joined_at(
        self, chat: cg.TargetChat, user_id: int, access_hash: int | None, username: str | None
    ) -> datetime | None:
        """When the person joined the chat, None when they are not in it: a membership check,
        to resolve an invite whose result was never recorded or not confirmed.

        `channelParticipant` carries the join `date` (core.telegram.org/constructor/
        channelParticipant), as does `chatParticipant`; a creator has none (long before).
        """
        if chat.kind == "group":
            with reading_chat():
                full = await self._client(functions.messages.GetFullChatRequest(chat.chat_id))
            rows = getattr(full.full_chat.participants, "participants", [])
            row = next((p for p in rows if p.user_id == user_id), None)
            return None if row is None else getattr(row, "date", None) or _LONG_AGO
        user = await self._input_user(user_id, access_hash, username)
        peer = types.InputPeerUser(user.user_id, user.access_hash)
        try:
            with translated():
                answer = await self._client(
                    functions.channels.GetParticipantRequest(self._channel(chat), peer)
                )
        except tg.TelegramError as exc:
            if exc.rpc == "USER_NOT_PARTICIPANT":
                return None
            raise
        row = answer.participant
        # Not members, though answered as participants: someone who left
        # (core.telegram.org/constructor/channelParticipantLeft) or was removed by an admin
        # (channelParticipantBanned, whose `left` flag says they are out of the chat).
        if isinstance(row, types.ChannelParticipantLeft) or (
            isinstance(row, types.ChannelParticipantBanned) and row.left
        ):
            return None
        return getattr(row, "date", None) or _LONG_AGO

    async def member_ids(
        self, chat: cg.TargetChat, limit: int, page: int = 200
    ) -> tuple[set[int], bool]:
        """Ids of the chat's members this account can list (newest first, up to `limit`),
        and whether that was all of them. Used by the pre-flight only."""
        if chat.kind == "group":
            with reading_chat():
                full = await self._client(functions.messages.GetFullChatRequest(chat.chat_id))
            rows = getattr(full.full_chat.participants, "participants", [])
            return {p.user_id for p in rows}, True
        seen: set[int] = set()
        offset = 0
        total: int | None = None
        while offset < limit:
            request = functions.channels.GetParticipantsRequest(
                self._channel(chat),
                types.ChannelParticipantsRecent(),
                offset,
                min(page, limit - offset),
                0,
            )
            with reading_chat():
                answer = await self._client(request)
            if (
                not isinstance(answer, types.channels.ChannelParticipants)
                or not answer.participants
            ):
                break
            total = answer.count
            seen.update(
                uid for p in answer.participants if (uid := getattr(p, "user_id", None)) is not None
            )
            offset += len(answer.participants)
            if total is not None and offset >= total:
                break
        return seen, total is None or offset >= total

    async def join(self, chat: cg.TargetChat) -> None:
        """Join a public supergroup or channel: channels.joinChannel, whose errors are
        CHANNELS_TOO_MUCH, CHANNEL_INVALID, CHANNEL_PRIVATE and INVITE_REQUEST_SENT (a group
        that asks its admins to accept newcomers; Telethon's methods.csv). Raises
        `gateway.joining.JoinRequested` for the last; being a member already is no failure."""
        try:
            with translated():
                await self._client(functions.channels.JoinChannelRequest(self._channel(chat)))
        except tg.TelegramError as exc:
            if exc.rpc == "INVITE_REQUEST_SENT":
                raise JoinRequested(exc.rpc) from exc
            if exc.rpc != "USER_ALREADY_PARTICIPANT":
                raise

    async def member_count(self, chat: cg.TargetChat) -> int | None:
        """How many members a supergroup or channel has: `participants_count` of
        channels.getFullChannel (core.telegram.org/constructor/channelFull)."""
        with reading_chat():
            full = await self._client(functions.channels.GetFullChannelRequest(self._channel(chat)))
        return getattr(full.full_chat, "participants_count", None)

    async def invite_link(self, chat: cg.TargetChat) -> str | None:
        """A link the owner can share with the people an invite could not add."""
        peer: Any = (
            types.InputPeerChat(chat.chat_id)
            if chat.kind == "group"
            else types.InputPeerChannel(chat.chat_id, self._channel(chat).access_hash)
        )
        try:
            with translated():
                answer = await self._client(functions.messages.ExportChatInviteRequest(peer))
        except tg.TelegramError:
            return None
        return getattr(answer, "link", None)


def sent_of(answer: Any, user_id: int) -> cg.Sent:
    """What an accepted invite did, read from Telegram's answer.

    `messages.invitedUsers` (core.telegram.org/constructor/messages.invitedUsers) carries the
    `updates` of the call and the `missing_invitees` Telegram would not add. `ADDED`: the
    updates hold the service message adding the person (`messageActionChatAddUser`, the way
    Telethon's own ChatAction event reads an add); `UNCONFIRMED`: they do not — calls that
    succeed with empty updates and nobody added are reported on real Telegram
    (MadelineProto#976, tdlib#324). Neither is final: see `core.campaigns.outcome_of_sent`.
    """
    if any(m.user_id == user_id for m in getattr(answer, "missing_invitees", None) or ()):
        return cg.Sent.MISSING_INVITEE
    updates = getattr(answer, "updates", answer)  # older layers answered `Updates` directly
    for update in getattr(updates, "updates", None) or ():
        message = getattr(update, "message", None)
        action = getattr(message, "action", None)
        if isinstance(action, types.MessageActionChatAddUser) and user_id in action.users:
            return cg.Sent.ADDED
    return cg.Sent.UNCONFIRMED
