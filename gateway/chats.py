"""The chats a workspace's accounts can use as a target: the picker, and the target check
made before a campaign is saved.

Both read Telegram through each account under its lease. The picker reads one
`messages.getDialogs` page per account (core.telegram.org/method/messages.getDialogs) and
keeps it a few minutes per account in Redis, so opening the picker again, or checking a
target by id right after, costs Telegram nothing. Access hashes are per account
(core.telegram.org/api/peers): a chat an account may invite into is kept in
`account_chats` with that account's own hash, which the workers then use as it is.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import campaigns as cg
from core import telegram as tg
from core.accounts import AccountService, account_label, can_work
from core.campaign_service import (
    CHANNEL_REF_PREFIX,
    INVITE_REF_PREFIX,
    names_by_id,
    parse_target,
)
from core.dto import AccountDTO
from core.errors import Busy, InvalidInput
from core.logs import get_logger
from core.secretbox import SessionDecryptError
from core.users import require_workspace
from db.dal import open_dal
from db.dal_invites import InviteDal
from db.leases import LeaseStore
from gateway.accounts import leased_account_client
from gateway.inviting import DialogChat, Inviter
from gateway.reading import AccountClient
from gateway.telegram import TelegramGateway

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = get_logger("gateway.chats")

DIALOGS_TTL_S = 300  # one account's dialogs are read again after this long
LAST_KNOWN_TTL_S = 86_400  # what an account busy inviting (a worker holds its lease) is shown with
_KEY = "chats:dialogs:{}"
_LAST_KEY = "chats:dialogs-last:{}"
# What ends one account's turn without ending the check (the next account may answer).
_ACCOUNT_TROUBLE = (
    Busy,
    tg.AccountUnauthorized,
    tg.AccountBanned,
    SessionDecryptError,
    tg.FloodWait,
    tg.PeerFlood,
    tg.Unreachable,
    ConnectionError,
    OSError,
    TimeoutError,
)


@dataclass
class PickerChat:
    chat_id: int
    kind: str
    title: str
    username: str | None
    members: int | None
    accounts: list[int] = field(default_factory=list)  # accounts in the chat
    inviters: list[int] = field(default_factory=list)  # of those, the ones that may add people
    labels: dict[int, str] = field(default_factory=dict)  # account id -> @username or name

    @property
    def target(self) -> str:
        """What to give `parse_target` for this chat (public: its username)."""
        if self.username:
            return "@" + self.username
        return f"{CHANNEL_REF_PREFIX}{self.chat_id}" if self.kind != "group" else str(self.chat_id)


def _dump(chats: list[DialogChat]) -> str:
    return json.dumps(
        [
            {
                "id": c.chat.chat_id,
                "kind": c.chat.kind,
                "title": c.chat.title,
                "username": c.chat.username,
                "hash": c.chat.access_hash,
                "members": c.members,
                "creator": c.rights.creator,
                "admin": c.rights.admin,
                "invite": c.rights.can_invite,
            }
            for c in chats
        ]
    )


def _load(raw: bytes | str) -> list[DialogChat]:
    return [
        DialogChat(
            cg.TargetChat(int(r["id"]), str(r["kind"]), str(r["title"]), r["username"], r["hash"]),
            r["members"],
            cg.ChatRights(
                member=True,
                creator=bool(r["creator"]),
                admin=bool(r["admin"]),
                can_invite=bool(r["invite"]),
            ),
        )
        for r in json.loads(raw)
    ]


def _refuse_full(members: int | None) -> None:
    """Refuse a broadcast channel that can take nobody added any more."""
    if cg.broadcast_room(members) == 0:
        raise InvalidInput("target", field="target", problem="target_channel_full", members=members)


class ChatDirectory:
    def __init__(
        self,
        *,
        accounts: AccountService,
        gateway: TelegramGateway,
        leases: LeaseStore,
        sessionmaker: async_sessionmaker[AsyncSession],
        cache: Redis | None = None,
        lease_wait_s: float = 1.0,  # a person waits for the answer: a busy account is skipped soon
    ) -> None:
        self.accounts = accounts
        self.gateway = gateway
        self.leases = leases
        self.sessionmaker = sessionmaker
        self.cache = cache
        self.lease_wait_s = lease_wait_s

    async def _workspace_accounts(self, user_id: int, workspace_id: int) -> list[AccountDTO]:
        async with open_dal(self.sessionmaker) as dal:
            await require_workspace(dal, user_id, workspace_id)
            accounts = list(await dal.list_accounts(workspace_id, after_id=0, limit=1000))
            await dal.rollback()
        now = datetime.now(UTC)
        return [a for a in accounts if can_work(a, now)]

    async def _dialogs(self, account: AccountDTO) -> list[DialogChat]:
        """One account's groups and channels: from the cache, else one getDialogs page under
        its lease (raises what ends the account's turn: `Busy`, a lost session, a flood wait)."""
        key = _KEY.format(account.id)
        if self.cache is not None:
            cached = await self.cache.get(key)
            if cached is not None:
                return _load(cached)
        try:
            async with self._client(account) as client:
                chats = await Inviter(client).dialogs()
        except Busy:
            # A worker holds it (inviting keeps the lease between invites): its chats as last
            # read, rather than a list that misses them; the pre-flight checks again anyway.
            last = (
                await self.cache.get(_LAST_KEY.format(account.id))
                if self.cache is not None
                else None
            )
            if last is None:
                raise
            return _load(last)
        if self.cache is not None:
            await self.cache.set(key, _dump(chats), ex=DIALOGS_TTL_S)
            await self.cache.set(_LAST_KEY.format(account.id), _dump(chats), ex=LAST_KNOWN_TTL_S)
        # Kept with this account's own access hash: the workers address the chat with it.
        async with self.sessionmaker() as db, db.begin():
            invites = InviteDal(db)
            for seen in chats:
                if seen.rights.may_invite:
                    await invites.save_account_chat(account.id, seen.chat)
        return chats

    async def chats(
        self, user_id: int, workspace_id: int, *, can_invite: bool = False
    ) -> list[PickerChat]:
        """The groups and channels the workspace's usable accounts are in, biggest first;
        `can_invite`: only those where one of them may add people (creator, or admin with
        `invite_users`; any member of a basic group that allows it). An account that cannot be
        asked now (busy, resting) is left out."""
        found: dict[int, PickerChat] = {}
        for account in await self._workspace_accounts(user_id, workspace_id):
            try:
                chats = await self._dialogs(account)
            except (*_ACCOUNT_TROUBLE, tg.TelegramError) as exc:
                log.info("dialogs not read", account_id=account.id, error=type(exc).__name__)
                continue
            for seen in chats:
                chat = seen.chat
                row = found.setdefault(
                    chat.chat_id,
                    PickerChat(chat.chat_id, chat.kind, chat.title, chat.username, seen.members),
                )
                row.accounts.append(account.id)
                if seen.rights.may_invite:
                    row.inviters.append(account.id)
                row.labels[account.id] = account_label(account.username, account.first_name)
        rows = [c for c in found.values() if c.inviters or not can_invite]
        return sorted(rows, key=lambda c: (-(c.members or 0), c.title.casefold(), c.chat_id))

    async def check_target(self, user_id: int, workspace_id: int, target: str) -> str:
        """The target as stored, once one account of the workspace found the chat; a clear
        refusal otherwise, before anything is saved: `target_no_such_chat` (an unknown
        username, id or link), `target_not_member` (a link to a chat none of the accounts is
        in), `target_is_person`, `target_channel_full` (a broadcast channel of 200 members
        or more takes nobody added, `core.campaigns.broadcast_room`). Accounts that cannot
        be asked now are skipped; when none could be, the target is let through and the
        pre-flight says what it finds."""
        ref = parse_target(target)
        accounts = await self._workspace_accounts(user_id, workspace_id)
        asked = 0
        not_member = False
        by_id = names_by_id(ref)
        for account in accounts:
            try:
                if by_id:
                    chats = await self._dialogs(account)
                    chat_id = int(ref.removeprefix(CHANNEL_REF_PREFIX))
                    channel = ref.startswith(CHANNEL_REF_PREFIX)
                    seen = next(
                        (
                            c
                            for c in chats
                            if c.chat.chat_id == chat_id and (not channel or c.chat.kind != "group")
                        ),
                        None,
                    )
                    if seen is None:
                        asked += 1
                        continue
                    if seen.chat.kind == "channel":
                        members = seen.members
                        if members is None:
                            async with self._client(account) as client:
                                inviter = Inviter(client)
                                inviter.use(seen.chat)
                                members = await inviter.member_count(seen.chat)
                        _refuse_full(members)
                    return ref
                async with self._client(account) as client:
                    inviter = Inviter(client)
                    chat = await inviter.resolve_target(ref)
                    if chat.kind == "channel":
                        _refuse_full(await inviter.member_count(chat))
                return ref
            except tg.NotAGroup:
                raise InvalidInput("target", field="target", problem="target_is_person") from None
            except tg.NotAMember:
                asked += 1
                not_member = True
            except (tg.SourceNotFound, tg.NoAccess):
                asked += 1
                if not ref.startswith(INVITE_REF_PREFIX):
                    break  # a username or link nobody has: the same answer for every account
            except (*_ACCOUNT_TROUBLE, tg.TelegramError) as exc:
                log.info("target not checked", account_id=account.id, error=type(exc).__name__)
        if asked == 0:
            return ref
        problem = "target_not_member" if not_member else "target_no_such_chat"
        raise InvalidInput("target", field="target", problem=problem)

    def _client(self, account: AccountDTO) -> contextlib.AbstractAsyncContextManager[AccountClient]:
        return leased_account_client(
            leases=self.leases,
            sessionmaker=self.sessionmaker,
            service=self.accounts,
            gateway=self.gateway,
            account=account,
            wait_s=self.lease_wait_s,
        )
