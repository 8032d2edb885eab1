"""The simulated Telegram world that real `TelegramClient`s talk to (DESIGN §9).

One `World` holds users, chats, authorizations and the RPC pipeline. Clients reach it through
a sender that hands over the serialized request bytes (`sandbox.world.client`), either in the
same process or over loopback HTTP (`sandbox.world.routes`), so several processes share one
world and every request is parsed from the bytes the client produced, as Telegram would.

The pipeline for one request: parse the bytes, unwrap invokeWithLayer/initConnection, log
the call, refuse a second live connection on the same auth key (AUTH_KEY_DUPLICATED), apply
an injected fault if one matches, then route to the handler. A request without a handler
fails loudly with METHOD_NOT_SIMULATED_<Request> instead of pretending to succeed.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import datetime as dt
import hashlib
import hmac
import itertools
import logging
import os
import secrets
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from telethon.crypto import AuthKey
from telethon.errors import TypeNotFoundError
from telethon.extensions import BinaryReader
from telethon.tl import TLObject, TLRequest
from telethon.tl import functions as fn
from telethon.tl import types as tt
from telethon.tl.alltlobjects import tlobjects

from sandbox.world import rpc_auth, rpc_chats, rpc_invites, rpc_messages, rpc_peers, rpc_service
from sandbox.world.errors import RpcFailure, check_injectable, error_code
from sandbox.world.model import (
    ADMIN_RIGHTS,
    CHAT_KINDS,
    CODE_TYPES,
    DC_IDS,
    DEFAULT_DC,
    INVITE_OUTCOMES,
    LAST_SEEN,
    LOGIN_CODE_TTL,
    MAX_PEER_ID,
    PHONE_RE,
    USERNAME_RE,
    CallRecord,
    ChatKind,
    Fault,
    LoginCode,
    LoginToken,
    Membership,
    MessageSpec,
    PostSpec,
    PrivateChat,
    WorldChat,
    WorldMessage,
    WorldUser,
    normalize_phone,
)
from sandbox.world.rpc import Call, Route, named_users
from sandbox.world.srp import SrpVerifier

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

AUTH_KEY_BYTES = 256
REMOTE_GRACE_S = 1.0
"""A loopback connection with no poll in flight counts as open this long after its last use:
Telegram answers AUTH_KEY_DUPLICATED when an authorized session "is sending requests in
parallel from two separate TCP connections" (core.telegram.org/api/errors, 406). A killed
process's TCP connection is closed by its kernel at once; over HTTP the world cannot see
that, so an idle connection stops counting soon after its last request."""
REMOTE_IDLE_DROP_S = 3600.0
"""An idle loopback connection is forgotten only after this long: Telegram keeps an idle
connection open (a client waiting out a pause between two invites still uses its own), and
only a connection nobody has used for an hour is taken to belong to a process that is gone."""
CALL_LOG_LIMIT = 100_000
SEED_SPACING = dt.timedelta(minutes=1)
USER_FIELDS = frozenset(
    {
        "first_name", "last_name", "username", "phone", "bot", "deleted", "scam", "premium",
        "photo", "last_seen", "invite_outcome", "dc", "banned", "code_type",
        "spam_limited_until", "frozen_until",
    }
)  # fmt: skip

SPAMBOT_ID = 178220800
"""@SpamBot's user id on Telegram, as public code that talks to it uses it
(ErdemBey1/SiriUserBot unblocks 178220800; other userbots wait for messages from it)."""
SPAMBOT_FREE = "Good news, no limits are currently applied to your account. You’re free as a bird!"
"""The "no limits" reply as scripts compare it exactly (typographic apostrophe included).
No official list of SpamBot's replies exists; see core/spambot.py for what is known."""
SPAMBOT_LIMITED = (
    "I’m afraid some Telegram users found your messages annoying and forwarded them to our "
    "team. The moderators have confirmed the report and your account is now limited until "
    "{until}."
)
"""Pieced together from the fragments public checkers wait for ("I’m afraid some Telegram
users found your messages annoying...", "...your account is now limited until"), with the
date as their parsers cut it ("until (.*?UTC)"). The full sentence is not confirmed."""
SPAMBOT_LIMITED_FOREVER = (
    "I’m afraid some Telegram users found your messages annoying and forwarded them to our "
    "team. Unfortunately, your account is now limited."
)

