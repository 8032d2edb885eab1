"""The invite engine (DESIGN §7): exactly once, across crashes and several worker processes.

For each working campaign and each usable account of its workspace, under the account's
lease: check the limits, claim one person by committing a `sending` row together with the
chat's ledger row, make the Telegram call, then write the result in one transaction that
first checks the lease still holds. When the limits let the next invite follow at once, that
transaction (a single statement) also claims the next person: one commit records a result
and makes the next claim, which is still committed before its own call. A result that
arrives after the lease was lost is thrown away: the `sending` row stays, and once its claim
has lapsed plus a quarantine it is resolved by a membership check — never by sending again.

The quarantine is what makes a frozen process safe: a process stopped between its claim
and its call (SIGSTOP, a VM pause) may still send when it wakes, so nobody decides about
its claim until well after the claim could still be acted on.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import campaigns as cg
from core import telegram as tg
from core.accounts import AccountService, account_label, can_work, status_after
from core.campaign_service import INVITE_REF_PREFIX
from core.dto import AccountDTO, AccountStatus
from core.installation import effective_limits
from core.interfaces import Notifier
from core.limits import (
    InviteLimits,
    Usage,
    campaign_limits,
    day_start,
    draw_pause,
    may_invite,
    peer_flood_park_until,
)
from core.logs import get_logger, trace_scope
from core.outcomes import UNKNOWN_ERRORS_PARK, Concerns, Outcome, Reason, Refusal, refusal_of
from core.schedule import account_ready_at
from core.secretbox import SessionDecryptError
from db.dal import SqlDal, open_dal
from db.dal_invites import CampaignRow, Claimed, InviteDal
from db.leases import Lease, LeaseStore
from db.metrics import RedisCounter, error_family
from gateway.inviting import Inviter
from gateway.telegram import TelegramGateway
from workers.leases import AccountBusy, LeaseLost, leased_client
from workers.outage import DatabaseWatch
from workers.pausing import pause_and_tell

log = get_logger("workers.inviting")
# What the current account's pass at a campaign has done (for its log line).
_PASS: ContextVar[Counter[str] | None] = ContextVar("invite_pass", default=None)


@dataclass(frozen=True, slots=True)
class InviteConfig:
    limits: InviteLimits = field(default_factory=InviteLimits)
    pause_scale: float = 1.0  # multiplies the drawn pause (0: none; for trials and benches)
    claim_ttl_s: float = 30.0  # a claim may lead to a call only this long after it was made
    call_margin_s: float = 5.0  # no call starts this close to the end of the claim
    quarantine_s: float = 60.0  # extra wait after a claim lapsed before a membership check
    confirm_after_s: float = 0.0  # an unconfirmed invite is checked this long after the call
    retry_after_s: int = 3600  # a retryable failure is tried again after this long
    max_attempts: int = 3
    concurrency: int = 500  # accounts one process holds at once (most of them waiting)
    active: int = 8  # of those, accounts talking to Telegram at once
    inline_wait_s: float = 2.0  # shorter pauses are waited out inside the pass
    # A wait shorter than this (the pause between two invites) keeps the lease and the
    # connection: connecting again costs Telegram five requests and reads as a new session.
    hold_s: float = 1800.0
    idle_retry_s: float = 30.0  # an account with nothing to do is looked at again after this
    stop_grace_s: float = 10.0  # SIGTERM: in-flight invites get this long to finish
    resolve_per_hour: int = (
        20  # usernames one account resolves per hour (USERNAME_RESOLVES_PER_HOUR)
    )


# Telegram's clock and the database's may differ by this much when a join date is compared
# with when the invite was recorded.
JOIN_CLOCK_SLACK_S = 60


class _StopAccount(Exception):
    """The account must stop for now (rest, lost session, lost lease)."""


@dataclass
class _Work:
    """One account on one campaign during one lease."""

    campaign: cg.TargetChat
    row: CampaignRow
    limits: InviteLimits
    usage: Usage
    reachable: list[int]


@dataclass(frozen=True, slots=True)
class _Next:
    """A claim committed in the same statement as the previous result."""

    target: Claimed | None  # None: nobody was left to claim
    claimed_at: float  # loop time before that statement was sent


class InviteEngine:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: TelegramGateway,
        service: AccountService,
        leases: LeaseStore,
        config: InviteConfig,
        rng: random.Random | None = None,
        attempts: RedisCounter | None = None,
        errors: RedisCounter | None = None,
        notifier: Notifier | None = None,
        peers: Callable[[], Awaitable[int]] | None = None,
        outage: DatabaseWatch | None = None,
    ) -> None:
        # Shared by the process's engines and jobs: one probe while PostgreSQL is away.
        self.outage = outage or DatabaseWatch(sessionmaker)
        # How many worker processes are alive (this one included): each takes at most its
        # fair share of the accounts while others are there to take the rest.
        self.peers = peers
        self.notifier = notifier  # tells a campaign's creator that it paused itself
        self.sessionmaker = sessionmaker
        # Recorded attempts, shared by every worker for /metrics (None: not counted).
        self.attempts = attempts
        # Telegram's refusals by error name and whom they concern, for /metrics.
        self.errors = errors
        self.gateway = gateway
        self.service = service
        self.leases = leases
        self.config = config
        self._rng = rng or random.Random()
        self._tasks: dict[int, asyncio.Task[str]] = {}
        self._resume_at: dict[int, datetime] = {}
        self._pauses: dict[int, int] = {}
        self._not_eligible: set[tuple[int, int]] = set()  # (campaign, account)
        self._rights_checked: set[tuple[int, int]] = set()  # (campaign, account) that may invite
        self._unknown_streak: dict[int, int] = {}  # account → unknown errors in a row
        self._resolved: dict[
            int, deque[float]
        ] = {}  # account → loop times of its username resolves
        self._active = asyncio.Semaphore(config.active)
        self._stop = asyncio.Event()
        self.closing = False
        self.stats: dict[str, int] = {}

    # --- scheduling -------------------------------------------------------------------------
    async def tick(self) -> None:
        """Start work for every usable account of a workspace with a working campaign."""
        if self.closing:
            return
        async with self.sessionmaker() as session, session.begin():
            dal = InviteDal(session)
            await dal.start_due()
            campaigns = await dal.working_campaigns()
        now = datetime.now(UTC)
        started = 0
        usable = {
            ws: [a for a in await self._accounts(ws) if can_work(a, now)]
            for ws in dict.fromkeys(c.workspace_id for c in campaigns)
        }
        limit = await self._fair_share(sum(len(accounts) for accounts in usable.values()))
        for workspace_id, accounts in usable.items():
            for account in accounts:
                # New connections go out a few per tick, not hundreds at once.
                if len(self._tasks) >= limit or started >= self.config.active:
                    return
                if account.id in self._tasks:
                    continue
                if self._resume_at.get(account.id, now) > now:
                    continue
                rows = [c for c in campaigns if c.workspace_id == workspace_id]
                if not await self._has_work_now(account, rows, now):
                    continue  # decided without connecting; `_resume_at` says when to look again
                task = asyncio.create_task(
                    self.run_account(account, hold=True), name=f"invite-{account.id}"
                )
                started += 1
                self._tasks[account.id] = task

                def forget(_task: asyncio.Task[str], a: int = account.id) -> None:
                    self._tasks.pop(a, None)

                task.add_done_callback(forget)

    async def _fair_share(self, usable: int) -> int:
        """How many accounts this process may hold: all it can while it is alone, its share
        (rounded up) while other workers are alive to take the rest."""
        workers = 1
        if self.peers is not None:
            with contextlib.suppress(Exception):  # Redis away: work as if alone
                workers = max(1, await self.peers())
        return min(self.config.concurrency, max(1, -(-usable // workers)))

    async def _has_work_now(
        self, account: AccountDTO, rows: list[CampaignRow], now: datetime
    ) -> bool:
        """Whether the account may do something for a campaign now — checked in the database
        alone, so an account that waits (a pause, the active hours, its quota, nobody to
        invite) is not connected to Telegram only to find that out. When it may not, its
        next look is set to the earliest moment that can change."""
        soon = now + timedelta(seconds=self.config.idle_retry_s)  # nothing to do yet: look again
        next_look: datetime | None = None
        async with open_dal(self.sessionmaker) as dal:
            invites = InviteDal(dal.session)
            for row in rows:
                if (row.id, account.id) in self._not_eligible or row.target_chat_id is None:
                    continue
                eligible = cg.eligible_ids(row.preflight)
                if eligible is not None and account.id not in eligible | cg.unchecked_ids(
                    row.preflight
                ):
                    self._not_eligible.add((row.id, account.id))
                    continue
                if await invites.any_to_check(
                    row.id, account.id, self.config.quarantine_s, self.config.confirm_after_s
                ):
                    return True  # membership checks spend no quota
                limits = await effective_limits(
                    dal, campaign_limits(row.limits, self.config.limits)
                )
                usage = await invites.usage(
                    account.id, row.target_chat_id, day_start(now), row.workspace_id
                )
                pause = self._pauses.setdefault(account.id, self._draw(limits))
                # The one rule of when an account may next invite for a campaign (its rest,
                # its pause and quotas, the active hours), which the panel's "next attempt"
                # reads too (`core.schedule`).
                ready = account_ready_at(
                    account, now, (row.active_from_hour, row.active_to_hour), limits, usage, pause
                )
                if ready is None:  # its lifetime cap in this chat: never again here
                    self._not_eligible.add((row.id, account.id))
                    continue
                if ready > now:
                    next_look = ready if next_look is None else min(next_look, ready)
                    continue
                if await invites.to_invite(row.id):
                    return True
                next_look = soon if next_look is None else min(next_look, soon)
            await dal.rollback()
        self._resume_at[account.id] = next_look or soon
        return False

    async def _accounts(self, workspace_id: int) -> list[AccountDTO]:
        async with open_dal(self.sessionmaker) as dal:
            return await self._list_accounts(dal, workspace_id)

    @staticmethod
    async def _list_accounts(dal: SqlDal, workspace_id: int) -> list[AccountDTO]:
        return list(await dal.list_accounts(workspace_id, after_id=0, limit=1000))

    async def close(self) -> None:
        """SIGTERM: in-flight invites finish and are recorded; claims not yet sent go back."""
        self.closing = True
        self._stop.set()  # accounts waiting out a pause let go of their lease at once
        tasks = list(self._tasks.values())
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=self.config.stop_grace_s)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- one account ------------------------------------------------------------------------
    async def run_account(self, account: AccountDTO, *, hold: bool = False) -> str:
        """Work with one account until it has nothing to do now; returns why it stopped.

        With `hold`, a wait shorter than `hold_s` (the pause between two invites) is spent
        holding the lease and the one connected client, then the account works again: an
        account is connected once per stretch of work, not once per invite.
        """
        try:
            async with leased_client(
                leases=self.leases,
                sessionmaker=self.sessionmaker,
                service=self.service,
                gateway=self.gateway,
                account=account,
            ) as (lease, client):
                inviter = Inviter(client)
                while True:
                    async with self._active:
                        outcome = await self._work(account, lease, inviter)
                    if not hold or outcome != "waiting" or self.closing:
                        return outcome
                    wait = (self._resume_at[account.id] - datetime.now(UTC)).total_seconds()
                    if wait > self.config.hold_s:
                        return outcome
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), max(wait, 0.0))
                    fresh = await self._fresh(account)
                    if self.closing or fresh is None or not can_work(fresh, datetime.now(UTC)):
                        return "stopped"
                    account = fresh
        except (AccountBusy, LeaseLost):
            return "busy"
        except _StopAccount as exc:
            return str(exc)
        except SessionDecryptError:
            await self._set_status(account, AccountStatus.UNAUTHORIZED, "session_undecryptable")
            return "unauthorized"
        except tg.TelegramError as exc:
            # Outside an invite (connecting, resolving the chat, a membership check): the
            # account's refusals mean the same as during one.
            refusal = refusal_of(exc.rpc)
            if refusal.concerns is Concerns.ACCOUNT and refusal.status is not None:
                await self._account_refused(account, refusal, exc)
                return refusal.reason.value
            log.warning("invite work failed", account_id=account.id, rpc=exc.rpc)
            self._resume_at[account.id] = datetime.now(UTC) + timedelta(
                seconds=self.config.idle_retry_s
            )
            return "transient"
        except Exception as exc:
            if await self.outage.failed():
                # Not the account's fault: as soon as the database answers, work goes on
                # (the lease was handed back, or is, before the next acquire).
                await self.outage.back()
                self._resume_at.pop(account.id, None)
                return "database_away"
            if not isinstance(exc, (ConnectionError, OSError, TimeoutError, LookupError)):
                log.exception("invite work crashed", account_id=account.id)
            else:
                log.warning("invite work failed", account_id=account.id, error=type(exc).__name__)
            self._resume_at[account.id] = datetime.now(UTC) + timedelta(
                seconds=self.config.idle_retry_s
            )
            return "transient"

    async def _fresh(self, account: AccountDTO) -> AccountDTO | None:
        """The account as it is now (the owner may have disabled it during a pause)."""
        async with open_dal(self.sessionmaker) as dal:
            return await dal.get_account(account.workspace_id, account.id)

    async def _work(self, account: AccountDTO, lease: Lease, inviter: Inviter) -> str:
        async with self.sessionmaker() as session:
            campaigns = await InviteDal(session).working_campaigns(account.workspace_id)
        now = datetime.now(UTC)
        next_look: datetime | None = None
        for row in campaigns:
            if (row.id, account.id) in self._not_eligible:
                continue
            if not cg.in_active_hours(now, row.active_from_hour, row.active_to_hour):
                continue
            # The campaign's lines carry the trace of the request that created it.
            with trace_scope(row.trace_id):
                resume = await self._campaign_pass(account, lease, inviter, row)
            if resume is not None:
                next_look = resume if next_look is None else min(next_look, resume)
            if self.closing:
                return "stopped"
        if next_look is None:  # nothing more to do for now
            self._resume_at[account.id] = datetime.now(UTC) + timedelta(
                seconds=self.config.idle_retry_s
            )
            return "idle"
        self._resume_at[account.id] = next_look
        return "waiting"  # a limit says when: the pause between invites, the day's quota

    async def _campaign_pass(
        self, account: AccountDTO, lease: Lease, inviter: Inviter, row: CampaignRow
    ) -> datetime | None:
        """One account's turn at one campaign; returns when it should look again."""
        work = await self._prepare(account, row, inviter)
        if work is None:
            return None
        handled = Counter[str]()
        token = _PASS.set(handled)  # each account works in its own task: a count of its own
        try:
            await self.reconcile(account, lease, inviter, work)
            await self.resolve_names(account, inviter, work)
            resume = await self._invite_loop(account, lease, inviter, work)
            await self.reconcile(account, lease, inviter, work)  # confirms what the loop sent
            if resume is None:  # nobody was left to claim: done once nothing is unconfirmed
                async with self.sessionmaker() as session, session.begin():
                    await InviteDal(session).finish_if_done(work.row.id)
        finally:
            _PASS.reset(token)
        if handled:
            log.info(
                "invite pass",
                campaign_id=row.id,
                account_id=account.id,
                handled=dict(handled),
                resume_at=resume.isoformat() if resume else None,
            )
        return resume

    async def _prepare(
        self, account: AccountDTO, row: CampaignRow, inviter: Inviter
    ) -> _Work | None:
        eligible = cg.eligible_ids(row.preflight)
        unchecked = cg.unchecked_ids(row.preflight)
        if eligible is not None and account.id not in eligible | unchecked:
            self._not_eligible.add((row.id, account.id))
            return None
        try:
            chat = await self._target(account, row, inviter)
        except (tg.SourceNotFound, tg.NoAccess, tg.NotAGroup):
            self._not_eligible.add((row.id, account.id))
            return None
        if (eligible is None or account.id in unchecked) and (
            row.id,
            account.id,
        ) not in self._rights_checked:
            rights = await inviter.my_rights(chat)
            if not rights.may_invite:
                self._not_eligible.add((row.id, account.id))
                return None
            self._rights_checked.add((row.id, account.id))
        async with open_dal(self.sessionmaker) as dal:
            usage = await dal.usage(
                account.id, chat.chat_id, day_start(datetime.now(UTC)), account.workspace_id
            )
            # Read on every pass: an admin's new maximums apply without a restart.
            limits = await effective_limits(dal, campaign_limits(row.limits, self.config.limits))
            if eligible is None:  # any account of the workspace may still turn out able to invite
                eligible = {a.id for a in await self._list_accounts(dal, account.workspace_id)}
        if account.id not in self._pauses:
            self._pauses[account.id] = self._draw(limits)
        reachable = sorted(eligible | unchecked)
        return _Work(chat, row, limits, usage, reachable)

    async def _target(
        self, account: AccountDTO, row: CampaignRow, inviter: Inviter
    ) -> cg.TargetChat:
        """The campaign's chat as this account addresses it: resolved once per account and
        kept (`account_chats`) — access hashes are per account, and resolving a username on
        every pass is what earns hours-long flood waits (FLOOD_WAIT of 3–20 h are reported,
        see docs/sandbox.md)."""
        assert row.target_chat_id is not None
        async with self.sessionmaker() as session:
            chat = await InviteDal(session).account_chat(account.id, row.target_chat_id)
        if chat is None:
            try:
                chat = await inviter.resolve_target(row.target_ref)
            except tg.SourceError:
                if not row.target_ref.startswith(INVITE_REF_PREFIX):
                    raise
                # The link was revoked or expired since the pre-flight: the chat is known by
                # its id, and an account still in it finds it among its own dialogs.
                found = await inviter.in_dialogs(row.target_chat_id)
                if found is None:
                    raise
                chat = found
            if chat.chat_id != row.target_chat_id:
                # The username now names another chat: never invite anyone there.
                raise tg.NoAccess("TARGET_CHANGED")
            async with self.sessionmaker() as session, session.begin():
                await InviteDal(session).save_account_chat(account.id, chat)
        inviter.use(chat)
        return chat

    def _draw(self, limits: InviteLimits) -> int:
        return int(draw_pause(limits, self._rng) * self.config.pause_scale)

    async def _invite_loop(
        self, account: AccountDTO, lease: Lease, inviter: Inviter, work: _Work
    ) -> datetime | None:
        """Invite until the campaign has nobody claimable or a limit says wait; returns when
        this account should look again (None: nothing more to do in this campaign)."""
        config = self.config
        loop = asyncio.get_running_loop()
        following: _Next | None = None  # claimed with the last result: the limits were checked
        while True:
            if following is None:
                if self.closing:
                    return None
                now = datetime.now(UTC)
                verdict = may_invite(work.limits, work.usage, now, self._pauses[account.id])
                if not verdict.allowed:
                    if verdict.reason == "chat_lifetime_cap":
                        self._not_eligible.add((work.row.id, account.id))
                        return None
                    assert verdict.not_before is not None
                    wait = (verdict.not_before - now).total_seconds()
                    if verdict.reason == "pause" and wait <= config.inline_wait_s:
                        await asyncio.sleep(wait)
                        continue
                    return verdict.not_before
                claimed_at = loop.time()  # no later than the database's own start of the claim
                async with self._one_statement() as dal:
                    target = await dal.claim(
                        work.row,
                        account.id,
                        lease.epoch,
                        config.claim_ttl_s,
                        mine_first=True,
                        reachable=work.reachable,
                        per_target=work.limits.daily_per_target,
                    )
            else:
                target, claimed_at = following.target, following.claimed_at
                following = None
            if target is None:
                return None
            if target.state is not cg.TargetState.SENDING:
                self._count("skipped")
                continue
            if target.username is None and (
                target.seen_by_account_id != account.id or target.access_hash is None
            ):
                # Nobody eligible can name them: no username, and no access hash of this
                # account's own (a bare id, a `min` sighting, another account's sighting).
                following = await self._settle(
                    account,
                    lease,
                    work,
                    target,
                    cg.Effect(
                        cg.TargetState.SKIPPED,
                        cg.LedgerOutcome.RETRY,
                        cg.SkipReason.UNREACHABLE.value,
                        False,
                        False,
                    ),
                    go_on=True,
                )
                continue
            # The last moment to decide: never start a call the claim may not cover.
            if self.closing or loop.time() - claimed_at > config.claim_ttl_s - config.call_margin_s:
                await self._release(account, lease, work, target)
                return None
            following = await self._send(account, lease, inviter, work, target, claimed_at)

    @contextlib.asynccontextmanager
    async def _one_statement(self) -> AsyncIterator[InviteDal]:
        """For a unit of work that is a single statement (a claim, a result): PostgreSQL
        commits it on its own before answering, so no round trips go to BEGIN and COMMIT."""
        async with self.sessionmaker() as session:
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield InviteDal(session)

    async def _send(
        self,
        account: AccountDTO,
        lease: Lease,
        inviter: Inviter,
        work: _Work,
        target: Claimed,
        claimed_at: float,
    ) -> _Next | None:
        """Make the call and record its result (see `_settle` for what is returned)."""
        config = self.config
        loop = asyncio.get_running_loop()
        access_hash = target.access_hash if target.seen_by_account_id == account.id else None
        budget = config.claim_ttl_s + config.quarantine_s / 2 - (loop.time() - claimed_at)
        # A timeout or a dropped connection leaves this method as it is: the invite may or may
        # not have happened, so the claim stays `sending` for the membership check.
        try:
            sent = await asyncio.wait_for(
                inviter.invite(work.campaign, target.tg_user_id, access_hash, target.username),
                budget,
            )
        except tg.TelegramError as exc:
            return await self._refused(account, lease, inviter, work, target, exc)
        self._unknown_streak.pop(account.id, None)
        outcome, reason = cg.outcome_of_sent(sent)
        effect = cg.effect_of(
            outcome, reason, attempts=target.attempts, max_attempts=config.max_attempts
        )
        return await self._settle(account, lease, work, target, effect, go_on=True)

    async def _refused(
        self,
        account: AccountDTO,
        lease: Lease,
        inviter: Inviter,
        work: _Work,
        target: Claimed,
        exc: tg.TelegramError,
    ) -> _Next | None:
        """Telegram refused the invite: read by whom it concerns (`core.outcomes`)."""
        refusal = refusal_of(exc.rpc)
        effect = cg.effect_of_refusal(exc.rpc, attempts=target.attempts)
        if self.errors is not None:
            await self.errors.inc((error_family(exc.rpc), refusal.concerns.value))
        if refusal.concerns is Concerns.ACCOUNT:
            # The person goes back to the queue for another account, with the attempt given back.
            await self._settle(account, lease, work, target, effect)
            if work.campaign.kind == "group" and await self._followed(work, inviter):
                raise _StopAccount("target_moved") from exc  # the next pass invites there
            if refusal.status is None:  # only its rights in this chat are gone
                self._not_eligible.add((work.row.id, account.id))
                await self._lost_rights(account, work, exc.rpc)
                raise _StopAccount("not_admin") from exc
            await self._account_refused(account, refusal, exc)
            raise _StopAccount(refusal.reason.value) from exc
        if refusal.concerns is Concerns.CHAT:
            await self._settle(account, lease, work, target, effect)
            await self._pause_campaign(work.row, refusal.reason.value)
            return None
        if refusal.concerns is Concerns.UNKNOWN:
            streak = self._unknown_streak.get(account.id, 0) + 1
            self._unknown_streak[account.id] = streak
            log.warning(
                "invite refused with an error nobody described",
                rpc=exc.rpc,
                account_id=account.id,
                campaign_id=work.row.id,
                streak=streak,
            )
            if streak >= UNKNOWN_ERRORS_PARK:
                # Something is wrong with this account that nobody documented: rest it and
                # tell the owner rather than spend its quota on more of the same.
                await self._settle(account, lease, work, target, effect)
                self._unknown_streak.pop(account.id, None)
                await self._rest_account(
                    account, AccountStatus.PARKED, exc.rpc, await self._park_until()
                )
                raise _StopAccount("unknown_errors") from exc
        else:
            self._unknown_streak.pop(account.id, None)
        return await self._settle(account, lease, work, target, effect, go_on=True)

    async def _account_refused(
        self, account: AccountDTO, refusal: Refusal, exc: tg.TelegramError
    ) -> None:
        async with open_dal(self.sessionmaker) as dal:
            limits = await effective_limits(dal, self.config.limits)
        wait_s = exc.seconds if isinstance(exc, tg.FloodWait) else None
        rest = status_after(refusal, account, datetime.now(UTC), limits, wait_s)
        if rest is not None:
            await self._rest_account(account, rest[0], exc.rpc, rest[1])

    async def _followed(self, work: _Work, inviter: Inviter) -> bool:
        """A basic group refused an invite: if it became a supergroup (`migrated_to`; the
        old group takes nobody, tdlib#819), the campaign goes on there. The workspace's
        ledger and counts move with it (`follow_migration`), so nobody is invited twice,
        and the next pass of every account resolves the new chat."""
        try:
            chat = await inviter.resolve_target(work.row.target_ref)
        except tg.TelegramError:
            return False
        if chat.migrated_from is None or chat.migrated_from != work.row.target_chat_id:
            return False
        async with open_dal(self.sessionmaker) as dal:
            await dal.follow_migration(work.row.workspace_id, chat.migrated_from, chat.chat_id)
            await dal.set_target(work.row.id, chat, None)
            await dal.commit()
        log.info(
            "campaign's target followed to its supergroup",
            campaign_id=work.row.id,
            old_chat=chat.migrated_from,
            new_chat=chat.chat_id,
        )
        return True

    async def _lost_rights(self, account: AccountDTO, work: _Work, rpc: str) -> None:
        """Telegram took this account's right to add people to the campaign's chat: it is
        taken off the campaign for every worker, and the owner hears once what to do."""
        async with open_dal(self.sessionmaker) as dal:
            first = await InviteDal(dal.session).exclude_account(
                work.row.id, account.id, cg.Exclusion.LOST_RIGHTS.value
            )
            owner = await dal.workspace_owner_telegram_id(account.workspace_id) if first else None
            await dal.commit()
        log.warning(
            "account lost its rights in the campaign's chat",
            account_id=account.id,
            campaign_id=work.row.id,
            rpc=rpc,
        )
        if owner is not None and self.notifier is not None:
            await self.notifier.notify(
                owner,
                "account_lost_rights",
                {
                    "account": account_label(account.username, account.first_name),
                    "chat": work.campaign.title,
                    "error": rpc,
                },
            )

    async def _park_until(self) -> datetime:
        async with open_dal(self.sessionmaker) as dal:
            limits = await effective_limits(dal, self.config.limits)
        return peer_flood_park_until(datetime.now(UTC), limits)

    async def _pause_campaign(self, row: CampaignRow, reason: str) -> None:
        """The chat cannot take anyone more: the campaign stops with everybody left to do,
        and its creator hears why (a person must decide: a bigger chat, another target)."""
        await pause_and_tell(self.sessionmaker, self.notifier, row.id, row.workspace_id, reason)

    async def _settle(
        self,
        account: AccountDTO,
        lease: Lease,
        work: _Work,
        target: Claimed,
        effect: cg.Effect,
        *,
        go_on: bool = False,
    ) -> _Next | None:
        """Record a result, only while the lease holds; a lost lease stops the account.

        With `go_on`, when the limits (counting this result) allow the next invite at once,
        the next person is claimed in the same statement (one transaction, one commit): that
        claim is still committed before its call, and is made only if the result was accepted
        under the lease. The claim is returned then; None when none was attempted."""
        usage, pause = work.usage, self._pauses[account.id]
        if effect.spends_quota:
            usage = Usage(
                usage.today + 1,
                usage.today_in_chat + 1,
                usage.ever_in_chat + 1,
                datetime.now(UTC),
                usage.today_in_target + 1,
            )
            pause = self._draw(work.limits)
        go_on = (
            go_on
            and not self.closing
            and may_invite(work.limits, usage, datetime.now(UTC), pause).allowed
        )
        retry_s = 0 if effect.retry_at_once else self.config.retry_after_s
        following = None
        claimed_at = asyncio.get_running_loop().time()  # as in the loop: before the claim starts
        async with self._one_statement() as dal:
            if go_on:
                accepted, following = await dal.settle_and_claim(
                    work.row,
                    target,
                    account.id,
                    lease.epoch,
                    effect,
                    retry_s=retry_s,
                    lease=lease,
                    ttl_s=self.config.claim_ttl_s,
                    reachable=work.reachable,
                    per_target=work.limits.daily_per_target,
                )
            else:
                accepted = await dal.settle(
                    work.row, target, account.id, lease.epoch, effect, retry_s=retry_s, lease=lease
                )
        if not accepted:
            self._count("result_dropped")
            log.warning(
                "invite result not recorded: the lease was lost",
                account_id=account.id,
                target_id=target.id,
            )
            raise LeaseLost(lease)
        self._count(effect.event_outcome)
        await self._recorded([effect])
        if effect.spends_quota:  # the pause counts from when the result was recorded
            work.usage = Usage(
                usage.today,
                usage.today_in_chat,
                usage.ever_in_chat,
                datetime.now(UTC),
                usage.today_in_target,
            )
            self._pauses[account.id] = pause
        return _Next(following, claimed_at) if go_on else None

    async def _release(
        self, account: AccountDTO, lease: Lease, work: _Work, target: Claimed
    ) -> None:
        """Give back a claim that never reached Telegram."""
        effect = cg.Effect(cg.TargetState.PENDING, cg.LedgerOutcome.RETRY, None, True, False)
        async with self.sessionmaker() as session, session.begin():
            await InviteDal(session).settle(
                work.row, target, account.id, lease.epoch, effect, retry_s=0, record_event=False
            )
        self._count("released")

    # --- reconcile ----------------------------------------------------------------------------
    async def reconcile(
        self, account: AccountDTO, lease: Lease, inviter: Inviter, work: _Work, limit: int = 50
    ) -> int:
        """Resolve by asking Telegram whether the person is in the chat, never by sending again:
        lapsed `sending` rows (the call may or may not have happened) and `unconfirmed` ones
        (Telegram accepted the call without showing the person added)."""
        done = 0
        while True:
            recorded: list[cg.Effect] = []
            resolved = 0
            async with self.sessionmaker() as session, session.begin():
                dal = InviteDal(session)
                rows = await dal.to_check(
                    work.row.id,
                    account.id,
                    self.config.quarantine_s,
                    self.config.confirm_after_s,
                    limit,
                )
                if not rows:
                    return done
                for row in rows:
                    access_hash = row.access_hash if row.seen_by_account_id == account.id else None
                    joined = await inviter.joined_at(
                        work.campaign, row.tg_user_id, access_hash, row.username
                    )
                    effect = self._checked(row, joined)
                    target = Claimed(
                        row.id,
                        row.tg_user_id,
                        row.username,
                        row.seen_by_account_id,
                        row.access_hash,
                        cg.TargetState(row.state),
                        row.attempts,
                    )
                    if (
                        await dal.settle(
                            work.row,
                            target,
                            row.account_id,
                            row.claim_epoch,
                            effect,
                            retry_s=0,
                            event_account_id=row.account_id,
                            record_event=effect.state.final,
                        )
                        and effect.state.final
                    ):
                        recorded.append(effect)
                        if target.state is cg.TargetState.UNCONFIRMED:  # its event changed outcome
                            resolved += 1
                    self._count("reconciled_" + effect.state.value)
                    done += 1
                if not await self.leases.holds(session, lease):
                    await session.rollback()
                    raise LeaseLost(lease)
            await self._recorded(recorded)
            if resolved and self.attempts is not None:
                await self.attempts.inc(("unconfirmed", ""), -resolved)

    def _checked(self, row: Any, joined: datetime | None) -> cg.Effect:
        """What a membership check decides for a lapsed or unconfirmed invite."""
        if cg.TargetState(row.state) is cg.TargetState.UNCONFIRMED:
            # The call was made and its quota counted when it was accepted.
            if joined is None:
                return cg.Effect(
                    cg.TargetState.FAILED,
                    cg.LedgerOutcome.FAILED,
                    Reason.NOT_ADDED.value,
                    False,
                    False,
                    follow_up=True,
                )
            # Someone who joined well before the call was in the chat already: Telegram does
            # not say what inviteToChannel answers for a member, so the join date decides.
            before = row.updated_at - timedelta(
                seconds=self.config.claim_ttl_s + JOIN_CLOCK_SLACK_S
            )
            if joined < before:
                return cg.Effect(
                    cg.TargetState.ALREADY_MEMBER,
                    cg.LedgerOutcome.ALREADY_MEMBER,
                    None,
                    False,
                    False,
                )
            return cg.Effect(cg.TargetState.INVITED, cg.LedgerOutcome.INVITED, None, False, False)
        if joined is not None:
            return cg.effect_of(Outcome.INVITED)
        # Not in the chat: the call never happened (or was refused); the person may be tried
        # again, within the attempts allowed.
        effect = cg.effect_of(
            Outcome.FAILED,
            Reason.UNKNOWN,
            attempts=row.attempts,
            max_attempts=self.config.max_attempts,
        )
        if effect.retry:
            effect = cg.Effect(cg.TargetState.PENDING, cg.LedgerOutcome.RETRY, None, True, False)
        return effect

    # --- people known by username only --------------------------------------------------------
    async def resolve_names(self, account: AccountDTO, inviter: Inviter, work: _Work) -> int:
        """Give username-only targets their id, as this account sees them (so it can invite
        them with its own access hash), at `resolve_per_hour` at most: Telegram documents no
        rate for contacts.resolveUsername, Telethon warns of flood waits after about 50 in a
        short time, and waits of many hours are reported — so a conservative pace."""
        now = asyncio.get_running_loop().time()
        done = self._resolved.setdefault(account.id, deque())
        while done and done[0] < now - 3600:
            done.popleft()
        budget = self.config.resolve_per_hour - len(done)
        if budget <= 0:
            return 0
        async with self.sessionmaker() as session, session.begin():
            dal = InviteDal(session)
            rows = await dal.unresolved(work.row.id, budget)
            for target_id, username in rows:
                done.append(now)
                person = await inviter.resolve_person(username)
                if person is None:
                    await dal.skip_target(target_id, Reason.USER_NOT_FOUND.value)
                elif person[2]:
                    await dal.skip_target(target_id, Reason.BOT.value)
                elif not await dal.set_resolved(
                    target_id, work.row.id, person[0], person[1], account.id
                ):
                    await dal.skip_target(target_id, cg.SkipReason.DUPLICATE.value)
        return len(rows)

    # --- account status -----------------------------------------------------------------------
    async def _rest_account(
        self, account: AccountDTO, status: AccountStatus, reason: str, until: datetime | None
    ) -> None:
        """The account stops (its status says why, with Telegram's error name); it is looked
        at again when its rest ends, never before."""
        await self._set_status(account, status, reason, until)
        if until is not None:
            self._resume_at[account.id] = until

    async def _set_status(
        self, account: AccountDTO, status: AccountStatus, reason: str, until: datetime | None = None
    ) -> None:
        async with open_dal(self.sessionmaker) as dal:
            await self.service.change_status(dal, account.id, status, reason, cooldown_until=until)

    def _count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1
        this_pass = _PASS.get()
        if this_pass is not None:
            this_pass[key] += 1

    async def _recorded(self, effects: list[cg.Effect]) -> None:
        """Count results whose `invite_events` rows are committed (never before: a rolled
        back result must not show in /metrics)."""
        if self.attempts is None:
            return
        for effect in effects:
            await self.attempts.inc((effect.event_outcome, effect.reason or ""))
