"""An audience member's two references have no foreign key (migration e5b7c9d1f3a2): the
writers hold each parent once a statement, and triggers do what ON DELETE did. These tests
pin what the foreign keys guaranteed: no member outlives their audience, no member points at
an account that is gone, also when the deletion meets a write that has not committed yet."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.audiences import AudienceService
from core.dto import MemberDTO
from core.errors import NotFound
from core.parsing import LastSeen, Person
from db.dal import open_dal
from db.dal_parsing import BatchWrite
from db.models import Audience, AudienceMember, ParseTask
from tests.parsing.conftest import Setup, person_spec
from tests.parsing.test_collected_data import ACC, collect_lounge

PEOPLE = list(range(42_000, 42_030))
IMPORTED = [MemberDTO(i, None, "P", None, "recently", False, False, None) for i in PEOPLE]
BLOCKED = 0.3  # how long a deletion must still be waiting to count as held


async def _count(setup: Setup, audience_id: int) -> int:
    async with setup.sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(AudienceMember)
                .where(AudienceMember.audience_id == audience_id)
            )
            or 0
        )


async def _delete_audience(setup: Setup, audience_id: int) -> None:
    """What deleting an audience does (core.audiences `delete`)."""
    async with open_dal(setup.sessionmaker) as dal:
        await dal.delete_audience(audience_id)
        await dal.commit()


async def _held(deletion: asyncio.Task[None]) -> bool:
    """True if the deletion is still waiting for a lock after a while."""
    await asyncio.sleep(BLOCKED)
    return not deletion.done()


async def test_a_deleted_audience_takes_its_members_and_no_other(setup: Setup) -> None:
    task_id = await collect_lounge(setup, [person_spec(i) for i in PEOPLE])
    gone = (await setup.row(task_id)).audience_id
    other = (await setup.row(await setup.task("@lounge", audience="kept"))).audience_id
    await setup.engine().run_pending()
    assert await _count(setup, gone) == len(PEOPLE)  # not the creator: admins are left out
    assert await _count(setup, other) == len(PEOPLE)

    await _delete_audience(setup, gone)

    assert await _count(setup, gone) == 0
    assert await _count(setup, other) == len(PEOPLE)
    # and through a cascade that reaches audiences (a workspace deleted)
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text("DELETE FROM workspaces WHERE id = :w"), {"w": setup.workspace_id}
        )
    assert await _count(setup, other) == 0


async def _seen(setup: Setup, audience_id: int) -> list[tuple[int | None, int | None]]:
    """(seer, access hash) of each member."""
    async with setup.sessionmaker() as session:
        rows = await session.execute(
            select(AudienceMember.seen_by_account_id, AudienceMember.access_hash).where(
                AudienceMember.audience_id == audience_id
            )
        )
        return [(seer, access_hash) for seer, access_hash in rows]


async def _unlink(setup: Setup, account_id: int) -> None:
    """What unlinking an account does to its row (core.accounts `forget`)."""
    async with open_dal(setup.sessionmaker) as dal:
        await dal.delete_account(account_id)
        await dal.commit()


async def test_an_unlinked_account_leaves_no_seer_and_no_access_hash(setup: Setup) -> None:
    task_id = await collect_lounge(setup, [person_spec(i) for i in PEOPLE])
    audience_id = (await setup.row(task_id)).audience_id
    seen = await _seen(setup, audience_id)
    assert {s for s, _ in seen} == {setup.accounts[ACC]} and all(h is not None for _, h in seen)

    await _unlink(setup, setup.accounts[ACC])

    after = await _seen(setup, audience_id)
    assert len(after) == len(PEOPLE)  # the people stay
    assert set(after) == {(None, None)}


async def test_a_batch_by_an_account_that_is_gone_keeps_the_people_without_it(
    setup: Setup,
) -> None:
    await setup.link(ACC)
    task_id = await setup.task("@lounge")
    engine = setup.engine()
    claimed = await engine.store.claim()
    assert claimed is not None and claimed.id == task_id
    await _unlink(setup, setup.accounts[ACC])
    person = Person(42_100, "erin", "Erin", None, LastSeen.RECENTLY, False, True, access_hash=7)

    new = await engine.store.write(
        claimed,
        BatchWrite(people=[person], collected=1, account_id=setup.accounts[ACC]),
        source="@lounge",
    )

    assert new == 1
    async with setup.sessionmaker() as session:
        row = await session.get(AudienceMember, (claimed.audience_id, 42_100))
    assert row is not None and row.first_name == "Erin"
    assert row.seen_by_account_id is None and row.access_hash is None


async def test_a_deletion_waits_for_a_batch_and_then_removes_it(setup: Setup) -> None:
    """The audience is deleted while a batch is written but not committed: the deletion
    waits, and once the batch commits its trigger removes what the batch wrote."""
    await setup.link(ACC)
    task_id = await setup.task("@lounge")
    engine = setup.engine()
    claimed = await engine.store.claim()
    assert claimed is not None
    people = [
        Person(i, None, "P", None, LastSeen.RECENTLY, False, False, access_hash=i) for i in PEOPLE
    ]
    bind = setup.sessionmaker.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    async with bind.connect() as conn:
        await conn.begin()
        await conn.execute(text("SELECT 1"))  # the transaction is open on the server
        new = await engine.store.write(
            claimed,
            BatchWrite(people=people, collected=len(people), account_id=setup.accounts[ACC]),
            source="@lounge",
            conn=conn,
        )
        assert new == len(PEOPLE)
        deletion = asyncio.create_task(_delete_audience(setup, claimed.audience_id))
        assert await _held(deletion)
        await conn.commit()
    await asyncio.wait_for(deletion, 10)

    assert await _count(setup, claimed.audience_id) == 0
    async with setup.sessionmaker() as session:
        assert await session.get(Audience, claimed.audience_id) is None
        assert await session.get(ParseTask, task_id) is None  # the task went with it


async def _import(setup: Setup, audience_id: int, members: list[MemberDTO]) -> Any:
    async with open_dal(setup.sessionmaker) as dal:
        added = await dal.add_members(audience_id, members, [], "import")
        await dal.commit()
        return added


async def test_an_import_meeting_a_deletion_adds_nobody(setup: Setup) -> None:
    """The audience is being deleted (not committed yet) when an import adds members: the
    import waits for the deletion and then finds the audience gone. Without the hold it
    would insert the members, which the deletion's trigger had not seen."""
    await setup.owner()
    async with open_dal(setup.sessionmaker) as dal:
        target = await dal.create_audience(setup.workspace_id, "imported", "import", setup.user_id)
        await dal.commit()
    async with open_dal(setup.sessionmaker) as deleter:
        await deleter.delete_audience(target.id)
        adding = asyncio.create_task(_import(setup, target.id, IMPORTED))
        assert await _held(adding)
        await deleter.commit()

    assert await asyncio.wait_for(adding, 10) is None
    assert await _count(setup, target.id) == 0


async def test_an_import_into_an_audience_gone_meanwhile_is_not_found(setup: Setup) -> None:
    """What the import says when `add_members` finds the audience gone: the audience was
    looked up (and found) before the deletion committed."""
    await setup.owner()
    async with open_dal(setup.sessionmaker) as dal:
        target = await dal.create_audience(setup.workspace_id, "imported", "import", setup.user_id)
        await dal.commit()
    await _delete_audience(setup, target.id)
    async with open_dal(setup.sessionmaker) as dal:
        with pytest.raises(NotFound):
            await AudienceService()._store_import(
                dal, setup.user_id, setup.workspace_id, target, IMPORTED, [], [], len(IMPORTED)
            )
    assert await _count(setup, target.id) == 0
