"""Pause, resume and cancel at batch boundaries; priorities; claims that lapse or are fenced off."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from core.parsing import ParseStatus
from db.dal_parsing import BatchWrite
from db.models import AccountLease, AudienceMember, ParseTask
from tests.parsing.conftest import OWNER_TG, Setup, put_people

ACC = 100
GROUP = 920_001
# speed "safe" asks 100 members per page; scaled down, a page takes a few milliseconds
SLOW = {"delay_scale": 0.01}


def seed_group(setup: Setup, size: int) -> set[int]:
    ids = list(range(70_000, 70_000 + size))
    put_people(setup.world, ids)
    setup.world.put_chat(GROUP, "megagroup", "Group", username="group", members=ids)
    return set(ids)


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.01)


async def test_pause_stops_at_a_batch_boundary_and_resume_adds_no_duplicates(setup: Setup) -> None:
    await setup.link(ACC)
    everyone = seed_group(setup, 1500)
    task_id = await setup.task("@group", speed="safe")
    engine = setup.engine(**SLOW)
    runner = asyncio.create_task(engine.run_pending())

    async def some_progress() -> bool:
        return (await setup.row(task_id)).progress_done >= 300

    await wait_until(some_progress)
    await setup.set_status(task_id, ParseStatus.PAUSED)
    await asyncio.wait_for(runner, 10)

    paused = await setup.row(task_id)
    assert paused.status == ParseStatus.PAUSED
    assert 300 <= paused.progress_done < 1500
    assert paused.cursor["pos"] == {"phase": "recent", "offset": paused.progress_done}
    kept = await setup.members(task_id)
    assert len(kept) == paused.collected == paused.new_members == paused.progress_done
    assert await setup.audience_size(task_id) == len(kept)
    # the account is free again, and nobody asks Telegram anything for this task meanwhile
    async with setup.sessionmaker() as session:
        lease = await session.scalar(select(AccountLease))
        assert lease is not None and lease.expires_at <= datetime.now(UTC)
    calls = len(setup.world.calls("GetParticipantsRequest"))
    await asyncio.sleep(0.2)
    assert len(setup.world.calls("GetParticipantsRequest")) == calls

    await setup.set_status(task_id, ParseStatus.QUEUED)  # resume
    await setup.engine().run_pending()

    done = await setup.row(task_id)
    assert done.status == ParseStatus.DONE
    assert await setup.members(task_id) == everyone
    assert done.collected == done.new_members == done.progress_done == len(everyone)
    assert await setup.audience_size(task_id) == len(everyone)
    async with setup.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(AudienceMember)) == len(
            everyone
        )
    # the resumed run went on from the cursor instead of starting over
    offsets = list(setup.world.calls("GetParticipantsRequest"))
    assert len(offsets) <= 15 + 2 + 2  # 15 pages of 100, the admins lookups, one stop per run


async def test_cancel_stops_the_task_for_good(setup: Setup) -> None:
    await setup.link(ACC)
    seed_group(setup, 1500)
    task_id = await setup.task("@group", speed="safe")
    runner = asyncio.create_task(setup.engine(**SLOW).run_pending())

    async def started() -> bool:
        return (await setup.row(task_id)).progress_done > 0

    await wait_until(started)
    await setup.set_status(task_id, ParseStatus.CANCELLED)
    await asyncio.wait_for(runner, 10)
    await setup.engine().run_pending()  # nothing to claim

    task = await setup.row(task_id)
    assert task.status == ParseStatus.CANCELLED and task.progress_done < 1500
    assert all(kind != "parse_done" for _, kind, _ in await setup.notices())


async def test_progress_notices_are_throttled(setup: Setup) -> None:
    await setup.link(ACC)
    seed_group(setup, 1500)
    await setup.task("@group", speed="safe")
    await setup.engine(**SLOW).run_pending()  # 15 batches in well under 3 s
    kinds = [kind for telegram_id, kind, _ in await setup.notices() if telegram_id == OWNER_TG]
    assert kinds == ["parse_progress", "parse_done"]


async def test_priorities_order_the_queue(setup: Setup) -> None:
    await setup.link(ACC)
    seed_group(setup, 20)
    low = await setup.task("@group", audience="a1", priority=2)
    normal1 = await setup.task("@group", audience="a2", priority=1)
    high1 = await setup.task("@group", audience="a3", priority=0)
    normal2 = await setup.task("@group", audience="a4", priority=1)
    high2 = await setup.task("@group", audience="a5", priority=0)

    await setup.engine(concurrency=1).run_pending()

    async with setup.sessionmaker() as session:
        order = list(await session.scalars(select(ParseTask.id).order_by(ParseTask.started_at)))
        statuses = set(await session.scalars(select(ParseTask.status)))
    assert order == [high1, high2, normal1, normal2, low]
    assert statuses == {ParseStatus.DONE}


async def test_a_lapsed_claim_is_taken_over_and_the_old_holder_is_fenced_off(setup: Setup) -> None:
    await setup.link(ACC)
    everyone = seed_group(setup, 500)
    task_id = await setup.task("@group")
    engine = setup.engine()
    crashed = await engine.store.claim()  # a worker claims the task and then vanishes
    assert crashed is not None and crashed.id == task_id
    assert await engine.store.claim() is None  # nobody else may take it while the claim holds
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            update(ParseTask)
            .where(ParseTask.id == task_id)
            .values(claim_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    await engine.run_pending()

    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE and task.claim_epoch == crashed.epoch + 1
    assert await setup.members(task_id) == everyone
    late = await engine.store.write(crashed, BatchWrite(done=5), source="@group")
    assert late is None  # a write under the old claim changes nothing
    assert (await setup.row(task_id)).progress_done == len(everyone)


async def test_a_resumed_comment_walk_counts_each_author_once(setup: Setup) -> None:
    from sandbox.world.model import MessageSpec, PostSpec

    await setup.link(ACC)
    authors = list(range(71_000, 71_040))
    put_people(setup.world, [*authors, 71_100])
    setup.world.put_chat(
        930_002, "megagroup", "Talk", username="talk", creator=71_100, members=[71_100]
    )
    comments = tuple(MessageSpec(authors[n % len(authors)], f"c{n}") for n in range(400))
    setup.world.put_chat(
        930_001,
        "channel",
        "Blog",
        username="blog",
        creator=71_100,
        members=[71_100],
        linked_chat=930_002,
        posts=[PostSpec(1, "p", comments=comments)],
    )
    task_id = await setup.task("@blog", "comments", speed="safe")  # pages of 50 comments
    runner = asyncio.create_task(setup.engine(**SLOW).run_pending())

    async def some_progress() -> bool:
        return (await setup.row(task_id)).progress_done >= 100

    await wait_until(some_progress)
    await setup.set_status(task_id, ParseStatus.PAUSED)
    await asyncio.wait_for(runner, 10)
    assert (await setup.row(task_id)).progress_done < 400
    await setup.set_status(task_id, ParseStatus.QUEUED)
    await setup.engine().run_pending()

    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE
    assert await setup.members(task_id) == set(authors)
    assert task.collected == task.new_members == len(authors)
    assert task.progress_done == task.progress_total == 400
