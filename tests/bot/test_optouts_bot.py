"""/optout, /optin and the deep link `?start=optout` (anyone), and /optouts, /optouts_add,
/optouts_remove (a workspace's owner), through the real Dispatcher; the next campaign of
another workspace is planned and run by the real pre-flight and engine on the sandbox."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import build_account_service
from core.campaign_service import CampaignService
from core.i18n import t
from db.dal import open_dal
from db.leases import LeaseStore
from db.models import GlobalOptOut, OptOut
from gateway.campaigns import Planner
from tests.bot.conftest import BOT_USERNAME, TgUser
from tests.bot.test_campaigns_bot import world_setup as world_setup
from tests.bot.test_parsing_bot import buttons, replies
from tests.invites.conftest import FAST, OWNER_TG, Setup, make_audience
from workers.inviting import InviteConfig

PERSON = 10_005  # one of the owner's audience, and a stranger to the owner's workspace
LINK = f"https://t.me/{BOT_USERNAME}?start=optout"


async def _global(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    async with sessionmaker() as session:
        return {r.tg_user_id: r.source for r in await session.scalars(select(GlobalOptOut))}


async def _campaign_run(
    setup: Setup,
) -> tuple[dict[str, object], dict[int, tuple[str, str | None]], set[int]]:
    """The owner's campaign of ten people into the target: (pre-flight, targets, people invited)."""
    service = CampaignService(FAST)
    people = setup.people(range(10_000, 10_010), seen_by_tg=901)
    audience = await make_audience(
        setup.sessionmaker, setup.ws, f"a{len(setup.invite_calls())}", people
    )
    async with open_dal(setup.sessionmaker) as dal:
        owner = await dal.get_user_by_telegram_id(OWNER_TG)
        assert owner is not None
        campaign = await service.create(
            dal, owner.id, setup.ws, name="Grow", audience_id=audience, target="t.me/target_group"
        )
        await dal.commit()
    planner = Planner(
        campaigns=service,
        accounts=build_account_service(setup.settings, None),
        gateway=setup.gateway,
        leases=LeaseStore(setup.sessionmaker, "bot-test", ttl_s=30),
        sessionmaker=setup.sessionmaker,
        lease_wait_s=0.5,
    )
    report = await planner.preflight(owner.id, setup.ws, campaign.id)
    async with open_dal(setup.sessionmaker) as dal:
        await service.start(dal, owner.id, setup.ws, campaign.id)
        await dal.commit()
    engine = setup.engine(InviteConfig(limits=FAST, pause_scale=0))
    for account_tg in (901, 902):
        await engine.run_account(await setup.account(account_tg))
    invited = {u for _a, users, _e in setup.invite_calls() for u in users}
    return report, await setup.targets(campaign.id), invited


