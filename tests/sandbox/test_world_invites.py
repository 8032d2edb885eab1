"""Invites and injected faults, seen through real Telethon exceptions (DESIGN §7)."""

from __future__ import annotations

import asyncio

import pytest
from telethon import TelegramClient, errors
from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.world import World
from tests.sandbox.conftest import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    FRANK,
    GHOST,
    ME,
    OLD_GROUP,
    OTHER,
    TARGET,
    Accounts,
)


async def _invite(
    client: TelegramClient, chat: object, *usernames: str
) -> tt.messages.InvitedUsers:
    users = [await client.get_input_entity(name) for name in usernames]
    return await client(fn.channels.InviteToChannelRequest(chat, users))


async def test_invite_adds_the_member(world: World, me: TelegramClient) -> None:
    lounge = await me.get_input_entity("lounge")
    # The target has no username: the account finds it among its own chats.
    private = (await me(fn.contacts.SearchRequest(q="Target", limit=5))).chats[0]

    result = await _invite(me, private, "alice")

    assert isinstance(result, tt.messages.InvitedUsers) and result.missing_invitees == []
    # The answer's updates hold the service message that adds her (messageActionChatAddUser).
    (update,) = result.updates.updates
    assert isinstance(update, tt.UpdateNewChannelMessage)
    assert isinstance(
        update.message.action, tt.MessageActionChatAddUser
    ) and update.message.action.users == [ALICE]
    assert list(world.chats[TARGET].members) == [ME, OTHER, ALICE]
    assert world.chats[TARGET].members[ALICE].inviter_id == ME
    member = await me(
        fn.channels.GetParticipantRequest(private, await me.get_input_entity("alice"))
    )
    assert member.participant.user_id == ALICE
    # USER_ALREADY_PARTICIPANT is not among inviteToChannel's documented errors: a member is
    # taken without an error, without a service message, and nothing changes.
    again = await _invite(me, lounge, "alice")
    assert again.updates.updates == [] and again.missing_invitees == []


async def test_silent_and_phantom_invites_add_nobody(world: World, me: TelegramClient) -> None:
    """Reported on real Telegram: the call succeeds with empty updates (MadelineProto#976,
    tdlib#324), or with the service message but no member (Telethon#3897, #298)."""
    target = (await me(fn.contacts.SearchRequest(q="Target", limit=5))).chats[0]
    world.put_users(
        [
            {"id": 391, "username": "quiet_one", "invite_outcome": "silent"},
            {"id": 392, "username": "ghostly", "invite_outcome": "phantom"},
        ]
    )
    silent = await _invite(me, target, "quiet_one")
    assert silent.updates.updates == [] and silent.missing_invitees == []
    phantom = await _invite(me, target, "ghostly")
    (update,) = phantom.updates.updates
    assert update.message.action.users == [392]
    assert 391 not in world.chats[TARGET].members and 392 not in world.chats[TARGET].members


async def test_invite_outcomes_per_user(world: World, me: TelegramClient) -> None:
    target = (await me(fn.contacts.SearchRequest(q="Target", limit=5))).chats[0]

    soft = await _invite(me, target, "carol")
    assert [m.user_id for m in soft.missing_invitees] == [CAROL]
    assert CAROL not in world.chats[TARGET].members

    expected = {
        "bob": errors.UserPrivacyRestrictedError,
        "dave": errors.UserNotMutualContactError,
        "erin": errors.UserChannelsTooMuchError,
        "frank": errors.InputUserDeactivatedError,
    }
    for username, error in expected.items():
        with pytest.raises(error):
            await _invite(me, target, username)
    ghost = await me.get_participants("lounge")  # the deleted account is seen in the lounge
    deleted = next(u for u in ghost if u.id == GHOST)
    with pytest.raises(errors.InputUserDeactivatedError):
        await me(fn.channels.InviteToChannelRequest(target, [deleted]))
    # One hard refusal fails the whole call: nobody from it is added.
    with pytest.raises(errors.UserPrivacyRestrictedError):
        await _invite(me, target, "alice", "bob")
    assert set(world.chats[TARGET].members) == {ME, OTHER}
    calls = world.calls("InviteToChannelRequest")
    assert [c.users for c in calls][-1] == (ALICE, BOB)
    assert {c.account for c in calls} == {ME}
    assert [c.error for c in calls][:2] == [None, "USER_PRIVACY_RESTRICTED"]
    assert {BOB, DAVE, ERIN, FRANK}.isdisjoint(world.chats[TARGET].members)


async def test_only_admins_with_invite_rights_may_invite(accounts: Accounts, world: World) -> None:
    other = await accounts.login(OTHER)
    alice = await accounts.login(ALICE)

    # OTHER is a plain member of the target and an admin with invite_users in the lounge.
    target = (await other(fn.contacts.SearchRequest(q="Target", limit=5))).chats[0]
    with pytest.raises(errors.ChatAdminRequiredError):
        await _invite(other, target, "alice")
    # ALICE is not in the (public) news chat at all.
    with pytest.raises(errors.ChatWriteForbiddenError):
        await _invite(alice, await alice.get_input_entity("news_chat"), "carol")
    world.put_user(300, first_name="Newcomer", username="newcomer")
    await _invite(other, await other.get_input_entity("lounge"), "newcomer")
    assert 300 in world.chats[world.find_chat("lounge").id].members


