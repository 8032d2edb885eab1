"""Private sources by invite link and basic groups that became supergroups (issue 13).

Tasks are made the way the bot and the API make them (`AudienceService.create_task` with the
gateway's checks through a linked account); the engine joins with the chosen account and
collects with it, on the simulated world.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.accounts import build_account_service
from core.audiences import AudienceService
from core.errors import InvalidInput
from core.parsing import JOIN_GAP_S, ParseStatus
from db.dal import open_dal
from db.leases import LeaseStore
from db.models import Audience, ParseTask
from gateway.sources import SourceChecker
from sandbox.world.invites import approve, invites_of, make_invite, migrate
from tests.parsing.conftest import Setup, put_people

ACC, ACC2 = 7101, 7102
CREATOR = 7150
PRIVATE = 1_800_000_001
MEMBERS = range(71_000, 71_040)


def private_group(setup: Setup) -> None:
    put_people(setup.world, [CREATOR, *MEMBERS])
    setup.world.put_chat(
        PRIVATE, "megagroup", "Secret Garden", creator=CREATOR, members=list(MEMBERS)
    )


def checker(setup: Setup) -> SourceChecker:
    return SourceChecker(
        accounts=build_account_service(setup.settings, None),
        gateway=setup.gateway,
        leases=LeaseStore(setup.sessionmaker, "check-test", ttl_s=30),
        sessionmaker=setup.sessionmaker,
    )


async def queue(setup: Setup, source: str, account_id: int | None = None) -> int:
    check = checker(setup)
    async with open_dal(setup.sessionmaker) as dal:
        task = await AudienceService().create_task(
            dal,
            setup.user_id,
            setup.workspace_id,
            source=source,
            speed="fast",
            check_source=check,
            account_id=account_id,
            check_invite=check.check_invite,
        )
    return task.id


async def test_a_private_group_joined_by_its_link_is_collected_by_the_chosen_account(
    setup: Setup,
) -> None:
    accounts = await setup.link(ACC, ACC2)
    private_group(setup)
    invite = make_invite(setup.world, setup.world.chats[PRIVATE])

    task_id = await queue(setup, f"https://t.me/+{invite.hash}", account_id=accounts[ACC2])
    queued = await setup.row(task_id)
    assert queued.params["invite"]["account_id"] == accounts[ACC2]
    assert queued.params["invite"]["title"] == "Secret Garden"
    await setup.engine().run_pending()

    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE, task.error
    assert await setup.members(task_id) == set(MEMBERS)
    chat = setup.world.chats[PRIVATE]
    assert ACC2 in chat.members and ACC not in chat.members  # only the chosen account joined
    assert task.cursor["joined"]["chat_id"] == PRIVATE
    async with setup.sessionmaker() as session:
        audience = await session.get(Audience, task.audience_id)
        assert audience is not None and audience.name == "Secret Garden"
    # Collecting again: the account is in already (chatInviteAlready), no second join.
    again = await queue(setup, f"t.me/joinchat/{invite.hash}", account_id=accounts[ACC2])
    await setup.engine().run_pending()
    assert (await setup.row(again)).status == ParseStatus.DONE
    assert len(setup.world.calls("messages.ImportChatInvite")) == 2
    assert [c.error for c in setup.world.calls("messages.ImportChatInvite")][
        -1
    ] == "USER_ALREADY_PARTICIPANT"


async def test_a_join_request_waits_for_approval_then_the_task_runs(setup: Setup) -> None:
    accounts = await setup.link(ACC)
    private_group(setup)
    invite = make_invite(setup.world, setup.world.chats[PRIVATE], request_needed=True)

    task_id = await queue(setup, invite.link)
    assert (await setup.row(task_id)).params["invite"]["request_needed"] is True
    await setup.engine().run_pending()
    waiting = await setup.row(task_id)
    assert (waiting.status, waiting.error) == (ParseStatus.QUEUED, "join_requested")
    assert waiting.cursor["join"] == "requested"
    assert list(invites_of(setup.world).requests[PRIVATE]) == [ACC]
    assert await setup.members(task_id) == set()

    # Not accepted yet: the next look asks checkChatInvite, not a second join request.
    async with setup.sessionmaker() as session, session.begin():
        row = await session.get(ParseTask, task_id)
        assert row is not None
        row.not_before = None
    await setup.engine().run_pending()
    assert (await setup.row(task_id)).error == "join_requested"
    assert len(setup.world.calls("messages.ImportChatInvite")) == 1

    approve(setup.world, setup.world.chats[PRIVATE], ACC)
    async with setup.sessionmaker() as session, session.begin():
        row = await session.get(ParseTask, task_id)
        assert row is not None
        row.not_before = None
    await setup.engine().run_pending()
    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE, task.error
    assert await setup.members(task_id) == set(MEMBERS)
    assert str(accounts[ACC]) in task.accounts_used


@pytest.mark.parametrize(
    ("expired", "problem"), [(True, "invite_expired"), (False, "invite_invalid")]
)
async def test_a_dead_link_is_refused_before_anything_is_saved(
    setup: Setup, expired: bool, problem: str
) -> None:
    await setup.link(ACC)
    private_group(setup)
    link = (
        make_invite(setup.world, setup.world.chats[PRIVATE], expired=True).link
        if expired
        else "t.me/+NoSuchLink1"
    )
    with pytest.raises(InvalidInput) as refused:
        await queue(setup, link)
    assert refused.value.details["problem"] == problem
    async with setup.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ParseTask)) == 0
        assert await session.scalar(select(func.count()).select_from(Audience)) == 0


async def test_a_link_that_expires_after_queueing_fails_the_task(setup: Setup) -> None:
    await setup.link(ACC)
    private_group(setup)
    invite = make_invite(setup.world, setup.world.chats[PRIVATE])
    task_id = await queue(setup, invite.link)
    invite.expires_at = datetime.now(UTC) - timedelta(seconds=2)
    await setup.engine().run_pending()
    task = await setup.row(task_id)
    assert (task.status, task.error) == (ParseStatus.FAILED, "invite_expired")
    assert await setup.members(task_id) == set()


async def test_an_account_in_too_many_channels_cannot_join(setup: Setup) -> None:
    await setup.link(ACC)
    setup.world.users[ACC].invite_outcome = "too_many_channels"
    private_group(setup)
    invite = make_invite(setup.world, setup.world.chats[PRIVATE])
    task_id = await queue(setup, invite.link)
    await setup.engine().run_pending()
    task = await setup.row(task_id)
    assert (task.status, task.error) == (ParseStatus.FAILED, "channels_too_much")


async def test_a_chosen_account_of_another_workspace_is_refused(setup: Setup) -> None:
    await setup.link(ACC)
    private_group(setup)
    invite = make_invite(setup.world, setup.world.chats[PRIVATE])
    with pytest.raises(InvalidInput) as refused:
        await queue(setup, invite.link, account_id=999_999)
    assert refused.value.details["problem"] == "join_account"


async def test_a_basic_group_that_became_a_supergroup_is_followed(setup: Setup) -> None:
    await setup.link(ACC)
    put_people(setup.world, [CREATOR, *MEMBERS])
    old = setup.world.put_chat(
        4242, "group", "Old Friends", creator=CREATOR, members=[ACC, *MEMBERS]
    )
    new = migrate(setup.world, old, 1_800_000_042)
    new.members[71_999] = new.members[CREATOR]  # someone who joined after the migration
    put_people(setup.world, [71_999])

    task_id = await setup.task("-4242")
    await setup.engine().run_pending()
    task = await setup.row(task_id)
    assert task.status == ParseStatus.DONE, task.error
    assert task.source_chat_id == new.id
    assert await setup.members(task_id) == {*MEMBERS, 71_999}


async def test_one_account_joins_chats_at_a_conservative_pace(setup: Setup) -> None:
    await setup.link(ACC)
    private_group(setup)
    setup.world.put_chat(
        PRIVATE + 1, "megagroup", "Second Garden", creator=CREATOR, members=list(MEMBERS)[:5]
    )
    first = await queue(setup, make_invite(setup.world, setup.world.chats[PRIVATE]).link)
    second = await queue(setup, make_invite(setup.world, setup.world.chats[PRIVATE + 1]).link)

    await setup.engine(delay_scale=1.0, concurrency=1).run_pending()
    assert (await setup.row(first)).status == ParseStatus.DONE
    waiting = await setup.row(second)
    assert waiting.status == ParseStatus.QUEUED and waiting.not_before is not None
    joined_at = datetime.fromisoformat((await setup.row(first)).cursor["joined"]["at"])
    assert waiting.not_before - joined_at >= timedelta(seconds=JOIN_GAP_S - 1)
    assert len(setup.world.calls("messages.ImportChatInvite")) == 1
