"""Audience collection rules (DESIGN §6): sources, filters, speed profiles, priorities.

One table of speeds, one order of priorities, one parser of source links, one filter: the
bot, the API and the workers all call these, so a rule cannot differ between them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

from core.errors import InvalidInput
from core.i18n import has_text, t


class ParseKind(enum.StrEnum):
    MEMBERS = "members"
    COMMENTS = "comments"
    AUTHORS = "authors"


class ParseStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (ParseStatus.DONE, ParseStatus.FAILED, ParseStatus.CANCELLED)


class Priority(enum.IntEnum):
    """Lower value runs first; FIFO inside one priority."""

    HIGH = 0
    NORMAL = 1
    LOW = 2

    @classmethod
    def parse(cls, raw: str) -> Priority:
        try:
            return cls[raw.strip().upper()]
        except KeyError:
            raise InvalidInput("priority", field="priority", problem="priority") from None


class LastSeen(enum.StrEnum):
    ONLINE = "online"
    RECENTLY = "recently"
    WEEK = "week"
    MONTH = "month"
    LONG_AGO = "long_ago"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SpeedProfile:
    name: str
    request_delay_s: float  # pause between two requests of one task
    batch_size: int  # members asked per GetParticipants page
    history_batch: int  # messages asked per history/replies page


SPEEDS: dict[str, SpeedProfile] = {
    "safe": SpeedProfile("safe", request_delay_s=3.0, batch_size=100, history_batch=50),
    "medium": SpeedProfile("medium", request_delay_s=1.0, batch_size=200, history_batch=100),
    "fast": SpeedProfile("fast", request_delay_s=0.3, batch_size=200, history_batch=100),
}
DEFAULT_SPEED = "medium"
DEFAULT_POSTS = 100
MAX_POSTS = 1000
DEFAULT_DAYS = 30
MAX_DAYS = 365


def parse_speed(raw: str) -> SpeedProfile:
    profile = SPEEDS.get(raw.strip().lower())
    if profile is None:
        raise InvalidInput("speed", field="speed", problem="speed")
    return profile


# Telegram lists at most this many members of a group through getParticipants, however
# the pages are asked; past it, members are only found by searching their names.
PARTICIPANTS_CAP = 10_000
# Name prefixes searched past the cap: Latin, digits, and the Cyrillic letters names
# usually start with. A prefix that still hits the cap is split one letter deeper.
SEARCH_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789абвгдеёжзийклмнопрстуфхцчшщэюя"
SEARCH_MAX_DEPTH = 3


def split_prefix(prefix: str) -> list[str]:
    """The longer prefixes to search when `prefix` alone hit the cap ([] when too deep)."""
    if len(prefix) >= SEARCH_MAX_DEPTH:
        return []
    return [prefix + ch for ch in SEARCH_ALPHABET]


def last_seen_bucket(ago: timedelta) -> LastSeen:
    """The bucket of an exact "last seen" time, as Telegram words approximate ones."""
    if ago <= timedelta(minutes=5):
        return LastSeen.ONLINE
    if ago <= timedelta(days=3):
        return LastSeen.RECENTLY
    if ago <= timedelta(days=7):
        return LastSeen.WEEK
    if ago <= timedelta(days=30):
        return LastSeen.MONTH
    return LastSeen.LONG_AGO


# --- sources -------------------------------------------------------------------------------
_USERNAME = r"[A-Za-z][A-Za-z0-9_]{3,31}"
_LINK = re.compile(
    rf"^(?:(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/(?:s/)?|@|tg://resolve\?domain=)?"
    rf"(?P<username>{_USERNAME})(?:/(?P<post>\d+))?/?$"
)
# t.me/+HASH and t.me/joinchat/HASH (the older form) name a private chat by an invite link.
_PRIVATE = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/(?:\+|joinchat/)(?P<hash>[A-Za-z0-9_-]{4,64})/?$"
)


# A basic group by its Bot API id (-4001234): the account reading it must be a member. A
# `-100…` id (13 digits and more) is a supergroup's or channel's, not accepted here.
_BASIC_GROUP = re.compile(r"^-(?P<id>[1-9]\d{0,11})$", re.ASCII)


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A public chat named by @username or a t.me link (optionally to a post), a private
    one by its invite link (`invite`: the link's hash), or a basic group by id (`group_id`);
    `username` is empty for the last two."""

    username: str
    post_id: int | None = None
    invite: str | None = None
    group_id: int | None = None

    @property
    def label(self) -> str:
        if self.invite is not None:
            return invite_label(self.invite)
        if self.group_id is not None:
            return f"-{self.group_id}"
        return f"@{self.username}"


def invite_label(invite_hash: str) -> str:
    return f"t.me/+{invite_hash}"


def parse_source(raw: str) -> SourceRef:
    """`@name`, `name`, `t.me/name`, `https://t.me/name/123`, `t.me/+HASH`,
    `t.me/joinchat/HASH`, `-4001234` (a basic group); `InvalidInput` otherwise."""
    text = raw.strip()
    private = _PRIVATE.match(text)
    if private is not None:
        return SourceRef("", invite=private.group("hash"))
    group = _BASIC_GROUP.match(text)
    if group is not None:
        return SourceRef("", group_id=int(group.group("id")))
    match = _LINK.match(text)
    if match is None:
        raise InvalidInput("source", field="source", problem="bad_link")
    post = match.group("post")
    return SourceRef(match.group("username").lower(), int(post) if post else None)


