"""Reading with a linked account: its profile, chats, members, posts, comments, and search.

`AccountClient` wraps one connected client of one account (inside its lease). Access hashes
it learns are this account's only, so it keeps them for itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telethon import TelegramClient, functions, helpers, types
from telethon.sessions import StringSession

from core import telegram as tg
from core.parsing import LastSeen, Person, last_seen_bucket
from core.search import Community
from core.spambot import SPAMBOT_USERNAME, Freeze, freeze_from_app_config
from gateway.errors import reading_chat, translated


def account_info(user: Any) -> tg.AccountInfo:
    return tg.AccountInfo(
        tg_user_id=int(user.id),
        username=user.username,
        first_name=user.first_name or "",
        phone=user.phone,
    )


_STATUS_BUCKETS: dict[type, LastSeen] = {
    types.UserStatusOnline: LastSeen.ONLINE,
    types.UserStatusRecently: LastSeen.RECENTLY,
    types.UserStatusLastWeek: LastSeen.WEEK,
    types.UserStatusLastMonth: LastSeen.MONTH,
    # Telegram shows an empty status as "last seen a long time ago".
    types.UserStatusEmpty: LastSeen.LONG_AGO,
}


def _last_seen(status: Any, now: datetime) -> LastSeen:
    if status is None:
        return LastSeen.UNKNOWN
    if isinstance(status, types.UserStatusOffline):
        return last_seen_bucket(now - status.was_online)
    return _STATUS_BUCKETS.get(type(status), LastSeen.UNKNOWN)


def person_of(user: Any, now: datetime) -> Person | None:
    """A Telethon user as the parser sees it; None for anything that is not a user."""
    if not isinstance(user, types.User):
        return None
    # A `min` user's access hash only works inside the message it came with
    # (core.telegram.org/api/min): never stored as usable.
    access_hash = None if user.min else user.access_hash
    if user.deleted:
        return Person(
            user.id,
            None,
            "",
            None,
            LastSeen.UNKNOWN,
            False,
            False,
            False,
            True,
            False,
            False,
            access_hash,
        )
    photo = user.photo
    # Positional, in Person's field order: this runs once for every member read.
    return Person(
        user.id,
        user.username,
        user.first_name or "",
        user.last_name,
        _last_seen(user.status, now),
        bool(user.premium),
        photo is not None and not isinstance(photo, types.UserProfilePhotoEmpty),
        bool(user.bot),
        False,
        bool(user.scam),
        bool(user.fake),
        access_hash,
    )


def _authors(
    messages: list[Any], users: list[Any], now: datetime, since: datetime | None = None
) -> list[Person]:
    """The distinct people who wrote `messages` (in order), skipping service messages,
    posts signed by a chat, and messages older than `since`."""
    by_id = {u.id: u for u in users}
    seen: set[int] = set()
    people: list[Person] = []
    for message in messages:
        if not isinstance(message, types.Message) or (since is not None and message.date < since):
            continue
        sender = message.from_id
        if not isinstance(sender, types.PeerUser) or sender.user_id in seen:
            continue
        seen.add(sender.user_id)
        found = person_of(by_id.get(sender.user_id), now)
        if found is not None:
            people.append(found)
    return people


class AccountClient:
    """A connected client of one linked account (use inside its lease)."""

    def __init__(self, client: TelegramClient) -> None:
        self._client = client
        # Access hashes of the channels this client resolved: valid for this account only.
        self._channel_hashes: dict[int, int] = {}
        self._basic_groups: dict[int, Any] = {}

    @property
    def telethon(self) -> TelegramClient:
        """The connected Telethon client (for gateway modules that speak to Telegram too)."""
        return self._client

    async def me(self) -> tg.AccountInfo:
        """The account's own profile; `AccountUnauthorized` / `AccountBanned` when it is gone."""
        # A raw call, not `get_me()`: that one swallows every 401 (revoked *and* banned)
        # into None, and the two need different statuses.
        with translated():
            users = await self._client(functions.users.GetUsersRequest([types.InputUserSelf()]))
        if not users or isinstance(users[0], types.UserEmpty):
            raise tg.AccountUnauthorized("NOT_AUTHORIZED")
        return account_info(users[0])

    async def log_out(self) -> None:
        with translated():
            await self._client.log_out()

    def session_string(self) -> str:
        saved: str = StringSession.save(self._client.session)
        return saved

    # --- what Telegram says about the account's standing (the health check) -------------
    async def spambot_reply(self, *, wait_s: float = 6.0, poll_s: float = 1.0) -> str | None:
        """Send `/start` to @SpamBot and return the text of its answer (None: no answer
        within `wait_s`). The rules for reading it are in `core.spambot`.

        Read-only as far as the account's standing goes: one message to Telegram's own bot,
        which limited accounts are sent to (tdesktop links PEER_FLOOD and
        USER_BANNED_IN_CHANNEL to it). A bot answers in its own time, so its private chat is
        read with messages.getHistory a few times until a message newer than ours arrives.
        Raises `TelegramError` (e.g. YOU_BLOCKED_USER when the account blocked the bot: it is
        left blocked) and the account errors.
        """
        with translated():
            resolved = await self._client(
                functions.contacts.ResolveUsernameRequest(SPAMBOT_USERNAME)
            )
        bot_id = getattr(resolved.peer, "user_id", None)
        bot = next(
            (u for u in resolved.users if isinstance(u, types.User) and u.id == bot_id), None
        )
        if bot is None or not bot.bot or bot.access_hash is None:
            raise tg.TelegramError("SPAMBOT_NOT_A_BOT")
        peer = types.InputPeerUser(bot.id, bot.access_hash)
        with translated():
            sent = await self._client(
                functions.messages.SendMessageRequest(
                    peer, "/start", random_id=helpers.generate_random_long()
                )
            )
        after = _sent_message_id(sent)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            await asyncio.sleep(max(0.0, min(poll_s, deadline - loop.time())))
            with translated():
                history = await self._client(
                    functions.messages.GetHistoryRequest(peer, 0, None, 0, 5, 0, 0, 0)
                )
            answers = [
                m
                for m in history.messages
                if isinstance(m, types.Message) and not m.out and m.id > after
            ]
            if answers:
                return max(answers, key=lambda m: m.id).message or ""
            if loop.time() >= deadline:
                return None

    async def freeze_info(self) -> Freeze | None:
        """Whether Telegram froze the account, from help.getAppConfig (core.telegram.org/api/auth,
        "Frozen accounts": after FROZEN_METHOD_INVALID "clients should invoke
        help.getAppConfig" for freeze_since_date, freeze_until_date, freeze_appeal_url).
        The method works for frozen accounts (it is even usable without authorization)."""
        with translated():
            answer = await self._client(functions.help.GetAppConfigRequest(hash=0))
        if not isinstance(answer, types.help.AppConfig):
            return None  # appConfigNotModified: only for a non-zero hash, never sent here
        config = _plain_json(answer.config)
        return freeze_from_app_config(config if isinstance(config, dict) else {})

    # --- reading chats (audience collection) ------------------------------------------
    async def source_exists(self, username: str) -> None:
        """One `contacts.resolveUsername`: raises `SourceNotFound` when no chat or person has
        the username (USERNAME_NOT_OCCUPIED / USERNAME_INVALID), `NotAGroup` when a person
        has it. Whether this account may read the chat is the collection's to find out."""
        with reading_chat():
            resolved = await self._client(functions.contacts.ResolveUsernameRequest(username))
        if isinstance(resolved.peer, types.PeerUser):
            raise tg.NotAGroup("PEER_IS_USER")

    async def resolve_source(self, ref: str | int) -> tg.SourceChat:
        """The chat behind a public username, or a basic group by id (the account must be in it).

        Raises `SourceNotFound` (no such username), `NotAGroup` (the username is a person),
        `NoAccess` (this account cannot read the chat).
        """
        if isinstance(ref, int):
            return await self._basic_group(ref)
        with reading_chat():
            resolved = await self._client(functions.contacts.ResolveUsernameRequest(ref))
        peer = resolved.peer
        if isinstance(peer, types.PeerUser):
            raise tg.NotAGroup("PEER_IS_USER")
        if isinstance(peer, types.PeerChat):
            return await self._basic_group(peer.chat_id)
        channel = next((c for c in resolved.chats if c.id == peer.channel_id), None)
        if not isinstance(channel, types.Channel):
            raise tg.NoAccess("CHANNEL_FORBIDDEN")
        return await self.resolve_channel(channel.id, channel.access_hash)

    async def resolve_channel(self, channel_id: int, access_hash: int) -> tg.SourceChat:
        """A supergroup or channel by id and this account's access hash (a private chat the
        account joined, or the supergroup a basic group became)."""
        self._channel_hashes[channel_id] = access_hash
        inp = types.InputChannel(channel_id, access_hash)
        with reading_chat():
            full = await self._client(functions.channels.GetFullChannelRequest(inp))
        channel = next((c for c in full.chats if c.id == channel_id), None)
        if not isinstance(channel, types.Channel):
            raise tg.NoAccess("CHANNEL_FORBIDDEN")
        info = full.full_chat
        linked = info.linked_chat_id
        for chat in full.chats:
            if isinstance(chat, types.Channel) and chat.id == linked and chat.access_hash:
                self._channel_hashes[chat.id] = chat.access_hash
        admins = await self._admin_ids(channel.id)
        if channel.broadcast and linked in self._channel_hashes:
            admins |= await self._admin_ids(linked)
        return tg.SourceChat(
            chat_id=channel.id,
            kind="channel" if channel.broadcast else "megagroup",
            title=channel.title,
            username=channel.username,
            members_count=info.participants_count,
            linked_chat_id=linked,
            admin_ids=admins,
            members_hidden=bool(getattr(info, "participants_hidden", False)),
            can_view_members=bool(info.can_view_participants),
        )

    async def _basic_group(self, chat_id: int) -> tg.SourceChat:
        with reading_chat():
            full = await self._client(functions.messages.GetFullChatRequest(chat_id))
        chat = next((c for c in full.chats if c.id == chat_id), None)
        moved = getattr(chat, "migrated_to", None)
        if isinstance(moved, types.InputChannel):
            # core.telegram.org/constructor/chat: `migrated_to` names the supergroup this
            # basic group became, with this account's access hash; its members are there.
            return await self.resolve_channel(moved.channel_id, moved.access_hash)
        participants = full.full_chat.participants
        if not isinstance(participants, types.ChatParticipants):
            raise tg.NoAccess("CHAT_PARTICIPANTS_FORBIDDEN")
        self._basic_groups[chat_id] = full
        admins = frozenset(
            p.user_id
            for p in participants.participants
            if isinstance(p, (types.ChatParticipantCreator, types.ChatParticipantAdmin))
        )
        return tg.SourceChat(
            chat_id=chat_id,
            kind="group",
            title=getattr(chat, "title", "") or "",
            username=None,
            members_count=len(participants.participants),
            admin_ids=admins,
        )

    async def _admin_ids(self, channel_id: int) -> frozenset[int]:
        """Best effort: who administers the chat, or nobody when the list is not shown."""
        request = functions.channels.GetParticipantsRequest(
            self._input_channel(channel_id), types.ChannelParticipantsAdmins(), 0, 200, 0
        )
        try:
            with reading_chat():
                answer = await self._client(request)
        except (tg.NoAccess, tg.SourceNotFound):
            return frozenset()
        except tg.FloodWait:
            raise
        except tg.TelegramError:
            return frozenset()
        return frozenset(
            p.user_id for p in getattr(answer, "participants", ()) if hasattr(p, "user_id")
        )

    def _input_channel(self, channel_id: int) -> types.InputChannel:
        access_hash = self._channel_hashes.get(channel_id)
        if access_hash is None:
            raise LookupError(f"chat {channel_id} was not resolved by this account")
        return types.InputChannel(channel_id, access_hash)

    def _input_peer(self, chat: tg.SourceChat) -> Any:
        if chat.kind == "group":
            return types.InputPeerChat(chat.chat_id)
        channel = self._input_channel(chat.chat_id)
        return types.InputPeerChannel(channel.channel_id, channel.access_hash)

    async def participants(
        self, chat: tg.SourceChat, offset: int, limit: int, query: str | None = None
    ) -> tg.PeoplePage:
        """One page of a group's members, newest first (`query`: members whose name or
        username starts with it). A basic group answers with all its members at once."""
        now = datetime.now(UTC)
        if chat.kind == "group":
            full = self._basic_groups.get(chat.chat_id)
            if full is None:
                await self._basic_group(chat.chat_id)
                full = self._basic_groups[chat.chat_id]
            users = {u.id: u for u in full.users}
            rows = full.full_chat.participants.participants
            people = [p for p in (person_of(users.get(r.user_id), now) for r in rows) if p]
            return tg.PeoplePage(people, len(rows), None, total=len(rows))
        flt: Any = (
            types.ChannelParticipantsRecent()
            if query is None
            else types.ChannelParticipantsSearch(query)
        )
        request = functions.channels.GetParticipantsRequest(
            self._input_channel(chat.chat_id), flt, offset, limit, 0
        )
        with reading_chat():
            answer = await self._client(request)
        if not isinstance(answer, types.channels.ChannelParticipants):
            return tg.PeoplePage([], 0, None)
        users = {u.id: u for u in answer.users}
        people = []
        for row in answer.participants:
            user_id = getattr(row, "user_id", None)  # left and banned rows carry a peer instead
            found = person_of(users.get(user_id), now) if user_id is not None else None
            if found is not None:
                people.append(found)
        fetched = len(answer.participants)
        return tg.PeoplePage(
            people, fetched, offset + fetched if fetched else None, total=answer.count
        )

    async def channel_posts(self, chat: tg.SourceChat, offset_id: int, limit: int) -> tg.PostsPage:
        """Posts of a broadcast channel, newest first, with how many comments each has."""
        request = functions.messages.GetHistoryRequest(
            self._input_peer(chat), offset_id, None, 0, limit, 0, 0, 0
        )
        with reading_chat():
            answer = await self._client(request)
        messages = [
            m for m in answer.messages if isinstance(m, (types.Message, types.MessageService))
        ]
        posts = [tg.Post(m.id, _comments(m)) for m in messages if isinstance(m, types.Message)]
        more = len(answer.messages) >= limit and messages
        return tg.PostsPage(posts, messages[-1].id if more else None)

    async def channel_post(self, chat: tg.SourceChat, post_id: int) -> tg.Post | None:
        request = functions.channels.GetMessagesRequest(
            self._input_channel(chat.chat_id), [types.InputMessageID(post_id)]
        )
        with reading_chat():
            answer = await self._client(request)
        message = next((m for m in answer.messages if isinstance(m, types.Message)), None)
        return tg.Post(message.id, _comments(message)) if message is not None else None

    async def comment_authors(
        self, chat: tg.SourceChat, post_id: int, offset_id: int, limit: int
    ) -> tg.PeoplePage:
        """Authors of one page of comments under a channel post, newest comments first."""
        request = functions.messages.GetRepliesRequest(
            self._input_peer(chat), post_id, offset_id, None, 0, limit, 0, 0, 0
        )
        try:
            with reading_chat():
                answer = await self._client(request)
        except tg.TelegramError as exc:
            if exc.rpc == "MSG_ID_INVALID":  # a post without a comment thread
                return tg.PeoplePage([], 0, None, total=0)
            raise
        now = datetime.now(UTC)
        messages = answer.messages
        people = _authors(messages, answer.users, now)
        more = len(messages) >= limit and messages
        return tg.PeoplePage(
            people,
            len(messages),
            messages[-1].id if more else None,
            total=getattr(answer, "count", None),
        )

    async def message_authors(
        self, chat: tg.SourceChat, offset_id: int, limit: int, since: datetime
    ) -> tg.PeoplePage:
        """Authors of one page of a group's history, newest first; the page that reaches
        messages older than `since` is the last one."""
        request = functions.messages.GetHistoryRequest(
            self._input_peer(chat), offset_id, None, 0, limit, 0, 0, 0
        )
        with reading_chat():
            answer = await self._client(request)
        now = datetime.now(UTC)
        messages = answer.messages
        people = _authors(messages, answer.users, now, since)
        dated = [m.date for m in messages if getattr(m, "date", None) is not None]
        oldest = min(dated) if dated else None
        more = len(messages) >= limit and messages and (oldest is None or oldest >= since)
        return tg.PeoplePage(
            people,
            len(messages),
            messages[-1].id if more else None,
            total=getattr(answer, "count", None),
            oldest=oldest,
        )


