"""Invite links, join requests and a basic group's migration to a supergroup.

The world's side of joining private chats (issue 13): links made through the control API
(`sandbox.world.control_invites`), checked with messages.checkChatInvite and used with
messages.importChatInvite (`sandbox.world.rpc_invites`). A link may have expired, or ask for
an admin's approval: then importing it files a join request that the control API approves.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sandbox.world.model import Membership, WorldChat

if TYPE_CHECKING:
    from sandbox.world.world import World


@dataclass(slots=True)
class WorldInvite:
    hash: str
    chat_id: int
    request_needed: bool = False
    expires_at: dt.datetime | None = None
    revoked: bool = False

    @property
    def link(self) -> str:
        return f"https://t.me/+{self.hash}"

    def expired(self, now: dt.datetime) -> bool:
        return self.revoked or (self.expires_at is not None and self.expires_at <= now)


@dataclass(slots=True)
class Invites:
    """One world's links and pending join requests (chat id -> user id -> when asked)."""

    links: dict[str, WorldInvite] = field(default_factory=dict)
    requests: dict[int, dict[int, dt.datetime]] = field(default_factory=dict)


def invites_of(world: World) -> Invites:
    """The world's invite state, made on first use (the world knows nothing of it otherwise)."""
    found = getattr(world, "invites", None)
    if found is None:
        found = Invites()
        world.invites = found
    return found


def make_invite(
    world: World,
    chat: WorldChat,
    *,
    request_needed: bool = False,
    expired: bool = False,
    hash_: str | None = None,
) -> WorldInvite:
    if chat.migrated_to is not None:
        raise ValueError(f"chat {chat.id} became a supergroup ({chat.migrated_to}); link that one")
    now = world.now()
    invite = WorldInvite(
        hash=hash_ or secrets.token_urlsafe(12).replace("-", "A").replace("_", "B"),
        chat_id=chat.id,
        request_needed=request_needed,
        expires_at=now - dt.timedelta(seconds=1) if expired else None,
    )
    invites_of(world).links[invite.hash] = invite
    return invite


def approve(world: World, chat: WorldChat, user_id: int) -> None:
    """An admin accepts a join request (messages.hideChatJoinRequest with approved)."""
    pending = invites_of(world).requests.get(chat.id, {})
    if user_id not in pending:
        raise LookupError(f"user {user_id} has not asked to join chat {chat.id}")
    del pending[user_id]
    chat.members.setdefault(user_id, Membership(world.now()))


def migrate(world: World, chat: WorldChat, new_id: int) -> WorldChat:
    """A basic group becomes a supergroup: a new megagroup with its members, creator and
    admins; the old chat stays, deactivated, pointing at it (core.telegram.org/constructor/chat:
    `deactivated`, `migrated_to`; core.telegram.org/api/channel: "migrating" a basic group
    creates a new supergroup, messages.migrateChat)."""
    if chat.kind != "group":
        raise ValueError(f"chat {chat.id} is not a basic group")
    if chat.migrated_to is not None:
        raise ValueError(f"chat {chat.id} became a supergroup already ({chat.migrated_to})")
    new = world.put_chat(
        new_id,
        "megagroup",
        chat.title,
        creator=chat.creator,
        members=list(chat.members),
        admins={k: sorted(v) for k, v in chat.admins.items()},
    )
    for user_id, joined in chat.members.items():
        new.members[user_id] = Membership(joined.date, joined.inviter_id)
    chat.migrated_to = new.id
    return new
