"""A campaign into a private megagroup end to end (issue 13): `python -m bot` and
`python -m workers` as real processes on the sandbox.

The owner answers /campaign_new with buttons only: the audience, then the private chat from
the list of chats where the accounts may add people (read from their dialogs), now, any
time, the installation's limits; the pre-flight is ready and Start runs it; the worker adds
everyone and the campaign is done. An unknown chat typed at step 2 is refused with its
sentence and nothing is saved.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.i18n import t
from core.settings import SANDBOX_BOT_TOKEN, Settings
from db.dal import open_dal
from db.models import Campaign
from gateway.telegram import TelegramGateway
from sandbox.server import SandboxServer
from sandbox.world import SandboxClientFactory, World
from tests.e2e.test_parse_e2e import OWNER, WAIT_S, Stack, _spawn, _stop
from tests.invites.conftest import make_audience
from tests.sandbox_helpers import Message, SandboxChat
from tests.search_world import link_account

pytestmark = pytest.mark.e2e

ACC, ACC2, CREATOR = 7501, 7502, 7500
PRIVATE = 1_800_000_601
PEOPLE = list(range(760_001, 760_006))


@pytest.fixture
async def stack(
    test_env: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> AsyncIterator[Stack]:
    world = World()
    sandbox = await SandboxServer(SANDBOX_BOT_TOKEN, world=world).start()
    port = int(sandbox.url.rsplit(":", 1)[1])
    # One second between two invites of an account, so the campaign finishes while we look.
    env = {
        **os.environ,
        **test_env,
        "SANDBOX": "on",
        "SANDBOX_PORT": str(port),
        "INVITE_PAUSE_MIN_S": "1",
        "INVITE_PAUSE_MAX_S": "1",
    }
    for name in (
        "BOT_TOKEN",
        "BOT_API_URL",
        "SANDBOX_HOST",
        "TELEGRAM_API_ID",
        "TELEGRAM_API_HASH",
    ):
        env.pop(name, None)
    processes = [await _spawn("bot", env), await _spawn("workers", env)]
    http = aiohttp.ClientSession()
    outputs: list[str] = []
    try:
        yield Stack(sandbox, world, SandboxChat(sandbox.url, http))
    finally:
        await http.close()
        for proc in processes:
            outputs.append(await _stop(proc))
        await sandbox.stop()
    for output in outputs:
        assert "Traceback" not in output, output


def _buttons(m: Message) -> dict[str, str]:
    return {b["text"]: b.get("data", "") for row in m["buttons"] for b in row}


async def _answer(stack: Stack, prompt: Message, label: str, expect: str) -> Message:
    """Press the prompt's button `label`; the bot's next message, which must start with `expect`."""
    await stack.chat.press(OWNER, prompt["id"], _buttons(prompt)[label])
    return await stack.chat.wait_for(
        OWNER, lambda m: m["text"].startswith(expect), WAIT_S, after=prompt["id"]
    )


async def test_a_private_megagroup_picked_from_the_list_is_done(
    stack: Stack, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    world = stack.world
    sent = await stack.say("/start")
    await stack.chat.wait_for(OWNER, lambda m: bool(m["text"]), WAIT_S, after=sent)
    async with open_dal(sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(OWNER)
        assert user is not None
        ws = (await dal.list_workspaces(user.id))[0].id
    gateway = TelegramGateway(SandboxClientFactory(stack.sandbox.url))
    accounts = {
        tg: await link_account(world, gateway, sessionmaker, settings, user.id, ws, tg)
        for tg in (ACC, ACC2)
    }
    world.put_users(
        [
            {"id": CREATOR, "first_name": "Creator"},
            *({"id": p, "first_name": f"P{p}"} for p in PEOPLE),
        ]
    )
    world.put_chat(
        PRIVATE,
        "megagroup",
        "Private Club",
        creator=ACC,
        members=[CREATOR],
        admins={ACC2: ["invite_users"]},
    )
    audience = await make_audience(
        sessionmaker,
        ws,
        "Fans",
        [(p, None, accounts[ACC], world.user_hash(ACC, p)) for p in PEOPLE],
    )
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE audiences SET size = :n WHERE id = :id"),
            {"n": len(PEOPLE), "id": audience},
        )

    sent = await stack.say("/campaign_new")
    picker = await stack.chat.wait_for(
        OWNER, lambda m: m["text"] == t("en", "campaign_new.pick_audience"), WAIT_S, after=sent
    )
    ask_target = await _answer(
        stack,
        picker,
        t("en", "campaign_new.audience_button", name="Fans", size=5),
        t("en", "campaign_new.ask_target"),
    )
    club = t("en", "campaign_new.chat_button", title="Private Club", members=3)
    assert list(_buttons(ask_target)) == [club]

    # An unknown chat typed here is refused with its sentence; the step stays.
    typed = await stack.say("@nobody_has_this_chat")
    refused = await stack.chat.wait_for(OWNER, lambda m: m["from"] == "bot", WAIT_S, after=typed)
    assert refused["text"] == t(
        "en", "campaign_new.bad_input", problem=t("en", "problem.target_no_such_chat")
    )

    ask_start = await _answer(stack, ask_target, club, t("en", "campaign_new.ask_start"))
    ask_hours = await _answer(stack, ask_start, t("en", "campaign_new.now"), "Step 4 of 5")
    ask_limits = await _answer(stack, ask_hours, t("en", "campaign_new.any_time"), "Step 5 of 5")
    await stack.chat.press(
        OWNER, ask_limits["id"], _buttons(ask_limits)[t("en", "campaign_new.std_limits")]
    )
    ready = t("en", "preflight.ready")
    report = await stack.chat.wait_for(
        OWNER, lambda m: m["text"].endswith(ready), WAIT_S, after=ask_limits["id"]
    )
    assert "Chat: «Private Club», supergroup" in report["text"]
    assert f"Will invite (2): @acc{ACC}, @acc{ACC2}" in report["text"]
    await stack.chat.press(OWNER, report["id"], _buttons(report)[t("en", "preflight.start")])

    async def status() -> tuple[str, str | None]:
        async with sessionmaker() as session:
            (campaign,) = list(await session.scalars(select(Campaign)))
            return str(campaign.status), campaign.target_ref

    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while (await status())[0] != "done" and loop.time() < deadline:
        await asyncio.sleep(0.5)
    assert await status() == ("done", f"-100{PRIVATE}")
    assert set(PEOPLE) <= set(world.find_chat(PRIVATE).members)
    async with sessionmaker() as session:
        assert (
            await session.scalar(select(func.count()).select_from(Campaign)) == 1
        )  # the refusal saved nothing
