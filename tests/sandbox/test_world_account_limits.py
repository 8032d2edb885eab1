"""The world's @SpamBot and frozen accounts, through real Telethon clients and the control API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp
import pytest
from telethon import TelegramClient, errors
from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.server import SandboxServer
from sandbox.world import World
from sandbox.world.world import SPAMBOT_FREE, SPAMBOT_ID
from tests.sandbox.conftest import ALICE, LOUNGE, ME, Accounts


async def _ask_spambot(client: TelegramClient) -> str:
    """What a person does in the app: /start to @SpamBot, then read its answer."""
    await client.send_message("SpamBot", "/start")
    [answer] = await client.get_messages("SpamBot", limit=1)
    assert not answer.out and answer.sender_id == SPAMBOT_ID
    return answer.message


async def test_spambot_answers_each_account_by_its_limits(world: World, me: TelegramClient) -> None:
    bot = await me.get_entity("SpamBot")
    assert bot.bot and bot.id == SPAMBOT_ID
    assert await _ask_spambot(me) == SPAMBOT_FREE

    until = dt.datetime(2031, 6, 20, 11, 49, tzinfo=dt.UTC)
    world.put_user(ME, spam_limited_until=until)
    assert await _ask_spambot(me) == (
        "I’m afraid some Telegram users found your messages annoying and forwarded them to our "
        "team. The moderators have confirmed the report and your account is now limited until "
        "20 Jun 2031, 11:49 UTC."
    )
    world.put_user(ME, spam_limited_until="forever")
    assert (await _ask_spambot(me)).endswith("Unfortunately, your account is now limited.")
    # a limit ends at its date
    world.put_user(ME, spam_limited_until=world.now() - dt.timedelta(minutes=1))
    assert await _ask_spambot(me) == SPAMBOT_FREE

    # the private chat keeps both directions in one sequence of ids, oldest first
    history = await me.get_messages("SpamBot", limit=100)
    assert [m.out for m in reversed(history)] == [True, False] * 4
    assert [m.id for m in reversed(history)] == list(range(1, 9))
    sent = [c for c in world.calls("SendMessageRequest") if c.account == ME]
    assert len(sent) == 4 and all(c.users == (SPAMBOT_ID,) for c in sent)


async def test_only_bots_are_written_to(world: World, me: TelegramClient) -> None:
    # the product writes to @SpamBot only; messages to people are not simulated
    with pytest.raises(errors.BadRequestError, match="METHOD_NOT_SIMULATED_SendMessageRequest"):
        await me.send_message("alice", "hi")
    with pytest.raises(errors.MessageEmptyError):
        await me(
            fn.messages.SendMessageRequest(await me.get_input_entity("SpamBot"), " ", random_id=1)
        )
    assert world.private_chat(ME, ALICE) is None


async def test_frozen_account_reads_itself_but_may_do_nothing_else(
    world: World, me: TelegramClient
) -> None:
    empty = await me(fn.help.GetAppConfigRequest(hash=0))
    assert isinstance(empty, tt.help.AppConfig) and empty.config == tt.JsonObject([])
    deletion = dt.datetime(2027, 3, 1, 12, 30, tzinfo=dt.UTC)
    world.put_user(ME, frozen_until=deletion)

    with pytest.raises(errors.FrozenMethodInvalidError):
        await me(fn.contacts.ResolveUsernameRequest("lounge"))
    with pytest.raises(errors.FrozenMethodInvalidError):
        await me(
            fn.channels.LeaveChannelRequest(tt.InputChannel(LOUNGE, world.chat_hash(ME, LOUNGE)))
        )
    assert [c.error for c in world.calls("ResolveUsernameRequest")][-1] == "FROZEN_METHOD_INVALID"
    # reading itself still works: the profile, and the app config with the freeze fields
    assert (await me.get_me()).id == ME
    config = await me(fn.help.GetAppConfigRequest(hash=0))
    fields = {item.key: item.value.value for item in config.config.value}
    assert fields["freeze_until_date"] == deletion.timestamp()
    assert 0 < fields["freeze_since_date"] <= world.now().timestamp()
    assert fields["freeze_appeal_url"].startswith("https://")
    # the same configuration again is "not modified" for the hash the client holds
    assert isinstance(
        await me(fn.help.GetAppConfigRequest(hash=config.hash)), tt.help.AppConfigNotModified
    )

    world.put_user(ME, frozen_until=None)
    assert world.users[ME].frozen_since is None
    await me(fn.contacts.ResolveUsernameRequest("lounge"))
    config = await me(fn.help.GetAppConfigRequest(hash=config.hash))
    assert isinstance(config, tt.help.AppConfig) and config.config == tt.JsonObject([])


async def _post(url: str, body: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        return response.status, await response.json()


async def test_control_api_sets_and_clears_limits(
    sandbox: SandboxServer, accounts: Accounts
) -> None:
    url = f"{sandbox.url}/sandbox/world/users"
    status, _ = await _post(
        url,
        {
            "users": [
                {
                    "id": ME,
                    "spam_limited_until": "2031-06-20T11:49:00Z",
                    "frozen_until": "2027-03-01T12:30:00+00:00",
                }
            ]
        },
    )
    assert status == 200
    user = sandbox.world.users[ME]
    assert user.spam_limited_until == dt.datetime(2031, 6, 20, 11, 49, tzinfo=dt.UTC)
    assert user.frozen_until == dt.datetime(2027, 3, 1, 12, 30, tzinfo=dt.UTC) and user.frozen_since
    assert (await _post(url, {"users": [{"id": ME, "spam_limited_until": "forever"}]}))[0] == 200
    assert sandbox.world.users[ME].spam_limited_until == "forever"
    assert (
        await _post(url, {"users": [{"id": ME, "spam_limited_until": None, "frozen_until": None}]})
    )[0] == 200
    assert (
        sandbox.world.users[ME].spam_limited_until is None
        and sandbox.world.users[ME].frozen_until is None
    )
    client = await accounts.login(ME)
    assert await _ask_spambot(client) == SPAMBOT_FREE


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("spam_limited_until", "for ever"),
        ("spam_limited_until", "next week"),
        ("spam_limited_until", 1_900_000_000),
        ("spam_limited_until", True),
        ("frozen_until", "forever"),
        ("frozen_until", "2027-13-01"),
        ("frozen_until", {"at": "2027-03-01"}),
    ],
)
async def test_control_api_refuses_bad_limits(
    sandbox: SandboxServer, field: str, value: Any
) -> None:
    status, answer = await _post(
        f"{sandbox.url}/sandbox/world/users",
        {"users": [{"id": 9001, "first_name": "New"}, {"id": ME, field: value}]},
    )
    assert status == 400
    assert answer["error"]["code"] == "invalid_input"
    assert f"users[1].{field}" in answer["error"]["message"]
    assert 9001 not in sandbox.world.users  # all or nothing
    assert getattr(sandbox.world.users[ME], field) is None


async def test_app_config_needs_no_login(accounts: Accounts) -> None:
    # core.telegram.org/api/auth lists help.getAppConfig among the methods usable unauthorized
    client = accounts.client()
    await client.connect()
    assert not await client.is_user_authorized()
    config = await client(fn.help.GetAppConfigRequest(hash=0))
    assert isinstance(config, tt.help.AppConfig) and config.config == tt.JsonObject([])
