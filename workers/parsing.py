"""The parse engine: runs parse tasks batch by batch with the workspace's accounts (DESIGN §6).

A worker claims a queued task (priority first, then age), picks a linked account of the
task's workspace that may work now and whose lease it gets, and walks the source page by
page at the task's speed. People pass the task's filters, and every batch (members, the
audience's size, the counters and the resume point) is written in one fenced transaction
(`db.dal_parsing`): a pause or cancel by the user, or the loss of the claim, stops the task
at the next batch boundary, and a killed worker's task is resumed elsewhere from the
stored cursor once its claim runs out.

An account that hits a flood wait cools down (wait + FLOOD_BUFFER_S) and the task goes on
with another free account of the workspace, or goes back to the queue until the shortest
cool-down ends. An account that cannot read the source is skipped with the reason; the task
fails only when no account can read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from core import telegram as tg
from core.accounts import AccountService, can_work
from core.dto import AccountDTO, AccountStatus
from core.errors import InvalidInput
from core.interfaces import Notifier
from core.limits import rest_after_flood
from core.logs import get_logger, trace_scope
from core.parsing import (
    DEFAULT_DAYS,
    DEFAULT_POSTS,
    DEFAULT_SPEED,
    JOIN_GAP_S,
    JOIN_RECHECK_S,
    JOIN_REFUSALS,
    MAX_DAYS,
    MAX_POSTS,
    PARTICIPANTS_CAP,
    SEARCH_ALPHABET,
    SPEEDS,
    Filters,
    ParseKind,
    Person,
    SpeedProfile,
    parse_source,
    split_prefix,
)
from core.secretbox import SessionDecryptError
from db.dal import open_dal
from db.dal_parsing import BatchWrite, ClaimedTask, ParseStore
from db.leases import LeaseStore
from gateway import joining
from gateway.joining import JoinedChat
from gateway.reading import AccountClient
from gateway.telegram import TelegramGateway
from workers.leases import AccountBusy, LeaseLost, leased_client
from workers.outage import DatabaseWatch

log = get_logger("workers.parsing")

CONCURRENCY = 2  # tasks one worker process runs at once
CLAIM_TTL_S = 60.0  # a vanished worker's task is taken over this long after its last sign
FLUSH_ROWS = 1000  # without speed delays, people are written in batches of about this many
FLUSH_EVERY_S = 1.0  # ... or at least this often
NOTICE_EVERY_S = 3.0  # progress notices to the bot, per task
BUSY_RETRY_S = 2.0  # every usable account is leased by someone else: look again this soon
ERROR_RETRY_S = 30.0  # an unexpected failure: try again this much later...
MAX_ERRORS = 5  # ... this many times in a row, then the task fails

# Reasons an account could not read the source, most telling first: the task's error when
# no account could.
_REASONS = ("not_a_group", "no_access")


class _Fail(Exception):
    """The task cannot succeed with any account (its error code)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _AccountCannot(Exception):
    """This account cannot read the source; another one may."""

    def __init__(self, reason: str, rpc: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.rpc = rpc


@dataclass(frozen=True, slots=True)
class EngineConfig:
    concurrency: int = CONCURRENCY
    claim_ttl_s: float = CLAIM_TTL_S
    # Multiplies the speed profiles' delays: 0 turns them off (tests, benchmarks).
    delay_scale: float = 1.0
    flood_buffer_s: int = 60
    peer_flood_park_s: int = 86400
    flush_rows: int = FLUSH_ROWS
    busy_retry_s: float = BUSY_RETRY_S


@dataclass(slots=True)
class _Step:
    """One page walked: who was on it and where the walk stands after it."""

    people: list[Person]
    fetched: int
    pos: dict[str, Any]
    total: int | None = None
    by_people: bool = False  # progress counts distinct people (member lists), else items
    search: bool = False  # found by the name search past the cap
    left: int | None = None  # how many more the walk expects, when it knows


class ParseEngine:
    """Claims parse tasks and runs up to `concurrency` of them at once in this process."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: TelegramGateway,
        service: AccountService,
        leases: LeaseStore,
        notifier: Notifier | None,
        owner: str,
        config: EngineConfig | None = None,
        outage: DatabaseWatch | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        # Shared by the process's engines and jobs: one probe while PostgreSQL is away.
        self.outage = outage or DatabaseWatch(sessionmaker)
        self.sessionmaker = sessionmaker
        self.gateway = gateway
        self.service = service
        self.leases = leases
        self.notifier = notifier
        self.store = ParseStore(sessionmaker, owner, self.config.claim_ttl_s)
        self._running: dict[int, asyncio.Task[None]] = {}
        self._closing = False

    @property
    def running(self) -> list[int]:
        return list(self._running)

    async def tick(self) -> None:
        """Start claimable tasks while there are free slots (the scheduler calls this)."""
        while not self._closing and (free := self.config.concurrency - len(self._running)) > 0:
            # One statement for every free slot; fewer tasks than slots means the queue has
            # nothing more now, so no second statement only to hear that.
            claimed = await self.store.claim_many(free)
            for task in claimed:
                runner = asyncio.create_task(self._run_guarded(task), name=f"parse-task-{task.id}")
                self._running[task.id] = runner

                def forget(_runner: asyncio.Task[None], task_id: int = task.id) -> None:
                    self._running.pop(task_id, None)

                runner.add_done_callback(forget)
            if len(claimed) < free:
                return

    async def run_pending(self) -> None:
        """Run every claimable task until none is left (tests, the benchmark, one-off runs)."""
        while True:
            await self.tick()
            if not self._running:
                return
            await asyncio.wait(list(self._running.values()), return_when=asyncio.FIRST_COMPLETED)

    async def close(self) -> None:
        """Stop: running tasks hand their claims back at once, for any worker to resume."""
        self._closing = True
        runners = list(self._running.values())
        for runner in runners:
            runner.cancel()
        for runner in runners:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner

    async def _run_guarded(self, task: ClaimedTask) -> None:
        with trace_scope(task.trace_id):
            run = _TaskRun(self, task)
            try:
                await run.execute()
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await self.store.release(task)
                raise
            except Exception:
                if await self.outage.failed():
                    # Not the task's fault, so no error is counted: once the database
                    # answers, the claim goes back at once for the next tick to take up.
                    if await self.outage.back():
                        with contextlib.suppress(Exception):
                            await self.store.release(task)
                    return
                log.exception("parse task crashed", task_id=task.id)
                with contextlib.suppress(Exception):
                    await run.retry_later("internal_error")


class _TaskRun:
    """One claim of one task: from claiming to done, failed, requeued or stopped."""

    def __init__(self, engine: ParseEngine, task: ClaimedTask) -> None:
        self.engine = engine
        self.store = engine.store
        self.task = task
        self.kind = ParseKind(task.kind)
        self.profile: SpeedProfile = SPEEDS.get(task.speed, SPEEDS[DEFAULT_SPEED])
        self.filters = Filters.from_json(dict(task.params.get("filters") or {}))
        stored = dict(task.cursor or {})
        self.pos: dict[str, Any] = dict(stored.get("pos") or {})
        self.skipped_accounts: dict[str, str] = dict(stored.get("skipped_accounts") or {})
        self.errors = int(stored.get("errors") or 0)
        # A private source: the chat the chosen account joined (its id and that account's
        # access hash), or "requested" while a join request waits for an admin.
        joined = stored.get("joined")
        self.joined = JoinedChat.from_json(joined) if isinstance(joined, dict) else None
        # Who joined and when (`ParseStore.last_join` paces the account's next join).
        self.joined_by: dict[str, str] = (
            {k: str(joined[k]) for k in ("account_id", "at") if k in joined}
            if isinstance(joined, dict)
            else {}
        )
        self.join_state = str(stored.get("join") or "")
        self.resumed = bool(self.pos)
        self.recalled = False
        self.seen: set[int] = set()
        self.admins: frozenset[int] = frozenset()
        self.own: frozenset[int] = frozenset()  # the workspace's own accounts are nobody's audience
        self.pending = BatchWrite(cursor=self.cursor())
        self.pending_dirty = False
        self.left: int | None = None  # the last step's `left`
        self.writes = 0  # batch writes started by this run
        # The previous batch's write, still running while the next pages are fetched.
        self.writing: asyncio.Task[int | None] | None = None
        self.conn: AsyncConnection | None = None  # held while collecting: one round trip a batch
        self.stopped = False
        self.halt = asyncio.Event()
        loop = asyncio.get_running_loop()
        self.loop = loop
        self.last_flush = loop.time()
        self.last_notice: float | None = None

    # --- the stored state -----------------------------------------------------------------
    def cursor(self) -> dict[str, Any]:
        cursor: dict[str, Any] = {"pos": self.pos}
        if self.pos.get("via"):
            cursor["via"] = self.pos["via"]  # e.g. hidden members collected as message authors
        if self.skipped_accounts:
            cursor["skipped_accounts"] = self.skipped_accounts
        if self.errors:
            cursor["errors"] = self.errors
        if self.joined is not None:
            cursor["joined"] = {**self.joined.to_json(), **self.joined_by}
        elif self.join_state:
            cursor["join"] = self.join_state
        return cursor

    @property
    def label(self) -> str:
        return self.task.source

    # --- the run --------------------------------------------------------------------------
    async def execute(self) -> None:
        keeper = asyncio.create_task(self._keep_claim(), name=f"parse-claim-{self.task.id}")
        try:
            await self._execute()
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if self.writing is not None and not self.writing.done():
                self.writing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self.writing

    async def _execute(self) -> None:
        task = self.task
        log.info(
            "parse task started",
            task_id=task.id,
            kind=task.kind,
            source=task.source,
            epoch=task.epoch,
            resumed=self.resumed,
        )
        invite = task.params.get("invite")
        if not isinstance(invite, dict):
            invite = _invite_of(task.source)
        ref: str | int | JoinedChat
        if isinstance(invite, dict):
            ref = ""
        else:
            try:
                ref = _source_ref(task.source)
            except _Fail as exc:
                await self._fail(exc.code)
                return
        accounts = await self.store.accounts(task.workspace_id)
        if not accounts:
            await self._fail("no_accounts")
            return
        if isinstance(invite, dict):
            # The first step of a private source: the chosen account joins by the link;
            # only that account can then read the chat (with its own access hash).
            wanted = int(invite.get("account_id") or 0)
            now = datetime.now(UTC)
            chosen = [a for a in accounts if a.id == wanted or (not wanted and can_work(a, now))][
                :1
            ]
            joined = await self._join(chosen[0] if chosen else None, str(invite.get("hash") or ""))
            if joined is None:
                return
            ref, accounts = joined, chosen
        self.own = frozenset(a.tg_user_id for a in accounts)
        if (
            self.kind is not ParseKind.MEMBERS
            or self.pos.get("phase") == "search"
            or self.pos.get("via")
        ):
            await self._recall_seen()
        rests: list[datetime] = []
        busy = False
        transient = False
        reasons: dict[int, str] = {}
        for account in accounts:
            if self.stopped:
                return
            now = datetime.now(UTC)
            if not can_work(account, now):
                if account.cooldown_until is not None:
                    rests.append(account.cooldown_until)
                continue
            try:
                outcome = await self._with_account(account, ref)
            except _Fail as exc:
                await self._fail(exc.code)
                return
            if outcome in ("done", "stopped"):
                return
            if outcome == "busy":
                busy = True
            elif outcome == "transient":
                transient = True
            elif isinstance(outcome, datetime):
                rests.append(outcome)
            elif outcome.startswith("cannot:"):
                reasons[account.id] = outcome.removeprefix("cannot:")
        if self.stopped:
            return
        now = datetime.now(UTC)
        if busy or transient or rests:
            if transient and not busy and not rests:
                await self.retry_later("telegram_error")
                return
            waits = [r for r in rests if r > now]
            not_before = (
                now + timedelta(seconds=self.engine.config.busy_retry_s)
                if busy or not waits
                else min(waits)
            )
            log.info(
                "parse task waits for an account",
                task_id=task.id,
                not_before=not_before.isoformat(),
            )
            await self.store.requeue(task, not_before, self.cursor())
            return
        if reasons:
            values = set(reasons.values())
            await self._fail(next((r for r in _REASONS if r in values), "no_access"))
            return
        await self._fail("no_accounts")

    async def _join(self, account: AccountDTO | None, invite_hash: str) -> JoinedChat | None:
        """Join a private source by its invite link with the chosen account, under its lease
        (messages.importChatInvite; gateway.joining). The chat, or None when the task was
        sent back to the queue (busy, resting, waiting for approval) or failed."""
        if self.joined is not None:
            return self.joined
        if account is None:
            await self._fail("join_account")
            return None
        engine = self.engine
        config = engine.config
        now = datetime.now(UTC)
        if not can_work(account, now):
            if account.cooldown_until is not None and account.cooldown_until > now:
                await self.store.requeue(self.task, account.cooldown_until, self.cursor())
            else:
                await self._fail("join_account")
            return None
        requested = self.join_state == "requested"
        if not requested:
            # A conservative pace: one join per account every JOIN_GAP_S at most.
            last = await self.store.last_join(account.id)
            gap = timedelta(seconds=JOIN_GAP_S * config.delay_scale)
            if last is not None and now - last < gap:
                await self.store.requeue(self.task, last + gap, self.cursor())
                return None
        try:
            async with leased_client(
                leases=engine.leases,
                sessionmaker=engine.sessionmaker,
                service=engine.service,
                gateway=engine.gateway,
                account=account,
                remember_entities=False,
            ) as (_lease, client):
                if requested:
                    # Asked before: look whether an admin accepted, without asking again.
                    preview = await joining.check_invite(client, invite_hash)
                    if preview.chat is None:
                        raise joining.JoinRequested("INVITE_REQUEST_SENT")
                    chat = preview.chat
                else:
                    chat = await joining.join(client, invite_hash)
        except (AccountBusy, LeaseLost):
            await self.store.requeue(
                self.task, now + timedelta(seconds=config.busy_retry_s), self.cursor()
            )
            return None
        except joining.JoinRequested:
            self.join_state = "requested"
            log.info(
                "parse task waits for a join approval", task_id=self.task.id, account_id=account.id
            )
            recheck = max(JOIN_RECHECK_S * config.delay_scale, config.busy_retry_s, 1.0)
            if (
                await self.store.requeue(
                    self.task,
                    datetime.now(UTC) + timedelta(seconds=recheck),
                    self.cursor(),
                    note="join_requested",
                )
                and not requested
            ):
                await self._notify("parse_progress")
            return None
        except tg.FloodWait as exc:
            until = rest_after_flood(datetime.now(UTC), exc.seconds, config.flood_buffer_s)
            await self._set_status(account, AccountStatus.COOLDOWN, exc.rpc, until)
            await self.store.requeue(self.task, until, self.cursor(), note="join_flood_wait")
            return None
        except (tg.AccountUnauthorized, SessionDecryptError) as exc:
            await self._set_status(
                account,
                AccountStatus.UNAUTHORIZED,
                getattr(exc, "rpc", "") or "session_undecryptable",
            )
            await self._fail("join_account")
            return None
        except tg.AccountBanned as exc:
            await self._set_status(account, AccountStatus.BANNED, exc.rpc)
            await self._fail("join_account")
            return None
        except tg.TelegramError as exc:
            refusal = JOIN_REFUSALS.get(exc.rpc)
            if refusal is None and isinstance(exc, tg.SourceError):
                refusal = exc.code
            log.info("join refused", task_id=self.task.id, account_id=account.id, rpc=exc.rpc)
            if refusal is not None:
                await self._fail(refusal)
            else:
                await self.retry_later("telegram_error")
            return None
        except (ConnectionError, OSError):
            if await engine.outage.failed():
                raise  # the database, not Telegram: the task waits for it (`_run_guarded`)
            await self.retry_later("telegram_error")
            return None
        log.info(
            "private source joined",
            task_id=self.task.id,
            account_id=account.id,
            chat_id=chat.chat_id,
        )
        self.joined = chat
        self.join_state = ""
        self.joined_by = {"account_id": str(account.id), "at": datetime.now(UTC).isoformat()}
        return chat

    async def _recall_seen(self) -> None:
        """On a resumed walk that meets people again (name search, messages), who of this
        source is in the audience already was counted before the pause or crash."""
        if self.resumed and not self.recalled:
            self.recalled = True
            self.seen |= await self.store.known_ids(self.task.audience_id, self.label)

    async def retry_later(self, code: str) -> None:
        """An unexpected failure: back to the queue for a while, failing after MAX_ERRORS."""
        self.errors += 1
        if self.errors >= MAX_ERRORS:
            await self._fail(code)
            return
        not_before = datetime.now(UTC) + timedelta(seconds=ERROR_RETRY_S * self.errors)
        await self.store.requeue(self.task, not_before, self.cursor())

    async def _with_account(
        self, account: AccountDTO, ref: str | int | JoinedChat
    ) -> str | datetime:
        """Work with one account: "done", "stopped", "busy", "transient", "gone" (the account
        lost its session or was banned), "cannot:<reason>", or the end of the rest it was
        sent to."""
        engine = self.engine
        config = engine.config
        try:
            async with (
                leased_client(
                    leases=engine.leases,
                    sessionmaker=engine.sessionmaker,
                    service=engine.service,
                    gateway=engine.gateway,
                    account=account,
                    remember_entities=False,
                ) as (_lease, client),
                self.store.connection() as self.conn,
            ):
                try:
                    return await self._collect(client, account, ref)
                finally:
                    await self._settle_quietly()
                    self.conn = None  # noqa: PLW2901 - no connection outside this block
        except (AccountBusy, LeaseLost):
            return "busy"
        except _AccountCannot as exc:
            log.info(
                "account cannot read the source",
                task_id=self.task.id,
                account_id=account.id,
                reason=exc.reason,
                rpc=exc.rpc,
            )
            self.skipped_accounts[str(account.id)] = exc.reason
            return "cannot:" + exc.reason
        except tg.FloodWait as exc:
            until = rest_after_flood(datetime.now(UTC), exc.seconds, config.flood_buffer_s)
            log.info(
                "account flood wait during parsing",
                task_id=self.task.id,
                account_id=account.id,
                seconds=exc.seconds,
            )
            await self._set_status(account, AccountStatus.COOLDOWN, exc.rpc, until)
            return until
        except tg.PeerFlood as exc:
            until = datetime.now(UTC) + timedelta(seconds=config.peer_flood_park_s)
            await self._set_status(account, AccountStatus.PARKED, exc.rpc, until)
            return until
        except tg.AccountUnauthorized as exc:
            await self._set_status(account, AccountStatus.UNAUTHORIZED, exc.rpc)
            return "gone"
        except SessionDecryptError:
            await self._set_status(account, AccountStatus.UNAUTHORIZED, "session_undecryptable")
            return "gone"
        except tg.AccountBanned as exc:
            await self._set_status(account, AccountStatus.BANNED, exc.rpc)
            return "gone"
        except (tg.SourceNotFound, tg.NoDiscussion, tg.NotAGroup) as exc:
            raise _Fail(exc.code) from exc
        except tg.NoAccess as exc:
            log.info(
                "account cannot read the source",
                task_id=self.task.id,
                account_id=account.id,
                reason="no_access",
                rpc=exc.rpc,
            )
            self.skipped_accounts[str(account.id)] = "no_access"
            return "cannot:no_access"
        except (tg.TelegramError, ConnectionError, OSError) as exc:
            if not isinstance(exc, tg.TelegramError) and await engine.outage.failed():
                raise  # the database, not Telegram: the task waits for it (`_run_guarded`)
            log.warning(
                "parse request failed",
                task_id=self.task.id,
                account_id=account.id,
                error=type(exc).__name__,
                rpc=getattr(exc, "rpc", ""),
            )
            return "transient"

    async def _set_status(
        self, account: AccountDTO, status: AccountStatus, reason: str, until: datetime | None = None
    ) -> None:
        async with open_dal(self.engine.sessionmaker) as dal:
            await self.engine.service.change_status(
                dal, account.id, status, reason, cooldown_until=until
            )

    async def _collect(
        self, client: AccountClient, account: AccountDTO, ref: str | int | JoinedChat
    ) -> str:
        if isinstance(ref, JoinedChat):
            chat = await (
                client.resolve_channel(ref.chat_id, ref.access_hash)
                if ref.access_hash is not None
                else client.resolve_source(ref.chat_id)
            )
        else:
            chat = await client.resolve_source(ref)
        if self.filters.skip_admins:
            self.admins = chat.admin_ids
        total = chat.members_count if self.kind is ParseKind.MEMBERS else None
        if not await self.store.describe(self.task, chat.chat_id, chat.title, total):
            self.stopped = True
            return "stopped"
        self.pending.account_id = account.id
        delay = self.profile.request_delay_s * self.engine.config.delay_scale
        try:
            async for step in self._walk(client, chat):
                # Without delays, a due batch goes out (in the background) once the next page
                # is in rather than at once: the walk's last page then stays pending and the
                # finishing write carries it, instead of a write of its own and an empty one.
                if delay <= 0 and self._due() and not await self._flush(wait=False):
                    return "stopped"
                self._take(step)
                if self.halt.is_set():
                    await self._flush()
                    self.stopped = True
                    return "stopped"
                if delay > 0:
                    if not await self._flush():
                        return "stopped"
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.halt.wait(), delay)
        except (tg.TelegramError, ConnectionError, OSError):
            await self._flush()  # keep what this account fetched before it failed
            raise
        if not await self._flush(finish=True):
            return "stopped"
        log.info("parse task done", task_id=self.task.id)
        await self._notify("parse_done")
        return "done"

    # --- walking a source -----------------------------------------------------------------
    def _walk(self, client: AccountClient, chat: tg.SourceChat) -> AsyncIterator[_Step]:
        params = self.task.params
        if self.kind is ParseKind.COMMENTS:
            if not chat.broadcast or chat.linked_chat_id is None:
                raise tg.NoDiscussion("NO_LINKED_CHAT")
            posts = _clamp(params.get("posts"), DEFAULT_POSTS, MAX_POSTS)
            return self._comments(client, chat, posts, params.get("post_id"))
        if self.kind is ParseKind.AUTHORS:
            if chat.broadcast:
                raise tg.NotAGroup("BROADCAST_CHANNEL")
            return self._authors(client, chat)
        if chat.kind == "group":
            return self._basic_members(client, chat)
        if chat.broadcast and not chat.can_view_members:
            raise _AccountCannot("not_a_group", "CHAT_ADMIN_REQUIRED")
        if self.pos.get("via") == "authors" or (chat.members_hidden and not chat.can_view_members):
            # A hidden member list shows only admins and bots: who writes is who is there.
            return self._authors(client, chat, via="authors")
        return self._members(client, chat)

    async def _basic_members(
        self, client: AccountClient, chat: tg.SourceChat
    ) -> AsyncIterator[_Step]:
        if self.pos.get("done"):
            return
        page = await client.participants(chat, 0, 0)
        yield _Step(page.people, page.fetched, {"done": True}, total=page.total, by_people=True)

    async def _members(self, client: AccountClient, chat: tg.SourceChat) -> AsyncIterator[_Step]:
        batch = self.profile.batch_size
        count = chat.members_count or 0
        if self.pos.get("phase", "recent") == "recent":
            offset = int(self.pos.get("offset", 0))
            while offset < PARTICIPANTS_CAP:
                page = await client.participants(
                    chat, offset, min(batch, PARTICIPANTS_CAP - offset)
                )
                offset += page.fetched
                total = max(count, page.total or 0)
                yield _Step(
                    page.people,
                    page.fetched,
                    {"phase": "recent", "offset": offset},
                    total=total,
                    by_people=True,
                    left=max(total - offset, 0) if total else None,
                )
                if page.next is None or (page.total is not None and offset >= page.total):
                    break
            if offset < PARTICIPANTS_CAP or count <= offset:
                return
            self.pos = {"phase": "search", "queue": list(SEARCH_ALPHABET), "offset": 0}
            log.info("member list capped: searching by name", task_id=self.task.id, members=count)
            await self._recall_seen()  # the list was read partly before a resume
        queue = list(self.pos.get("queue") or [])
        offset = int(self.pos.get("offset", 0))
        while queue and len(self.seen) < count:
            prefix = queue[0]
            page = await client.participants(chat, offset, batch, query=prefix)
            offset += page.fetched
            listed = min(page.total or 0, PARTICIPANTS_CAP)
            if page.next is None or offset >= listed:
                if (page.total or 0) > PARTICIPANTS_CAP:
                    queue[1:1] = split_prefix(prefix)  # this prefix alone hit the cap too
                queue.pop(0)
                offset = 0
            yield _Step(
                page.people,
                page.fetched,
                {"phase": "search", "queue": list(queue), "offset": offset},
                by_people=True,
                search=True,
            )

    async def _comments(
        self, client: AccountClient, chat: tg.SourceChat, want: int, post_id: Any
    ) -> AsyncIterator[_Step]:
        batch = self.profile.history_batch
        if "posts" not in self.pos:
            found: list[tg.Post] = []
            if post_id:
                post = await client.channel_post(chat, int(post_id))
                found = [post] if post is not None else []
            else:
                offset_id = 0
                while len(found) < want:
                    page = await client.channel_posts(
                        chat, offset_id, min(batch, want - len(found))
                    )
                    found += page.posts
                    if page.next is None:
                        break
                    offset_id = page.next
                    yield _Step([], 0, dict(self.pos))  # paced like any other request
            posts = [[p.id, p.comments] for p in found[:want] if p.comments > 0]
            self.pos = {"posts": posts, "offset_id": 0}
            total = sum(c for _, c in posts)
            yield _Step([], 0, dict(self.pos), total=total)
        posts = [list(p) for p in self.pos.get("posts") or []]
        offset_id = int(self.pos.get("offset_id", 0))
        while posts:
            authors = await client.comment_authors(chat, int(posts[0][0]), offset_id, batch)
            if authors.next is None:
                posts.pop(0)
                offset_id = 0
            else:
                offset_id = authors.next
            yield _Step(
                authors.people,
                authors.fetched,
                {"posts": [list(p) for p in posts], "offset_id": offset_id},
            )

    async def _authors(
        self, client: AccountClient, chat: tg.SourceChat, via: str | None = None
    ) -> AsyncIterator[_Step]:
        batch = self.profile.history_batch
        now = datetime.now(UTC)
        if "since" in self.pos:
            since = datetime.fromisoformat(self.pos["since"])
        else:
            days = _clamp(self.task.params.get("days"), DEFAULT_DAYS, MAX_DAYS)
            since = now - timedelta(days=days)
        offset_id = int(self.pos.get("offset_id", 0))
        read = int(self.pos.get("read", 0))
        while True:
            page = await client.message_authors(chat, offset_id, batch, since)
            read += page.fetched
            pos: dict[str, Any] = {
                "since": since.isoformat(),
                "offset_id": page.next or 0,
                "read": read,
            }
            if via:
                pos["via"] = via
            yield _Step(
                page.people,
                page.fetched,
                pos,
                total=_estimate(read, page.oldest, since, now, page.next is None),
            )
            if page.next is None:
                return
            offset_id = page.next

    # --- batches --------------------------------------------------------------------------
    def _take(self, step: _Step) -> None:
        pending = self.pending
        seen = self.seen
        accepts = self.filters.accepts
        admins = self.admins
        own = self.own
        fresh = 0
        for person in step.people:
            if person.user_id in seen:
                continue
            seen.add(person.user_id)
            fresh += 1
            if person.user_id not in own and accepts(person, admins):
                pending.people.append(person)
                pending.collected += 1
                if step.search:
                    pending.found += 1
            else:
                pending.skipped += 1
        pending.done += fresh if step.by_people else step.fetched
        pending.items += step.fetched
        self.errors = 0  # a run that moves on is not failing
        if step.total is not None:
            pending.total = step.total
        self.left = step.left
        self.pos = step.pos
        pending.cursor = self.cursor()
        self.pending_dirty = True

    def _due(self) -> bool:
        """Whether to start writing what is pending (without speed delays).

        The database's work per person (the insert, its key and search index, the foreign
        keys) runs beside the walk, one write at a time; on a busy machine it is the slower
        side and sets the pace. So it starts with the first page rather than after a whole
        batch, and ends with a short write: what is fetched after the last write started."""
        pending = len(self.pending.people)
        return (
            pending >= self.engine.config.flush_rows
            or (pending > 0 and self.writes == 0)
            or self.loop.time() - self.last_flush >= FLUSH_EVERY_S
            # Near the known end, once fewer people are left than are pending: the write that
            # follows the last page (the one nothing overlaps) is then at most about half a
            # batch. Page by page would cost a write per page (about 1 ms of the server's
            # work each, besides the rows).
            or (self.left is not None and 0 < self.left < pending)
        )

    async def _settle_quietly(self) -> None:
        """Before the connection goes: let a write under way finish (its outcome is moot)."""
        if self.writing is not None and not self.writing.done():
            with contextlib.suppress(Exception):
                await self.writing

    async def _settle(self) -> bool:
        """Wait for the write under way; False when it found the task no longer ours."""
        writing, self.writing = self.writing, None
        if writing is not None and await writing is None:
            log.info("parse task stopped (paused, cancelled or taken over)", task_id=self.task.id)
            self.stopped = True
        return not self.stopped

    async def _flush(self, *, finish: bool = False, wait: bool = True) -> bool:
        """Write what is pending; False when the task is no longer ours to run.

        Writes go one after the other, each in its own transaction with its cursor. With
        `wait=False` the write runs on while the next pages are fetched, so the database's
        time overlaps Telegram's; the next flush waits for it first.
        """
        if not await self._settle():
            return False
        if not self.pending_dirty and not finish:
            return True
        batch = self.pending
        self.pending = BatchWrite(people=[], cursor=batch.cursor, account_id=batch.account_id)
        self.pending_dirty = False
        self.last_flush = self.loop.time()
        self.writes += 1
        self.writing = asyncio.create_task(
            self.store.write(self.task, batch, source=self.label, finish=finish, conn=self.conn)
        )
        if (wait or finish) and not await self._settle():
            return False
        if not finish:
            now = self.loop.time()
            if self.last_notice is None or now - self.last_notice >= NOTICE_EVERY_S:
                self.last_notice = now
                await self._notify("parse_progress")
        return True

    async def _fail(self, code: str) -> None:
        log.info("parse task failed", task_id=self.task.id, error=code)
        if await self.store.fail(self.task, code, self.cursor()):
            await self._notify("parse_done")
        self.stopped = True

    async def _notify(self, kind: str) -> None:
        notifier, telegram_id = self.engine.notifier, self.task.creator_telegram_id
        if notifier is None or telegram_id is None:
            return
        try:
            await notifier.notify(telegram_id, kind, {"task_id": str(self.task.id)})
        except Exception:  # a missed notice must not stop the collection
            log.warning("parse notice not sent", task_id=self.task.id, kind=kind, exc_info=True)

    async def _keep_claim(self) -> None:
        interval = self.engine.config.claim_ttl_s / 3
        while True:
            await asyncio.sleep(interval)
            try:
                held = await self.store.renew(self.task)
            except Exception:
                log.warning("parse claim renewal failed", task_id=self.task.id, exc_info=True)
                continue
            if not held:
                self.halt.set()
                return


def _invite_of(source: str) -> dict[str, Any] | None:
    """An invite link queued without a chosen account: the first that can work joins."""
    try:
        ref = parse_source(source)
    except InvalidInput:
        return None
    return {"hash": ref.invite} if ref.invite is not None else None


def _source_ref(source: str) -> str | int:
    """A username to resolve, or a basic group's id (Bot API style, `-123`)."""
    text = source.strip()
    if re.fullmatch(r"-?\d{1,15}", text):
        return abs(int(text))
    try:
        return parse_source(text).username
    except InvalidInput as exc:
        raise _Fail(
            "private_link" if exc.details.get("problem") == "private_link" else "source_not_found"
        ) from None


def _clamp(raw: Any, default: int, highest: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return max(1, min(value, highest))


def _estimate(
    read: int, oldest: datetime | None, since: datetime, now: datetime, finished: bool
) -> int:
    """Messages expected over the whole period, from how much of it the read ones cover."""
    if finished or oldest is None:
        return read
    covered = (now - oldest) / (now - since) if now > since else 1.0
    return max(read, int(read / covered)) if covered > 0 else read
