"""Only what the product uses is collected: no phone numbers, no bios (issue "people first",
item 7). Pinned three ways: what the parser keeps of a Telethon user, the columns people's
rows have, and a real collection on the sandbox of people whose phones the world knows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from telethon import types

from core.parsing import Person
from gateway.reading import person_of
from tests.parsing.conftest import Setup, person_spec

ACC, CREATOR, LOUNGE = 100, 7, 900_001
PHONE = "15550001234"
# Everything a collected person's row may hold; a new column must be a decision, not a slip.
MEMBER_COLUMNS = {
    "audience_id",
    "tg_user_id",
    "username",
    "first_name",
    "last_name",
    "last_seen",
    "premium",
    "photo",
    "source",
    "seen_by_account_id",
    "access_hash",
    "added_at",
    "search_text",  # the names above, lower-cased by PostgreSQL for member search
}
NEVER = ("phone", "bio", "about", "birthday", "email")


def test_the_parser_keeps_no_phone_and_no_bio_of_a_telethon_user() -> None:
    user = types.User(
        id=42,
        access_hash=7,
        first_name="Erin",
        last_name="X",
        username="erin",
        phone=PHONE,
        status=types.UserStatusRecently(),
    )
    person = person_of(user, datetime.now(UTC))
    assert person is not None and person.user_id == 42 and person.username == "erin"
    assert not any(word in field for field in Person._fields for word in NEVER)
    assert not any(PHONE in str(value) for value in person)


async def test_people_rows_have_no_phone_or_bio_columns(setup: Setup) -> None:
    async with setup.sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    """SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'
                AND table_name IN ('audience_members', 'audience_usernames', 'campaign_targets',
                                   'retention_checks', 'opt_outs', 'invite_ledger', 'invite_events')"""
                )
            )
        ).all()
    assert {c for t, c in rows if t == "audience_members"} == MEMBER_COLUMNS
    assert not [(t, c) for t, c in rows if any(word in c for word in NEVER)]


async def collect_lounge(setup: Setup, people: list[dict[str, Any]]) -> int:
    """Collect the members of a megagroup of `people` (user specs) with a linked account;
    the task's id."""
    await setup.link(ACC)
    setup.world.put_users([person_spec(CREATOR, username="creator"), *people])
    setup.world.put_chat(
        LOUNGE,
        "megagroup",
        "Lounge",
        username="lounge",
        creator=CREATOR,
        members=[CREATOR, ACC, *(p["id"] for p in people)],
    )
    task_id = await setup.task("@lounge")
    await setup.engine().run_pending()
    return task_id


async def test_a_collection_stores_no_phone_and_asks_for_no_bio(setup: Setup) -> None:
    ids = list(range(40_000, 40_020))
    task_id = await collect_lounge(setup, [person_spec(i, phone=f"+1555{i:07d}") for i in ids])
    assert await setup.members(task_id) == set(ids)
    async with setup.sessionmaker() as session:
        stored = [
            str(r) for r in (await session.execute(text("SELECT * FROM audience_members"))).all()
        ]
    assert len(stored) == len(ids)
    assert not [row for row in stored for i in ids if f"1555{i:07d}" in row]
    # A bio is only in users.getFullUser (core.telegram.org/constructor/userFull `about`):
    # a collection never asks for it.
    assert setup.world.calls("GetFullUserRequest") == []


async def test_names_reach_the_audience_as_written(setup: Setup) -> None:
    """Batches travel as JSON (db.dal_parsing._rows): quotes, backslashes, a literal
    `\\u0000`, other scripts and emoji arrive unchanged; a NUL, which PostgreSQL's text
    cannot hold, is dropped instead of failing the batch and with it the task."""
    names = {
        41_001: ("Анна", 'O"Brien \\ «ёж»'),
        41_002: ("李雷 🚀", "\\u0000 stays text"),
        41_003: ("Nul\x00Name", "tab\there\x01"),
        41_004: ("x" * 200, None),
    }
    task_id = await collect_lounge(
        setup,
        [person_spec(i, first_name=first, last_name=last) for i, (first, last) in names.items()],
    )
    async with setup.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT tg_user_id, first_name, last_name FROM audience_members")
        )
        stored = {user_id: (first, last) for user_id, first, last in rows}
    assert await setup.members(task_id) == set(names)
    assert stored == {
        41_001: ("Анна", 'O"Brien \\ «ёж»'),
        41_002: ("李雷 🚀", "\\u0000 stays text"),
        41_003: ("NulName", "tab\there\x01"),
        41_004: ("x" * 128, None),
    }
