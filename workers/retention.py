"""Retention jobs: invited people checked again after a day and a week, and unused audiences
deleted after a notice (rules: `core/retention.py`).

The membership checks go chat by chat, in batches of `core.retention.BATCH` people, with one
account of the workspace that already resolved the chat (an account that invited there: it
is an admin, so it sees the member list) under its lease, as every use of an account is. A
chat's member list is read once per batch (`channels.getParticipants`, 200 a page); only
people missing from an incomplete list (a chat of more than 10,000) are looked up one by one
(`channels.getParticipant`), with a pause between two. Every job takes `now`, so tests move
the clock instead of waiting a week; due times are compared in PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import campaigns as cg
from core import telegram as tg
from core.accounts import AccountService
from core.dto import AccountDTO, AccountStatus
from core.interfaces import Notifier
from core.limits import rest_after_flood
from core.logs import get_logger, new_trace_id
from core.retention import (
    BATCH,
    MAX_TRIES,
    NOTICE_BEFORE,
    RETRY_AFTER,
    AudienceFate,
    audience_fate,
    verdict,
)
from core.secretbox import SessionDecryptError
from db.dal import open_dal
from db.dal_retention import CheckPerson
from db.leases import LeaseStore
from gateway.inviting import Inviter
from gateway.telegram import TelegramGateway
from workers.leases import AccountBusy, LeaseLost, leased_client

log = get_logger("workers.retention")
# The pre-flight's bound too: Telegram lists at most 10,000 members of a supergroup
# (core.telegram.org/method/channels.getParticipants; docs/sandbox.md, "Members").
MEMBER_LIST_LIMIT = 10_000
AUDIENCE_NOTICE = "audience_expiring"
AUDIENCE_DELETED = "audience_deleted"


class RetentionJob:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: TelegramGateway,
        service: AccountService,
        leases: LeaseStore,
        notifier: Notifier | None,
        retention_days: int,
        flood_buffer_s: int = 60,
        pace_s: float = 1.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.gateway = gateway
        self.service = service
        self.leases = leases
        self.notifier = notifier
        self.retention_days = retention_days
        self.flood_buffer_s = flood_buffer_s
        self.pace_s = pace_s  # between two people looked up one by one

    # --- did invited people stay? ---------------------------------------------------------------
    async def check_members(self, now: datetime | None = None) -> dict[str, int]:
        """One round: every chat with people due, one batch each. Returns counts by result."""
        new_trace_id()
        now = now or datetime.now(UTC)
        counts: dict[str, int] = {}
        async with open_dal(self.sessionmaker) as dal:
            chats = await dal.due_chats(now)
        for i, (workspace_id, chat_id) in enumerate(chats):
            if i:
                await asyncio.sleep(
                    self.pace_s
                )  # batches of several chats one after another, not at once
            for result, n in (await self._check_chat(workspace_id, chat_id, now)).items():
                counts[result] = counts.get(result, 0) + n
        if counts:
            log.info("retention checked", **counts)
        return counts

    async def _check_chat(self, workspace_id: int, chat_id: int, now: datetime) -> dict[str, int]:
        async with open_dal(self.sessionmaker) as dal:
            people = await dal.due_checks(workspace_id, chat_id, now, BATCH)
            accounts = await self._accounts(workspace_id, chat_id, people)
            chats = {a.id: await dal.account_chat(a.id, chat_id) for a in accounts}
        if not people:
            return {}
        found: dict[int, bool | None] | None = None
        for account in accounts:
            chat = chats[account.id]
            assert chat is not None
            try:
                found = await self._look(account, chat, people)
            except AccountBusy:
                continue  # inviting or checked right now: another account, or the next round
            except tg.FloodWait as exc:
                await self._rest(account, exc)
                continue
            except (
                tg.TelegramError,
                SessionDecryptError,
                LeaseLost,
                ConnectionError,
                OSError,
            ) as exc:
                log.warning(
                    "retention check failed",
                    account_id=account.id,
                    chat_id=chat_id,
                    error=getattr(exc, "rpc", "") or type(exc).__name__,
                )
                continue
            break
        counts: dict[str, int] = {}
        async with open_dal(self.sessionmaker) as dal:
            for person in people:
                present = None if found is None else found.get(person.check.tg_user_id)
                if present is None:
                    give_up = person.check.tries + 1 >= MAX_TRIES
                    await dal.defer_check(person.check, now + RETRY_AFTER, give_up=give_up)
                    result = "unknown" if give_up else "deferred"
                else:
                    await dal.record_check(person.check, verdict(person.check.stage, present), now)
                    result = f"{person.check.stage.value}_{'stayed' if present else 'left'}"
                counts[result] = counts.get(result, 0) + 1
            await dal.commit()
        return counts

    async def _accounts(
        self, workspace_id: int, chat_id: int, people: list[CheckPerson]
    ) -> list[AccountDTO]:
        """Active accounts of the workspace that resolved the chat, the one that invited most
        of these people first (an admin of the chat, who sees its members)."""
        async with open_dal(self.sessionmaker) as dal:
            every = await dal.list_accounts(workspace_id, after_id=0, limit=1000)
            known = [
                a
                for a in every
                if a.status is AccountStatus.ACTIVE
                and await dal.account_chat(a.id, chat_id) is not None
            ]
        invited = {a.id: sum(1 for p in people if p.check.account_id == a.id) for a in known}
        return sorted(known, key=lambda a: (-invited[a.id], a.id))

    async def _look(
        self, account: AccountDTO, chat: cg.TargetChat, people: list[CheckPerson]
    ) -> dict[int, bool | None]:
        """Who of `people` is in the chat (None: could not tell), as this account sees it."""
        async with leased_client(
            leases=self.leases,
            sessionmaker=self.sessionmaker,
            service=self.service,
            gateway=self.gateway,
            account=account,
        ) as (_lease, client):
            inviter = Inviter(client)
            inviter.use(chat)
            ids, complete = await inviter.member_ids(chat, MEMBER_LIST_LIMIT)
            found: dict[int, bool | None] = {}
            for person in people:
                user_id = person.check.tg_user_id
                if user_id in ids or complete:
                    found[user_id] = user_id in ids
                    continue
                # Beyond the list Telegram gives: asked one by one, with this account's own
                # sighting only (resolving usernames for it would spend the resolve budget).
                access_hash = (
                    person.access_hash if person.seen_by_account_id == account.id else None
                )
                try:
                    joined = await inviter.joined_at(chat, user_id, access_hash, None)
                except tg.Unreachable:
                    found[user_id] = None
                    continue
                found[user_id] = joined is not None
                await asyncio.sleep(self.pace_s)
            return found

    async def _rest(self, account: AccountDTO, exc: tg.FloodWait) -> None:
        until = rest_after_flood(datetime.now(UTC), exc.seconds, self.flood_buffer_s)
        async with open_dal(self.sessionmaker) as dal:
            await self.service.change_status(
                dal, account.id, AccountStatus.COOLDOWN, exc.rpc, cooldown_until=until
            )

    # --- audiences kept only while used ---------------------------------------------------------
    async def audiences(self, now: datetime | None = None) -> dict[str, int]:
        """The daily round: notices a week before, deletions after. Several workers may run
        it at once: a notice is claimed by one statement, a deletion happens once."""
        new_trace_id()
        now = now or datetime.now(UTC)
        counts = {"noticed": 0, "deleted": 0}
        keep = timedelta(days=self.retention_days)
        async with open_dal(self.sessionmaker) as dal:
            candidates = await dal.audiences_unused_since(now - keep + NOTICE_BEFORE, now)
        for audience in candidates:
            fate = audience_fate(audience.last_used, audience.notice_at, now, self.retention_days)
            if fate is AudienceFate.NOTICE:
                delete_on = max(audience.last_used + keep, now + NOTICE_BEFORE)
                async with open_dal(self.sessionmaker) as dal:
                    if not await dal.claim_audience_notice(audience.id, audience.notice_at, now):
                        continue
                    if self.notifier is not None:
                        await self.notifier.notify(
                            audience.owner_telegram_id,
                            AUDIENCE_NOTICE,
                            {
                                "name": audience.name,
                                "size": str(audience.size),
                                "days": str(self.retention_days),
                                "date": delete_on.strftime("%Y-%m-%d"),
                            },
                        )
                    await dal.commit()
                counts["noticed"] += 1
            elif fate is AudienceFate.DELETE:
                async with open_dal(self.sessionmaker) as dal:
                    if not await dal.delete_unused_audience(audience.id, audience.last_used):
                        continue
                    await dal.audit(
                        "audience.expired",
                        workspace_id=audience.workspace_id,
                        details={
                            "audience_id": audience.id,
                            "name": audience.name,
                            "size": audience.size,
                            "days": self.retention_days,
                        },
                    )
                    await dal.commit()
                if self.notifier is not None:
                    await self.notifier.notify(
                        audience.owner_telegram_id,
                        AUDIENCE_DELETED,
                        {
                            "name": audience.name,
                            "size": str(audience.size),
                            "days": str(self.retention_days),
                        },
                    )
                counts["deleted"] += 1
        if any(counts.values()):
            log.info("audiences retained", **counts)
        return counts
