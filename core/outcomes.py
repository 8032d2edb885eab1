"""Invite outcomes and failure reasons (DESIGN §7), each with whether a retry may help.

Privacy refusals are final: retrying them is what gets accounts reported. The human
sentence of each reason is in the i18n catalog under `reason.<code>`.
"""

from __future__ import annotations

import enum


class Outcome(enum.StrEnum):
    INVITED = "invited"  # verified member afterwards
    ALREADY_MEMBER = "already_member"
    FAILED = "failed"
    SKIPPED = "skipped"  # opted out, left before, invited before, ...


class Reason(enum.StrEnum):
    PRIVACY_RESTRICTED = "privacy_restricted"
    NOT_MUTUAL_CONTACT = "not_mutual_contact"
    TOO_MANY_CHANNELS = "too_many_channels"
    USER_NOT_FOUND = "user_not_found"
    DEACTIVATED = "deactivated"
    BANNED_IN_CHAT = "banned_in_chat"
    KICKED = "kicked"
    BOT = "bot"
    CHAT_FULL = "chat_full"
    ADMIN_REQUIRED = "admin_required"
    MISSING_INVITEE = "missing_invitee"
    FLOOD = "flood"
    PEER_FLOOD = "peer_flood"
    NETWORK = "network"
    UNKNOWN = "unknown"

    @property
    def retryable(self) -> bool:
        """Whether the same person may be tried again later (by this or another account)."""
        return self in _RETRYABLE


_RETRYABLE = frozenset(
    {
        Reason.TOO_MANY_CHANNELS,  # they may leave some channels
        Reason.ADMIN_REQUIRED,  # another account may have the right
        Reason.FLOOD,
        Reason.PEER_FLOOD,
        Reason.NETWORK,
        Reason.UNKNOWN,
    }
)

# Telegram's RPC errors for invites → reason.
RPC_REASONS: dict[str, Reason] = {
    "USER_PRIVACY_RESTRICTED": Reason.PRIVACY_RESTRICTED,
    "USER_NOT_MUTUAL_CONTACT": Reason.NOT_MUTUAL_CONTACT,
    "USER_CHANNELS_TOO_MUCH": Reason.TOO_MANY_CHANNELS,
    "USER_ID_INVALID": Reason.USER_NOT_FOUND,
    "USERNAME_NOT_OCCUPIED": Reason.USER_NOT_FOUND,
    "USERNAME_INVALID": Reason.USER_NOT_FOUND,
    "PEER_ID_INVALID": Reason.USER_NOT_FOUND,
    "INPUT_USER_DEACTIVATED": Reason.DEACTIVATED,
    "USER_DELETED": Reason.DEACTIVATED,
    "USER_BANNED_IN_CHANNEL": Reason.BANNED_IN_CHAT,
    "USER_KICKED": Reason.KICKED,
    "USER_BOT": Reason.BOT,
    "BOT_GROUPS_BLOCKED": Reason.BOT,
    "USERS_TOO_MUCH": Reason.CHAT_FULL,
    "CHAT_MEMBER_ADD_FAILED": Reason.CHAT_FULL,
    "CHAT_ADMIN_REQUIRED": Reason.ADMIN_REQUIRED,
    "CHAT_WRITE_FORBIDDEN": Reason.ADMIN_REQUIRED,
    "RIGHT_FORBIDDEN": Reason.ADMIN_REQUIRED,
    "PEER_FLOOD": Reason.PEER_FLOOD,
}


def reason_for_rpc(rpc: str) -> Reason:
    if rpc.startswith("FLOOD_WAIT"):
        return Reason.FLOOD
    return RPC_REASONS.get(rpc, Reason.UNKNOWN)