# --- joining a private source by its invite link ---------------------------------------------
@dataclass(frozen=True, slots=True)
class InvitePreview:
    """What messages.checkChatInvite tells of a link (core.telegram.org/method/messages.checkChatInvite):
    chatInviteAlready when the account is in the chat, else chatInvite with the title, the
    member count and `request_needed` (joining waits for an admin's approval)."""

    title: str
    members: int | None
    request_needed: bool
    already: bool
    account_id: int


# Telegram's refusals of a link, as the task's or the request's problem code
# (core.telegram.org/method/messages.importChatInvite and .../messages.checkChatInvite;
# Telethon's rpcerrorlist.py: INVITE_HASH_EXPIRED "The chat the user tried to join has
# expired and is not valid anymore", INVITE_HASH_INVALID, INVITE_HASH_EMPTY,
# CHANNELS_TOO_MUCH "You have joined too many channels/supergroups").
JOIN_REFUSALS: dict[str, str] = {
    "INVITE_HASH_EXPIRED": "invite_expired",
    "INVITE_HASH_INVALID": "invite_invalid",
    "INVITE_HASH_EMPTY": "invite_invalid",
    "CHANNELS_TOO_MUCH": "channels_too_much",
}
# How long a join request is left before the account looks again whether it was accepted,
# and the least time between two joins of one account (joining many chats fast is what
# gets accounts limited; Telegram publishes no number, so this errs on the slow side).
JOIN_RECHECK_S = 300.0
JOIN_GAP_S = 120.0
# The audit action of a join made for a campaign's target (gateway.target_join); it counts in
# the same pace as a collection's join (`db.dal_parsing.LAST_JOIN`).
JOIN_TARGET_ACTION = "account.join_target"


# What a queued task's `error` says while its account waits to get into a private source.
JOIN_NOTES = ("join_requested", "join_flood_wait")


def error_reason(lang: str, code: str | None) -> str:
    """Why a task failed, as a sentence (its stored code stays for programs)."""
    key = f"parse.error.{code}"
    if code and has_text(key):
        return t(lang, key)
    return t(lang, "parse.error.unknown", code=code or "-")


def task_note(lang: str, status: str, code: str | None) -> str | None:
    """The sentence a person reads about a task's `error`: why it failed, or why a queued
    one waits (a join request, a flood wait before joining); None when there is none."""
    if not code:
        return None
    if status == "queued":
        return t(lang, f"task.{code}") if code in JOIN_NOTES else None
    return error_reason(lang, code) if status == "failed" else None


# --- filters ---------------------------------------------------------------------------------
class Person(NamedTuple):
    """A Telegram user as a parser sees them.

    An immutable tuple rather than a frozen dataclass: one is made for every member read,
    and a tuple is made several times faster.
    """

    user_id: int
    username: str | None
    first_name: str
    last_name: str | None
    last_seen: LastSeen
    premium: bool
    photo: bool
    bot: bool = False
    deleted: bool = False
    scam: bool = False
    fake: bool = False
    # Only valid for the account that saw the person (DESIGN §6); None when unknown.
    access_hash: int | None = None


@dataclass(frozen=True, slots=True)
class Filters:
    """Per task. By default bots, deleted, scam/fake accounts and the source's admins go."""

    skip_bots: bool = True
    skip_deleted: bool = True
    skip_scam: bool = True
    skip_admins: bool = True
    last_seen: frozenset[LastSeen] = field(default_factory=frozenset)  # empty: any
    need_username: bool = False
    need_premium: bool = False
    need_photo: bool = False

    def accepts(self, person: Person, admins: frozenset[int] = frozenset()) -> bool:
        if self.skip_bots and person.bot:
            return False
        if self.skip_deleted and person.deleted:
            return False
        if self.skip_scam and (person.scam or person.fake):
            return False
        if self.skip_admins and person.user_id in admins:
            return False
        if self.last_seen and person.last_seen not in self.last_seen:
            return False
        if self.need_username and not person.username:
            return False
        if self.need_premium and not person.premium:
            return False
        return not (self.need_photo and not person.photo)

    def to_json(self) -> dict[str, object]:
        return {
            "skip_bots": self.skip_bots,
            "skip_deleted": self.skip_deleted,
            "skip_scam": self.skip_scam,
            "skip_admins": self.skip_admins,
            "last_seen": sorted(s.value for s in self.last_seen),
            "need_username": self.need_username,
            "need_premium": self.need_premium,
            "need_photo": self.need_photo,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Filters:
        raw_seen = data.get("last_seen")
        seen = raw_seen if isinstance(raw_seen, list) else []
        return cls(
            skip_bots=bool(data.get("skip_bots", True)),
            skip_deleted=bool(data.get("skip_deleted", True)),
            skip_scam=bool(data.get("skip_scam", True)),
            skip_admins=bool(data.get("skip_admins", True)),
            last_seen=frozenset(LastSeen(s) for s in seen),
            need_username=bool(data.get("need_username", False)),
            need_premium=bool(data.get("need_premium", False)),
            need_photo=bool(data.get("need_photo", False)),
        )
