"""The engine honours the installation's opt-outs in the claim itself: a person who sends
/optout while a campaign is already running (their target still pending) is skipped at the
claim, with no call to Telegram and no ledger entry; people known by username only are
checked once an account has resolved their id."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import text

from core import optouts
from db.dal import open_dal
from db.dal_optouts import OptOutDal
from tests.invites.conftest import Setup, make_audience


async def _opt_out(setup: Setup, tg_user_id: int) -> None:
    async with open_dal(setup.sessionmaker) as dal:
        assert await optouts.opt_out_everywhere(
            OptOutDal(dal.session), tg_user_id, source=optouts.SOURCE_COMMAND
        )


async def test_an_opt_out_after_the_fill_is_skipped_at_the_claim(setup: Setup) -> None:
    people = setup.people(range(16_001, 16_006), seen_by_tg=901)
    audience = await make_audience(setup.sessionmaker, setup.ws, "a", people)
    cid = await setup.campaign(audience, "target_group")
    assert {s for s, _ in (await setup.targets(cid)).values()} == {"pending"}
    await _opt_out(setup, 16_003)  # while the campaign runs: the fill saw nobody opted out
    engine = setup.engine()
    await engine.run_account(await setup.account(901))
    await engine.run_account(await setup.account(902))
    targets = await setup.targets(cid)
    assert targets[16_003] == ("skipped", "opted_out")
    assert Counter(s for s, _ in targets.values()) == {"invited": 4, "skipped": 1}
    assert 16_003 not in {u for _a, users, _e in setup.invite_calls() for u in users}
    async with setup.sessionmaker() as session:
        led = await session.scalar(
            text("SELECT count(*) FROM invite_ledger WHERE tg_user_id = 16003")
        )
    # Not in the ledger: after /optin a later campaign may invite them.
    assert led == 0


async def test_a_username_only_target_is_checked_once_resolved(setup: Setup) -> None:
    # Imported by username: the id is learnt only when an account resolves it.
    setup.world.put_users([{"id": 16_101, "first_name": "U", "username": "opted_by_name"}])
    audience = await make_audience(setup.sessionmaker, setup.ws, "names", [])
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text("""INSERT INTO audience_usernames (audience_id, username, username_lower)
                                      VALUES (:a, 'opted_by_name', 'opted_by_name')"""),
            {"a": audience},
        )
    await _opt_out(setup, 16_101)
    cid = await setup.campaign(audience, "target_group")
    engine = setup.engine()
    await engine.run_account(await setup.account(901))
    await engine.run_account(await setup.account(902))
    assert await setup.targets(cid) == {16_101: ("skipped", "opted_out")}
    assert setup.invite_calls() == []
