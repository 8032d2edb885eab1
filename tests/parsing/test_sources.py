"""Comment authors, message authors over a period, and sources that cannot be collected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.parsing import ParseStatus
from sandbox.world.model import MessageSpec, PostSpec
from tests.parsing.conftest import OWNER_TG, Setup, person_spec, put_people

ACC, ACC2 = 100, 101
NEWS, NEWS_CHAT, BARE = 900_101, 900_102, 900_103


def seed_news(setup: Setup) -> dict[str, set[int]]:
    """A channel with a discussion group; five posts, commented by different people."""
    world = setup.world
    put_people(world, range(50_000, 50_060))
    world.put_users([person_spec(50_100, bot=True), person_spec(50_101, deleted=True)])
    world.put_chat(
        NEWS_CHAT, "megagroup", "News chat", username="news_chat", creator=50_059, members=[50_059]
    )
    by_post = {
        1: [50_000, 50_001, 50_002],
        2: [50_003, 50_100],  # a bot comments too
        3: [50_004, 50_005, 50_004, 50_101],  # the same person twice, and a deleted account
        4: [],
        5: [*range(50_010, 50_050), 50_059],  # the discussion group's admin among them
    }
    world.put_chat(
        NEWS,
        "channel",
        "News",
        username="news",
        creator=50_059,
        members=[50_059],
        linked_chat=NEWS_CHAT,
        posts=[
            PostSpec(post, f"post {post}", comments=tuple(MessageSpec(a, "c") for a in authors))
            for post, authors in by_post.items()
        ],
    )
    return {str(k): set(v) for k, v in by_post.items()}


async def test_comment_authors_of_the_last_posts(setup: Setup) -> None:
    await setup.link(ACC)
    by_post = seed_news(setup)
    task_id = await setup.task("@news", "comments", posts=3)  # posts 3, 4 and 5

    await setup.engine().run_pending()

    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE, task.error
    expected = {50_004, 50_005, *range(50_010, 50_050)}  # no bot, no deleted, no admin
    assert await setup.members(task_id) == expected
    assert task.collected == len(expected)
    assert task.skipped == 2  # the deleted account and the admin
    comments = len(by_post["5"]) + 4
    assert task.progress_done == task.progress_total == comments


async def test_comment_authors_of_one_post(setup: Setup) -> None:
    await setup.link(ACC)
    seed_news(setup)
    task_id = await setup.task("@news", "comments", post_id=1)
    await setup.engine().run_pending()
    assert await setup.members(task_id) == {50_000, 50_001, 50_002}


async def test_channel_without_discussion_fails_clearly(setup: Setup) -> None:
    await setup.link(ACC)
    put_people(setup.world, [50_200])
    setup.world.put_chat(
        BARE, "channel", "Bare", username="bare", creator=50_200, posts=[PostSpec(1, "hello")]
    )
    task_id = await setup.task("@bare", "comments")
    await setup.engine().run_pending()

    task = await setup.row(task_id)
    assert task.status == ParseStatus.FAILED and task.error == "no_discussion"
    assert task.finished_at is not None and task.collected == 0
    assert (OWNER_TG, "parse_done", {"task_id": str(task_id)}) in await setup.notices()


async def test_message_authors_over_the_last_days(setup: Setup) -> None:
    await setup.link(ACC)
    world = setup.world
    put_people(world, range(60_000, 60_050))
    now = datetime.now(UTC)
    old = [MessageSpec(60_000 + i, "old", now - timedelta(days=20, minutes=i)) for i in range(20)]
    recent = [
        MessageSpec(60_020 + i % 25, "new", now - timedelta(days=6, minutes=-i)) for i in range(120)
    ]
    old.sort(key=lambda m: m.date)  # type: ignore[arg-type,return-value]
    world.put_chat(
        910_001,
        "megagroup",
        "Chatty",
        username="chatty",
        members=list(range(60_000, 60_050)),
        messages=[*old, *recent],
    )
    task_id = await setup.task("@chatty", "authors", days=7)

    await setup.engine().run_pending()

    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE, task.error
    assert await setup.members(task_id) == set(range(60_020, 60_045))
    assert task.collected == 25
    assert task.progress_done >= 120  # messages read, up to the first older than the period


@pytest.mark.parametrize(
    ("source", "kind", "error"),
    [
        ("@nobody_here", "members", "source_not_found"),
        ("@someone", "members", "not_a_group"),  # a person, not a chat
        ("@news", "members", "not_a_group"),  # subscribers of a channel: admins only
        ("@news", "authors", "not_a_group"),
        ("@news_chat", "comments", "no_discussion"),  # a group has no channel posts
        ("https://t.me/+AbCdEf123", "members", "invite_invalid"),  # a link Telegram does not know
    ],
)
async def test_sources_that_cannot_be_collected(
    setup: Setup, source: str, kind: str, error: str
) -> None:
    await setup.link(ACC)
    seed_news(setup)
    setup.world.put_users([person_spec(50_300, username="someone")])
    task_id = await setup.task(source, kind)
    await setup.engine().run_pending()
    task = await setup.row(task_id)
    assert (task.status, task.error) == (ParseStatus.FAILED, error)


async def test_without_accounts_the_task_fails(setup: Setup) -> None:
    await setup.owner()
    seed_news(setup)
    task_id = await setup.task("@news", "comments")
    await setup.engine().run_pending()
    task = await setup.row(task_id)
    assert (task.status, task.error) == (ParseStatus.FAILED, "no_accounts")


async def test_an_account_without_access_is_skipped(setup: Setup) -> None:
    await setup.link(ACC, ACC2)
    put_people(setup.world, range(61_000, 61_010))
    # A private basic group: only the second account is in it.
    setup.world.put_chat(
        710_001, "group", "Private", creator=ACC2, members=[ACC2, *range(61_000, 61_010)]
    )
    task_id = await setup.task("-710001")
    await setup.engine().run_pending()

    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE, task.error
    assert await setup.members(task_id) == set(range(61_000, 61_010))
    assert task.cursor["skipped_accounts"] == {str(setup.accounts[ACC]): "no_access"}
    assert set(task.accounts_used) == {str(setup.accounts[ACC2])}


async def test_no_account_with_access_fails_with_no_access(setup: Setup) -> None:
    await setup.link(ACC)
    put_people(setup.world, range(61_000, 61_010))
    setup.world.put_chat(
        710_002, "group", "Private", creator=61_000, members=list(range(61_000, 61_010))
    )
    task_id = await setup.task("-710002")
    await setup.engine().run_pending()
    task = await setup.row(task_id)
    assert (task.status, task.error) == (ParseStatus.FAILED, "no_access")
