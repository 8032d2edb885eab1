"""Private sources end to end (issue 13): `python -m bot` and `python -m workers` as real
processes on the sandbox.

The owner sends an invite link, picks which account joins, and the one progress message turns
into a summary; with a link that asks for approval the message says the task waits, the test
approves the join request through the sandbox's control API, and the collection then runs; an
expired link is refused in the chat with nothing saved; a basic group that became a
supergroup is collected from the supergroup.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.i18n import t
from core.settings import Settings
from db.dal import open_dal
from db.models import Audience, ParseTask
from gateway.telegram import TelegramGateway
from sandbox.world import SandboxClientFactory
from tests.e2e.test_parse_e2e import OWNER, WAIT_S, Stack, stack  # noqa: F401 - the fixture
from tests.sandbox_helpers import Message
from tests.search_world import PEOPLE, link_account

ACC, ACC2 = 7401, 7402
PRIVATE, OLD_GROUP, NEW_GROUP = 1_800_000_501, 4_501, 1_800_000_502


def _summary(collected: int) -> Callable[[Message], bool]:
    # Skipped: the chat's creator (an admin) and the workspace's own account that joined.
    text = t("en", "task.summary_done", collected=collected, new=collected, known=0, skipped=2)
    return lambda m: text in m["text"]


async def _control(stack: Stack, path: str, body: dict[str, object]) -> dict[str, object]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{stack.sandbox.url}{path}", json=body) as answer,
    ):
        assert answer.status == 200, await answer.text()
        found: dict[str, object] = await answer.json()
        return found


async def _owner_with_accounts(
    stack: Stack, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> dict[int, int]:
    sent = await stack.say("/start")
    await stack.chat.wait_for(OWNER, lambda m: bool(m["text"]), WAIT_S, after=sent)
    async with open_dal(sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(OWNER)
        assert user is not None
        workspace_id = (await dal.list_workspaces(user.id))[0].id
    gateway = TelegramGateway(SandboxClientFactory(stack.sandbox.url))
    return {
        tg: await link_account(
            stack.world, gateway, sessionmaker, settings, user.id, workspace_id, tg
        )
        for tg in (ACC, ACC2)
    }


async def _pick(stack: Stack, link: str, account_tg: int, about: str) -> int:
    """Send /parse with the link, see what it leads to, press the account's button; the
    acknowledgment's id."""
    sent = await stack.say(f"/parse {link}")
    prompt = await stack.chat.wait_for(
        OWNER, lambda m: t("en", "parse.join_pick") in m["text"], WAIT_S, after=sent
    )
    assert prompt["text"] == f"{about}\n\n{t('en', 'parse.join_pick')}"
    labels = {b["text"]: b["data"] for row in prompt["buttons"] for b in row}
    assert set(labels) == {f"@acc{ACC}", f"@acc{ACC2}"}
    await stack.chat.press(OWNER, prompt["id"], labels[f"@acc{account_tg}"])
    ack = await stack.chat.wait_for(
        OWNER, lambda m: m["text"].startswith("Collection #"), WAIT_S, after=prompt["id"]
    )
    return int(ack["id"])


async def test_private_sources_through_the_bot_and_a_worker(
    stack: Stack, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    world = stack.world
    world.put_chat(PRIVATE, "megagroup", "Quiet Room", creator=PEOPLE[0], members=PEOPLE[:25])
    await _owner_with_accounts(stack, sessionmaker, settings)

    # Joined directly with the account picked, then collected by it.
    made = await _control(stack, f"/sandbox/world/chats/{PRIVATE}/invites", {})
    ack = await _pick(
        stack, str(made["link"]), ACC2, t("en", "parse.join_chat", title="Quiet Room", members=25)
    )
    done = await stack.chat.wait_for(
        OWNER, lambda m: m["id"] == ack and _summary(24)(m), WAIT_S, after=ack - 1
    )
    assert t("en", "task.summary_audience", audience="Quiet Room", size=24) in done["text"]
    assert ACC2 in world.chats[PRIVATE].members and ACC not in world.chats[PRIVATE].members

    # A link that asks for approval: the task waits until an admin accepts the request.
    world.put_chat(
        PRIVATE + 10, "megagroup", "Guarded Room", creator=PEOPLE[0], members=PEOPLE[25:40]
    )
    made = await _control(
        stack, f"/sandbox/world/chats/{PRIVATE + 10}/invites", {"request_needed": True}
    )
    ack = await _pick(
        stack,
        str(made["link"]),
        ACC,
        t("en", "parse.join_chat", title="Guarded Room", members=16)
        + "\n"
        + t("en", "parse.join_approval"),
    )
    await stack.chat.wait_for(
        OWNER,
        lambda m: m["id"] == ack and t("en", "task.join_requested") in m["text"],
        WAIT_S,
        after=ack - 1,
    )
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{stack.sandbox.url}/sandbox/world/chats/{PRIVATE + 10}/join-requests") as answer,
    ):
        assert (await answer.json())["requests"] == [ACC]
    await _control(stack, f"/sandbox/world/chats/{PRIVATE + 10}/join-requests/{ACC}/approve", {})
    await stack.chat.wait_for(
        OWNER, lambda m: m["id"] == ack and _summary(15)(m), WAIT_S, after=ack - 1
    )

    # An expired link: refused in the chat, nothing saved.
    async with sessionmaker() as session:
        before = (
            await session.scalar(select(func.count()).select_from(ParseTask)),
            await session.scalar(select(func.count()).select_from(Audience)),
        )
    made = await _control(stack, f"/sandbox/world/chats/{PRIVATE}/invites", {"expired": True})
    sent = await stack.say(f"/parse {made['link']}")
    refused = t("en", "parse.invalid", problem=t("en", "problem.invite_expired"))
    await stack.chat.wait_for(OWNER, lambda m: m["text"] == refused, WAIT_S, after=sent)
    async with sessionmaker() as session:
        after = (
            await session.scalar(select(func.count()).select_from(ParseTask)),
            await session.scalar(select(func.count()).select_from(Audience)),
        )
    assert after == before

    # A basic group that became a supergroup: its members are read in the supergroup.
    world.put_chat(OLD_GROUP, "group", "Old Club", creator=PEOPLE[0], members=[ACC, *PEOPLE[40:50]])
    moved = await _control(
        stack, f"/sandbox/world/chats/{OLD_GROUP}/migrate", {"new_id": NEW_GROUP}
    )
    assert moved == {"migrated_to": NEW_GROUP}
    sent = await stack.say(f"/parse -{OLD_GROUP}")
    ack_message = await stack.chat.wait_for(
        OWNER, lambda m: m["text"].startswith("Collection #"), WAIT_S, after=sent
    )
    await stack.chat.wait_for(
        OWNER, lambda m: m["id"] == ack_message["id"] and _summary(10)(m), WAIT_S, after=sent
    )
    async with sessionmaker() as session:
        task = await session.scalar(select(ParseTask).order_by(ParseTask.id.desc()).limit(1))
        assert task is not None and task.source_chat_id == NEW_GROUP
