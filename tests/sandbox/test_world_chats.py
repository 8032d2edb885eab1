"""Reading the simulated world through real Telethon: entities, members, messages, comments."""

from __future__ import annotations

import pytest
from telethon import TelegramClient, errors
from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.world import World
from sandbox.world.model import MessageSpec
from tests.sandbox.conftest import (
    ALICE,
    BOB,
    GHOST,
    LOUNGE,
    ME,
    NEWS_CHAT,
    OLD_GROUP,
    OTHER,
    TARGET,
    Accounts,
)


async def test_entities_by_username(me: TelegramClient) -> None:
    alice = await me.get_entity("alice")
    lounge = await me.get_entity("https://t.me/lounge")
    news = await me.get_entity("@news")

    assert isinstance(alice, tt.User) and alice.id == ALICE and alice.first_name == "Alice"
    assert isinstance(alice.status, tt.UserStatusOnline)
    assert isinstance(lounge, tt.Channel) and lounge.megagroup and lounge.creator
    assert isinstance(news, tt.Channel) and news.broadcast and news.has_link
    with pytest.raises(ValueError):
        await me.get_entity("nobody_here")
    # Seen once, the user is in the client's cache with this account's access hash.
    assert (await me.get_input_entity(ALICE)).user_id == ALICE


async def test_access_hashes_belong_to_the_account_that_saw_them(
    accounts: Accounts, me: TelegramClient
) -> None:
    other = await accounts.login(OTHER)
    alice_for_me = await me.get_input_entity("alice")
    lounge_for_me = await me.get_input_entity("lounge")

    assert alice_for_me.access_hash != (await other.get_input_entity("alice")).access_hash
    with pytest.raises(errors.ChannelInvalidError):
        await other(fn.channels.GetFullChannelRequest(lounge_for_me))
    own_lounge = await other.get_input_entity("lounge")
    with pytest.raises(errors.PeerIdInvalidError):
        await other(fn.channels.GetParticipantRequest(own_lounge, alice_for_me))
    stolen = tt.InputUser(ALICE, alice_for_me.access_hash)
    with pytest.raises(errors.UserIdInvalidError):
        await other(
            fn.channels.InviteToChannelRequest(await other.get_input_entity("lounge"), [stolen])
        )
    assert await other(fn.users.GetUsersRequest([stolen])) == []


async def test_participants_page_by_200(world: World, me: TelegramClient) -> None:
    crowd = list(range(10_000, 10_450))
    world.put_users([{"id": i, "first_name": f"Member {i}"} for i in crowd])
    world.put_chat(950_000, "megagroup", "Crowd", username="crowd", members=crowd)

    users = [u async for u in me.iter_participants("crowd")]

    assert sorted(u.id for u in users) == crowd
    # 200 + 200 + 50, then an empty page ends Telethon's iteration.
    assert len(world.calls("GetParticipantsRequest")) == 4
    assert all(isinstance(u.participant, tt.ChannelParticipant) for u in users)


async def test_participants_stop_at_telegrams_10k_cap(world: World, me: TelegramClient) -> None:
    crowd = list(range(20_000, 30_050))
    world.put_users([{"id": i, "first_name": f"P{i}"} for i in crowd])
    world.put_chat(950_001, "megagroup", "Huge", username="huge", members=crowd)

    seen = [u.id async for u in me.iter_participants("huge")]
    full = await me(fn.channels.GetFullChannelRequest(await me.get_input_entity("huge")))

    assert len(seen) == 10_000 and len(set(seen)) == 10_000
    assert full.full_chat.participants_count == 10_050
    # Newest members come first; the 50 who joined first are past the cap, and only a
    # search by name reaches them.
    assert set(crowd) - set(seen) == set(range(20_000, 20_050))
    found = [u.id async for u in me.iter_participants("huge", search="p2000")]
    assert sorted(found) == list(range(20_000, 20_010))


async def test_participant_search_and_admin_filter(me: TelegramClient) -> None:
    lounge = await me.get_input_entity("lounge")

    found = [u.id async for u in me.iter_participants(lounge, search="ali")]
    admins = {
        u.id: type(u.participant)
        async for u in me.iter_participants(lounge, filter=tt.ChannelParticipantsAdmins)
    }
    everyone = {u.id: u async for u in me.iter_participants(lounge)}

    assert found == [ALICE]
    assert admins == {ME: tt.ChannelParticipantCreator, OTHER: tt.ChannelParticipantAdmin}
    assert everyone[GHOST].deleted and everyone[GHOST].first_name is None


async def test_hidden_member_list_needs_an_admin(
    accounts: Accounts, world: World, me: TelegramClient
) -> None:
    world.put_chat(950_002, "megagroup", "Quiet", username="quiet", creator=ME,
                   members=[ME, OTHER, ALICE], hidden_members=True)  # fmt: skip
    other = await accounts.login(OTHER)

    assert [u.id for u in await other.get_participants("quiet")] == [ME]
    assert len(await me.get_participants("quiet")) == 3
    with pytest.raises(errors.ChatAdminRequiredError):
        await other(
            fn.channels.GetParticipantRequest(
                await other.get_input_entity("quiet"), await other.get_input_entity("alice")
            )
        )
    with pytest.raises(errors.ChatAdminRequiredError):  # a channel's subscribers: admins only
        await (await accounts.login(ALICE)).get_participants("news")
    full = await other(fn.channels.GetFullChannelRequest(await other.get_input_entity("quiet")))
    assert full.full_chat.participants_hidden and not full.full_chat.can_view_participants


