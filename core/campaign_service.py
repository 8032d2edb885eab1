"""Invite campaigns as users steer them (DESIGN §7): create, look, start, pause, resume,
cancel, duplicate, report. The workers run them (`workers/inviting.py`); the pre-flight
that needs Telegram lives in `gateway/campaigns.py`.

Any member of a workspace (owner or manager) creates and steers its campaigns; a campaign
of another workspace does not exist for them (`NotFound`, never 403).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.campaigns import (
    FINAL_STATES,
    CampaignStatus,
    NotStartable,
    TransitionNotAllowed,
    check_move,
    start_problem,
    start_status,
)
from core.dto import (
    AccountUsageDTO,
    CampaignDTO,
    FollowUpDTO,
    InviteEventDTO,
    ReportReads,
    WorkspaceRole,
)
from core.errors import InvalidInput, NotFound
from core.installation import LIMITS_KEY, effective_limits, limits_under
from core.interfaces import Dal, Notifier
from core.limits import InviteLimits, campaign_limits, check_campaign_limits, day_start, limits_from
from core.logs import get_logger
from core.pagination import Page, read_page
from core.settings import Settings
from core.users import ensure_owner, require_workspace
from core.validation import is_number

MAX_CAMPAIGN_NAME = 128
_PUBLIC = re.compile(
    r"^(?:@|(?:https?://)?(?:t\.me|telegram\.me)/)?(?P<username>[A-Za-z][A-Za-z0-9_]{3,31})/?$"
)
# An invite link: t.me/+<hash>, t.me/joinchat/<hash> (the older form) or tg://join?invite=<hash>
# (core.telegram.org/api/links#chat-invite-links); `+<hash>` is how it is stored.
_INVITE = re.compile(
    r"^(?:(?:https?://)?(?:t\.me|telegram\.me)/(?:\+|joinchat/)|tg://join\?invite=|\+)(?P<hash>[A-Za-z0-9_-]{4,64})/?$",
    re.IGNORECASE,
)
_CHAT_ID = re.compile(r"^-?\d{1,15}$", re.ASCII)
# Bots and clients show a supergroup or channel as -100<id> (core.telegram.org/api/bots/ids).
_CHANNEL_ID = re.compile(r"^-100(?P<id>\d{1,13})$", re.ASCII)
CHANNEL_REF_PREFIX = "-100"
INVITE_REF_PREFIX = "+"
_HOURS = re.compile(r"^\s*(\d{1,2})\s*[-–]\s*(\d{1,2})\s*$", re.ASCII)

log = get_logger("core.campaign_service")


def campaign_name(raw: str) -> str:
    name = " ".join(str(raw).split())
    if not name or len(name) > MAX_CAMPAIGN_NAME:
        raise InvalidInput("name", field="name", problem="campaign_name", max=MAX_CAMPAIGN_NAME)
    return name


def names_by_id(target_ref: str) -> bool:
    """Whether a stored target names its chat by id (`-100…` or a basic group's): only the
    accounts already in the chat can find it, and nobody can join by it."""
    return target_ref.startswith(CHANNEL_REF_PREFIX) or is_number(target_ref.lstrip("-"))


def parse_target(raw: str) -> str:
    """The target chat as stored, one of:

    - a public username (lower case): `@name`, `name`, `t.me/name`, `https://t.me/name`;
    - `-100<id>`: a supergroup or channel by id, as bots and clients show it;
    - `<id>`: a chat by id (a basic group shown as `-<id>`, or the bare id): the accounts'
      dialogs say which chat it is;
    - `+<hash>`: an invite link (`t.me/+…`, `t.me/joinchat/…`), which tells an account that
      is in the chat which chat it is (messages.checkChatInvite).
    """
    text = str(raw).strip()
    invite = _INVITE.match(text)
    if invite is not None:
        return INVITE_REF_PREFIX + invite.group("hash")
    channel = _CHANNEL_ID.match(text)
    if channel is not None:
        return CHANNEL_REF_PREFIX + str(int(channel.group("id")))
    if _CHAT_ID.match(text):
        if int(text) == 0:
            raise InvalidInput("target", field="target", problem="target_link")
        return str(abs(int(text)))
    match = _PUBLIC.match(text)
    if match is None:
        raise InvalidInput("target", field="target", problem="target_link")
    return match.group("username").lower()


def parse_hours(raw: str | None) -> tuple[int, int] | None:
    """Daily active hours in UTC: "9-21" → (9, 21); empty or "any" → None (any time)."""
    if raw is None or str(raw).strip().lower() in ("", "any", "-", "всегда", "любое"):
        return None
    match = _HOURS.match(str(raw))
    if match is None:
        raise InvalidInput("active_hours", field="active_hours", problem="active_hours")
    start, end = int(match.group(1)), int(match.group(2))
    if not (0 <= start <= 23 and 0 <= end <= 24) or start == end % 24:
        raise InvalidInput("active_hours", field="active_hours", problem="active_hours")
    return start, end % 24


START_AT_MAX_DAYS = 365


def parse_start_at(raw: str | None, now: datetime) -> datetime | None:
    """An optional start time in UTC: ISO 8601, or "YYYY-MM-DD HH:MM"; in the future, and at
    most `START_AT_MAX_DAYS` ahead (a date a year away is a typo, not a plan)."""
    if raw is None or str(raw).strip().lower() in ("", "now", "сейчас"):
        return None
    try:
        # Since Python 3.11 fromisoformat reads a trailing "Z" as UTC by itself.
        when = datetime.fromisoformat(str(raw).strip().replace(" ", "T", 1))
    except ValueError:
        raise InvalidInput("start_at", field="start_at", problem="start_at") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when <= now:
        raise InvalidInput("start_at", field="start_at", problem="start_at_past")
    if when > now + timedelta(days=START_AT_MAX_DAYS):
        raise InvalidInput(
            "start_at", field="start_at", problem="start_at_far", days=START_AT_MAX_DAYS
        )
    return when.astimezone(UTC)


def campaign_start_problem(campaign: CampaignDTO) -> str | None:
    """Why this campaign cannot start now (`core.campaigns.start_problem` of its stored
    pre-flight, or a target never found), or None: what `start` refuses with, and what the
    panel shows beside a disabled Start button."""
    problem = start_problem(campaign.preflight)
    if problem is None and campaign.target_chat_id is None:
        problem = "target_not_found"
    return problem


@dataclass(frozen=True, slots=True)
class CampaignView:
    campaign: CampaignDTO
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished_targets(self) -> int:
        return sum(n for state, n in self.counts.items() if state in FINAL_STATES)


@dataclass(frozen=True, slots=True)
class CampaignReport:
    campaign: CampaignDTO
    counts: dict[str, int]
    reasons: dict[str, int]
    accounts: list[AccountUsageDTO]
    follow_up: list[FollowUpDTO]
    follow_up_next: int | None
    limits: InviteLimits
    extra: dict[str, object] = field(default_factory=dict)


def public_counts(states: dict[str, int]) -> dict[str, int]:
    """Target states as people read them: an invite on its way is still pending."""
    return {
        "pending": states.get("pending", 0) + states.get("sending", 0),
        "unconfirmed": states.get("unconfirmed", 0),
        "invited": states.get("invited", 0),
        "already_member": states.get("already_member", 0),
        "failed": states.get("failed", 0),
        "skipped": states.get("skipped", 0),
    }


@dataclass(frozen=True, slots=True)
class Overview:
    """The dashboard's figures, each from one place so that no two cards disagree: people
    by result are the campaigns' own counters (what each campaign's page shows), summed;
    today's figures are the journal's, counted as the daily limits count them."""

    since: datetime
    counts: dict[str, int]  # public_counts over every campaign of the workspace
    attempts_today: int  # invite calls that spent an account's quota since `since`
    added_today: int  # people the journal shows added since `since`


APPROVAL_NOTICE = "campaign_approval"  # to the owner: a manager's large campaign waits
APPROVED_NOTICE = "campaign_approved"  # to the manager who asked
REJECTED_NOTICE = "campaign_rejected"


class CampaignService:
    def __init__(
        self,
        limits: InviteLimits,
        *,
        approval_threshold: int = 500,
        notifier: Notifier | None = None,
    ) -> None:
        self.limits = limits  # the installation's defaults; the admins' maximums apply on use
        # A manager's start of a campaign with more people to invite than this waits for
        # the workspace's owner (DESIGN §2: managers run the work, owners answer for it).
        self.approval_threshold = approval_threshold
        self.notifier = notifier

    async def create(
        self,
        dal: Dal,
        user_id: int,
        workspace_id: int,
        *,
        name: str,
        audience_id: int,
        target: str,
        start_at: datetime | None = None,
        active_hours: tuple[int, int] | None = None,
        limits: Mapping[str, Any] | None = None,
        trace_id: str | None = None,
    ) -> CampaignDTO:
        """A draft; the pre-flight (`gateway.campaigns.Planner`) fills in the target.
        `limits`: the campaign's own, each optional, never looser than the installation's."""
        await require_workspace(dal, user_id, workspace_id)
        clean_name = campaign_name(name)
        ref = parse_target(target)
        own = check_campaign_limits(limits or {}, await effective_limits(dal, self.limits))
        if await dal.get_audience(workspace_id, audience_id) is None:
            raise InvalidInput("audience_id", field="audience_id", problem="audience_unknown")
        campaign_id = await dal.create_campaign(
            workspace_id,
            clean_name,
            audience_id,
            ref,
            user_id=user_id,
            start_at=start_at,
            active_hours=active_hours,
            limits=own or None,
            trace_id=trace_id,
        )
        await dal.audit(
            "campaign.create",
            actor_user_id=user_id,
            workspace_id=workspace_id,
            details={"campaign_id": campaign_id, "target": ref},
        )
        found = await dal.campaign_view(workspace_id, campaign_id)
        assert found is not None
        return found

    async def get(self, dal: Dal, user_id: int, workspace_id: int, campaign_id: int) -> CampaignDTO:
        await require_workspace(dal, user_id, workspace_id)
        found = await dal.campaign_view(workspace_id, campaign_id)
        if found is None:
            raise NotFound("campaign", campaign_id=campaign_id)
        return found

    async def view(
        self, dal: Dal, user_id: int, workspace_id: int, campaign_id: int
    ) -> CampaignView:
        await require_workspace(dal, user_id, workspace_id)
        found = await dal.campaign_with_counts(workspace_id, campaign_id)
        if found is None:
            raise NotFound("campaign", campaign_id=campaign_id)
        return CampaignView(found[0], public_counts(found[1]))

    async def views_by_id(self, dal: Dal, campaign_ids: list[int]) -> dict[int, CampaignView]:
        """Campaigns with their counts by id alone, in two queries however many: for a reader
        that checks each caller's access itself (the API's stream feed). A missing id is a
        deleted campaign."""
        found = await dal.find_campaigns(campaign_ids)
        counts = await dal.counts_of(list(found)) if found else {}
        return {i: CampaignView(c, public_counts(counts[i])) for i, c in found.items()}

    async def list(
        self,
        dal: Dal,
        user_id: int,
        workspace_id: int,
        *,
        before_id: int | None = None,
        limit: int = 20,
        statuses: list[str] | None = None,
    ) -> Page[CampaignView]:
        await require_workspace(dal, user_id, workspace_id)

        async def fetch(n: int) -> list[CampaignView]:
            rows = await dal.campaigns_with_counts(
                workspace_id, before_id=before_id, limit=n, statuses=statuses
            )
            return [CampaignView(c, public_counts(counts)) for c, counts in rows]

        return await read_page(fetch, limit, key=lambda v: v.campaign.id)

    async def overview(self, dal: Dal, user_id: int, workspace_id: int) -> Overview:
        await require_workspace(dal, user_id, workspace_id)
        since = day_start(datetime.now(UTC))
        attempts, added = await dal.attempts_since(workspace_id, since)
        counts = public_counts(await dal.workspace_counts(workspace_id))
        return Overview(since, counts, attempts, added)

    # --- controls ------------------------------------------------------------------------------
    async def start(
        self, dal: Dal, user_id: int, workspace_id: int, campaign_id: int
    ) -> CampaignDTO:
        """Start a draft (or a paused campaign whose start time is still ahead). A manager's
        draft with more people to invite than `approval_threshold` goes to the owner instead
        (status `approval`; the owner is sent the pre-flight with Approve / Reject)."""
        role = await require_workspace(dal, user_id, workspace_id)
        campaign = await self.get(dal, user_id, workspace_id, campaign_id)
        current = CampaignStatus(campaign.status)
        now = datetime.now(UTC)
        wanted = start_status(campaign.start_at, now)
        check_move(current, wanted)
        preflight = campaign.preflight
        problem = campaign_start_problem(campaign)
        if problem == "target_not_found":
            raise NotStartable("target", field="target", problem=problem)
        if problem is not None:
            raise NotStartable("preflight", field="status", problem=problem)
        to_invite = int(preflight.get("to_invite") or 0)
        if (
            role is not WorkspaceRole.OWNER
            and current is CampaignStatus.DRAFT
            and to_invite > self.approval_threshold
        ):
            check_move(current, CampaignStatus.APPROVAL)
            moved = await self._move(
                dal,
                user_id,
                campaign,
                CampaignStatus.APPROVAL,
                (current,),
                "campaign.approval_asked",
            )
            await dal.commit()  # the owner's bot reads it as soon as the notice arrives
            owner = await dal.workspace_owner_telegram_id(workspace_id)
            if owner is not None:
                await self._tell(owner, APPROVAL_NOTICE, {"campaign_id": str(campaign.id)})
            return moved
        await dal.fill_targets(campaign.id)  # people added to the audience since the pre-flight
        return await self._move(dal, user_id, campaign, wanted, (current,), "campaign.start")

    async def approve(
        self, dal: Dal, user_id: int, workspace_id: int, campaign_id: int
    ) -> CampaignDTO:
        """The owner lets a campaign that waits for approval start (now or at its time)."""
        return await self._decide(dal, user_id, workspace_id, campaign_id, approve=True)

    async def reject(
        self, dal: Dal, user_id: int, workspace_id: int, campaign_id: int
    ) -> CampaignDTO:
        """The owner sends it back: a draft again, for its manager to change or cancel."""
        return await self._decide(dal, user_id, workspace_id, campaign_id, approve=False)

    async def _decide(
        self, dal: Dal, user_id: int, workspace_id: int, campaign_id: int, *, approve: bool
    ) -> CampaignDTO:
        ensure_owner(await require_workspace(dal, user_id, workspace_id))
        campaign = await self.get(dal, user_id, workspace_id, campaign_id)
        current = CampaignStatus(campaign.status)
        if current is not CampaignStatus.APPROVAL:
            raise InvalidInput(
                "status", field="status", problem="not_awaiting_approval", status=current.value
            )
        if approve:
            wanted = start_status(campaign.start_at, datetime.now(UTC))
            await dal.fill_targets(campaign.id)
        else:
            wanted = CampaignStatus.DRAFT
        moved = await self._move(
            dal,
            user_id,
            campaign,
            wanted,
            (current,),
            "campaign.approve" if approve else "campaign.reject",
        )
        await dal.commit()
        asked_by = (
            await dal.get_user(campaign.created_by_user_id) if campaign.created_by_user_id else None
        )
        if asked_by is not None and asked_by.id != user_id:
            await self._tell(
                asked_by.telegram_id,
                APPROVED_NOTICE if approve else REJECTED_NOTICE,
                {"campaign": campaign.name},
            )
        return moved

    async def pause(
        self, dal: Dal, user_id: int, workspace_id: int, campaign_id: int
    ) -> CampaignDTO:
        campaign = await self.get(dal, user_id, workspace_id, campaign_id)
        current = CampaignStatus(campaign.status)
        check_move(current, CampaignStatus.PAUSED)
        return await self._move(
            dal,
            user_id,
            campaign,
            CampaignStatus.PAUSED,
            (CampaignStatus.RUNNING, CampaignStatus.WAITING, CampaignStatus.SCHEDULED),
            "campaign.pause",
        )

    async def resume(
        self, dal: Dal, user_id: int, workspace_id: int, campaign_id: int
    ) -> CampaignDTO:
        campaign = await self.get(dal, user_id, workspace_id, campaign_id)
        current = CampaignStatus(campaign.status)
        if current is not CampaignStatus.PAUSED:
            raise InvalidInput("status", field="status", problem="not_paused", status=current.value)
        wanted = start_status(campaign.start_at, datetime.now(UTC))
        return await self._move(
            dal, user_id, campaign, wanted, (CampaignStatus.PAUSED,), "campaign.resume"
        )

    async def cancel(
        self, dal: Dal, user_id: int, workspace_id: int, campaign_id: int
    ) -> CampaignDTO:
        campaign = await self.get(dal, user_id, workspace_id, campaign_id)
        current = CampaignStatus(campaign.status)
        check_move(current, CampaignStatus.CANCELLED)
        return await self._move(
            dal, user_id, campaign, CampaignStatus.CANCELLED, (current,), "campaign.cancel"
        )

    async def discard(self, dal: Dal, user_id: int, workspace_id: int, campaign_id: int) -> None:
        """Removes a draft whose first check failed: the client never learnt its id, and a
        failed "check and create" leaves no campaign behind (the audit log keeps the try)."""
        campaign = await self.get(dal, user_id, workspace_id, campaign_id)
        if CampaignStatus(campaign.status) is not CampaignStatus.DRAFT:
            raise TransitionNotAllowed(CampaignStatus(campaign.status), CampaignStatus.CANCELLED)
        await dal.delete_draft(campaign.id)
        await dal.audit(
            "campaign.discard",
            actor_user_id=user_id,
            workspace_id=workspace_id,
            details={"campaign_id": campaign.id},
        )

    async def duplicate(
        self, dal: Dal, user_id: int, workspace_id: int, campaign_id: int
    ) -> CampaignDTO:
        """A new draft like this one; its pre-flight runs again before a start."""
        campaign = await self.get(dal, user_id, workspace_id, campaign_id)
        name = campaign_name(f"{campaign.name} (2)"[-MAX_CAMPAIGN_NAME:])
        new_id = await dal.duplicate_campaign(campaign.id, user_id, name)
        await dal.audit(
            "campaign.duplicate",
            actor_user_id=user_id,
            workspace_id=workspace_id,
            details={"campaign_id": new_id, "from": campaign.id},
        )
        found = await dal.campaign_view(workspace_id, new_id)
        assert found is not None
        return found

    async def _tell(self, telegram_id: int, kind: str, payload: dict[str, str]) -> None:
        """A notice after the change was committed: the status is in PostgreSQL for every
        view to show, so a notice lost with Redis must not turn the answer into an error."""
        if self.notifier is None:
            return
        try:
            await self.notifier.notify(telegram_id, kind, payload)
        except Exception:
            log.warning("campaign notice not sent", kind=kind, exc_info=True)

    async def _move(
        self,
        dal: Dal,
        user_id: int,
        campaign: CampaignDTO,
        wanted: CampaignStatus,
        only_from: tuple[CampaignStatus, ...],
        action: str,
    ) -> CampaignDTO:
        if not await dal.set_status(campaign.id, wanted, only_from=only_from):
            # A worker moved it meanwhile (e.g. it finished): report the status it has now.
            fresh = await dal.campaign_view(campaign.workspace_id, campaign.id)
            now_status = CampaignStatus(fresh.status if fresh else campaign.status)
            check_move(now_status, wanted)
        await dal.audit(
            action,
            actor_user_id=user_id,
            workspace_id=campaign.workspace_id,
            details={"campaign_id": campaign.id, "status": wanted.value},
        )
        found = await dal.campaign_view(campaign.workspace_id, campaign.id)
        assert found is not None
        return found

    # --- reports -------------------------------------------------------------------------------
    async def report(
        self,
        dal: Dal,
        user_id: int,
        workspace_id: int,
        campaign_id: int,
        *,
        follow_up_after: int = 0,
        follow_up_limit: int = 100,
    ) -> CampaignReport:
        await require_workspace(dal, user_id, workspace_id)
        found: ReportReads | None = None

        async def fetch(n: int) -> list[tuple[int, FollowUpDTO]]:
            nonlocal found
            found = await dal.campaign_report(
                workspace_id,
                campaign_id,
                follow_up_after=follow_up_after,
                follow_up_limit=n,
                setting=LIMITS_KEY,
            )
            if found is None:
                raise NotFound("campaign", campaign_id=campaign_id)
            return found.follow_ups

        page = await read_page(fetch, follow_up_limit, key=lambda row: row[0])
        assert found is not None
        return CampaignReport(
            found.campaign,
            public_counts(found.counts),
            found.reasons,
            found.accounts,
            [row[1] for row in page.items],
            page.next_cursor,
            limits_under(self.limits_of(found.campaign), found.setting),
        )

    async def events(
        self,
        dal: Dal,
        user_id: int,
        workspace_id: int,
        campaign_id: int,
        *,
        after_id: int = 0,
        limit: int = 50,
    ) -> Page[InviteEventDTO]:
        await require_workspace(dal, user_id, workspace_id)

        async def fetch(n: int) -> list[InviteEventDTO]:
            found = await dal.campaign_events(workspace_id, campaign_id, after_id=after_id, limit=n)
            if found is None:
                raise NotFound("campaign", campaign_id=campaign_id)
            return found

        return await read_page(fetch, limit, key=lambda e: e.id)

    def limits_of(self, campaign: CampaignDTO) -> InviteLimits:
        return campaign_limits(campaign.limits, self.limits)

    async def effective_limits(self, dal: Dal, campaign: CampaignDTO) -> InviteLimits:
        """The campaign's limits under the admins' maximums as stored right now."""
        return await effective_limits(dal, self.limits_of(campaign))


def build_campaign_service(settings: Settings, notifier: Notifier | None = None) -> CampaignService:
    return CampaignService(
        limits_from(settings), approval_threshold=settings.approval_threshold, notifier=notifier
    )
