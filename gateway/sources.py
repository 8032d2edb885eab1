"""Is there such a chat? Asked of Telegram before a collection is queued.

`/parse garbage` used to queue a task that a worker then failed with "no chat has this
username", leaving an empty audience behind. Now the bot and the API ask first, through one
free account of the workspace: a single `contacts.resolveUsername`
(core.telegram.org/method/contacts.resolveUsername: USERNAME_NOT_OCCUPIED,
USERNAME_INVALID for a name nobody has). When no account can be asked now — none linked or
usable, all busy with work, Telegram slow or asking to wait — the task is queued unchecked
and the worker finds out, as before: the check never blocks a collection it cannot judge.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import telegram as tg
from core.accounts import AccountService, can_work
from core.dto import AccountDTO
from core.errors import Busy, InvalidInput
from core.logs import get_logger
from core.parsing import JOIN_REFUSALS, InvitePreview
from core.secretbox import SessionDecryptError
from db.dal import open_dal
from db.leases import LeaseStore
from gateway import joining
from gateway.accounts import leased_account_client
from gateway.reading import AccountClient
from gateway.telegram import TelegramGateway

log = get_logger("gateway.sources")

TRIES = 3  # accounts asked for their lease, each without waiting; a busy one is skipped
CHECK_TIMEOUT_S = 15.0  # connecting and one request; past this the worker finds out instead


class SourceChecker:
    """`core.interfaces.SourceCheck` through the workspace's accounts, each under its lease."""

    def __init__(
        self,
        *,
        accounts: AccountService,
        gateway: TelegramGateway,
        leases: LeaseStore,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        self.accounts = accounts
        self.gateway = gateway
        self.leases = leases
        self.sessionmaker = sessionmaker

    async def __call__(self, workspace_id: int, username: str) -> None:
        async with open_dal(self.sessionmaker) as dal:
            listed = await dal.list_accounts(workspace_id, after_id=0, limit=1000)
            await dal.rollback()
        now = datetime.now(UTC)
        for account in [a for a in listed if can_work(a, now)][:TRIES]:
            try:
                async with asyncio.timeout(CHECK_TIMEOUT_S), self._client(account) as client:
                    await client.source_exists(username)
                return
            except Busy:
                continue  # a worker uses it; another account may be free
            except tg.SourceNotFound:
                raise InvalidInput(
                    "source", field="source", problem="source_not_found", source=f"@{username}"
                ) from None
            except tg.NotAGroup:
                raise InvalidInput(
                    "source", field="source", problem="source_is_person", source=f"@{username}"
                ) from None
            except (
                tg.TelegramError,
                SessionDecryptError,
                ConnectionError,
                OSError,
                TimeoutError,
            ) as exc:
                # A flood wait, a lost session, a slow network: not an answer about the
                # source. One account is enough to ask; the worker deals with the rest.
                log.info(
                    "source not checked",
                    account_id=account.id,
                    error=type(exc).__name__,
                    rpc=getattr(exc, "rpc", ""),
                )
                return
        log.info("source not checked: no free account", workspace_id=workspace_id)

    async def check_invite(
        self, workspace_id: int, invite_hash: str, account_id: int
    ) -> InvitePreview | None:
        """`core.interfaces.InviteCheck`: messages.checkChatInvite through the account that
        is to join (gateway.joining). The link's refusals (INVITE_HASH_EXPIRED,
        INVITE_HASH_INVALID) are answers; a busy account, a flood wait or a slow network
        are not: then None, and the worker finds out when it joins."""
        async with open_dal(self.sessionmaker) as dal:
            account = await dal.get_account(workspace_id, account_id)
            await dal.rollback()
        if account is None:
            raise InvalidInput("account", field="account_id", problem="join_account")
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S), self._client(account) as client:
                preview = await joining.check_invite(client, invite_hash)
        except Busy:
            log.info("invite not checked: account busy", account_id=account.id)
            return None
        except tg.TelegramError as exc:
            problem = JOIN_REFUSALS.get(exc.rpc)
            if problem is not None and not isinstance(exc, tg.FloodWait):
                raise InvalidInput("invite", field="source", problem=problem) from None
            log.info(
                "invite not checked", account_id=account.id, error=type(exc).__name__, rpc=exc.rpc
            )
            return None
        except (SessionDecryptError, ConnectionError, OSError, TimeoutError) as exc:
            log.info("invite not checked", account_id=account.id, error=type(exc).__name__)
            return None
        return InvitePreview(
            title=preview.title,
            members=preview.members,
            request_needed=preview.request_needed,
            already=preview.chat is not None,
            account_id=account.id,
        )

    def _client(self, account: AccountDTO) -> contextlib.AbstractAsyncContextManager[AccountClient]:
        """The account's client under its lease, without waiting for a busy one (`Busy`)."""
        return leased_account_client(
            leases=self.leases,
            sessionmaker=self.sessionmaker,
            service=self.accounts,
            gateway=self.gateway,
            account=account,
            wait_s=0,
            remember_entities=False,
        )
