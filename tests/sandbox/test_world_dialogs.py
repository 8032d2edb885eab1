"""Dialogs and invite links as each account sees them, on the demo world: the private
"Sandbox Target" reached through messages.getDialogs and messages.checkChatInvite with the
asking account's own access hash (core.telegram.org/api/peers), its own rights there, and
another account's hash refused."""

from __future__ import annotations

import pytest
from telethon import errors, functions, types

from sandbox.world import World, seed_demo
from sandbox.world.demo import ALICE, BOB, CAROL, TARGET
from sandbox.world.invites import make_invite
from tests.sandbox.conftest import Accounts


@pytest.fixture
def world() -> World:
    demo = World()
    seed_demo(demo)
    return demo


async def _dialog_chats(client: object) -> dict[int, types.Channel | types.Chat]:
    answer = await client(
        functions.messages.GetDialogsRequest(  # type: ignore[operator]
            offset_date=None, offset_id=0, offset_peer=types.InputPeerEmpty(), limit=100, hash=0
        )
    )
    return {c.id: c for c in answer.chats}


async def test_dialogs_carry_each_accounts_own_hash_and_rights(
    world: World, accounts: Accounts
) -> None:
    alice, bob, carol = (
        await accounts.login(ALICE),
        await accounts.login(BOB, "demo-password"),
        await accounts.login(CAROL),
    )
    mine, bobs, carols = (
        await _dialog_chats(alice),
        await _dialog_chats(bob),
        await _dialog_chats(carol),
    )
    assert TARGET not in carols  # only the chats the account is in
    target, bobs_target = mine[TARGET], bobs[TARGET]
    assert isinstance(target, types.Channel) and isinstance(bobs_target, types.Channel)
    assert (target.title, target.megagroup, target.username, target.creator) == (
        "Sandbox Target",
        True,
        None,
        True,
    )
    assert not bobs_target.creator and bobs_target.admin_rights.invite_users is True
    assert target.access_hash != bobs_target.access_hash
    # Each hash works for the account it was shown to, and for nobody else.
    mine_input = types.InputChannel(TARGET, target.access_hash)
    answer = await alice(
        functions.channels.GetParticipantRequest(mine_input, types.InputPeerSelf())
    )
    assert isinstance(answer.participant, types.ChannelParticipantCreator)
    with pytest.raises(errors.ChannelInvalidError):
        await bob(functions.channels.GetParticipantRequest(mine_input, types.InputPeerSelf()))


async def test_an_invite_link_shows_a_member_the_chat_with_its_own_hash(
    world: World, accounts: Accounts
) -> None:
    alice, bob, carol = (
        await accounts.login(ALICE),
        await accounts.login(BOB, "demo-password"),
        await accounts.login(CAROL),
    )
    link = make_invite(world, world.find_chat(TARGET))
    seen = [await c(functions.messages.CheckChatInviteRequest(link.hash)) for c in (alice, bob)]
    assert all(isinstance(s, types.ChatInviteAlready) for s in seen)
    hashes = [s.chat.access_hash for s in seen]
    assert (
        hashes == [world.chat_hash(ALICE, TARGET), world.chat_hash(BOB, TARGET)]
        and hashes[0] != hashes[1]
    )
    preview = await carol(functions.messages.CheckChatInviteRequest(link.hash))
    assert isinstance(preview, types.ChatInvite)  # not in it: a preview, no chat to address
    assert (preview.title, preview.participants_count, preview.megagroup) == (
        "Sandbox Target",
        2,
        True,
    )
