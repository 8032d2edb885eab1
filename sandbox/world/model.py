"""The simulated world's state: people, chats, messages and the value sets the control API accepts.

Plain data, no Telethon types: what an account *sees* of this state (access hashes, `is_self`,
participant kinds) depends on who asks, so TL objects are rendered per request in
`sandbox.world.render`.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from telethon.tl import types as tt

from sandbox.world.srp import SrpVerifier

LastSeen = Literal["online", "recently", "week", "month", "long_ago"]
InviteOutcome = Literal[
    "ok",
    "privacy",
    "not_mutual",
    "too_many_channels",
    "missing_invitee",
    "deactivated",
    "silent",
    "phantom",
]
"""How an invite of this user ends. `silent`: the call succeeds with empty updates and
nobody is added; `phantom`: the service message "X added Y" comes back but the person is
not added. Both are reported on real Telegram (see docs/sandbox.md, fidelity table)."""
ChatKind = Literal["group", "megagroup", "channel"]
CodeType = Literal["app", "sms", "call", "setup_email"]
"""How Telegram delivers a user's phone-login code (auth.SentCodeType): to their Telegram
app, by SMS, by a phone call, or not at all until they set up a login email."""

LAST_SEEN: tuple[str, ...] = get_args(LastSeen)
INVITE_OUTCOMES: tuple[str, ...] = get_args(InviteOutcome)
CHAT_KINDS: tuple[str, ...] = get_args(ChatKind)
CODE_TYPES: tuple[str, ...] = get_args(CodeType)

DC_IDS: tuple[int, ...] = (1, 2, 3, 4, 5)
"""Telegram's data centres (core.telegram.org/api/datacenter): an account lives on one."""
DEFAULT_DC = 2
"""Where Telethon connects first (its DEFAULT_DC_ID) and where users live unless told."""

ADMIN_RIGHTS: frozenset[str] = frozenset(
    name for name in inspect.signature(tt.ChatAdminRights.__init__).parameters if name != "self"
)
"""The flag names of `ChatAdminRights` in the installed layer (invite_users, ban_users, ...)."""

# Telegram: 5-32 characters. The sandbox also takes 3-4 so that names people type into the
# chat control API ("bob") still resolve; the first character must be a letter either way.
USERNAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,31}")
PHONE_RE = re.compile(r"\+?[0-9]{5,15}")

QR_TOKEN_TTL = dt.timedelta(seconds=30)
LOGIN_CODE_TTL = dt.timedelta(minutes=5)

MAX_PEER_ID = 2**53
"""User and chat ids stay below 2^53, as Telegram promises for its 64-bit ids."""


def normalize_phone(raw: str) -> str:
    """Digits only, the way Telegram stores and compares phone numbers."""
    return re.sub(r"[^0-9]", "", raw)


@dataclass(slots=True)
class WorldUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    phone: str | None = None
    """Digits only."""
    bot: bool = False
    deleted: bool = False
    scam: bool = False
    premium: bool = False
    photo: bool = False
    last_seen: LastSeen = "recently"
    invite_outcome: InviteOutcome = "ok"
    """What happens when an admin adds this user to a chat (privacy settings and such)."""
    password: SrpVerifier | None = None
    dc: int = DEFAULT_DC
    """The data centre the account lives on: logins elsewhere are sent there."""
    banned: bool = False
    """Telegram banned the number: no login (PHONE_NUMBER_BANNED), sessions end."""
    code_type: CodeType = "app"
    """Where a phone-login code goes. Every user of the world is taken to be logged in on a
    phone (it is what scans QR codes), so Telegram sends the code to that app by default."""
    spam_limited_until: dt.datetime | Literal["forever"] | None = None
    """What @SpamBot tells this account: limited until then (free again after it), limited
    for ever, or (None) no limits."""
    frozen_until: dt.datetime | None = None
    """Frozen by Telegram while set: most methods answer FROZEN_METHOD_INVALID and
    help.getAppConfig carries the freeze fields, this being `freeze_until_date` (the day the
    account is deleted unless an appeal is accepted)."""
    frozen_since: dt.datetime | None = None
    """When the world froze the account (`freeze_since_date`); set with `frozen_until`."""