_WRAPPERS = (
    fn.InvokeWithLayerRequest,
    fn.InitConnectionRequest,
    fn.InvokeWithoutUpdatesRequest,
    fn.InvokeAfterMsgRequest,
)
_BOOL_TRUE = struct.pack("<I", 0x997275B5)
_BOOL_FALSE = struct.pack("<I", 0xBC799737)
_VECTOR = 0x1CB5C415

_ROUTES: dict[type[TLRequest], Route] = {}
for _module in (rpc_service, rpc_auth, rpc_peers, rpc_chats, rpc_messages, rpc_invites):
    _ROUTES.update(_module.ROUTES.table)

REQUEST_NAMES: dict[str, tuple[type[TLRequest], ...]] = {}
"""Every request class Telethon knows, by "InviteToChannelRequest" and "channels.InviteTo..."."""
for _cls in tlobjects.values():
    if isinstance(_cls, type) and issubclass(_cls, TLRequest):
        _namespace = _cls.__module__.rsplit(".", 1)[-1]
        for _name in {_cls.__name__, f"{_namespace}.{_cls.__name__}"}:
            REQUEST_NAMES[_name] = (*REQUEST_NAMES.get(_name, ()), _cls)


def canonical_method(name: str) -> str:
    """The Telethon request name meant by `name` (the Request suffix may be left out).

    Raises ValueError for a name Telethon does not know.
    """
    candidate = name if name.endswith("Request") else f"{name}Request"
    if candidate not in REQUEST_NAMES:
        raise ValueError(f"unknown TL method {name!r} (e.g. InviteToChannelRequest)")
    return candidate


FROZEN_ALLOWED: frozenset[type[TLRequest]] = frozenset(
    {
        fn.updates.GetStateRequest, fn.updates.GetDifferenceRequest,
        fn.updates.GetChannelDifferenceRequest, fn.users.GetUsersRequest,
        fn.users.GetFullUserRequest, fn.messages.GetDialogsRequest, fn.messages.GetHistoryRequest,
        fn.account.GetPasswordRequest, fn.auth.LogOutRequest,
    }
)  # fmt: skip
"""What a frozen account may still call (help.* needs no login and is always allowed)."""


def _aware(value: Any) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is not None


def _method_matches(pattern: str, request: TLRequest) -> bool:
    return type(request) in REQUEST_NAMES.get(pattern, ())


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def token_from_url(url_or_token: str | bytes) -> bytes:
    """The token bytes of `tg://login?token=...` (base64url without padding)."""
    if isinstance(url_or_token, bytes):
        return url_or_token
    raw = url_or_token.split("token=", 1)[1] if "token=" in url_or_token else url_or_token
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except ValueError:
        raise ValueError("not a tg://login?token=... URL") from None


class UnknownConnection(LookupError):
    """The connection id was never opened here, or it is closed."""


class UnknownAuthKey(LookupError):
    """The auth key belongs to another data centre: this one has never seen it.

    Auth keys are made per DC (Telethon's `_switch_dc`: "auth_key's are associated with a
    server"); Telegram answers an unknown key with the transport error -404, which Telethon
    raises as `AuthKeyNotFound`.
    """


@dataclass(slots=True, eq=False)
class Connection:
    id: str
    key_id: int
    seq: int
    remote: bool
    dc: int = DEFAULT_DC
    updates: list[bytes] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    polls: int = 0
    last_active: float = field(default_factory=time.monotonic)
    closed: bool = False

    def touch(self) -> None:
        self.last_active = time.monotonic()

    def is_open(self) -> bool:
        """Still counts as a client holding this auth key (see REMOTE_GRACE_S)."""
        if self.closed:
            return False
        if not self.remote or self.polls:
            return True
        return time.monotonic() - self.last_active < REMOTE_GRACE_S

    def is_gone(self) -> bool:
        """Closed, or a loopback connection unused for `REMOTE_IDLE_DROP_S`: forgotten."""
        if self.closed:
            return True
        if not self.remote or self.polls:
            return False
        return time.monotonic() - self.last_active > REMOTE_IDLE_DROP_S

    def wake(self) -> None:
        self.arrived.set()
        self.arrived = asyncio.Event()


def encode_result(result: Any) -> bytes:
    """Serialize a handler's answer the way Telegram puts it on the wire."""
    if isinstance(result, bool):
        return _BOOL_TRUE if result else _BOOL_FALSE
    if isinstance(result, TLObject):
        return bytes(result)
    if isinstance(result, list) and all(isinstance(item, TLObject) for item in result):
        return struct.pack("<Ii", _VECTOR, len(result)) + b"".join(bytes(i) for i in result)
    raise TypeError(f"cannot serialize a {type(result).__name__} result")