def _sent_message_id(sent: Any) -> int:
    """The id our message got: messages.sendMessage answers updateShortSentMessage in a
    private chat, or Updates carrying it."""
    if isinstance(sent, types.UpdateShortSentMessage):
        return int(sent.id)
    for update in getattr(sent, "updates", ()):
        if isinstance(update, types.UpdateMessageID):
            return int(update.id)
        if isinstance(update, types.UpdateNewMessage):
            return int(update.message.id)
    return 0


def _plain_json(value: Any) -> Any:
    """A TL JSONValue (help.getAppConfig) as plain Python data."""
    if isinstance(value, types.JsonObject):
        return {item.key: _plain_json(item.value) for item in value.value}
    if isinstance(value, types.JsonArray):
        return [_plain_json(item) for item in value.value]
    if isinstance(value, (types.JsonString, types.JsonNumber, types.JsonBool)):
        return value.value
    return None  # JsonNull


def forget_entities(tlo: Any) -> None:
    """A stand-in for Telethon's `session.process_entities`: bulk reading remembers nobody."""
    return None


def _comments(message: Any) -> int:
    replies = getattr(message, "replies", None)
    return int(replies.replies) if replies is not None and replies.comments else 0


# --- community search ------------------------------------------------------------------------
# One search asks Telegram for little and stays well inside the account lease it runs under:
# a few keyword variants, then the details of the biggest candidates only.
SEARCH_PER_VARIANT = 50  # chats asked per keyword variant
SEARCH_DETAILED = 15  # candidates whose activity is looked at
SEARCH_RECENT_POSTS = 20  # channel posts looked at for comments
SEARCH_THREADS = 2  # comment threads read per channel
SEARCH_RECENT_MESSAGES = 100  # group messages (or comments of a thread) looked at


