"""The automatic brake (DESIGN §10): a campaign that hurts people or accounts stops itself.

Three signs, each read over the campaign's recent results since a person last started or
resumed it, never over its whole past:
- privacy refusals (USER_PRIVACY_RESTRICTED, USER_NOT_MUTUAL_CONTACT): past `privacy_share`
  of the last `window` results, the audience is mostly people who do not want strangers to
  add them — inviting on only collects refusals and reports;
- early leaves: past `left_share` of the last `window` people checked a day after being
  added, they left — the community does not want them, or they do not want it;
- PEER_FLOOD for `peer_flood_accounts` of its accounts within `peer_flood_window_s`: Telegram
  is limiting the campaign's accounts for spam; going on risks them all.
A sign needs `min_results` results (or people checked) before it can count, so that three
refusals out of four do not stop a campaign of thousands. Thresholds are settings
(BRAKE_*); the campaign pauses with the sign as its reason and its creator is told once.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings

PRIVACY = "brake_privacy"
EARLY_LEAVES = "brake_left"
PEER_FLOOD = "brake_peer_flood"
REASONS = (PRIVACY, EARLY_LEAVES, PEER_FLOOD)


@dataclass(frozen=True, slots=True)
class BrakeRules:
    window: int = 50
    min_results: int = 20
    privacy_share: float = 0.6
    left_share: float = 0.5
    peer_flood_accounts: int = 2
    peer_flood_window_s: int = 3600


def brake_rules(settings: Settings) -> BrakeRules:
    return BrakeRules(
        window=settings.brake_window,
        min_results=settings.brake_min_results,
        privacy_share=settings.brake_privacy_percent / 100,
        left_share=settings.brake_left_percent / 100,
        peer_flood_accounts=settings.brake_peer_flood_accounts,
        peer_flood_window_s=settings.brake_peer_flood_window_s,
    )


@dataclass(frozen=True, slots=True)
class BrakeFacts:
    """What the brake reads of one campaign (`db.dal_invites.InviteDal.brake_facts`)."""

    results: int  # of the last `window` results
    privacy: int  # of those, refused for the person's privacy settings
    checked: int  # of the last `window` people checked a day after being added
    left: int  # of those, gone
    flooded_accounts: int  # accounts refused with PEER_FLOOD within the window of time


def brake_reason(facts: BrakeFacts, rules: BrakeRules) -> str | None:
    """The sign that stops the campaign, most urgent first; None: it may go on."""
    if facts.flooded_accounts >= rules.peer_flood_accounts:
        return PEER_FLOOD
    if facts.results >= rules.min_results and facts.privacy > rules.privacy_share * facts.results:
        return PRIVACY
    if facts.checked >= rules.min_results and facts.left > rules.left_share * facts.checked:
        return EARLY_LEAVES
    return None
