"""Collecting group members: exact results, filters, re-parse, basic groups, hidden lists, the cap."""

from __future__ import annotations

from sqlalchemy import func, select

from core.parsing import Filters, LastSeen, ParseStatus
from db.models import AudienceMember
from sandbox.world.model import MessageSpec
from tests.parsing.conftest import OWNER_TG, Setup, person_spec, put_people

ACC = 100
CREATOR = 7
LOUNGE = 900_001


def seed_lounge(setup: Setup, size: int = 1000) -> tuple[list[int], set[int]]:
    """A megagroup with bots, deleted and scam accounts and admins; returns (members, expected)."""
    world = setup.world
    ids = list(range(20_000, 20_000 + size))
    bots = set(ids[::50])
    deleted = set(ids[3::61])
    scam = set(ids[5::73])
    admins = {ids[10], ids[size // 2], ids[-1]}
    world.put_users([person_spec(CREATOR, username="creator")])
    world.put_users(
        [person_spec(i, bot=i in bots, deleted=i in deleted, scam=i in scam) for i in ids]
    )
    world.put_chat(
        LOUNGE,
        "megagroup",
        "Lounge",
        username="lounge",
        creator=CREATOR,
        members=[CREATOR, ACC, *ids],
        admins={a: ["invite_users"] for a in admins},
    )
    expected = set(ids) - bots - deleted - scam - admins
    return ids, expected


async def test_megagroup_members_exactly_the_expected_people(setup: Setup) -> None:
    await setup.link(ACC)
    ids, expected = seed_lounge(setup)
    task_id = await setup.task("@lounge")

    await setup.engine().run_pending()

    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE and task.error is None
    assert await setup.members(task_id) == expected
    assert task.collected == task.new_members == len(expected)
    assert task.skipped == len(ids) + 2 - len(expected)  # + the creator and our own account
    assert task.progress_done == task.progress_total == len(ids) + 2
    assert await setup.audience_size(task_id) == len(expected)
    assert task.source_chat_id == LOUNGE and task.source_title == "Lounge"
    assert task.accounts_used == {str(setup.accounts[ACC]): len(ids) + 2}
    assert task.found_by_search == 0
    assert task.started_at is not None and task.finished_at is not None
    assert task.claim_expires_at is None

    async with setup.sessionmaker() as session:
        row = await session.scalar(
            select(AudienceMember).where(AudienceMember.tg_user_id == ids[1])
        )
    spec = person_spec(ids[1])
    assert row is not None
    assert (row.username, row.first_name, row.last_name) == (
        spec.get("username"),
        spec["first_name"],
        spec["last_name"],
    )
    assert row.last_seen == LastSeen(spec["last_seen"])
    assert row.source == "@lounge" and row.seen_by_account_id == setup.accounts[ACC]
    assert row.access_hash == setup.world.user_hash(ACC, ids[1])  # as this account saw them

    notices = await setup.notices()
    assert {n[0] for n in notices} == {OWNER_TG}
    assert [n[1] for n in notices].count("parse_done") == 1
    assert notices[-1] == (OWNER_TG, "parse_done", {"task_id": str(task_id)})


async def test_reparse_into_the_same_audience_adds_nobody(setup: Setup) -> None:
    await setup.link(ACC)
    _, expected = seed_lounge(setup, size=300)
    first = await setup.task("@lounge")
    await setup.engine().run_pending()
    second = await setup.task("@lounge")
    await setup.engine().run_pending()

    again = await setup.row(second)
    assert again.status == ParseStatus.DONE
    assert again.audience_id == (await setup.row(first)).audience_id
    assert again.collected == len(expected) and again.new_members == 0
    assert await setup.audience_size(second) == len(expected)
    async with setup.sessionmaker() as session:
        rows = await session.scalar(select(func.count()).select_from(AudienceMember))
    assert rows == len(expected)


async def test_optional_filters(setup: Setup) -> None:
    await setup.link(ACC)
    ids, expected = seed_lounge(setup, size=200)
    wanted = Filters(last_seen=frozenset({LastSeen.ONLINE, LastSeen.RECENTLY}), need_username=True)
    task_id = await setup.task("@lounge", filters=wanted)
    await setup.engine().run_pending()

    specs = {i: person_spec(i) for i in expected}
    match = {
        i
        for i, s in specs.items()
        if s["last_seen"] in ("online", "recently") and s.get("username")
    }
    assert match and match < expected
    assert await setup.members(task_id) == match
    task = await setup.row(task_id)
    assert task.collected == len(match) and task.skipped == len(ids) + 2 - len(match)


async def test_admins_are_kept_when_asked(setup: Setup) -> None:
    await setup.link(ACC)
    ids, expected = seed_lounge(setup, size=100)
    task_id = await setup.task("@lounge", filters=Filters(skip_admins=False))
    await setup.engine().run_pending()
    got = await setup.members(task_id)
    # the creator and the admins who are not filtered out for another reason (20050 is a bot)
    assert got - expected == {CREATOR, ids[10], ids[-1]}


async def test_basic_group_by_id(setup: Setup) -> None:
    await setup.link(ACC)
    put_people(setup.world, range(30_000, 30_040))
    setup.world.put_users([person_spec(30_100, bot=True)])
    setup.world.put_chat(
        700_001,
        "group",
        "Old friends",
        creator=ACC,
        members=[ACC, *range(30_000, 30_040), 30_100],
        admins={30_001: ["invite_users"]},
    )
    task_id = await setup.task("-700001")
    await setup.engine().run_pending()

    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE, task.error
    assert await setup.members(task_id) == set(range(30_000, 30_040)) - {30_001}
    assert task.source_title == "Old friends"


async def test_hidden_member_list_falls_back_to_message_authors(setup: Setup) -> None:
    await setup.link(ACC)
    people = list(range(40_000, 40_030))
    put_people(setup.world, people)
    writers = people[:12]
    setup.world.put_chat(
        800_001,
        "megagroup",
        "Quiet",
        username="quiet",
        creator=CREATOR if CREATOR in setup.world.users else None,
        members=people,
        hidden_members=True,
        messages=[MessageSpec(w, f"hello {n}") for n, w in enumerate(writers * 3)],
    )
    task_id = await setup.task("@quiet")
    await setup.engine().run_pending()

    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE, task.error
    assert await setup.members(task_id) == set(writers)
    assert task.cursor.get("via") == "authors"
    assert task.collected == len(writers)


async def test_past_the_cap_members_are_found_by_name_search(setup: Setup) -> None:
    await setup.link(ACC)
    size = 10_500
    ids = list(range(100_000, 100_000 + size))
    put_people(setup.world, ids)
    setup.world.put_chat(900_010, "megagroup", "Huge", username="huge", members=ids)
    task_id = await setup.task("@huge")

    await setup.engine().run_pending()

    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE, task.error
    got = await setup.members(task_id)
    assert got == set(ids)
    # the list shows the newest 10,000: the 500 who joined first come from the search
    assert task.found_by_search == size - 10_000
    assert task.collected == task.new_members == size
    assert task.progress_done == size and task.progress_total == size
    searches = [c for c in setup.world.calls("GetParticipantsRequest") if c.account == ACC]
    assert len(searches) > 50  # paged lists plus the name prefixes
