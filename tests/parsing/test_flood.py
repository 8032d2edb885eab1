"""A flood wait mid-task cools the account down; the task goes on with another or waits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from core.dto import AccountStatus
from core.parsing import ParseStatus
from db.models import ParseTask, TelegramAccount
from tests.parsing.conftest import Setup
from tests.parsing.test_control import SLOW, seed_group, wait_until

FIRST, SECOND = 100, 101


async def _flood_mid_task(setup: Setup, task_id: int, runner: asyncio.Task[None]) -> None:
    async def some_progress() -> bool:
        return (await setup.row(task_id)).progress_done >= 300

    await wait_until(some_progress)
    setup.world.add_fault("GetParticipantsRequest", "FLOOD_WAIT_30", 1, account=FIRST)
    await asyncio.wait_for(runner, 10)


async def test_flood_wait_moves_the_task_to_another_account(setup: Setup) -> None:
    accounts = await setup.link(FIRST, SECOND)
    everyone = seed_group(setup, 2000)
    task_id = await setup.task("@group", speed="safe")
    await _flood_mid_task(setup, task_id, asyncio.create_task(setup.engine(**SLOW).run_pending()))

    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE, task.error
    assert await setup.members(task_id) == everyone
    assert task.collected == task.new_members == len(everyone)
    used = {int(k): v for k, v in task.accounts_used.items()}
    assert set(used) == {accounts[FIRST], accounts[SECOND]}
    assert sum(used.values()) == len(everyone)  # each page counted once, by who fetched it

    async with setup.sessionmaker() as session:
        first = await session.get(TelegramAccount, accounts[FIRST])
    assert first is not None and first.status == AccountStatus.COOLDOWN
    assert (first.status_reason or "").startswith("FLOOD_WAIT")
    left = (first.cooldown_until - datetime.now(UTC)).total_seconds()
    assert 80 <= left <= 90  # the wait plus FLOOD_BUFFER_S (60)
    flooded = [c for c in setup.world.calls("GetParticipantsRequest") if c.error]
    assert [c.account for c in flooded] == [FIRST]
    after = setup.world.calls("GetParticipantsRequest")
    after = after[after.index(flooded[0]) + 1 :]
    assert after and {c.account for c in after} == {SECOND}
    assert any(kind == "account_status" for _, kind, _ in await setup.notices())


async def test_with_one_account_the_task_waits_for_the_cool_down(setup: Setup) -> None:
    accounts = await setup.link(FIRST)
    everyone = seed_group(setup, 2000)
    task_id = await setup.task("@group", speed="safe")
    await _flood_mid_task(setup, task_id, asyncio.create_task(setup.engine(**SLOW).run_pending()))

    waiting = await setup.row(task_id)
    assert waiting.status == ParseStatus.QUEUED and waiting.error is None
    assert 300 <= waiting.progress_done < len(everyone)
    async with setup.sessionmaker() as session:
        account = await session.get(TelegramAccount, accounts[FIRST])
    assert account is not None and account.cooldown_until is not None
    assert waiting.not_before == account.cooldown_until
    assert await setup.engine().store.claim() is None  # not before the cool-down ends

    # the cool-down ends: the task resumes where it stopped
    past = datetime.now(UTC) - timedelta(seconds=1)
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(update(TelegramAccount).values(cooldown_until=past))
        await session.execute(update(ParseTask).values(not_before=past))
    await setup.engine().run_pending()
    done = await setup.row(task_id)
    assert done.status == ParseStatus.DONE
    assert await setup.members(task_id) == everyone
    assert done.collected == done.progress_done == len(everyone)