async def test_admin_rights_through_get_participant(accounts: Accounts, me: TelegramClient) -> None:
    other = await accounts.login(OTHER)
    lounge = await other.get_input_entity("lounge")

    own = await other(fn.channels.GetParticipantRequest(lounge, tt.InputPeerSelf()))
    creator = await other(
        fn.channels.GetParticipantRequest(lounge, await other.get_input_entity("worker"))
    )
    plain = await other(
        fn.channels.GetParticipantRequest(lounge, await other.get_input_entity("alice"))
    )

    assert isinstance(own.participant, tt.ChannelParticipantAdmin)
    assert own.participant.admin_rights.invite_users and own.participant.is_self
    assert not own.participant.admin_rights.ban_users
    assert isinstance(creator.participant, tt.ChannelParticipantCreator)
    assert isinstance(plain.participant, tt.ChannelParticipant)
    with pytest.raises(errors.UserNotParticipantError):
        await other(fn.channels.GetParticipantRequest(lounge, await other.get_input_entity("bob")))
    entity = await me.get_entity("lounge")
    assert entity.admin_rights is not None and entity.admin_rights.add_admins  # the creator


async def test_comments_of_a_channel_post(me: TelegramClient, world: World) -> None:
    news = await me.get_entity("news")

    comments = [m async for m in me.iter_messages(news, reply_to=42)]
    posts = [m async for m in me.iter_messages(news)]
    full = await me(fn.channels.GetFullChannelRequest(news))
    discussion = await me(fn.messages.GetDiscussionMessageRequest(news, 42))

    assert [m.sender_id for m in comments] == [ALICE, BOB, ALICE]
    assert [m.text for m in comments] == ["c3", "c2", "c1"]
    assert {m.chat_id for m in comments} == {-1_000_000_000_000 - NEWS_CHAT}
    assert [(p.id, p.replies.replies if p.replies else 0) for p in posts] == [(43, 0), (42, 3)]
    assert full.full_chat.linked_chat_id == NEWS_CHAT
    assert discussion.messages[0].fwd_from.channel_post == 42
    assert [m async for m in me.iter_messages(news, reply_to=43)] == []
    with pytest.raises(errors.MsgIdInvalidError):
        await me.get_messages(news, reply_to=999)


async def test_group_history_and_paging(world: World, me: TelegramClient) -> None:
    chatter = [MessageSpec(ALICE, f"m{n}") for n in range(250)]
    world.put_chat(950_003, "megagroup", "Chatty", username="chatty", members=[ME, ALICE],
                   messages=chatter)  # fmt: skip

    texts = [m.text async for m in me.iter_messages("chatty", limit=None, wait_time=0)]
    oldest = [m.text async for m in me.iter_messages("chatty", limit=3, reverse=True)]
    lounge = [(m.sender_id, m.text) async for m in me.iter_messages("lounge")]

    assert texts == [f"m{n}" for n in reversed(range(250))]
    assert oldest == ["m0", "m1", "m2"]
    assert lounge == [(ALICE, "bye"), (OTHER, "hi"), (ALICE, "hello")]


async def test_basic_group_members(me: TelegramClient) -> None:
    users = {u.id: type(u.participant) async for u in me.iter_participants(tt.PeerChat(OLD_GROUP))}

    assert users == {ME: tt.ChatParticipantCreator, ALICE: tt.ChatParticipant}
    chats = await me(fn.messages.GetChatsRequest([OLD_GROUP]))
    assert chats.chats[0].participants_count == 2


async def test_private_chats_and_search(accounts: Accounts, me: TelegramClient) -> None:
    outsider = await accounts.login(BOB)

    found = await outsider(fn.contacts.SearchRequest(q="LOU", limit=10))
    mine = await me(fn.contacts.SearchRequest(q="target", limit=10))
    nothing = await outsider(fn.contacts.SearchRequest(q="target", limit=10))

    assert [c.id for c in found.chats] == [LOUNGE] and found.results[0].channel_id == LOUNGE
    assert [p.channel_id for p in mine.my_results] == [TARGET]
    assert nothing.chats == []
    with pytest.raises(errors.QueryTooShortError):
        await me(fn.contacts.SearchRequest(q="  ", limit=10))
    dialogs = {d.id async for d in me.iter_dialogs()}
    assert {-1_000_000_000_000 - LOUNGE, -1_000_000_000_000 - TARGET, -OLD_GROUP} <= dialogs


async def test_join_and_leave_a_public_group(accounts: Accounts, world: World) -> None:
    alice = await accounts.login(ALICE)

    await alice(fn.channels.LeaveChannelRequest(await alice.get_input_entity("lounge")))
    assert ALICE not in world.chats[LOUNGE].members
    await alice(fn.channels.JoinChannelRequest(await alice.get_input_entity("lounge")))
    assert list(world.chats[LOUNGE].members)[-1] == ALICE
    with pytest.raises(errors.UserAlreadyParticipantError):
        await alice(fn.channels.JoinChannelRequest(await alice.get_input_entity("lounge")))
