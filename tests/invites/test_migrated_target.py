"""A target basic group that becomes a supergroup under a new id (`migrated_to`) is followed:
the old group takes nobody (tdlib#819), the pre-flight resolves the new chat, and what was
done in the old one counts there — nobody is invited twice, and the accounts' limits in the
chat go on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import text

from core.campaign_service import CampaignService
from core.limits import day_start
from db.dal import open_dal
from sandbox.world.invites import migrate
from tests.invites.conftest import FAST, Setup, make_audience
from tests.invites.test_campaign_flow import owner_id, planner
from workers.inviting import InviteConfig

OLD, NEW = 7_000_080, 7_000_081
PEOPLE = range(31_000, 31_006)


async def _ledger(setup: Setup, chat_id: int) -> set[int]:
    """The people the chat's ledger holds as tried (`retry`: a refusal about the account)."""
    async with setup.sessionmaker() as s:
        rows = await s.execute(
            text("""SELECT tg_user_id FROM invite_ledger
                     WHERE workspace_id = :ws AND chat_id = :c AND outcome <> 'retry'"""),
            {"ws": setup.ws, "c": chat_id},
        )
        return {int(r[0]) for r in rows}


async def test_a_migrated_basic_group_is_followed_without_inviting_anyone_twice(
    setup: Setup,
) -> None:
    world = setup.world
    acc = setup.accounts
    world.put_chat(OLD, "group", "Small Team", creator=901, members=[901])
    people = setup.people(PEOPLE, seen_by_tg=901)
    audience = await make_audience(setup.sessionmaker, setup.ws, "team", people)
    service = CampaignService(FAST)
    user = await owner_id(setup)
    async with open_dal(setup.sessionmaker) as dal:
        campaign = await service.create(
            dal, user, setup.ws, name="Team", audience_id=audience, target=str(OLD)
        )
        await dal.commit()
    report = await planner(setup, service).preflight(user, setup.ws, campaign.id)
    assert (report["kind"], report["eligible"], report["to_invite"]) == ("group", [acc[901]], 6)
    async with open_dal(setup.sessionmaker) as dal:
        await service.start(dal, user, setup.ws, campaign.id)
        await dal.commit()

    # Three a day into the chat: half of them reach the basic group.
    three = replace(FAST, daily_per_chat=3)
    await setup.engine(InviteConfig(limits=three, pause_scale=0)).run_account(
        await setup.account(901)
    )
    first = [c.users[0] for c in world.calls("AddChatUserRequest") if c.error is None]
    assert len(first) == 3 and set(first) <= set(world.find_chat(OLD).members)

    migrate(world, world.find_chat(OLD), NEW)
    # The engine still knows the old group: Telegram refuses it, nobody is added there, and
    # the engine follows `migrated_to` by itself — no person has to step in.
    engine = setup.engine(InviteConfig(limits=FAST, pause_scale=0))
    await engine.run_account(await setup.account(901))
    assert [c.users[0] for c in world.calls("AddChatUserRequest") if c.error is None] == first
    async with setup.sessionmaker() as s:
        target = (
            await s.execute(
                text("SELECT target_chat_id, target_kind, status FROM campaigns WHERE id = :c"),
                {"c": campaign.id},
            )
        ).one()
    assert tuple(target) == (NEW, "megagroup", "running")
    assert await _ledger(setup, NEW) == set(first)  # what the old chat's ledger knew
    async with open_dal(setup.sessionmaker) as dal:
        usage = await dal.usage(acc[901], NEW, day_start(datetime.now(UTC)), setup.ws)
    assert usage.today_in_chat == 3  # its daily limit in the chat goes on in the new one

    await engine.run_account(await setup.account(901))
    second = [c.users[0] for c in world.calls("InviteToChannelRequest") if c.error is None]
    assert sorted(first + second) == list(PEOPLE)  # each person asked once, in one chat
    assert set(PEOPLE) <= set(world.find_chat(NEW).members)
    assert await _ledger(setup, NEW) == set(PEOPLE)
    async with open_dal(setup.sessionmaker) as dal:
        assert (await service.get(dal, user, setup.ws, campaign.id)).status == "done"

    # A new campaign named by the old group's id: its pre-flight resolves the supergroup and
    # counts everyone invited there before.
    newcomer = setup.people([31_100], seen_by_tg=901)
    again = await make_audience(setup.sessionmaker, setup.ws, "team+1", people + newcomer)
    async with open_dal(setup.sessionmaker) as dal:
        later = await service.create(
            dal, user, setup.ws, name="Again", audience_id=again, target=str(OLD)
        )
        await dal.commit()
    report = await planner(setup, service).preflight(user, setup.ws, later.id)
    assert (report["kind"], report["migrated_from"]) == ("megagroup", OLD)
    assert (report["attempted_before"], report["to_invite"]) == (6, 1)
    assert report["eligible"] == [acc[901]]  # the group's creator is the supergroup's