@dataclass(frozen=True, slots=True)
class CommunityScan:
    """What one account found; `flood_wait_s` is set when Telegram asked it to slow down
    part-way (the rest was left without details) and the account must rest that long."""

    found: list[Community]
    flood_wait_s: int | None = None


_ACCOUNT_GONE = (
    tg.AccountUnauthorized,
    tg.AccountBanned,
)  # AUTH_KEY_DUPLICATED is unauthorized too


async def scan_communities(
    account: AccountClient, variants: list[str], *, budget_s: float = 20.0
) -> CommunityScan:
    """Groups and channels matching any of `variants`, with members and recent activity.

    Groups get their member count and the distinct authors of their latest messages;
    broadcast channels whether they have a discussion group and the distinct authors of
    comments under their latest posts. Candidates past `SEARCH_DETAILED` or `budget_s`
    keep what the search itself showed. Raises `FloodWait` only when nothing was found
    before Telegram asked to slow down, and the account errors (`AccountUnauthorized`, ...).
    """
    # The raw client of this very module: the search is a reading feature of the account.
    client = account._client
    chats: dict[int, Any] = {}
    flood: int | None = None
    for variant in variants:
        try:
            with translated():
                found = await client(functions.contacts.SearchRequest(variant, SEARCH_PER_VARIANT))
        except tg.FloodWait as exc:
            if not chats:
                raise
            flood = exc.seconds
            break
        except _ACCOUNT_GONE:
            raise
        except tg.TelegramError:
            continue  # e.g. a variant Telegram finds too short: the others still count
        for chat in found.chats:
            if _searchable(chat):
                chats.setdefault(chat.id, chat)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    ordered = sorted(
        chats.values(), key=lambda c: (-(getattr(c, "participants_count", None) or 0), c.id)
    )
    results: list[Community] = []
    for n, chat in enumerate(ordered):
        community = _community_of(chat)
        if flood is None and n < SEARCH_DETAILED and loop.time() < deadline:
            try:
                community = await _detailed(client, chat, community)
            except tg.FloodWait as exc:
                flood = exc.seconds
            except _ACCOUNT_GONE:
                raise
            except tg.TelegramError:
                pass  # this chat cannot be read: it keeps what the search showed
        results.append(community)
    return CommunityScan(results, flood)