@dataclass(slots=True)
class PrivateChat:
    """The private chat of two users (so far: an account and a bot it wrote to).

    Message ids form one sequence for both directions of the chat."""

    messages: dict[int, WorldMessage] = field(default_factory=dict)
    next_message_id: int = 1

    def add(self, sender_id: int, text: str, date: dt.datetime) -> WorldMessage:
        message = WorldMessage(self.next_message_id, date, text, sender_id)
        self.messages[message.id] = message
        self.next_message_id += 1
        return message


@dataclass(slots=True)
class Membership:
    date: dt.datetime
    inviter_id: int | None = None


@dataclass(slots=True)
class WorldMessage:
    id: int
    date: dt.datetime
    text: str
    sender_id: int | None
    """None: posted by the channel itself (broadcast posts, automatic forwards)."""
    reply_to: int | None = None
    """The message this one answers; comments answer their post's copy in the discussion group."""
    channel_post: tuple[int, int] | None = None
    """In a discussion group: (channel id, post id) of the post this message is the copy of."""


@dataclass(slots=True)
class WorldChat:
    id: int
    kind: ChatKind
    title: str
    date: dt.datetime
    username: str | None = None
    creator: int | None = None
    members: dict[int, Membership] = field(default_factory=dict)
    """Insertion order is join order."""
    admins: dict[int, frozenset[str]] = field(default_factory=dict)
    """Admin rights by user id; the creator holds every right without being listed."""
    hidden_members: bool = False
    linked_chat: int | None = None
    messages: dict[int, WorldMessage] = field(default_factory=dict)
    """By id, ascending; a broadcast channel's messages are its posts."""
    discussion_copies: dict[int, int] = field(default_factory=dict)
    """Broadcast channel: post id -> id of its copy in the linked discussion group."""
    next_message_id: int = 1
    migrated_to: int | None = None
    """A basic group that became this supergroup (core.telegram.org/constructor/chat)."""

    @property
    def is_channel(self) -> bool:
        """A `Channel` in TL terms: supergroups and broadcast channels alike."""
        return self.kind != "group"

    @property
    def broadcast(self) -> bool:
        return self.kind == "channel"

    def rights_of(self, user_id: int) -> frozenset[str] | None:
        if user_id == self.creator:
            return ADMIN_RIGHTS
        return self.admins.get(user_id)

    def can_invite(self, user_id: int) -> bool:
        rights = self.rights_of(user_id)
        return rights is not None and "invite_users" in rights

    def add_message(self, message: WorldMessage) -> None:
        self.messages[message.id] = message
        self.next_message_id = max(self.next_message_id, message.id + 1)


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """A message or comment to seed: who wrote it and what (date: spaced out if not given)."""

    sender_id: int
    text: str
    date: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class PostSpec:
    id: int
    text: str = ""
    date: dt.datetime | None = None
    comments: tuple[MessageSpec, ...] = ()


@dataclass(slots=True)
class LoginCode:
    """A code "Telegram" sent for a phone login, shown through the control API."""

    phone: str
    code: str
    phone_code_hash: str
    user_id: int | None
    sent_at: dt.datetime
    expires_at: dt.datetime
    used: bool = False
    kind: CodeType = "app"
    """How it was delivered: app, sms or call."""


@dataclass(slots=True)
class LoginToken:
    """A QR login token exported by one auth key and waiting for a phone to scan it."""

    token: bytes
    key_id: int
    expires_at: dt.datetime
    scanned_by: int | None = None
    dc: int = DEFAULT_DC
    """The data centre where the token may be used."""
    redirected: bool = False
    """Made by auth.loginTokenMigrateTo: already scanned, imported on `dc` by any key."""


@dataclass(slots=True)
class CallRecord:
    method: str
    """Telethon's request class name, e.g. InviteToChannelRequest."""
    account: int | None
    """The user id the calling auth key is logged in as, None before login."""
    users: tuple[int, ...]
    """The users the request names (invitees, looked-up participants...)."""
    at: dt.datetime
    error: str | None = None
    """The RPC error it was answered with, None on success."""
    dc: int = DEFAULT_DC
    """The data centre the call reached."""


@dataclass(slots=True)
class Fault:
    method: str
    error: str
    code: int
    remaining: int
    account: int | None = None
