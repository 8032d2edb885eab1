"""A campaign that stops itself, and the one notice its creator gets about it.

The invite engine pauses a campaign when the chat can take nobody more; the campaign watch
when the automatic brake sees a sign (`core.brake`). Either way the pause is one guarded
UPDATE (only a working campaign moves), so when two workers see the same thing at once the
creator is told once, by the one whose UPDATE changed the row.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.interfaces import Notifier
from core.logs import get_logger
from db.dal import open_dal
from db.dal_invites import InviteDal

log = get_logger("workers.pausing")


async def pause_and_tell(
    sessionmaker: async_sessionmaker[AsyncSession],
    notifier: Notifier | None,
    campaign_id: int,
    workspace_id: int,
    reason: str,
) -> bool:
    """Pause a working campaign with `reason`; its creator (or the workspace's owner when the
    creator is gone) hears why. False when it was no longer working (nothing is sent)."""
    async with sessionmaker() as session, session.begin():
        paused = await InviteDal(session).pause_itself(campaign_id, reason)
    if not paused:
        return False
    log.warning("campaign paused itself", campaign_id=campaign_id, reason=reason)
    if notifier is None:
        return True
    async with open_dal(sessionmaker) as dal:
        invites = InviteDal(dal.session)
        campaign = await invites.find_campaign(campaign_id)
        marks = await invites.progress_marks([campaign_id])
        telegram_id = marks[campaign_id][2] if campaign_id in marks else None
        if telegram_id is None:
            telegram_id = await dal.workspace_owner_telegram_id(workspace_id)
    if campaign is not None and telegram_id is not None:
        try:
            await notifier.notify(
                telegram_id, "campaign_paused", {"campaign": campaign.name, "reason": reason}
            )
            await notifier.notify(
                telegram_id, "campaign_progress", {"campaign_id": str(campaign_id)}
            )
        except Exception:  # Redis away: the pause and its reason are in PostgreSQL
            log.warning("pause notice not sent", campaign_id=campaign_id, exc_info=True)
    return True
