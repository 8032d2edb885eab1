"""The campaign pre-flight (DESIGN §7): what Telegram says about the target, asked through
every account of the workspace, each under its lease.

For each account: can it see the chat, is it in it, may it add people (creator, or admin
with `invite_users`), how much has it already added there. One account that may invite also
lists the chat's members, so audience people already in it are counted (and never sent an
invite), and exports the invite link for the follow-up list. The result is stored with the
campaign: the workers only use the accounts it named eligible.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import campaigns as cg
from core import telegram as tg
from core.accounts import AccountService, account_label, can_work
from core.campaign_service import CampaignService, names_by_id
from core.campaigns import CampaignStatus
from core.dto import AccountDTO
from core.errors import Busy, InvalidInput
from core.limits import InviteLimits
from core.logs import get_logger
from core.secretbox import SessionDecryptError
from db.dal import open_dal
from db.leases import LeaseStore
from gateway.accounts import leased_account_client
from gateway.inviting import Inviter
from gateway.reading import AccountClient
from gateway.telegram import TelegramGateway

log = get_logger("gateway.campaigns")

MEMBER_SCAN_LIMIT = 10_000  # members listed to find audience people already in the chat
PREFLIGHT_STATUSES = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.PAUSED)


@dataclass
class _Seen:
    chat: cg.TargetChat | None = None
    members: set[int] | None = None
    members_complete: bool = False
    link: str | None = None
    count: int | None = None  # a broadcast channel's member count (its 200 cap)


def joinable(target_ref: str) -> bool:
    """Whether a chat named this way can be joined: by its username or an invite link, not
    by an id (only those already in a chat can name it by id)."""
    return not names_by_id(target_ref)


class Planner:
    def __init__(
        self,
        *,
        campaigns: CampaignService,
        accounts: AccountService,
        gateway: TelegramGateway,
        leases: LeaseStore,
        sessionmaker: async_sessionmaker[AsyncSession],
        lease_wait_s: float = 5.0,
    ) -> None:
        self.campaigns = campaigns
        self.accounts = accounts
        self.gateway = gateway
        self.leases = leases
        self.sessionmaker = sessionmaker
        self.lease_wait_s = lease_wait_s

    async def preflight(self, user_id: int, workspace_id: int, campaign_id: int) -> dict[str, Any]:
        """Check the target with every account, store the result and return it (as JSON)."""
        async with open_dal(self.sessionmaker) as dal:
            campaign = await self.campaigns.get(dal, user_id, workspace_id, campaign_id)
            if CampaignStatus(campaign.status) not in PREFLIGHT_STATUSES:
                raise InvalidInput(
                    "status", field="status", problem="preflight_status", status=campaign.status
                )
            accounts = list(await dal.list_accounts(workspace_id, after_id=0, limit=1000))
            limits = await self.campaigns.effective_limits(dal, campaign)
            await dal.rollback()
        now = datetime.now(UTC)
        seen = _Seen()
        rights: dict[int, cg.ChatRights | None] = {}  # None: cannot see the chat
        unusable: set[int] = set()
        unchecked: list[int] = []
        for account in accounts:
            if not can_work(account, now):
                unusable.add(account.id)
                continue
            try:
                rights[account.id] = await self._look(account, campaign.target_ref, seen, limits)
            except Busy:
                unchecked.append(account.id)  # a worker holds it; it checks its rights itself
            except (
                tg.AccountUnauthorized,
                tg.AccountBanned,
                SessionDecryptError,
                tg.FloodWait,
                tg.PeerFlood,
            ) as exc:
                log.info(
                    "account left out of the pre-flight",
                    account_id=account.id,
                    error=type(exc).__name__,
                )
                unusable.add(account.id)
            except (tg.TelegramError, ConnectionError, OSError, TimeoutError) as exc:
                # Something about this one account or this moment: it checks its rights
                # itself when it works the campaign, like a busy one.
                log.warning(
                    "account not checked by the pre-flight",
                    account_id=account.id,
                    error=type(exc).__name__,
                    rpc=getattr(exc, "rpc", ""),
                )
                unchecked.append(account.id)
        async with open_dal(self.sessionmaker) as dal:
            chat = seen.chat
            if chat is not None and chat.migrated_from is not None:
                # Named by a basic group that became this supergroup: what was done there
                # counts here, before anyone is counted as still to invite.
                moved = await dal.follow_migration(workspace_id, chat.migrated_from, chat.chat_id)
                log.info(
                    "target followed to its supergroup",
                    campaign_id=campaign.id,
                    ledger_rows=moved,
                )
            ever = await dal.ever_in_chat(workspace_id, chat.chat_id) if chat else {}
            facts = [
                self._facts(a, rights.get(a.id), a.id in unusable, ever.get(a.id, 0))
                for a in accounts
                if a.id not in unchecked
            ]
            if chat is not None:
                await dal.set_target(campaign.id, chat, seen.link)
                audience = set(await dal.audience_ids(campaign.id))
                in_chat = sorted(audience & seen.members) if seen.members else []
                await dal.fill_targets(campaign.id, in_chat=in_chat)
                summary = await dal.target_summary(campaign.id)
            else:
                summary = {"pending": len(await dal.audience_ids(campaign.id))}
            already, opted = summary.get("already_member", 0), summary.get("skipped_opted_out", 0)
            # Everyone neither waiting for an invite nor counted above was tried before: in
            # this chat by another campaign, or by this one before a pause.
            open_ = summary.get("pending", 0) + summary.get("sending", 0)
            attempted = sum(summary.values()) - open_ - already - opted
            result = cg.preflight(
                cg.PreflightFacts(
                    kind=chat.kind if chat else None,
                    title=chat.title if chat else None,
                    audience_size=sum(summary.values()),
                    already_members=already,
                    attempted_before=attempted,
                    opted_out=opted,
                    members=seen.count,
                    accounts=facts,
                ),
                limits,
            )
            working = result.eligible + unchecked
            by_name, own, nobody = await dal.reach(campaign.id, working) if chat else (0, {}, 0)
            warnings = result.warnings + (["unreachable_people"] if nobody and working else [])
            stored = result.as_json() | {
                "warnings": warnings,
                # Per working account, the people it can name (a username, or its own access
                # hash), and those nobody can: fixed by collecting their source with one of
                # the eligible accounts.
                "reach": {str(a): by_name + own.get(a, 0) for a in working},
                "unreachable": nobody,
                "unchecked": unchecked,
                "accounts": {str(a.id): account_label(a.username, a.first_name) for a in accounts},
                "members_listed": len(seen.members or ()),
                "members_complete": seen.members_complete,
                "invite_link": seen.link,
                "migrated_from": chat.migrated_from if chat else None,
                # Accounts that could join the chat from here (`gateway.target_join`): not
                # in it, usable, and the target named by a username or an invite link.
                "can_join": [
                    a.id
                    for a in accounts
                    if result.excluded.get(a.id) == cg.Exclusion.NOT_A_MEMBER
                    and joinable(campaign.target_ref)
                ],
                "limits": {
                    "daily_per_account": limits.daily_per_account,
                    "daily_per_chat": limits.daily_per_chat,
                    "lifetime_per_chat": limits.lifetime_per_chat,
                    "daily_per_target": limits.daily_per_target,
                    "pause_min_s": limits.pause_min_s,
                    "pause_max_s": limits.pause_max_s,
                },
                "checked_at": now.isoformat(),
            }
            await dal.set_preflight(campaign.id, stored)
            await dal.commit()
        return stored

    def client(self, account: AccountDTO) -> contextlib.AbstractAsyncContextManager[AccountClient]:
        """A connected client of one of the workspace's accounts, under its lease (a busy
        one raises `Busy` after `lease_wait_s`)."""
        return leased_account_client(
            leases=self.leases,
            sessionmaker=self.sessionmaker,
            service=self.accounts,
            gateway=self.gateway,
            account=account,
            wait_s=self.lease_wait_s,
        )

    async def _look(
        self, account: AccountDTO, ref: str, seen: _Seen, limits: InviteLimits
    ) -> cg.ChatRights | None:
        async with self.client(account) as client:
            inviter = Inviter(client)
            try:
                chat = await inviter.resolve_target(ref)
            except tg.NotAGroup:
                raise InvalidInput("target", field="target", problem="target_is_person") from None
            except tg.NotAMember:
                return cg.ChatRights(member=False)  # the link works: it may join (target_join)
            except (tg.SourceNotFound, tg.NoAccess):
                return None
            seen.chat = seen.chat or chat
            if chat.kind == "channel" and seen.count is None:
                with contextlib.suppress(tg.TelegramError):  # unknown: the invites find out
                    seen.count = await inviter.member_count(chat)
            try:
                rights = await inviter.my_rights(chat)
            except tg.NoAccess:  # e.g. banned there: the chat is closed to this account alone
                return None
            if rights.may_invite and seen.members is None:
                try:
                    seen.members, seen.members_complete = await inviter.member_ids(
                        chat, MEMBER_SCAN_LIMIT
                    )
                except tg.TelegramError as exc:  # e.g. a broadcast channel's list is closed
                    log.info("members not listed", account_id=account.id, rpc=exc.rpc)
            if rights.may_invite and seen.link is None:
                seen.link = await inviter.invite_link(chat)
            return rights

    @staticmethod
    def _facts(
        account: AccountDTO, rights: cg.ChatRights | None, unusable: bool, ever: int
    ) -> cg.AccountFacts:
        label = account_label(account.username, account.first_name)
        if unusable:
            return cg.AccountFacts(account.id, label, usable=False)
        if rights is None:
            return cg.AccountFacts(account.id, label, sees_chat=False, member=False)
        return cg.AccountFacts(
            account.id,
            label,
            member=rights.member,
            creator=rights.creator,
            admin=rights.admin,
            can_invite=rights.can_invite,
            ever_in_chat=ever,
        )
