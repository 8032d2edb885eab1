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
    unconfirmed = cg.effect_of(Outcome.UNCONFIRMED)
    assert unconfirmed.state is cg.TargetState.UNCONFIRMED and not unconfirmed.state.final
    assert (
        unconfirmed.ledger is cg.LedgerOutcome.UNCONFIRMED
        and unconfirmed.event_outcome == "unconfirmed"
    )
    unknown = cg.effect_of(Outcome.FAILED, Reason.UNKNOWN, attempts=1)
    assert unknown.retry and unknown.ledger is cg.LedgerOutcome.RETRY
    assert cg.effect_of(Outcome.FAILED, Reason.UNKNOWN, attempts=3).state is cg.TargetState.FAILED
    assert cg.outcome_of_sent(cg.Sent.MISSING_INVITEE) == (Outcome.FAILED, Reason.MISSING_INVITEE)
    assert cg.outcome_of_sent(cg.Sent.UNCONFIRMED) == (Outcome.UNCONFIRMED, None)


@pytest.mark.parametrize(
    ("rpc", "reason"),
    [
        ("USER_PRIVACY_RESTRICTED", Reason.PRIVACY_RESTRICTED),
        ("USER_NOT_MUTUAL_CONTACT", Reason.NOT_MUTUAL_CONTACT),
        ("USER_CHANNELS_TOO_MUCH", Reason.TOO_MANY_CHANNELS),
        ("USER_KICKED", Reason.KICKED),
        ("INPUT_USER_DEACTIVATED", Reason.DEACTIVATED),
        ("USER_BOT", Reason.BOT),
        ("USER_ID_INVALID", Reason.USER_NOT_FOUND),
        ("USER_BLOCKED", Reason.BLOCKED),
    ],
)
def test_a_persons_refusal_is_final(rpc: str, reason: Reason) -> None:
    effect = cg.effect_of_refusal(rpc, attempts=1)
    assert effect.state is cg.TargetState.FAILED and effect.ledger is cg.LedgerOutcome.FAILED
    assert effect.reason == reason.value and effect.error == rpc and not effect.retry
    assert effect.follow_up is (reason in (Reason.PRIVACY_RESTRICTED, Reason.NOT_MUTUAL_CONTACT))


@pytest.mark.parametrize(
    ("rpc", "reason"),
    [
        ("USER_BANNED_IN_CHANNEL", Reason.ACCOUNT_RESTRICTED),
        ("FROZEN_METHOD_INVALID", Reason.ACCOUNT_FROZEN),
        ("FROZEN_PARTICIPANT_MISSING", Reason.ACCOUNT_FROZEN),
        ("PEER_FLOOD", Reason.PEER_FLOOD),
        ("FLOOD_WAIT_30", Reason.FLOOD),
        ("FLOOD_PREMIUM_WAIT_5", Reason.FLOOD),
        ("AUTH_KEY_DUPLICATED", Reason.ACCOUNT_UNAUTHORIZED),
        ("SESSION_REVOKED", Reason.ACCOUNT_UNAUTHORIZED),
        ("USER_DEACTIVATED_BAN", Reason.ACCOUNT_BANNED),
        ("CHAT_ADMIN_REQUIRED", Reason.ADMIN_REQUIRED),
        ("CHAT_WRITE_FORBIDDEN", Reason.ADMIN_REQUIRED),
        ("USERS_TOO_MUCH", Reason.CHAT_FULL),
    ],
)
def test_the_accounts_and_the_chats_refusals_release_the_person(rpc: str, reason: Reason) -> None:
    effect = cg.effect_of_refusal(rpc, attempts=1)
    assert effect.state is cg.TargetState.PENDING and effect.ledger is cg.LedgerOutcome.RETRY
    assert (
        effect.refund
        and not effect.spends_quota
        and effect.reason == reason.value
        and effect.error == rpc
    )


def test_add_failed_goes_to_other_accounts_then_fails() -> None:
    assert (
        cg.effect_of_refusal("CHAT_MEMBER_ADD_FAILED", attempts=1).state is cg.TargetState.PENDING
    )
    assert (
        cg.effect_of_refusal("CHAT_MEMBER_ADD_FAILED", attempts=2).state is cg.TargetState.PENDING
    )
    last = cg.effect_of_refusal("CHAT_MEMBER_ADD_FAILED", attempts=3)
    assert last.state is cg.TargetState.FAILED and last.reason == "add_failed"


def test_an_unknown_error_is_kept_verbatim_and_tried_once_more() -> None:
    first = cg.effect_of_refusal("SOMETHING_NEW_2026", attempts=1)
    assert (
        first.state is cg.TargetState.PENDING
        and first.reason == "unknown"
        and first.error == "SOMETHING_NEW_2026"
    )
    assert cg.effect_of_refusal("SOMETHING_NEW_2026", attempts=2).state is cg.TargetState.FAILED


def test_preflight_exclusions_and_capacity() -> None:
    facts = cg.PreflightFacts(
        kind="channel",
        title="T",
        audience_size=300,
        already_members=40,
        attempted_before=10,
        opted_out=0,
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
    assert pf.excluded == {
        3: "no_invite_right",
        4: "not_admin",
        5: "not_a_member",
        6: "unavailable",
        7: "lifetime_cap",
    }
    assert pf.to_invite == 250 and pf.days_to_finish == 9  # 2 accounts × 15 a day into one chat
    assert "broadcast_200_cap" in pf.warnings and "broadcast_cap_too_small" in pf.warnings


def test_an_audience_with_nobody_left_to_invite_is_not_ready() -> None:
    facts = cg.PreflightFacts(
        kind="megagroup",
        title="T",
        audience_size=12,
        already_members=7,
        attempted_before=4,
        opted_out=1,
        accounts=[cg.AccountFacts(1, "@a", creator=True)],
    )
    pf = cg.preflight(facts, InviteLimits())
    assert pf.eligible == [1] and pf.to_invite == 0
    assert not pf.ready and "nobody_to_invite" in pf.warnings
    empty = cg.preflight(
        cg.PreflightFacts(
            kind="megagroup",
            title="T",
            audience_size=0,
            already_members=0,
            attempted_before=0,
            opted_out=0,
            accounts=[cg.AccountFacts(1, "@a", creator=True)],
        ),
        InviteLimits(),
    )
    assert not empty.ready and empty.days_to_finish == 0 and "nobody_to_invite" in empty.warnings


def test_active_hours_wrap_midnight() -> None:
    from datetime import UTC, datetime

    assert cg.in_active_hours(datetime(2026, 1, 1, 23, tzinfo=UTC), 22, 6)
    assert not cg.in_active_hours(datetime(2026, 1, 1, 12, tzinfo=UTC), 22, 6)
    assert cg.in_active_hours(datetime(2026, 1, 1, 12, tzinfo=UTC), None, None)