async def test_optout_keeps_a_person_out_of_another_workspaces_campaign(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = make_user(PERSON, first_name="Pat", language_code="ru")
    assert await person.reply_to("/optout") == t("ru", "optout.done")
    assert await person.reply_to("/optout") == t("ru", "optout.already")
    assert await _global(sessionmaker) == {PERSON: "command"}
    # The text says what it means and how to undo it.
    assert "/optin" in t("ru", "optout.done") and "/optin" in t("en", "optout.done")

    report, targets, invited = await _campaign_run(world_setup)
    assert report["opted_out"] == 1 and report["to_invite"] == 9
    assert targets[PERSON] == ("skipped", "opted_out")
    assert PERSON not in invited and len(invited) == 9
    # The person's own workspace list is untouched: the opt-out is the installation's.
    async with sessionmaker() as session:
        assert list(await session.scalars(select(OptOut))) == []


async def test_optin_undoes_it(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = make_user(PERSON, first_name="Pat", language_code="en")
    assert await person.reply_to("/optin") == t("en", "optin.not_listed")
    await person.send("/optout")
    assert await person.reply_to("/optin") == t("en", "optin.done")
    assert await _global(sessionmaker) == {}
    report, targets, invited = await _campaign_run(world_setup)
    assert report["opted_out"] == 0
    assert targets[PERSON] == ("invited", None) and PERSON in invited


async def test_deep_link_opts_out_a_person_who_never_used_the_bot(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    stranger = make_user(10_777, first_name="Sam", language_code="en")
    # t.me/<bot>?start=optout: Telegram sends "/start optout" (core.telegram.org/bots/features#deep-linking).
    assert await stranger.reply_to("/start optout") == t("en", "optout.done")
    assert await _global(sessionmaker) == {10_777: "deep_link"}
    # A plain /start is still the greeting.
    assert await stranger.reply_to("/start") == t("en", "start.again", name="Sam")
    # In a group nobody's list changes; the bot says where to do it.
    other = make_user(10_778, first_name="Gail", language_code="en")
    (answer,) = replies(await other.send_in_group("/optout"))
    assert answer.text == t("en", "optout.group")
    assert 10_778 not in await _global(sessionmaker)


async def test_owner_keeps_the_workspace_list_and_a_manager_reads_it(
    world_setup: Setup,
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(OWNER_TG, username="boss", first_name="Boss", language_code="en")
    manager = make_user(556, username="manny", first_name="Manny", language_code="en")
    await manager.send("/start")
    await owner.send("/team_add @manny")
    await make_audience(sessionmaker, world_setup.ws, "Known", [(10_300, "Known_One", None, None)])
    ws = "@boss"

    assert await owner.reply_to("/optouts_add") == t("en", "optouts.add_usage")
    assert await owner.reply_to("/optouts_add 10200") == t(
        "en", "optouts.added", person="id 10200", workspace=ws
    )
    assert await owner.reply_to("/optouts_add 10200") == t(
        "en", "optouts.already", person="id 10200", workspace=ws
    )
    assert await owner.reply_to("/optouts_add @known_one") == t(
        "en", "optouts.added", person="@known_one (id 10300)", workspace=ws
    )
    unknown = await owner.reply_to("/optouts_add @nobody_here")
    assert unknown == t(
        "en",
        "optouts.failed",
        problem=t("en", "problem.optout_unknown_username", username="nobody_here"),
    )
    assert (await owner.reply_to("/optouts_add 12ab")).startswith(
        t("en", "optouts.failed", problem="")[:8]
    )

    # The manager (working in the owner's workspace) reads the list but may not change it.
    (team,) = replies(await manager.send("/team"))
    await manager.press(team, f"team:ws:{world_setup.ws}:0")
    listing = await manager.reply_to("/optouts")
    assert listing.splitlines()[:3] == [
        t("en", "optouts.title", workspace=ws, count=2),
        t(
            "en",
            "optouts.item",
            person="id 10200",
            reason=t("en", "optouts.reason.owner"),
            date=listing.splitlines()[1].rsplit(" ", 1)[-1],
        ),
        t(
            "en",
            "optouts.item",
            person="@Known_One (id 10300)",
            reason=t("en", "optouts.reason.owner"),
            date=listing.splitlines()[2].rsplit(" ", 1)[-1],
        ),
    ]
    assert listing.endswith(t("en", "optouts.manager_hint", link=LINK))
    assert await manager.reply_to("/optouts_add 10201") == t(
        "en", "optouts.not_owner", workspace=ws
    )
    assert await manager.reply_to("/optouts_remove 10200") == t(
        "en", "optouts.not_owner", workspace=ws
    )

    assert await owner.reply_to("/optouts_remove 10200") == t(
        "en", "optouts.removed", person="id 10200", workspace=ws
    )
    assert await owner.reply_to("/optouts_remove 10200") == t(
        "en", "optouts.not_listed", person="id 10200", workspace=ws
    )
    async with sessionmaker() as session:
        rows = {(r.workspace_id, r.tg_user_id) for r in await session.scalars(select(OptOut))}
    assert rows == {(world_setup.ws, 10_300)}


async def test_the_list_pages(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    owner = make_user(20_001, username="pager", first_name="Paige", language_code="en")
    await owner.send("/start")
    async with open_dal(sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(20_001)
        assert user is not None
        ws = (await dal.list_workspaces(user.id))[0].id
        await dal.session.execute(
            OptOut.__table__.insert(),
            [{"workspace_id": ws, "tg_user_id": 30_000 + i} for i in range(25)],
        )
        await dal.commit()
    (first,) = replies(await owner.send("/optouts"))
    assert (
        first.text.count("• id ") == 20
        and "id 30019" in first.text
        and "id 30020" not in first.text
    )
    assert first.text.endswith(t("en", "optouts.owner_hint", link=LINK))
    assert buttons(first.reply_markup) == [(t("en", "list.next_page"), f"oo:{ws}:30019")]
    calls = await owner.press(first, f"oo:{ws}:30019")
    (second,) = [c for c in calls if getattr(c, "text", None) and "• id " in c.text]
    assert second.text.count("• id ") == 5 and "id 30024" in second.text
    assert buttons(second.reply_markup) == [(t("en", "list.first_page"), f"oo:{ws}:0")]
