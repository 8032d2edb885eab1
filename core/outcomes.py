"""Invite outcomes and the table of Telegram's refusals (DESIGN §7): whom each one concerns.

A refusal of `channels.inviteToChannel` / `messages.addChatUser` is read by *whom it
concerns*, from Telegram's own documentation of each method and Telethon's error list, not
from guesses:

- the **account** that called (it is spam-restricted, frozen, resting, logged out, or lost
  its rights in the chat): the account stops, the person goes back to the queue for another
  account, no quota and no attempt is spent on them, the owner is told once;
- the **person** (privacy, not a mutual contact, in too many channels, kicked, deleted, a
  bot): final, never retried — retrying privacy refusals is what gets accounts reported;
- the **chat** (full: `USERS_TOO_MUCH`, a broadcast channel's 200 added by admins): the
  campaign pauses itself with the reason, everybody left stays to do;
- **another account may succeed** (`CHAT_MEMBER_ADD_FAILED`): retried by a different account,
  at most twice, then a failure of the person;
- anything else: Telegram's name is kept verbatim, tried once more at most.

Sources, cited by key in the table below (the stored pages say the same; see
`docs/sandbox.md` for the fidelity table and the tests that pin each row):
- [invite]  https://core.telegram.org/method/channels.inviteToChannel — possible errors
- [addchat] https://core.telegram.org/method/messages.addChatUser — possible errors
- [errors]  https://core.telegram.org/api/errors — 303/400/401/403/406/420 and their meaning
- [telethon] telethon/errors/rpcerrorlist.py of the installed Telethon (1.45): each error's
  class, code and description, e.g. `UserBannedInChannelError` "You're banned from sending
  messages in supergroups/channels", `FrozenMethodInvalidError` (420) "You tried to use a
  method that is not available for frozen accounts", `PeerFloodError` "The account is
  limited (spam-reported) ... Check @SpamBot", `AuthKeyDuplicatedError` (406) "... can no
  longer be used".
- [frozen] https://core.telegram.org/api/auth#frozen-accounts — `freeze_since_date`,
  `freeze_until_date`, `freeze_appeal_url`; frozen accounts get `FROZEN_METHOD_INVALID`.

The human sentence of each reason is in the i18n catalog under `reason.<code>`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from core.dto import AccountStatus


class Outcome(enum.StrEnum):
    INVITED = "invited"  # verified member afterwards
    ALREADY_MEMBER = "already_member"
    FAILED = "failed"
    SKIPPED = "skipped"  # opted out, left before, invited before, ...
    UNCONFIRMED = "unconfirmed"  # Telegram accepted the call but did not show the person added


class Reason(enum.StrEnum):
    # the person (final)
    PRIVACY_RESTRICTED = "privacy_restricted"
    NOT_MUTUAL_CONTACT = "not_mutual_contact"
    TOO_MANY_CHANNELS = "too_many_channels"
    USER_NOT_FOUND = "user_not_found"
    DEACTIVATED = "deactivated"
    KICKED = "kicked"
    BOT = "bot"
    MISSING_INVITEE = "missing_invitee"
    NOT_ADDED = "not_added"  # accepted, not shown as added, and not in the chat afterwards
    BLOCKED = "blocked"  # USER_BLOCKED: a block stands between the account and the person
    # the chat or campaign
    CHAT_FULL = "chat_full"
    ADD_FAILED = "add_failed"  # another account may succeed
    # the account (the person is released to another account)
    FLOOD = "flood"
    PEER_FLOOD = "peer_flood"
    ACCOUNT_RESTRICTED = "account_restricted"
    ACCOUNT_FROZEN = "account_frozen"
    ACCOUNT_UNAUTHORIZED = "account_unauthorized"
    ACCOUNT_BANNED = "account_banned"
    ADMIN_REQUIRED = "admin_required"  # the account lost its rights in the chat
    # neither
    NETWORK = "network"
    UNKNOWN = "unknown"
    # Earlier releases read USER_BANNED_IN_CHANNEL as the person's; kept so that old rows
    # still have a sentence. Nothing records it any more.
    BANNED_IN_CHAT = "banned_in_chat"


class Concerns(enum.StrEnum):
    ACCOUNT = "account"
    PERSON = "person"
    CHAT = "chat"
    OTHER_ACCOUNT = "other_account"  # another account may succeed
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Refusal:
    """What one Telegram error means for an invite."""

    concerns: Concerns
    reason: Reason
    # For the account's refusals: the status it gets (None: it only stops working this chat).
    status: AccountStatus | None = None
    source: str = ""


ADD_FAILED_TRIES = 3  # CHAT_MEMBER_ADD_FAILED: the first account and at most 2 others
UNKNOWN_TRIES = 2  # an error nobody documented: tried once more at most
UNKNOWN_ERRORS_PARK = 3  # one account hitting this many unknown errors in a row is parked

_A, _P, _C = Concerns.ACCOUNT, Concerns.PERSON, Concerns.CHAT
_S = AccountStatus

REFUSALS: dict[str, Refusal] = {
    # --- the account ------------------------------------------------------------------------
    # "You're banned from sending messages in supergroups/channels": the *caller* is
    # spam-restricted, not the invitee [invite][telethon].
    "USER_BANNED_IN_CHANNEL": Refusal(
        _A, Reason.ACCOUNT_RESTRICTED, _S.RESTRICTED, "invite, telethon"
    ),
    "PEER_FLOOD": Refusal(_A, Reason.PEER_FLOOD, _S.PARKED, "invite, telethon"),
    "AUTH_KEY_UNREGISTERED": Refusal(
        _A, Reason.ACCOUNT_UNAUTHORIZED, _S.UNAUTHORIZED, "errors (401)"
    ),
    "AUTH_KEY_INVALID": Refusal(_A, Reason.ACCOUNT_UNAUTHORIZED, _S.UNAUTHORIZED, "errors (401)"),
    "SESSION_REVOKED": Refusal(_A, Reason.ACCOUNT_UNAUTHORIZED, _S.UNAUTHORIZED, "errors (401)"),
    "SESSION_EXPIRED": Refusal(_A, Reason.ACCOUNT_UNAUTHORIZED, _S.UNAUTHORIZED, "errors (401)"),
    "USER_DEACTIVATED": Refusal(_A, Reason.ACCOUNT_UNAUTHORIZED, _S.UNAUTHORIZED, "errors (401)"),
    # 406: "can no longer be used" — the key is dead on Telegram's side [telethon][errors].
    "AUTH_KEY_DUPLICATED": Refusal(
        _A, Reason.ACCOUNT_UNAUTHORIZED, _S.UNAUTHORIZED, "errors (406), telethon"
    ),
    "USER_DEACTIVATED_BAN": Refusal(_A, Reason.ACCOUNT_BANNED, _S.BANNED, "errors (401)"),
    "PHONE_NUMBER_BANNED": Refusal(_A, Reason.ACCOUNT_BANNED, _S.BANNED, "auth.sendCode"),
    # The account's rights in this chat (it may still invite elsewhere) [invite][addchat].
    "CHAT_ADMIN_REQUIRED": Refusal(_A, Reason.ADMIN_REQUIRED, None, "invite, addchat"),
    "CHAT_WRITE_FORBIDDEN": Refusal(_A, Reason.ADMIN_REQUIRED, None, "invite, addchat"),
    "RIGHT_FORBIDDEN": Refusal(_A, Reason.ADMIN_REQUIRED, None, "telethon"),
    "CHANNEL_PRIVATE": Refusal(_A, Reason.ADMIN_REQUIRED, None, "invite"),
    "CHANNEL_INVALID": Refusal(_A, Reason.ADMIN_REQUIRED, None, "invite"),
    "CHAT_INVALID": Refusal(_A, Reason.ADMIN_REQUIRED, None, "invite, addchat"),
    "CHAT_ID_INVALID": Refusal(_A, Reason.ADMIN_REQUIRED, None, "addchat"),
    # --- the person (final) ---------------------------------------------------------------
    "USER_PRIVACY_RESTRICTED": Refusal(_P, Reason.PRIVACY_RESTRICTED, source="invite, addchat"),
    "USER_NOT_MUTUAL_CONTACT": Refusal(_P, Reason.NOT_MUTUAL_CONTACT, source="invite, addchat"),
    "USER_CHANNELS_TOO_MUCH": Refusal(_P, Reason.TOO_MANY_CHANNELS, source="invite"),
    "USER_KICKED": Refusal(_P, Reason.KICKED, source="invite"),
    "INPUT_USER_DEACTIVATED": Refusal(_P, Reason.DEACTIVATED, source="invite, addchat"),
    "USER_DELETED": Refusal(_P, Reason.DEACTIVATED, source="telethon"),
    "USER_BOT": Refusal(_P, Reason.BOT, source="invite"),
    "BOT_GROUPS_BLOCKED": Refusal(_P, Reason.BOT, source="invite, addchat"),
    # "User blocked." [invite]: the page does not say who blocked whom; either way the
    # person is not asked again by anyone (the protective reading).
    "USER_BLOCKED": Refusal(_P, Reason.BLOCKED, source="invite"),
    # Sent only with the account's own access hash (never a zero one), so an invalid id
    # means the person is gone [invite][addchat].
    "USER_ID_INVALID": Refusal(_P, Reason.USER_NOT_FOUND, source="invite, addchat"),
    # --- the chat: the campaign pauses ------------------------------------------------------
    # "The maximum number of users has been exceeded" [telethon]; for a broadcast channel
    # also the 200 members its admins may add [invite].
    "USERS_TOO_MUCH": Refusal(_C, Reason.CHAT_FULL, source="invite, addchat, telethon"),
    # --- another account may succeed ----------------------------------------------------------
    "CHAT_MEMBER_ADD_FAILED": Refusal(Concerns.OTHER_ACCOUNT, Reason.ADD_FAILED, source="addchat"),
}
# Families named by a prefix: the wait is part of the name (FLOOD_WAIT_30), and Telegram
# adds FROZEN_* errors as it extends the freeze [frozen][telethon].
_PREFIXES: tuple[tuple[str, Refusal], ...] = (
    ("FLOOD_WAIT_", Refusal(_A, Reason.FLOOD, _S.COOLDOWN, "errors (420)")),
    ("FLOOD_PREMIUM_WAIT_", Refusal(_A, Reason.FLOOD, _S.COOLDOWN, "errors (420), telethon")),
    ("SLOWMODE_WAIT_", Refusal(_A, Reason.FLOOD, _S.COOLDOWN, "errors (420)")),
    ("FROZEN_", Refusal(_A, Reason.ACCOUNT_FROZEN, _S.FROZEN, "frozen, telethon")),
)
_UNKNOWN = Refusal(Concerns.UNKNOWN, Reason.UNKNOWN)


def refusal_of(rpc: str) -> Refusal:
    """The meaning of one of Telegram's error names (unknown names: `Concerns.UNKNOWN`)."""
    found = REFUSALS.get(rpc)
    if found is not None:
        return found
    for prefix, refusal in _PREFIXES:
        if rpc.startswith(prefix):
            return refusal
    return _UNKNOWN


def reason_for_rpc(rpc: str) -> Reason:
    return refusal_of(rpc).reason


FOLLOW_UP_REASONS = frozenset(
    {Reason.PRIVACY_RESTRICTED, Reason.NOT_MUTUAL_CONTACT, Reason.MISSING_INVITEE, Reason.NOT_ADDED}
)


def follow_up_count(reasons: Mapping[str, int]) -> int:
    """How many people of a campaign can only join by the invite link, from its people by
    reason (the campaign's card and its report say the same number)."""
    return sum(n for code, n in reasons.items() if code in FOLLOW_UP_REASONS)
