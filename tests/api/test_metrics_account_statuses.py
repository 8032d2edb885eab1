"""/metrics counts restricted and frozen accounts like every other status (a zero when none)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import AccountStatus
from db.metrics import read_stored_counts
from tests.admin_world import add_account, personal_workspace_id, registered
from webui_api.metrics import stored_families


async def test_every_account_status_is_a_series(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = await registered(sessionmaker, 7_300_001, "metrics_owner")
    ws = await personal_workspace_id(sessionmaker, owner.id)
    await add_account(
        sessionmaker, ws, 1, AccountStatus.RESTRICTED, reason="USER_BANNED_IN_CHANNEL"
    )
    await add_account(sessionmaker, ws, 2, AccountStatus.RESTRICTED, reason="spambot_limited")
    await add_account(sessionmaker, ws, 3, AccountStatus.FROZEN, reason="FROZEN_METHOD_INVALID")

    async with sessionmaker() as session:
        counts = await read_stored_counts(session, timeout_ms=2000)
    [accounts] = [f for f in stored_families(counts) if f.name == "tg_inviter_accounts"]
    by_status = {s.labels["status"]: s.value for s in accounts.samples}
    assert by_status == {s.value: 0 for s in AccountStatus} | {"restricted": 2, "frozen": 1}
