"""Joining a private chat by its invite link, with one account (issue 13, sources).

Two calls, both with the account that will read the chat (access hashes are per account):
`messages.checkChatInvite` (core.telegram.org/method/messages.checkChatInvite) says what the
link leads to — chatInviteAlready(chat) when the account is in it already, chatInvite(title,
participants_count, request_needed) otherwise — and `messages.importChatInvite`
(core.telegram.org/method/messages.importChatInvite) joins: Updates with the chat, or
INVITE_REQUEST_SENT when the link asks for an admin's approval (a join request now waits),
USER_ALREADY_PARTICIPANT when the account is in the chat. The refusals of a link
(INVITE_HASH_EXPIRED, INVITE_HASH_INVALID, CHANNELS_TOO_MUCH) come out as `tg.TelegramError`
with Telegram's name in `.rpc`; `core.parsing.JOIN_REFUSALS` says what each means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telethon import functions, types

from core import telegram as tg
from gateway.errors import translated
from gateway.reading import AccountClient


@dataclass(frozen=True, slots=True)
class JoinedChat:
    """A chat the account is in, as that account addresses it."""

    chat_id: int
    access_hash: int | None  # None for a basic group
    kind: str  # "group", "megagroup" or "channel"
    title: str

    def to_json(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "access_hash": self.access_hash,
            "kind": self.kind,
            "title": self.title,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JoinedChat:
        raw_hash = data.get("access_hash")
        return cls(
            int(data["chat_id"]),
            int(raw_hash) if raw_hash is not None else None,
            str(data.get("kind") or "megagroup"),
            str(data.get("title") or ""),
        )


@dataclass(frozen=True, slots=True)
class Preview:
    title: str
    members: int | None
    request_needed: bool
    chat: JoinedChat | None  # set when the account is in the chat already


class JoinRequested(tg.TelegramError):
    """INVITE_REQUEST_SENT: the account asked to join; an admin has to accept."""

    code = "join_requested"


def _joined(chat: Any) -> JoinedChat | None:
    if isinstance(chat, types.Channel) and chat.access_hash is not None:
        return JoinedChat(
            chat.id,
            chat.access_hash,
            "channel" if chat.broadcast else "megagroup",
            chat.title or "",
        )
    if isinstance(chat, types.Chat):
        return JoinedChat(chat.id, None, "group", chat.title or "")
    return None  # channelForbidden / chatForbidden: banned from it


async def check_invite(client: AccountClient, invite_hash: str) -> Preview:
    """What the link leads to, for this account; raises `tg.TelegramError` (rpc
    INVITE_HASH_EXPIRED, INVITE_HASH_INVALID, ...), `tg.FloodWait` and the account errors."""
    with translated():
        answer = await client.telethon(functions.messages.CheckChatInviteRequest(invite_hash))
    if isinstance(answer, (types.ChatInviteAlready, types.ChatInvitePeek)):
        chat = answer.chat
        joined = _joined(chat)
        return Preview(
            getattr(chat, "title", "") or "",
            getattr(chat, "participants_count", None),
            False,
            joined if isinstance(answer, types.ChatInviteAlready) else None,
        )
    return Preview(answer.title or "", answer.participants_count, bool(answer.request_needed), None)


async def join(client: AccountClient, invite_hash: str) -> JoinedChat:
    """Join by the link. Raises `JoinRequested` when an admin must accept the account first;
    USER_ALREADY_PARTICIPANT is no failure: the chat is looked up with the link instead."""
    try:
        with translated():
            updates = await client.telethon(functions.messages.ImportChatInviteRequest(invite_hash))
    except tg.TelegramError as exc:
        if exc.rpc == "INVITE_REQUEST_SENT":
            raise JoinRequested(exc.rpc) from exc
        if exc.rpc != "USER_ALREADY_PARTICIPANT":
            raise
        preview = await check_invite(client, invite_hash)
        if preview.chat is None:
            raise tg.NoAccess("CHANNEL_PRIVATE") from exc
        return preview.chat
    for chat in getattr(updates, "chats", ()):
        found = _joined(chat)
        if found is not None:
            return found
    raise tg.NoAccess("CHANNEL_PRIVATE")
