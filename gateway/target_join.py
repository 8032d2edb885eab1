"""Letting one of the workspace's accounts join a campaign's target chat (issue 13): the
pre-flight names accounts that are not in the chat (`not_member`), and the owner may have
one join instead of doing it by hand in the app.

The owner decides, one account at a time, at the pace of joining a private source
(`core.parsing.JOIN_GAP_S` between two joins of one account: joining many chats fast is what
gets accounts limited). A public chat is joined with channels.joinChannel, a chat named by
an invite link with messages.importChatInvite (gateway.joining); a chat that asks its admins
to accept newcomers answers INVITE_REQUEST_SENT, shown as waiting. A basic group named by its
id alone cannot be joined: only its invite link lets someone in. Joining gives no right to
add people: in a supergroup or channel an admin still has to grant it, and the pre-flight,
run again right after, says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from core import telegram as tg
from core.accounts import can_work
from core.campaign_service import INVITE_REF_PREFIX
from core.dto import AccountDTO, AccountStatus
from core.errors import InvalidInput, NotFound
from core.i18n import t
from core.limits import rest_after_flood
from core.logs import get_logger
from core.parsing import JOIN_GAP_S, JOIN_TARGET_ACTION
from core.secretbox import SessionDecryptError
from core.users import ensure_owner, require_workspace
from db.dal import open_dal
from db.dal_parsing import LAST_JOIN, last_join_params
from gateway import joining
from gateway.campaigns import PREFLIGHT_STATUSES, Planner, joinable
from gateway.inviting import Inviter

log = get_logger("gateway.target_join")

# Telegram's refusals of a join, as the problem shown to the owner (Telethon's methods.csv:
# channels.joinChannel CHANNELS_TOO_MUCH CHANNEL_INVALID CHANNEL_PRIVATE INVITE_REQUEST_SENT;
# messages.importChatInvite adds INVITE_HASH_EMPTY/EXPIRED/INVALID and USERS_TOO_MUCH).
REFUSALS: dict[str, str] = {
    "INVITE_HASH_EXPIRED": "target_invite_expired",
    "INVITE_HASH_INVALID": "target_invite_invalid",
    "INVITE_HASH_EMPTY": "target_invite_invalid",
    "CHANNELS_TOO_MUCH": "join_channels_too_much",
    "CHANNEL_PRIVATE": "join_closed",
    "CHANNEL_INVALID": "join_closed",
    "USERS_TOO_MUCH": "join_chat_full",
}


Outcome = Literal["joined", "requested"]


@dataclass(frozen=True, slots=True)
class JoinResult:
    outcome: Outcome
    preflight: dict[str, Any]
    account_id: int

    def sentence(self, lang: str) -> str:
        """What happened, for the owner: joined (and whether it may add people yet), or
        asked to join."""
        label = str((self.preflight.get("accounts") or {}).get(str(self.account_id), ""))
        text = t(lang, f"campaign.join.{self.outcome}", account=label)
        if self.outcome == "joined" and self.account_id not in (
            self.preflight.get("eligible") or ()
        ):
            text += " " + t(lang, "campaign.join.admin_needed")
        return text


class TargetJoiner:
    """Joins for the owner, with the planner's services (the bot and the API build one per
    press: it holds nothing of its own)."""

    def __init__(self, planner: Planner, *, gap_s: float = JOIN_GAP_S) -> None:
        self.planner = planner
        self.campaigns = planner.campaigns
        self.accounts = planner.accounts
        self.sessionmaker = planner.sessionmaker
        self.gap_s = gap_s

    async def join(
        self, user_id: int, workspace_id: int, campaign_id: int, account_id: int
    ) -> JoinResult:
        """Have the account join the campaign's target, then check the target again."""
        async with open_dal(self.sessionmaker) as dal:
            ensure_owner(await require_workspace(dal, user_id, workspace_id))
            campaign = await self.campaigns.get(dal, user_id, workspace_id, campaign_id)
            if campaign.status not in PREFLIGHT_STATUSES:
                raise InvalidInput(
                    "status", field="status", problem="preflight_status", status=campaign.status
                )
            account = await dal.get_account(workspace_id, account_id)
            if account is None:
                raise NotFound("account", account_id=account_id)
            last = await dal.session.scalar(LAST_JOIN, last_join_params(account_id))
            await dal.rollback()
        ref = campaign.target_ref
        if not joinable(ref):
            # An id names a chat only for those already in it: nobody can join by it.
            raise InvalidInput("target", field="target", problem="join_needs_link")
        now = datetime.now(UTC)
        if not can_work(account, now):
            raise InvalidInput("account", field="account_id", problem="join_account")
        if last is not None and now - last < timedelta(seconds=self.gap_s):
            wait = timedelta(seconds=self.gap_s) - (now - last)
            raise InvalidInput(
                "account",
                field="account_id",
                problem="join_too_soon",
                minutes=max(1, round(wait.total_seconds() / 60)),
            )
        outcome = await self._join(account.id, account, ref)
        async with open_dal(self.sessionmaker) as dal:
            await dal.audit(
                JOIN_TARGET_ACTION,
                actor_user_id=user_id,
                workspace_id=workspace_id,
                details={"account_id": account_id, "campaign_id": campaign_id, "outcome": outcome},
            )
            await dal.commit()
        log.info("account joined a target", account_id=account_id, outcome=outcome)
        report = await self.planner.preflight(user_id, workspace_id, campaign_id)
        return JoinResult(outcome, report, account_id)

    async def _join(self, account_id: int, account: AccountDTO, ref: str) -> Outcome:
        try:
            async with self.planner.client(account) as client:
                if ref.startswith(INVITE_REF_PREFIX):
                    await joining.join(client, ref[len(INVITE_REF_PREFIX) :])
                else:
                    inviter = Inviter(client)
                    chat = await inviter.resolve_target(ref)
                    if chat.kind == "group":  # a public basic group does not exist; be sure
                        raise InvalidInput("target", field="target", problem="join_needs_link")
                    await inviter.join(chat)
        except joining.JoinRequested:
            return "requested"
        except tg.FloodWait as exc:
            # The installation's buffer after a flood wait (FLOOD_BUFFER_S), as the workers rest.
            buffer = self.campaigns.limits.flood_buffer_s
            until = rest_after_flood(datetime.now(UTC), exc.seconds, buffer)
            async with open_dal(self.sessionmaker) as dal:
                await self.accounts.change_status(
                    dal, account_id, AccountStatus.COOLDOWN, exc.rpc, cooldown_until=until
                )
            raise InvalidInput(
                "account", field="account_id", problem="join_flood_wait", until=until.isoformat()
            ) from exc
        except (tg.AccountUnauthorized, tg.AccountBanned, SessionDecryptError):
            raise InvalidInput("account", field="account_id", problem="join_account") from None
        except tg.TelegramError as exc:
            refusal = REFUSALS.get(exc.rpc)
            if refusal is None and isinstance(exc, (tg.SourceError, tg.NoAccess)):
                refusal = "join_closed"
            if refusal is None:
                raise
            raise InvalidInput("target", field="target", problem=refusal) from exc
        return "joined"