async def test_invite_links_for_admins(accounts: Accounts, me: TelegramClient) -> None:
    link = await me(fn.messages.ExportChatInviteRequest(await me.get_input_entity("lounge")))
    assert link.link.startswith("https://t.me/+") and link.admin_id == ME

    alice = await accounts.login(ALICE)
    with pytest.raises(errors.ChatAdminRequiredError):
        await alice(fn.messages.ExportChatInviteRequest(await alice.get_input_entity("lounge")))


async def test_basic_group_add_chat_user(world: World, me: TelegramClient) -> None:
    bob = await me.get_input_entity("bob")
    carol = await me.get_input_entity("carol")
    world.put_user(301, first_name="Newcomer", username="newcomer")

    ok = await me(
        fn.messages.AddChatUserRequest(OLD_GROUP, await me.get_input_entity("newcomer"), 0)
    )
    soft = await me(fn.messages.AddChatUserRequest(OLD_GROUP, carol, fwd_limit=0))

    assert ok.missing_invitees == [] and 301 in world.chats[OLD_GROUP].members
    assert [m.user_id for m in soft.missing_invitees] == [CAROL]
    with pytest.raises(errors.UserPrivacyRestrictedError):
        await me(fn.messages.AddChatUserRequest(OLD_GROUP, bob, fwd_limit=0))


async def test_broadcast_channel_takes_added_members_only_up_to_200(
    world: World, me: TelegramClient
) -> None:
    """Counted over all of its members, however they came (tdesktop#1597, Telethon#1434)."""
    people = list(range(40_000, 40_201))
    world.put_users([{"id": i, "first_name": f"F{i}"} for i in people])
    world.put_chat(960_000, "megagroup", "Fans", username="fans", members=people)
    seen = await me.get_participants("fans")  # the account learns their access hashes
    news = await me.get_input_entity("news")
    room = 200 - len(world.find_chat("news").members)

    await me(fn.channels.InviteToChannelRequest(news, seen[:room]))
    assert len(world.find_chat("news").members) == 200
    with pytest.raises(errors.UsersTooMuchError):
        await me(fn.channels.InviteToChannelRequest(news, seen[room : room + 1]))


async def test_injected_flood_wait_is_raised_not_slept(world: World, me: TelegramClient) -> None:
    target = (await me(fn.contacts.SearchRequest(q="Target", limit=5))).chats[0]
    alice = await me.get_input_entity("alice")
    world.add_fault("InviteToChannelRequest", "FLOOD_WAIT_30", count=1)

    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(errors.FloodWaitError) as raised:
        await me(fn.channels.InviteToChannelRequest(target, [alice]))

    assert raised.value.seconds == 30 and raised.value.code == 420
    assert loop.time() - started < 1
    assert ALICE not in world.chats[TARGET].members
    assert world.faults == []  # used up


async def test_short_flood_wait_is_slept_by_telethon(world: World, me: TelegramClient) -> None:
    world.add_fault("ResolveUsernameRequest", "FLOOD_WAIT_1")
    me.flood_sleep_threshold = 5

    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await me.get_entity("alice")).id == ALICE

    assert loop.time() - started >= 1
    assert [c.error for c in world.calls("ResolveUsername")] == ["FLOOD_WAIT_1", None]


async def test_peer_flood_and_account_scoped_faults(
    accounts: Accounts, world: World, me: TelegramClient
) -> None:
    other = await accounts.login(OTHER)
    world.add_fault("channels.InviteToChannel", "PEER_FLOOD", count=2, account=OTHER)

    lounge_for_other = await other.get_input_entity("lounge")
    world.put_user(302, first_name="Newcomer", username="newcomer")
    for _ in range(2):
        with pytest.raises(errors.PeerFloodError):
            await _invite(other, lounge_for_other, "newcomer")
    await _invite(me, await me.get_input_entity("lounge"), "newcomer")  # ME is not affected
    again = await _invite(other, lounge_for_other, "newcomer")  # the fault is used up
    assert again.updates.updates == []  # already a member: nothing to add


@pytest.mark.parametrize(
    ("error", "exception"),
    [
        ("AUTH_KEY_UNREGISTERED", errors.AuthKeyUnregisteredError),
        ("USER_DEACTIVATED_BAN", errors.UserDeactivatedBanError),
        ("SESSION_REVOKED", errors.SessionRevokedError),
        ("USER_KICKED", errors.UserKickedError),
    ],
)
async def test_injected_errors_keep_telegrams_codes(
    world: World, me: TelegramClient, error: str, exception: type[Exception]
) -> None:
    world.add_fault("GetParticipantRequest", error)
    lounge = await me.get_input_entity("lounge")

    with pytest.raises(exception):
        await me(fn.channels.GetParticipantRequest(lounge, tt.InputPeerSelf()))
