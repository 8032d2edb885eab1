"""Campaign rules without a database: transitions, outcomes, pre-flight."""

from __future__ import annotations

import pytest

from core import campaigns as cg
from core.limits import InviteLimits
from core.outcomes import Outcome, Reason


def test_transitions() -> None:
    cg.check_move(cg.CampaignStatus.DRAFT, cg.CampaignStatus.RUNNING)
    cg.check_move(cg.CampaignStatus.RUNNING, cg.CampaignStatus.PAUSED)
    with pytest.raises(cg.TransitionNotAllowed):
        cg.check_move(cg.CampaignStatus.DONE, cg.CampaignStatus.RUNNING)
    with pytest.raises(cg.TransitionNotAllowed):
        cg.check_move(cg.CampaignStatus.CANCELLED, cg.CampaignStatus.PAUSED)


def test_effects() -> None:
    privacy = cg.effect_of(Outcome.FAILED, Reason.PRIVACY_RESTRICTED)
    assert privacy.state is cg.TargetState.FAILED and privacy.follow_up and not privacy.retry
    flood = cg.effect_of(Outcome.FAILED, Reason.FLOOD)
    assert flood.state is cg.TargetState.PENDING and not flood.spends_quota
    channels = cg.effect_of(Outcome.FAILED, Reason.TOO_MANY_CHANNELS, attempts=1)
    assert channels.retry and channels.ledger is cg.LedgerOutcome.RETRY
    assert cg.effect_of(Outcome.FAILED, Reason.TOO_MANY_CHANNELS, attempts=3).state is cg.TargetState.FAILED
    assert cg.outcome_of_sent(cg.Sent.MISSING_INVITEE) == (Outcome.FAILED, Reason.MISSING_INVITEE)


def test_preflight_exclusions_and_capacity() -> None:
    facts = cg.PreflightFacts(
        kind="channel", title="T", audience_size=300, already_members=40, attempted_before=10, opted_out=0,
        accounts=[
            cg.AccountFacts(1, "@a", creator=True),
            cg.AccountFacts(2, "@b", admin=True, can_invite=True),
            cg.AccountFacts(3, "@c", admin=True, can_invite=False),
            cg.AccountFacts(4, "@d"),
            cg.AccountFacts(5, "@e", member=False),
            cg.AccountFacts(6, "@f", usable=False),
            cg.AccountFacts(7, "@g", creator=True, ever_in_chat=200),
        ],
    )
    pf = cg.preflight(facts, InviteLimits())
    assert pf.eligible == [1, 2]
    assert pf.excluded == {3: "no_invite_right", 4: "not_admin", 5: "not_a_member", 6: "unavailable",
                           7: "lifetime_cap"}
    assert pf.to_invite == 250 and pf.days_to_finish == 9  # 2 accounts × 15 a day into one chat
    assert "broadcast_200_cap" in pf.warnings and "broadcast_cap_too_small" in pf.warnings


def test_active_hours_wrap_midnight() -> None:
    from datetime import UTC, datetime

    assert cg.in_active_hours(datetime(2026, 1, 1, 23, tzinfo=UTC), 22, 6)
    assert not cg.in_active_hours(datetime(2026, 1, 1, 12, tzinfo=UTC), 22, 6)
    assert cg.in_active_hours(datetime(2026, 1, 1, 12, tzinfo=UTC), None, None)
