"""Logging in real Telethon clients to the simulated world, and what auth keys mean there.

These are also the canary for Telethon upgrades: the world plugs in below Telethon's sender,
so a change in its internals shows up here first.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket

import pytest
from telethon import TelegramClient, errors
from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.world import InProcessClientFactory, World
from tests.sandbox.conftest import ME, OTHER, PASSWORD, Accounts


async def test_qr_login_without_password(accounts: Accounts) -> None:
    client = accounts.client()
    await client.connect()
    assert not await client.is_user_authorized()
    assert await client.get_me() is None

    await accounts.login(ME, client=client)

    assert await client.is_user_authorized()
    me = await client.get_me()
    assert me.id == ME and me.username == "worker" and me.is_self
    assert me.phone == "10000000100"  # only the account itself sees its number


async def test_qr_login_with_2fa_wrong_then_right_password(
    accounts: Accounts, world: World
) -> None:
    world.set_password(OTHER, PASSWORD)
    client = accounts.client()
    with pytest.raises(errors.SessionPasswordNeededError):
        await accounts.login(OTHER, client=client)
    assert not await client.is_user_authorized()

    with pytest.raises(errors.PasswordHashInvalidError):
        await client.sign_in(password="wrong")
    me = await client.sign_in(password=PASSWORD)

    assert me.id == OTHER
    assert (await client.get_me()).username == "helper"
    methods = [c.method for c in world.calls()]
    assert methods.count("CheckPasswordRequest") == 2 and "GetPasswordRequest" in methods


async def test_expired_qr_token_cannot_be_scanned(accounts: Accounts, world: World) -> None:
    client = accounts.client()
    await client.connect()
    qr = await client.qr_login()
    assert qr.url.startswith("tg://login?token=")
    assert qr.expires > dt.datetime.now(dt.UTC)

    world.now = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    with pytest.raises(LookupError):
        world.scan_qr(qr.url, ME)


async def test_phone_login_with_code_from_the_world(accounts: Accounts, world: World) -> None:
    client = accounts.client()
    await client.connect()

    sent = await client.send_code_request("+1 000 000 0100")
    assert isinstance(sent.type, tt.auth.SentCodeTypeApp)
    (code,) = world.codes_for(ME)
    with pytest.raises(errors.PhoneCodeInvalidError):
        await client.sign_in("+10000000100", code="00000" if code.code != "00000" else "11111")
    me = await client.sign_in("+10000000100", code=code.code)

    assert me.id == ME
    assert code.used


async def test_phone_login_errors(accounts: Accounts, world: World) -> None:
    world.set_password(OTHER, PASSWORD)
    client = accounts.client()
    await client.connect()

    first = await client(fn.auth.SendCodeRequest("+10000000101", 1, "x", tt.CodeSettings()))
    again = await client(fn.auth.SendCodeRequest("+10000000101", 1, "x", tt.CodeSettings()))
    old_code, new_code = world.codes_for(OTHER)
    with pytest.raises(errors.PhoneCodeExpiredError):  # superseded by the second code
        await client(fn.auth.SignInRequest("+10000000101", first.phone_code_hash, old_code.code))
    with pytest.raises(errors.SessionPasswordNeededError):
        await client(fn.auth.SignInRequest("+10000000101", again.phone_code_hash, new_code.code))
    assert (await client.sign_in(password=PASSWORD)).id == OTHER

    stranger = accounts.client()
    await stranger.connect()
    await stranger.send_code_request("+19999999999")
    with pytest.raises(errors.PhoneNumberUnoccupiedError):
        await stranger.sign_in("+19999999999", code="12345")
    with pytest.raises(errors.PhoneNumberInvalidError):
        await stranger(fn.auth.SendCodeRequest("12ab", 1, "x", tt.CodeSettings()))

    late = accounts.client()
    await late.connect()
    await late.send_code_request("+10000000100")
    world.now = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)
    with pytest.raises(errors.PhoneCodeExpiredError):
        await late.sign_in("+10000000100", code=world.codes_for(ME)[-1].code)


async def test_saved_session_is_the_same_account_in_a_fresh_client(
    accounts: Accounts, world: World
) -> None:
    first = await accounts.login(ME)
    saved = first.session.save()
    await first.disconnect()

    # Another factory and connection: what a worker process loading the session does.
    second = InProcessClientFactory(world)(saved)
    accounts.made.append(second)
    await second.connect()

    assert await second.is_user_authorized()
    assert (await second.get_me()).id == ME


async def test_log_out_unregisters_the_auth_key(accounts: Accounts) -> None:
    client = await accounts.login(ME)
    saved = client.session.save()

    assert await client.log_out() is True

    again = accounts.client(saved)
    await again.connect()
    assert not await again.is_user_authorized()
    with pytest.raises(errors.AuthKeyUnregisteredError):
        await again(fn.contacts.ResolveUsernameRequest("lounge"))


async def test_second_connection_with_the_same_key_is_duplicated(accounts: Accounts) -> None:
    first = await accounts.login(ME)
    twin = accounts.client(first.session.save())

    with pytest.raises(errors.AuthKeyDuplicatedError):
        await twin.connect()  # its first call (initConnection) is refused
    with pytest.raises(errors.AuthKeyDuplicatedError):
        await twin(fn.updates.GetStateRequest())
    assert (await first.get_me()).id == ME  # the first connection keeps working

    await first.disconnect()
    assert (await twin.get_me()).id == ME  # the key is free again


async def test_unknown_request_fails_loudly(
    me: TelegramClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="sandbox.world"),
        pytest.raises(errors.RPCError, match="METHOD_NOT_SIMULATED_GetContactsRequest"),
    ):
        await me(fn.contacts.GetContactsRequest(hash=0))

    assert "GetContactsRequest is not simulated" in caplog.text
    assert world.calls("GetContactsRequest")[0].error == "METHOD_NOT_SIMULATED_GetContactsRequest"


async def test_clients_never_open_a_socket(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[object] = []
    real_connect = socket.socket.connect

    def spy(sock: socket.socket, address: object) -> None:
        opened.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    client = await accounts.login(ME)
    await client.get_entity("lounge")

    assert opened == []