class World:
    """Users, chats, authorizations and the RPC pipeline of the simulated Telegram.

    Example:
        world = World()
        world.put_user(1001, first_name="Alice", username="alice")
        world.put_chat(2001, "megagroup", "Lounge", username="lounge", members=[1001])
        client = InProcessClientFactory(world)(None)
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.now: Clock = clock or _utc_now
        self.users: dict[int, WorldUser] = {}
        self.chats: dict[int, WorldChat] = {}
        self._usernames: dict[str, tuple[str, int]] = {}
        """Lower-cased username -> ("user" | "chat", id); unique across both, as in Telegram."""
        self._phones: dict[str, int] = {}
        self._secret = secrets.token_bytes(32)
        self.authorizations: dict[int, int] = {}
        """Auth key id -> logged-in user id."""
        self.pending_passwords: dict[int, int] = {}
        """Auth key id -> user id whose login waits for the 2FA password."""
        self.login_tokens: dict[bytes, LoginToken] = {}
        self.key_dcs: dict[int, int] = {}
        """Auth key id -> the data centre that made it (a key works on that DC only)."""
        self.login_codes: list[LoginCode] = []
        """Every code sent, oldest first (a resent code keeps its phone_code_hash)."""
        self.faults: list[Fault] = []
        self.call_log: collections.deque[CallRecord] = collections.deque(maxlen=CALL_LOG_LIMIT)
        self._connections: dict[str, Connection] = {}
        self._connection_seq = itertools.count(1)
        self.private_chats: dict[tuple[int, int], PrivateChat] = {}
        """(lower user id, higher user id) -> their private chat."""
        self.invites: Any = None
        """Invite links and join requests (`sandbox.world.invites`), made on first use."""
        # Telegram's own bot is part of every world, as it is of Telegram.
        self.put_user(SPAMBOT_ID, first_name="SpamBot", username="SpamBot", bot=True)

    # ==== access hashes =====================================================================
    def _hash(self, viewer: int, kind: str, peer: int) -> int:
        digest = hmac.new(self._secret, f"{viewer}:{kind}:{peer}".encode(), hashlib.sha256)
        return int.from_bytes(digest.digest()[:8], "big", signed=True)

    def user_hash(self, viewer: int, user_id: int) -> int:
        """The access hash of a user as shown to account `viewer`: differs per account."""
        return self._hash(viewer, "user", user_id)

    def chat_hash(self, viewer: int, chat_id: int) -> int:
        return self._hash(viewer, "chat", chat_id)

    # ==== seeding ===========================================================================
    def _check_username(
        self,
        username: str | None,
        kind: str,
        owner: int,
        index: Mapping[str, tuple[str, int]] | None = None,
    ) -> str | None:
        if username is None:
            return None
        username = username.removeprefix("@")
        if not USERNAME_RE.fullmatch(username):
            raise ValueError(
                f"username {username!r}: 3-32 letters, digits or _, starting with a letter"
            )
        taken = (self._usernames if index is None else index).get(username.lower())
        if taken is not None and taken != (kind, owner):
            raise ValueError(f"username {username!r} is taken by {taken[0]} {taken[1]}")
        return username

    def _check_new_id(self, peer_id: int, kind: str) -> None:
        if not 0 < peer_id < MAX_PEER_ID:
            raise ValueError(f"id must be between 1 and 2^53, got {peer_id}")
        # Telethon caches users and chats by bare id, so one id cannot be both.
        if kind == "user" and peer_id in self.chats:
            raise ValueError(f"id {peer_id} is already a chat")
        if kind == "chat" and peer_id in self.users:
            raise ValueError(f"id {peer_id} is already a user")

    def put_user(self, user_id: int, **fields: Any) -> WorldUser:
        """Create a user or update the fields given (the others keep their values).

        Fields: first_name, last_name, username, phone, bot, deleted, scam, premium, photo,
        last_seen, invite_outcome, dc (home data centre), banned, code_type (how phone-login
        codes reach the user), spam_limited_until (an aware date-time, "forever" or None:
        what @SpamBot answers), frozen_until (an aware date-time or None: frozen while set).
        Raises ValueError for invalid or conflicting values.
        """
        return self.put_users([{"id": user_id, **fields}])[0]

    def put_users(self, specs: Iterable[Mapping[str, Any]]) -> list[WorldUser]:
        """`put_user` for many users at once: all are checked before any is changed."""
        usernames = dict(self._usernames)
        phones = dict(self._phones)
        checked: list[tuple[int, dict[str, Any]]] = []
        for spec in specs:
            fields = dict(spec)
            user_id = fields.pop("id")
            self._check_new_id(user_id, "user")
            unknown = set(fields) - USER_FIELDS
            if unknown:
                raise ValueError(f"unknown user field(s): {', '.join(sorted(unknown))}")
            current = self.users.get(user_id)
            if "username" in fields:
                fields["username"] = self._check_username(
                    fields["username"], "user", user_id, usernames
                )
                if current is not None and current.username:
                    usernames.pop(current.username.lower(), None)
                if fields["username"]:
                    usernames[fields["username"].lower()] = ("user", user_id)
            if "phone" in fields:
                if current is not None and current.phone:
                    phones.pop(current.phone, None)
                if fields["phone"] is not None:
                    if not PHONE_RE.fullmatch(str(fields["phone"]).replace(" ", "")):
                        raise ValueError(f"phone {fields['phone']!r} is not a phone number")
                    fields["phone"] = normalize_phone(fields["phone"])
                    holder = phones.get(fields["phone"])
                    if holder is not None and holder != user_id:
                        raise ValueError(f"phone {fields['phone']} belongs to user {holder}")
                    phones[fields["phone"]] = user_id
            if fields.get("last_seen", "recently") not in LAST_SEEN:
                raise ValueError(f"last_seen must be one of {', '.join(LAST_SEEN)}")
            if fields.get("invite_outcome", "ok") not in INVITE_OUTCOMES:
                raise ValueError(f"invite_outcome must be one of {', '.join(INVITE_OUTCOMES)}")
            if "dc" in fields and (type(fields["dc"]) is not int or fields["dc"] not in DC_IDS):
                raise ValueError(f"dc must be one of {', '.join(map(str, DC_IDS))}")
            if fields.get("code_type", "app") not in CODE_TYPES:
                raise ValueError(f"code_type must be one of {', '.join(CODE_TYPES)}")
            limited = fields.get("spam_limited_until")
            if limited not in (None, "forever") and not _aware(limited):
                raise ValueError(
                    'spam_limited_until must be a date-time with a time zone, "forever" or null'
                )
            if fields.get("frozen_until") is not None and not _aware(fields["frozen_until"]):
                raise ValueError("frozen_until must be a date-time with a time zone or null")
            if "first_name" in fields:
                if fields["first_name"] is None:
                    del fields["first_name"]
                elif not fields["first_name"].strip():
                    raise ValueError("first_name must not be blank")
            checked.append((user_id, fields))
        out = []
        for user_id, fields in checked:
            user = self.users.get(user_id)
            if user is None:
                user = self.users[user_id] = WorldUser(user_id, first_name=f"User {user_id}")
            if "frozen_until" in fields:
                frozen = fields["frozen_until"] is not None
                if not frozen:
                    user.frozen_since = None
                elif user.frozen_until is None:
                    user.frozen_since = self.now()
            for name, value in fields.items():
                setattr(user, name, value)
            out.append(user)
        self._usernames, self._phones = usernames, phones
        return out

    def see_chat_user(self, user_id: int, username: str | None, first_name: str) -> None:
        """The person writing to the bot in the sandbox is a Telegram user of this world too.

        A new user takes the chat profile; a known one takes the name and username the chat
        was given, keeping what the chat does not know (the chat's placeholder name, no
        username).
        """
        if user_id in self.chats or not 0 < user_id < MAX_PEER_ID:
            log.warning("sandbox world: chat user %s clashes with a chat id; not added", user_id)
            return
        known = user_id in self.users
        fields: dict[str, Any] = {}
        if not known or first_name != f"User {user_id}":
            fields["first_name"] = first_name
        if username is not None:
            try:
                fields["username"] = self._check_username(username, "user", user_id)
            except ValueError as error:
                log.info("sandbox world: user %s keeps its username: %s", user_id, error)
        if fields or not known:
            try:
                self.put_user(user_id, **fields)
            except ValueError as error:  # chatting with the bot must not fail because of it
                log.warning("sandbox world: chat user %s not updated: %s", user_id, error)

    def user_by_ref(self, ref: int | str) -> WorldUser:
        user = self.users.get(ref) if isinstance(ref, int) else self._by_username(ref, "user")
        if user is None:
            raise LookupError(f"no user {ref!r}")
        return user

    def _by_username(self, username: str, kind: str) -> Any:
        found = self._usernames.get(username.removeprefix("@").lower())
        if found is None or found[0] != kind:
            return None
        return self.users.get(found[1]) if kind == "user" else self.chats.get(found[1])

    def find_chat(self, ref: int | str) -> WorldChat:
        """A chat by id or by username; raises LookupError."""
        chat = self.chats.get(ref) if isinstance(ref, int) else self._by_username(ref, "chat")
        if chat is None:
            raise LookupError(f"no chat {ref!r}")
        return chat

    def find_peer(self, username: str) -> WorldUser | WorldChat | None:
        found = self._usernames.get(username.lower())
        if found is None:
            return None
        return self.users.get(found[1]) if found[0] == "user" else self.chats.get(found[1])

    def put_chat(
        self,
        chat_id: int,
        kind: ChatKind,
        title: str,
        *,
        username: str | None = None,
        creator: int | None = None,
        members: Iterable[int] = (),
        admins: Mapping[int, Iterable[str]] | None = None,
        hidden_members: bool = False,
        linked_chat: int | None = None,
        posts: Iterable[PostSpec] = (),
        messages: Iterable[MessageSpec] = (),
    ) -> WorldChat:
        """Create or replace a chat. Raises ValueError, leaving the world unchanged.

        The creator and admins become members if they are not listed. A broadcast channel's
        comments live in its linked discussion group (a megagroup that must exist already):
        each post gets a copy there and its comments are replies to that copy.
        """
        self._check_new_id(chat_id, "chat")
        if kind not in CHAT_KINDS:
            raise ValueError(f"type must be one of {', '.join(CHAT_KINDS)}")
        if not title.strip() or len(title) > 128:
            raise ValueError("title must be 1-128 characters")
        if kind == "group" and username is not None:
            raise ValueError("basic groups cannot have a username")
        username = self._check_username(username, "chat", chat_id)
        rights = {int(k): frozenset(v) for k, v in (admins or {}).items()}
        member_ids = list(dict.fromkeys(members))
        for extra in [creator, *rights]:
            if extra is not None and extra not in member_ids:
                member_ids.append(extra)
        posts = list(posts)
        messages = list(messages)
        authors = [c.sender_id for p in posts for c in p.comments] + [m.sender_id for m in messages]
        for user_id in [*member_ids, *authors]:
            if user_id not in self.users:
                raise ValueError(f"unknown user {user_id}; add it with /sandbox/world/users")
        for user_id, names in rights.items():
            unknown = sorted(names - ADMIN_RIGHTS)
            if unknown:
                raise ValueError(f"unknown admin right(s) for {user_id}: {', '.join(unknown)}")
        group: WorldChat | None = None
        if linked_chat is not None:
            group = self.chats.get(linked_chat)
            wanted = "megagroup" if kind == "channel" else "channel"
            if kind == "group" or group is None or group.kind != wanted or linked_chat == chat_id:
                raise ValueError(
                    "linked_chat links a channel and an existing megagroup (its discussion group)"
                )
        if kind != "channel" and posts:
            raise ValueError("only a broadcast channel has posts")
        if kind == "channel" and messages:
            raise ValueError("a broadcast channel's messages are its posts")
        if any(p.comments for p in posts) and group is None:
            raise ValueError("comments need a linked_chat (the channel's discussion group)")
        post_ids = [p.id for p in posts]
        if len(set(post_ids)) != len(post_ids) or any(not 0 < i < 2**31 for i in post_ids):
            raise ValueError("post ids must be distinct positive integers")

        now = self.now()
        old = self.chats.get(chat_id)
        if old is not None:
            self._detach(old)
        chat = WorldChat(
            id=chat_id,
            kind=kind,
            title=title,
            date=now - dt.timedelta(days=30),
            username=username,
            creator=creator,
            admins=rights,
            hidden_members=hidden_members,
        )
        for user_id in member_ids:
            chat.members[user_id] = Membership(chat.date, inviter_id=creator)
        self.chats[chat_id] = chat
        if username:
            self._usernames[username.lower()] = ("chat", chat_id)
        if group is not None:
            if group.linked_chat is not None and group.linked_chat != chat_id:
                self._unlink(group)
            chat.linked_chat, group.linked_chat = group.id, chat.id

        items = len(messages) + sum(1 + len(p.comments) for p in posts)
        clock = iter(now - SEED_SPACING * (items - i) for i in range(items))
        for spec in messages:
            chat.add_message(
                WorldMessage(
                    chat.next_message_id, spec.date or next(clock), spec.text, spec.sender_id
                )
            )
        for post in sorted(posts, key=lambda p: p.id):
            date = post.date or next(clock)
            chat.add_message(WorldMessage(post.id, date, post.text, None))
            if group is None:
                continue
            copy = WorldMessage(
                group.next_message_id, date, post.text, None, None, (chat.id, post.id)
            )
            group.add_message(copy)
            chat.discussion_copies[post.id] = copy.id
            for comment in post.comments:
                group.add_message(
                    WorldMessage(
                        group.next_message_id,
                        comment.date or next(clock),
                        comment.text,
                        comment.sender_id,
                        reply_to=copy.id,
                    )
                )
        return chat

    def _unlink(self, chat: WorldChat) -> None:
        partner = self.chats.get(chat.linked_chat) if chat.linked_chat is not None else None
        chat.linked_chat = None
        if partner is None:
            return
        partner.linked_chat = None
        channel, group = (chat, partner) if chat.broadcast else (partner, chat)
        # The posts' copies and their comment threads go with the link.
        copies = set(channel.discussion_copies.values())
        for message in list(group.messages.values()):
            if message.id in copies or message.reply_to in copies:
                del group.messages[message.id]
        channel.discussion_copies.clear()

    def _detach(self, chat: WorldChat) -> None:
        self._unlink(chat)
        if chat.username:
            self._usernames.pop(chat.username.lower(), None)
        del self.chats[chat.id]

    def set_password(self, user_id: int, password: str, hint: str = "") -> None:
        """Turn on 2FA for a user; raises LookupError for an unknown user."""
        self.user_by_ref(user_id).password = SrpVerifier(password, hint)

    def thread(self, group: WorldChat, root_id: int) -> list[WorldMessage]:
        """Replies to one message of a group (a post's comments), oldest first."""
        return [m for m in group.messages.values() if m.reply_to == root_id]

    # ==== private chats and @SpamBot ========================================================
    def private_chat(self, a: int, b: int) -> PrivateChat | None:
        return self.private_chats.get((min(a, b), max(a, b)))

    def send_private(self, sender: WorldUser, to: WorldUser, text: str) -> WorldMessage:
        """A message from `sender` to `to` in their private chat. @SpamBot answers /start at
        once with its verdict on the sender (`spambot_reply`); other bots stay silent."""
        chat = self.private_chats.setdefault(
            (min(sender.id, to.id), max(sender.id, to.id)), PrivateChat()
        )
        now = self.now()
        message = chat.add(sender.id, text, now)
        if to.id == SPAMBOT_ID and text.strip().split("@", 1)[0] == "/start":
            chat.add(to.id, self.spambot_reply(sender), now)
        return message

    def spambot_reply(self, user: WorldUser) -> str:
        until = user.spam_limited_until
        if until == "forever":
            return SPAMBOT_LIMITED_FOREVER
        if until is None or until <= self.now():  # a limit ends at its date
            return SPAMBOT_FREE
        until = until.astimezone(dt.UTC)
        return SPAMBOT_LIMITED.format(until=f"{until.day} {until:%b %Y, %H:%M} UTC")

    # ==== logins driven from outside (the user's phone) ====================================
    def scan_qr(self, url_or_token: str | bytes, user_id: int) -> None:
        """The user's logged-in phone scans a login QR; the waiting client is told.

        Raises LookupError for an unknown or expired token or user, ValueError for a deleted
        user or a malformed URL.
        """
        token = token_from_url(url_or_token)
        entry = self.login_tokens.get(token)
        if entry is None or entry.expires_at <= self.now():
            raise LookupError("unknown or expired login token")
        user = self.user_by_ref(user_id)
        if user.deleted or user.banned:
            raise ValueError(f"user {user_id} is deleted or banned and cannot log in")
        entry.scanned_by = user.id
        self.push(entry.key_id, tt.UpdateShort(update=tt.UpdateLoginToken(), date=self.now()))

    def pending_login_tokens(self) -> list[LoginToken]:
        now = self.now()
        return [
            t
            for t in self.login_tokens.values()
            if t.expires_at > now and not t.scanned_by and not t.redirected
        ]

    def codes_for(self, user_id: int) -> list[LoginCode]:
        """Login codes sent to a user, oldest first; raises LookupError for an unknown user."""
        self.user_by_ref(user_id)
        return [c for c in self.login_codes if c.user_id == user_id]

    def new_login_code(
        self, phone: str, phone_code_hash: str | None = None, kind: str = "app"
    ) -> LoginCode:
        """Send a code to `phone` (by `kind`); any earlier code for that phone stops working."""
        now = self.now()
        for old in self.login_codes:
            if old.phone == phone and old.expires_at > now:
                old.expires_at = now
        code = LoginCode(
            phone=phone,
            code=f"{secrets.randbelow(100_000):05d}",
            phone_code_hash=phone_code_hash or secrets.token_hex(9),
            user_id=self._phones.get(phone),
            sent_at=now,
            expires_at=now + LOGIN_CODE_TTL,
            kind=kind,  # type: ignore[arg-type]
        )
        self.login_codes.append(code)
        del self.login_codes[:-CALL_LOG_LIMIT]
        return code

    def login_code(self, phone_code_hash: str) -> LoginCode | None:
        """The latest code sent under this hash."""
        for code in reversed(self.login_codes):
            if code.phone_code_hash == phone_code_hash:
                return code
        return None

    def user_by_phone(self, phone: str) -> WorldUser | None:
        user_id = self._phones.get(phone)
        return self.users.get(user_id) if user_id is not None else None

    # ==== faults and the call log ==========================================================
    def add_fault(
        self, method: str, error: str, count: int = 1, account: int | None = None
    ) -> Fault:
        """The next `count` calls of `method` (by `account`, or by anyone) fail with `error`.

        Raises ValueError for an unknown method, a malformed error or a bad count.
        """
        method = canonical_method(method)
        check_injectable(error)
        if count < 1:
            raise ValueError("count must be a positive integer")
        fault = Fault(method, error, error_code(error), count, account)
        self.faults.append(fault)
        return fault

    def calls(self, method: str | None = None) -> list[CallRecord]:
        if not method:
            return list(self.call_log)
        wanted = REQUEST_NAMES.get(canonical_method(method), ())
        names = {cls.__name__ for cls in wanted}
        return [c for c in self.call_log if c.method in names]

    def _take_fault(self, request: TLRequest, account: int | None) -> Fault | None:
        for fault in self.faults:
            if fault.account is not None and fault.account != account:
                continue
            if _method_matches(fault.method, request):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # ==== connections =======================================================================
    def open_connection(
        self, auth_key: bytes | None, *, remote: bool, dc: int = DEFAULT_DC
    ) -> tuple[str, bytes]:
        """A new client connection to data centre `dc`; without a key that DC makes one (the
        DH exchange).

        Returns (connection id, auth key). A key the world does not know is simply not
        logged in, which is what a session from a previous sandbox run looks like. Raises
        UnknownAuthKey for a key another DC made, ValueError for a bad key or DC.
        """
        if auth_key is not None and len(auth_key) != AUTH_KEY_BYTES:
            raise ValueError(f"an auth key has {AUTH_KEY_BYTES} bytes")
        if dc not in DC_IDS:
            raise ValueError(f"dc must be one of {', '.join(map(str, DC_IDS))}")
        key = auth_key or os.urandom(AUTH_KEY_BYTES)
        key_id = AuthKey(key).key_id
        home = self.key_dcs.setdefault(key_id, dc)
        if home != dc:
            raise UnknownAuthKey(f"DC {dc} does not know this auth key (made by DC {home})")
        for stale in [c for c in self._connections.values() if c.is_gone()]:
            self._drop(stale)
        connection = Connection(
            id=secrets.token_hex(12),
            key_id=key_id,
            seq=next(self._connection_seq),
            remote=remote,
            dc=dc,
        )
        self._connections[connection.id] = connection
        return connection.id, key

    def close_connection(self, connection_id: str) -> None:
        connection = self._connections.get(connection_id)
        if connection is not None:
            self._drop(connection)

    def _drop(self, connection: Connection) -> None:
        connection.closed = True
        connection.wake()
        self._connections.pop(connection.id, None)

    def _connection(self, connection_id: str) -> Connection:
        connection = self._connections.get(connection_id)
        if connection is None or connection.closed:
            raise UnknownConnection(connection_id)
        return connection

    def push(self, key_id: int, update: TLObject) -> None:
        """Send an update to every open connection of one auth key."""
        data = bytes(update)
        for connection in self._connections.values():
            if connection.key_id == key_id and connection.is_open():
                connection.updates.append(data)
                connection.wake()

    async def wait_updates(
        self, connection_id: str, timeout: float, gone: Callable[[], bool] | None = None
    ) -> list[bytes]:
        """Serialized updates for a connection, waiting up to `timeout` s for the first one.

        `gone` tells a long poll that its HTTP client went away, so a killed process stops
        holding its auth key within about a second.
        """
        connection = self._connection(connection_id)
        connection.polls += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        try:
            while not connection.updates and not connection.closed:
                remaining = deadline - loop.time()
                if remaining <= 0 or (gone is not None and gone()):
                    break
                arrived = connection.arrived
                try:
                    async with asyncio.timeout(min(remaining, 1.0)):
                        await arrived.wait()
                except TimeoutError:
                    pass
            if connection.closed:
                raise UnknownConnection(connection_id)
            out, connection.updates = connection.updates, []
            return out
        finally:
            connection.polls -= 1
            connection.touch()

    def drop_remote_connections(self) -> None:
        """End every loopback connection and answer its pending long poll (server shutdown).

        Their clients see the connection gone; clients in this process are not affected.
        """
        for connection in [c for c in self._connections.values() if c.remote]:
            self._drop(connection)

    # ==== the RPC pipeline ==================================================================
    def invoke(self, connection_id: str, data: bytes) -> bytes:
        """Answer one serialized request with the serialized result.

        Raises RpcFailure for an RPC error and UnknownConnection for a closed connection.
        """
        connection = self._connection(connection_id)
        connection.touch()
        try:
            with BinaryReader(data) as reader:
                request = reader.tgread_object()
        except (TypeNotFoundError, BufferError, struct.error) as error:
            log.error("sandbox world: cannot parse a request: %s", error)
            raise RpcFailure("INPUT_CONSTRUCTOR_INVALID") from None
        while isinstance(request, _WRAPPERS):
            request = request.query
        account_id = self.authorizations.get(connection.key_id)
        record = CallRecord(
            method=type(request).__name__,
            account=account_id,
            users=tuple(dict.fromkeys(named_users(request))),
            at=self.now(),
            dc=connection.dc,
        )
        self.call_log.append(record)
        try:
            return encode_result(self._answer(connection, request, account_id))
        except RpcFailure as failure:
            record.error = failure.message
            raise
        except Exception:
            # A bug in a handler: say so loudly, and answer at once rather than with a 500
            # that Telethon would retry for seconds.
            log.exception("sandbox world: handling %s failed", record.method)
            record.error = "SANDBOX_INTERNAL_ERROR"
            raise RpcFailure("SANDBOX_INTERNAL_ERROR", 400) from None

    def _answer(self, connection: Connection, request: TLRequest, account_id: int | None) -> Any:
        for other in self._connections.values():
            if (
                other is not connection
                and other.key_id == connection.key_id
                and other.seq < connection.seq
                and other.is_open()
            ):
                # "the session was already invalidated by the server and the user must
                # generate a new auth key and login again" (core.telegram.org/api/errors, 406):
                # both connections lose the authorization, not only the later one.
                self.log_out(connection.key_id)
                raise RpcFailure("AUTH_KEY_DUPLICATED")
        fault = self._take_fault(request, account_id)
        if fault is not None:
            raise RpcFailure(fault.error, fault.code)
        route = _ROUTES.get(type(request))
        if route is None:
            name = type(request).__name__
            log.error(
                "sandbox world: %s is not simulated; answering METHOD_NOT_SIMULATED_%s "
                "(add a handler in sandbox/world/rpc_*.py)",
                name,
                name,
            )
            raise RpcFailure(f"METHOD_NOT_SIMULATED_{name}", 400)
        account = self.users.get(account_id) if account_id is not None else None
        call = Call(self, connection, account, self.now())
        if route.needs_login:
            if account is None:
                waiting = connection.key_id in self.pending_passwords
                raise RpcFailure("SESSION_PASSWORD_NEEDED" if waiting else "AUTH_KEY_UNREGISTERED")
            if account.deleted:
                raise RpcFailure("USER_DEACTIVATED")
            if account.banned:
                # Telethon's error list: USER_DEACTIVATED_BAN (401) for the sessions of an
                # account Telegram banned.
                raise RpcFailure("USER_DEACTIVATED_BAN")
            if account.frozen_until is not None and type(request) not in FROZEN_ALLOWED:
                # core.telegram.org/api/auth, Frozen accounts: "Frozen accounts are in
                # read-only mode, and invoking many methods will emit ... FROZEN_METHOD_INVALID
                # (420)". Which methods is not listed; the world lets a frozen account read
                # itself and its dialogs and refuses everything else.
                raise RpcFailure("FROZEN_METHOD_INVALID")
        return route.handler(call, request)

    # ==== authorizations ====================================================================
    def authorize(self, key_id: int, user_id: int) -> None:
        self.pending_passwords.pop(key_id, None)
        self.authorizations[key_id] = user_id

    def log_out(self, key_id: int) -> None:
        self.authorizations.pop(key_id, None)
        self.pending_passwords.pop(key_id, None)