def _searchable(chat: Any) -> bool:
    if isinstance(chat, types.Channel):
        return True
    return isinstance(chat, types.Chat) and not chat.deactivated and chat.migrated_to is None


def _community_of(
    chat: Any, members: int | None = None, has_discussion: bool = False, commenters: int = 0
) -> Community:
    if isinstance(chat, types.Channel):
        kind = "channel" if chat.broadcast else "megagroup"
    else:
        kind = "group"
    return Community(
        chat_id=int(chat.id),
        username=getattr(chat, "username", None),
        title=chat.title or "",
        kind=kind,
        members=int(
            members if members is not None else getattr(chat, "participants_count", None) or 0
        ),
        has_discussion=has_discussion,
        recent_commenters=commenters,
    )


def _user_senders(messages: list[Any]) -> set[int]:
    return {
        m.from_id.user_id
        for m in messages
        if isinstance(m, types.Message) and isinstance(m.from_id, types.PeerUser)
    }


def _history(peer: Any, limit: int) -> Any:
    return functions.messages.GetHistoryRequest(peer, 0, None, 0, limit, 0, 0, 0)


async def _detailed(client: TelegramClient, chat: Any, community: Community) -> Community:
    if isinstance(chat, types.Chat):
        with reading_chat():
            history = await client(_history(types.InputPeerChat(chat.id), SEARCH_RECENT_MESSAGES))
        return _community_of(
            chat, community.members, commenters=len(_user_senders(history.messages))
        )
    if chat.access_hash is None or getattr(chat, "min", False):
        return community  # seen without a usable access hash: nothing more can be asked
    channel = types.InputChannel(chat.id, chat.access_hash)
    peer = types.InputPeerChannel(chat.id, chat.access_hash)
    with reading_chat():
        full = await client(functions.channels.GetFullChannelRequest(channel))
    info = full.full_chat
    members = info.participants_count or community.members
    if not chat.broadcast:
        with reading_chat():
            history = await client(_history(peer, SEARCH_RECENT_MESSAGES))
        return _community_of(chat, members, commenters=len(_user_senders(history.messages)))
    if info.linked_chat_id is None:
        return _community_of(chat, members)
    with reading_chat():
        history = await client(_history(peer, SEARCH_RECENT_POSTS))
    posts = sorted(
        (m for m in history.messages if isinstance(m, types.Message) and _comments(m) > 0),
        key=_comments,
        reverse=True,
    )
    people: set[int] = set()
    for post in posts:
        people |= {
            p.user_id for p in post.replies.recent_repliers or () if isinstance(p, types.PeerUser)
        }
    for post in posts[:SEARCH_THREADS]:
        request = functions.messages.GetRepliesRequest(
            peer, post.id, 0, None, 0, SEARCH_RECENT_MESSAGES, 0, 0, 0
        )
        try:
            with reading_chat():
                replies = await client(request)
        except tg.FloodWait:
            raise
        except tg.SourceError:
            continue
        except tg.TelegramError as exc:
            if exc.rpc == "MSG_ID_INVALID":
                continue
            raise
        people |= _user_senders(replies.messages)
    return _community_of(chat, members, has_discussion=True, commenters=len(people))
