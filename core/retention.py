"""Retention (DESIGN §7, issue "people first"): did invited people stay, and how long data stays.

Two rules, written once against plain data:
- Everyone a campaign added is checked again a day and a week after the invite: still a
  member of the chat? Someone gone is marked `left` in the workspace's ledger for that chat,
  which keeps them out of every later campaign into it. Reports show, per campaign and per
  source audience, how many were added, stayed a day, stayed a week.
- An audience that neither a campaign nor a collection used for `AUDIENCE_RETENTION_DAYS` is
  deleted; its owner is told a week before, and using it again in that week keeps it.

Storage is reached through `RetentionStore`; the workers' job, the bot and the API call here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.errors import NotFound
from core.interfaces import UserStore
from core.users import require_workspace

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
# How long a check that could not decide (no account could look at the chat) waits, and how
# many such tries a person gets before their row is closed as unknown.
RETRY_AFTER = timedelta(hours=1)
MAX_TRIES = 24
# A day's and a week's checks of one chat are done by one account in batches this large,
# with a pause between two people looked up one by one (`workers/retention.py`).
BATCH = 200
NOTICE_BEFORE = timedelta(days=7)


class Stage(enum.StrEnum):
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True, slots=True)
class DueCheck:
    """One invited person whose next check is due."""

    campaign_id: int
    tg_user_id: int
    workspace_id: int
    chat_id: int
    account_id: int | None  # the account that invited them
    added_at: datetime
    stage: Stage
    tries: int


def stage_due(added_at: datetime, stayed_day: bool | None, now: datetime) -> Stage | None:
    """Which check of an invited person is due at `now`, if any. A week's check due at once
    (the job was away for days) is done as one look that answers both."""
    if stayed_day is None:
        if now - added_at >= WEEK:
            return Stage.WEEK
        return Stage.DAY if now - added_at >= DAY else None
    if stayed_day and now - added_at >= WEEK:
        return Stage.WEEK
    return None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one look at the chat means for a person's row."""

    stayed_day: bool | None
    stayed_week: bool | None
    left: bool


def verdict(stage: Stage, present: bool) -> Verdict:
    """A person found in the chat stayed through the stage looked at; a person not found left
    (and so stayed neither the day, if that was not known yet, nor the week)."""
    if present:
        return Verdict(True, True if stage is Stage.WEEK else None, False)
    return Verdict(False if stage is Stage.DAY else None, False, True)


@dataclass(frozen=True, slots=True)
class RetentionFigures:
    """People a campaign (or an audience, over all its campaigns) added, and how many of them
    stayed. `*_left` found gone at that check; the rest of `added` is not checked yet."""

    added: int
    stayed_day: int
    left_day: int
    stayed_week: int
    left_week: int

    @property
    def pending_day(self) -> int:
        return self.added - self.stayed_day - self.left_day

    @property
    def pending_week(self) -> int:
        return self.added - self.stayed_week - self.left_week

    def as_json(self) -> dict[str, int]:
        return {
            "added": self.added,
            "stayed_day": self.stayed_day,
            "left_day": self.left_day,
            "pending_day": self.pending_day,
            "stayed_week": self.stayed_week,
            "left_week": self.left_week,
            "pending_week": self.pending_week,
        }


@dataclass(frozen=True, slots=True)
class AudienceRetention:
    audience_id: int | None  # None: the audience was deleted since
    name: str | None
    figures: RetentionFigures


@dataclass(frozen=True, slots=True)
class CampaignRetention:
    campaign_id: int
    figures: RetentionFigures
    audiences: list[AudienceRetention]


class RetentionStore(UserStore, Protocol):
    async def campaign_workspace(self, campaign_id: int) -> int | None: ...

    async def campaign_retention(
        self, campaign_id: int
    ) -> list[tuple[int | None, str | None, RetentionFigures]]: ...


async def campaign_retention(
    store: RetentionStore, user_id: int, workspace_id: int, campaign_id: int
) -> CampaignRetention:
    """The campaign's figures, and per source audience; any member of the workspace may read
    them (a foreign or unknown campaign is `NotFound`)."""
    await require_workspace(store, user_id, workspace_id)
    if await store.campaign_workspace(campaign_id) != workspace_id:
        raise NotFound("campaign", campaign_id=campaign_id)
    rows = await store.campaign_retention(campaign_id)
    audiences = [AudienceRetention(a, n, f) for a, n, f in rows]
    return CampaignRetention(campaign_id, total(r.figures for r in audiences), audiences)


def total(parts: Iterable[RetentionFigures]) -> RetentionFigures:
    figures = list(parts)
    return RetentionFigures(
        added=sum(f.added for f in figures),
        stayed_day=sum(f.stayed_day for f in figures),
        left_day=sum(f.left_day for f in figures),
        stayed_week=sum(f.stayed_week for f in figures),
        left_week=sum(f.left_week for f in figures),
    )


# --- audiences kept only while used ---------------------------------------------------------
class AudienceFate(enum.StrEnum):
    KEEP = "keep"
    NOTICE = "notice"  # tell the owner: deleted in a week unless used
    DELETE = "delete"


def audience_fate(
    last_used: datetime, notice_at: datetime | None, now: datetime, retention_days: int
) -> AudienceFate:
    """What the daily job does with an audience last used (created, collected into, or made a
    campaign from) at `last_used`. A notice older than the last use no longer counts: the
    audience was used after it and starts its time again."""
    keep_until = last_used + timedelta(days=retention_days)
    if notice_at is not None and notice_at < last_used:
        notice_at = None
    if now < keep_until - NOTICE_BEFORE:
        return AudienceFate.KEEP
    if notice_at is None:
        return AudienceFate.NOTICE
    # A full week's notice, even when the job was away and the notice came late.
    if now >= max(keep_until, notice_at + NOTICE_BEFORE):
        return AudienceFate.DELETE
    return AudienceFate.KEEP
