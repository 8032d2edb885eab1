"""Logging in real Telethon clients to the simulated world, and what auth keys mean there.

These are also the canary for Telethon upgrades: the world plugs in below Telethon's sender,
so a change in its internals shows up here first.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from typing import Any

import aiohttp
import pytest
from telethon import TelegramClient, errors
from telethon.sessions import StringSession
from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.server import SandboxServer
from sandbox.world import InProcessClientFactory, SandboxClientFactory, World
from sandbox.world.client import SANDBOX_API_HASH, SANDBOX_API_ID
from sandbox.world.errors import error_code
from tests.sandbox.conftest import ME, OTHER, PASSWORD, Accounts, call_json


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
    # "the session was already invalidated by the server and the user must generate a new
    # auth key and login again" (core.telegram.org/api/errors, 406): for both connections.
    with pytest.raises(errors.AuthKeyUnregisteredError):
        await first(fn.contacts.ResolveUsernameRequest("lounge"))
    await first.disconnect()
    await twin.disconnect()
    again = accounts.client(first.session.save())
    await again.connect()
    assert not await again.is_user_authorized()


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


# --- data centres ---------------------------------------------------------------------------
def _on_dc(session: str, dc: int) -> str:
    """The same auth key, pointed at another data centre."""
    moved = StringSession(session)
    moved.set_dc(dc, moved.server_address, moved.port)
    return moved.save()


async def _fresh_client_on(accounts: Accounts, dc: int) -> TelegramClient:
    client = accounts.client()
    client.session.set_dc(dc, "127.0.0.1", 0)
    await client.connect()
    return client


async def test_qr_login_of_an_account_on_another_dc_moves_the_client(
    accounts: Accounts, world: World
) -> None:
    world.put_user(ME, dc=4)
    client = accounts.client()
    await client.connect()
    assert client.session.dc_id == 2  # where Telethon starts

    # Telethon's own QRLogin.wait: exportLoginToken answers loginTokenMigrateTo, the client
    # switches to DC 4 (a new auth key) and imports the token there.
    await accounts.login(ME, client=client)

    assert client.session.dc_id == 4
    assert (await client.get_me()).id == ME
    exports = world.calls("ExportLoginTokenRequest")
    assert {c.dc for c in exports} == {2}
    (imported,) = world.calls("ImportLoginTokenRequest")
    assert (imported.dc, imported.error) == (4, None)
    # Only the key made on DC 4 is logged in; the DC 2 key never was.
    assert list(world.authorizations.values()) == [ME]
    (key_id,) = world.authorizations
    assert world.key_dcs[key_id] == 4

    # The saved session names DC 4 and works in a fresh client ...
    saved = client.session.save()
    assert StringSession(saved).dc_id == 4
    await client.disconnect()
    again = accounts.client(saved)
    await again.connect()
    assert (await again.get_me()).id == ME
    assert world.calls("GetUsersRequest")[-1].dc == 4
    await again.disconnect()
    # ... and nowhere else: DC 2 has never seen that key (Telegram's -404).
    with pytest.raises(errors.AuthKeyNotFound):
        await accounts.client(_on_dc(saved, 2)).connect()


async def test_qr_login_on_another_dc_with_2fa(accounts: Accounts, world: World) -> None:
    world.put_user(OTHER, dc=3)
    world.set_password(OTHER, PASSWORD)
    client = accounts.client()

    with pytest.raises(errors.SessionPasswordNeededError):
        await accounts.login(OTHER, client=client)
    assert client.session.dc_id == 3
    with pytest.raises(errors.PasswordHashInvalidError):
        await client.sign_in(password="wrong")
    assert (await client.sign_in(password=PASSWORD)).id == OTHER

    assert {c.dc for c in world.calls("CheckPasswordRequest")} == {3}
    assert list(world.authorizations.values()) == [OTHER]


async def test_redirected_token_is_imported_once_on_its_dc(
    accounts: Accounts, world: World
) -> None:
    world.put_user(ME, dc=4)
    exporter = accounts.client()
    await exporter.connect()
    qr = await exporter.qr_login()
    world.scan_qr(qr.url, ME)

    moved = await exporter(fn.auth.ExportLoginTokenRequest(SANDBOX_API_ID, SANDBOX_API_HASH, []))

    assert isinstance(moved, tt.auth.LoginTokenMigrateTo) and moved.dc_id == 4
    assert world.pending_login_tokens() == []  # nothing left to scan
    elsewhere = await _fresh_client_on(accounts, 5)
    with pytest.raises(errors.AuthTokenInvalidError):
        await elsewhere(fn.auth.ImportLoginTokenRequest(moved.token))
    home = await _fresh_client_on(accounts, 4)
    done = await home(fn.auth.ImportLoginTokenRequest(moved.token))
    assert isinstance(done, tt.auth.LoginTokenSuccess)
    assert done.authorization.user.id == ME
    with pytest.raises(errors.AuthTokenInvalidError):  # used up
        await home(fn.auth.ImportLoginTokenRequest(moved.token))


async def test_phone_login_moves_to_the_number_s_dc(accounts: Accounts, world: World) -> None:
    world.put_user(ME, dc=5)
    client = accounts.client()
    await client.connect()

    sent = await client.send_code_request("+10000000100")  # Telethon follows PHONE_MIGRATE_5

    assert isinstance(sent.type, tt.auth.SentCodeTypeApp)
    assert client.session.dc_id == 5
    assert [(c.dc, c.error) for c in world.calls("SendCodeRequest")] == [
        (2, "PHONE_MIGRATE_5"),
        (5, None),
    ]
    me = await client.sign_in("+10000000100", code=world.codes_for(ME)[-1].code)
    assert me.id == ME
    assert StringSession(client.session.save()).dc_id == 5


# --- how the code is sent -------------------------------------------------------------------
async def test_code_goes_where_the_user_gets_it(accounts: Accounts, world: World) -> None:
    client = accounts.client()
    await client.connect()

    async def send(phone: str) -> Any:
        return await client(fn.auth.SendCodeRequest(phone, 1, "x", tt.CodeSettings()))

    app = await send("+10000000100")  # the default: the Telegram app of another session
    assert isinstance(app.type, tt.auth.SentCodeTypeApp)
    assert isinstance(app.next_type, tt.auth.CodeTypeSms)
    world.put_user(ME, code_type="sms")
    sms = await send("+10000000100")
    assert isinstance(sms.type, tt.auth.SentCodeTypeSms)
    assert isinstance(sms.next_type, tt.auth.CodeTypeCall)
    world.put_user(ME, code_type="call")
    call = await send("+10000000100")
    assert isinstance(call.type, tt.auth.SentCodeTypeCall) and call.next_type is None
    assert [c.kind for c in world.codes_for(ME)] == ["app", "sms", "call"]

    world.put_user(OTHER, code_type="setup_email")
    blocked = await send("+10000000101")
    assert isinstance(blocked.type, tt.auth.SentCodeTypeSetUpEmailRequired)
    assert world.codes_for(OTHER) == []  # no code exists until the email is set up
    with pytest.raises(errors.PhoneCodeExpiredError):
        await client(fn.auth.SignInRequest("+10000000101", blocked.phone_code_hash, "12345"))

    # Telethon's own send_code_request hands every type back as it came.
    other = accounts.client()
    await other.connect()
    assert isinstance(
        (await other.send_code_request("+10000000101")).type,
        tt.auth.SentCodeTypeSetUpEmailRequired,
    )


async def test_resent_code_takes_the_next_way(accounts: Accounts, world: World) -> None:
    client = accounts.client()
    await client.connect()
    first = await client(fn.auth.SendCodeRequest("+10000000100", 1, "x", tt.CodeSettings()))

    kinds = []
    for _ in range(2):
        again = await client(fn.auth.ResendCodeRequest("+10000000100", first.phone_code_hash))
        kinds.append(type(again.type))
    with pytest.raises(errors.SendCodeUnavailableError):
        await client(fn.auth.ResendCodeRequest("+10000000100", first.phone_code_hash))

    assert kinds == [tt.auth.SentCodeTypeSms, tt.auth.SentCodeTypeCall]
    codes = world.codes_for(ME)
    assert [c.kind for c in codes] == ["app", "sms", "call"]
    assert [c.expires_at > world.now() for c in codes] == [False, False, True]
    me = await client(fn.auth.SignInRequest("+10000000100", first.phone_code_hash, codes[-1].code))
    assert me.user.id == ME


# --- refusals -------------------------------------------------------------------------------
async def test_banned_number_cannot_log_in_and_its_sessions_end(
    accounts: Accounts, world: World
) -> None:
    me = await accounts.login(ME)
    world.put_user(ME, banned=True)

    with pytest.raises(errors.UserDeactivatedBanError):
        await me(fn.contacts.ResolveUsernameRequest("lounge"))
    client = accounts.client()
    await client.connect()
    with pytest.raises(errors.PhoneNumberBannedError):
        await client.send_code_request("+10000000100")
    qr = await client.qr_login()
    with pytest.raises(ValueError, match="banned"):
        world.scan_qr(qr.url, ME)


@pytest.mark.parametrize(
    ("method", "error", "raised"),
    [
        ("auth.SendCode", "PHONE_NUMBER_FLOOD", errors.PhoneNumberFloodError),
        ("SendCodeRequest", "PHONE_PASSWORD_FLOOD", errors.PhonePasswordFloodError),
        ("auth.SendCodeRequest", "FLOOD_WAIT_600", errors.FloodWaitError),
        ("SendCode", "PHONE_NUMBER_BANNED", errors.PhoneNumberBannedError),
        ("SendCode", "PHONE_NUMBER_INVALID", errors.PhoneNumberInvalidError),
    ],
)
async def test_send_code_faults(
    accounts: Accounts, world: World, method: str, error: str, raised: type[Exception]
) -> None:
    world.add_fault(method, error)
    client = accounts.client()
    await client.connect()

    with pytest.raises(raised) as caught:
        await client.send_code_request("+10000000100")

    assert isinstance(caught.value, errors.RPCError) and caught.value.code == error_code(error)
    assert [c.error for c in world.calls("SendCodeRequest")] == [error]
    # One fault, one call (a fresh client: Telethon remembers a flood wait per request).
    later = accounts.client()
    await later.connect()
    await later.send_code_request("+10000000100")


# --- over loopback and through the control API ---------------------------------------------
async def test_dc_and_code_types_over_loopback(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    base = f"{sandbox.url}/sandbox/world"
    users = [
        {"id": 7301, "first_name": "Far", "phone": "+15550007301", "dc": 4},
        {"id": 7302, "first_name": "Sms", "phone": "+15550007302", "code_type": "sms"},
        {"id": 7303, "first_name": "Nomail", "phone": "+15550007303", "code_type": "setup_email"},
        {"id": 7304, "first_name": "Gone", "phone": "+15550007304", "banned": True},
    ]
    assert await call_json(http, "POST", f"{base}/users", {"users": users}) == {"ok": True}

    async def scan(url: str, user_id: int) -> None:
        await call_json(http, "POST", f"{base}/qr/scan", {"url": url, "user_id": user_id})

    remote = Accounts(SandboxClientFactory(sandbox.url), scan)
    try:
        # A QR login of a DC 4 account over loopback, then the session in another "process".
        client = await remote.login(7301)
        saved = client.session.save()
        await client.disconnect()
        assert StringSession(saved).dc_id == 4
        later = SandboxClientFactory(sandbox.url)(saved)
        remote.made.append(later)
        await later.connect()
        assert (await later.get_me()).id == 7301
        await later.disconnect()
        with pytest.raises(errors.AuthKeyNotFound):
            await remote.client(_on_dc(saved, 2)).connect()
        calls = await call_json(http, "GET", f"{base}/calls?method=auth.ImportLoginToken")
        assert [(c["dc"], c["account"]) for c in calls["calls"]] == [(4, None)]

        phone = remote.client()
        await phone.connect()
        sent = await phone.send_code_request("+15550007302")
        assert isinstance(sent.type, tt.auth.SentCodeTypeSms)
        codes = await call_json(http, "GET", f"{base}/users/7302/login_codes")
        assert [(c["type"], c["valid"]) for c in codes["codes"]] == [("sms", True)]
        sent = await phone.send_code_request("+15550007303")
        assert isinstance(sent.type, tt.auth.SentCodeTypeSetUpEmailRequired)
        with pytest.raises(errors.PhoneNumberBannedError):
            await phone.send_code_request("+15550007304")

        fault = {"method": "auth.SendCode", "error": "PHONE_NUMBER_FLOOD", "count": 1}
        assert await call_json(http, "POST", f"{base}/faults", fault) == {"ok": True}
        fresh = remote.client()
        await fresh.connect()
        with pytest.raises(errors.PhoneNumberFloodError):
            await fresh.send_code_request("+15550007302")
    finally:
        await remote.close()


@pytest.mark.parametrize(
    "user",
    [
        {"id": 7310, "dc": 7},
        {"id": 7310, "dc": 4.0},
        {"id": 7310, "dc": True},
        {"id": 7310, "code_type": "fax"},
        {"id": 7310, "banned": "yes"},
    ],
)
async def test_control_api_refuses_bad_dc_and_code_type(
    sandbox: SandboxServer, http: aiohttp.ClientSession, user: dict[str, Any]
) -> None:
    answer = await call_json(
        http, "POST", f"{sandbox.url}/sandbox/world/users", {"users": [user]}, status=400
    )
    assert answer["error"]["code"] == "invalid_input"
    assert 7310 not in sandbox.world.users


async def test_connect_refuses_a_bad_dc(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    url = f"{sandbox.url}/sandbox/mtproto/connect"
    for dc in (0, 6, "4"):
        await call_json(http, "POST", url, {"auth_key": None, "dc_id": dc}, status=400)
