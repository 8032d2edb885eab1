"""The demo world's private target, "Sandbox Target" (1700000004), used as docs/sandbox.md and
the run command offer it: typed as its bare id (or picked from the accounts' chats), checked,
ready in the pre-flight with Alice (its creator) and Bob (an admin who may add people), and
invited into by the engine. Before, the id was read as a basic group and every account
"could not see the chat"."""

from __future__ import annotations

from core.accounts import build_account_service
from core.campaign_service import CampaignService
from db.dal import open_dal
from db.leases import LeaseStore
from gateway.chats import ChatDirectory
from gateway.telegram import TelegramGateway
from sandbox.world import InProcessClientFactory, World, seed_demo
from sandbox.world.demo import ALICE, BOB, CROWD, TARGET
from tests.invites.conftest import FAST, Setup, link_accounts, make_audience
from tests.invites.test_campaign_flow import owner_id, planner
from workers.inviting import InviteConfig


async def test_sandbox_target_by_its_id_end_to_end(sessionmaker, settings, redis) -> None:  # type: ignore[no-untyped-def]
    world = World()
    seed_demo(world)
    world.users[BOB].password = None  # linked by QR alone here; the 2FA step has its own tests
    gateway = TelegramGateway(InProcessClientFactory(world))
    ws, accounts = await link_accounts(world, gateway, sessionmaker, settings, [ALICE, BOB])
    setup = Setup(world, gateway, sessionmaker, settings, ws, accounts)
    service = CampaignService(FAST)
    user = await owner_id(setup)
    directory = ChatDirectory(
        accounts=build_account_service(settings, None),
        gateway=gateway,
        leases=LeaseStore(sessionmaker, "api-test", ttl_s=30),
        sessionmaker=sessionmaker,
        cache=redis,
        lease_wait_s=0.5,
    )

    picked = {c.title: c for c in await directory.chats(user, ws, can_invite=True)}
    assert picked["Sandbox Target"].inviters == [accounts[ALICE], accounts[BOB]]
    assert picked["Sandbox Target"].target == f"-100{TARGET}"
    ref = await directory.check_target(user, ws, str(TARGET))
    assert ref == str(TARGET)

    people = setup.people(range(300_001, 300_004), seen_by_tg=ALICE)
    audience = await make_audience(sessionmaker, ws, "lounge", people)
    async with open_dal(sessionmaker) as dal:
        draft = await service.create(dal, user, ws, name="demo", audience_id=audience, target=ref)
        await dal.commit()
    report = await planner(setup, service).preflight(user, ws, draft.id)
    assert (report["ready"], report["kind"], report["title"]) == (
        True,
        "megagroup",
        "Sandbox Target",
    )
    assert sorted(report["eligible"]) == sorted([accounts[ALICE], accounts[BOB]])
    async with open_dal(sessionmaker) as dal:
        await service.start(dal, user, ws, draft.id)
        await dal.commit()

    engine = setup.engine(InviteConfig(limits=FAST, pause_scale=0))
    for account_tg in (ALICE, BOB):
        await engine.run_account(await setup.account(account_tg))
    assert set(range(300_001, 300_004)) <= set(world.find_chat(TARGET).members)
    assert set(CROWD).isdisjoint(world.find_chat(TARGET).members)  # only the audience
    assert {state for state, _ in (await setup.targets(draft.id)).values()} == {"invited"}
