"""Logging in: QR tokens, phone codes, the 2FA password check, and logging out.

Authorizations belong to auth keys, as in Telegram: whichever process later connects with
the same key (a saved StringSession) is logged in as the same user. An account lives on one
data centre (`WorldUser.dc`) and is logged in there only: a QR login begun elsewhere is
redirected (auth.loginTokenMigrateTo), a phone login is sent there (PHONE_MIGRATE_X), and
Telethon moves its client to that DC with a new auth key, as with the real Telegram.
"""

from __future__ import annotations

import secrets

from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.world import render
from sandbox.world.errors import RpcFailure
from sandbox.world.model import (
    PHONE_RE,
    QR_TOKEN_TTL,
    LoginCode,
    LoginToken,
    WorldUser,
    normalize_phone,
)
from sandbox.world.rpc import Call, Routes

ROUTES = Routes()
CODE_LENGTH = 5


def _finish_login(call: Call, user_id: int) -> tt.auth.Authorization:
    """Log the calling auth key in, or park it waiting for the 2FA password."""
    user = call.world.users[user_id]
    if user.password is not None:
        call.world.pending_passwords[call.key_id] = user_id
        raise RpcFailure("SESSION_PASSWORD_NEEDED")
    call.world.authorize(call.key_id, user_id)
    return tt.auth.Authorization(user=render.user(call.world, user, user_id))


def _at_home(call: Call, user: WorldUser) -> None:
    """Phone logins happen on the account's own data centre."""
    if user.dc != call.connection.dc:
        # core.telegram.org/api/datacenter: a number that lives on another DC answers
        # 303 PHONE_MIGRATE_X; Telethon's client moves to DC X and repeats the call.
        raise RpcFailure(f"PHONE_MIGRATE_{user.dc}")


def _collect_scan(
    call: Call, entry: LoginToken
) -> tt.auth.LoginTokenSuccess | tt.auth.LoginTokenMigrateTo:
    """A scanned token, asked for by the key that exported it: the login, or where to end it."""
    assert entry.scanned_by is not None
    del call.world.login_tokens[entry.token]
    user = call.world.users[entry.scanned_by]
    if user.dc != call.connection.dc:
        # core.telegram.org/api/qr-login: an account of another DC answers
        # auth.loginTokenMigrateTo(dc_id, token); the client switches to that DC and calls
        # auth.importLoginToken there (core.telegram.org/method/auth.importLoginToken).
        moved = LoginToken(
            secrets.token_bytes(32),
            call.key_id,
            call.now + QR_TOKEN_TTL,
            scanned_by=user.id,
            dc=user.dc,
            redirected=True,
        )
        call.world.login_tokens[moved.token] = moved
        return tt.auth.LoginTokenMigrateTo(dc_id=user.dc, token=moved.token)
    return tt.auth.LoginTokenSuccess(_finish_login(call, user.id))


def _live_token(call: Call, token: bytes) -> LoginToken:
    entry = call.world.login_tokens.get(token)
    if entry is None:
        raise RpcFailure("AUTH_TOKEN_INVALID")
    if entry.expires_at <= call.now:
        raise RpcFailure("AUTH_TOKEN_EXPIRED")
    return entry


# ---- QR login ------------------------------------------------------------------------------
@ROUTES.on(fn.auth.ExportLoginTokenRequest, login=False)
def export_login_token(
    call: Call, request: fn.auth.ExportLoginTokenRequest
) -> tt.auth.LoginToken | tt.auth.LoginTokenSuccess:
    tokens = call.world.login_tokens
    for token, entry in list(tokens.items()):
        # A scan in time is still collected after the code expired; a redirect is not.
        if entry.expires_at <= call.now and (entry.scanned_by is None or entry.redirected):
            del tokens[token]
    for entry in list(tokens.values()):
        if entry.key_id == call.key_id and entry.scanned_by is not None and not entry.redirected:
            return _collect_scan(call, entry)
    token = secrets.token_bytes(32)
    expires = call.now + QR_TOKEN_TTL
    tokens[token] = LoginToken(token, call.key_id, expires, dc=call.connection.dc)
    return tt.auth.LoginToken(expires=expires, token=token)


@ROUTES.on(fn.auth.ImportLoginTokenRequest, login=False)
def import_login_token(
    call: Call, request: fn.auth.ImportLoginTokenRequest
) -> tt.auth.LoginToken | tt.auth.LoginTokenSuccess:
    entry = _live_token(call, request.token)
    if entry.redirected:
        # Any key of the account's DC may import it: the client that was redirected comes
        # with a key it has just made there (Telethon's `_switch_dc`).
        if entry.dc != call.connection.dc or entry.scanned_by is None:
            raise RpcFailure("AUTH_TOKEN_INVALID")
        del call.world.login_tokens[entry.token]
        return tt.auth.LoginTokenSuccess(_finish_login(call, entry.scanned_by))
    if entry.key_id != call.key_id:
        raise RpcFailure("AUTH_TOKEN_INVALID")
    if entry.scanned_by is None:
        return tt.auth.LoginToken(expires=entry.expires_at, token=entry.token)
    return _collect_scan(call, entry)


@ROUTES.on(fn.auth.AcceptLoginTokenRequest)
def accept_login_token(call: Call, request: fn.auth.AcceptLoginTokenRequest) -> tt.Authorization:
    """A logged-in client scans another device's QR (what the control API's scan does)."""
    entry = _live_token(call, request.token)
    call.world.scan_qr(entry.token, call.me().id)
    return tt.Authorization(
        hash=secrets.randbits(63),
        device_model="sandbox",
        platform="sandbox",
        system_version="1",
        api_id=0,
        app_name="sandbox",
        app_version="1",
        date_created=call.now,
        date_active=call.now,
        ip="127.0.0.1",
        country="",
        region="",
    )


# ---- 2FA -----------------------------------------------------------------------------------
@ROUTES.on(fn.account.GetPasswordRequest, login=False)
def get_password(call: Call, request: fn.account.GetPasswordRequest) -> tt.account.Password:
    user_id = call.world.pending_passwords.get(call.key_id) or call.world.authorizations.get(
        call.key_id
    )
    user = call.world.users.get(user_id) if user_id is not None else None
    if user is not None and user.password is not None:
        return user.password.challenge()
    return tt.account.Password(
        new_algo=tt.PasswordKdfAlgoUnknown(),
        new_secure_algo=tt.SecurePasswordKdfAlgoUnknown(),
        secure_random=secrets.token_bytes(32),
    )


@ROUTES.on(fn.auth.CheckPasswordRequest, login=False)
def check_password(call: Call, request: fn.auth.CheckPasswordRequest) -> tt.auth.Authorization:
    user_id = call.world.pending_passwords.get(call.key_id)
    user = call.world.users.get(user_id) if user_id is not None else None
    if (
        user is None
        or user.password is None
        or not isinstance(request.password, tt.InputCheckPasswordSRP)
    ):
        raise RpcFailure("PASSWORD_HASH_INVALID")
    verdict = user.password.verify(request.password)
    if verdict is None:
        raise RpcFailure("SRP_ID_INVALID")
    if not verdict:
        raise RpcFailure("PASSWORD_HASH_INVALID")
    call.world.authorize(call.key_id, user.id)
    return tt.auth.Authorization(user=render.user(call.world, user, user.id))


# ---- phone login ---------------------------------------------------------------------------
_SENT_AS = {
    "app": tt.auth.SentCodeTypeApp,
    "sms": tt.auth.SentCodeTypeSms,
    "call": tt.auth.SentCodeTypeCall,
}
_NEXT = {"app": "sms", "sms": "call", "call": None}
"""How a resent code travels after each way (core.telegram.org/method/auth.resendCode: the
next type is the `next_type` of the previous answer)."""
_NEXT_AS = {"sms": tt.auth.CodeTypeSms, "call": tt.auth.CodeTypeCall}
RESEND_AFTER_S = 60


def _sent_code(code: LoginCode) -> tt.auth.SentCode:
    after = _NEXT[code.kind]
    return tt.auth.SentCode(
        type=_SENT_AS[code.kind](length=CODE_LENGTH),
        phone_code_hash=code.phone_code_hash,
        next_type=_NEXT_AS[after]() if after else None,
        timeout=RESEND_AFTER_S if after else None,
    )


def _phone(raw: str) -> str:
    if not PHONE_RE.fullmatch(raw.replace(" ", "")):
        raise RpcFailure("PHONE_NUMBER_INVALID")
    return normalize_phone(raw)


@ROUTES.on(fn.auth.SendCodeRequest, login=False)
def send_code(call: Call, request: fn.auth.SendCodeRequest) -> tt.auth.SentCode:
    phone = _phone(request.phone_number)
    user = call.world.user_by_phone(phone)
    if user is None:
        # Nobody has the number: only an SMS can reach it (sign-in then asks to sign up).
        return _sent_code(call.world.new_login_code(phone, kind="sms"))
    if user.deleted or user.banned:
        # core.telegram.org/method/auth.sendCode: 400 PHONE_NUMBER_BANNED, "The provided
        # phone number is banned from telegram".
        raise RpcFailure("PHONE_NUMBER_BANNED")
    _at_home(call, user)
    if user.code_type == "setup_email":
        # core.telegram.org/constructor/auth.sentCodeTypeSetUpEmailRequired: the user must
        # add and verify a login email before any code is sent, so none is.
        return tt.auth.SentCode(
            type=tt.auth.SentCodeTypeSetUpEmailRequired(), phone_code_hash=secrets.token_hex(9)
        )
    # core.telegram.org/type/auth.SentCodeType: the app of another logged-in session, an
    # SMS or a call, as the account's settings make Telegram choose.
    return _sent_code(call.world.new_login_code(phone, kind=user.code_type))


@ROUTES.on(fn.auth.ResendCodeRequest, login=False)
def resend_code(call: Call, request: fn.auth.ResendCodeRequest) -> tt.auth.SentCode:
    phone = _phone(request.phone_number)
    previous = call.world.login_code(request.phone_code_hash)
    if (
        previous is None
        or previous.phone != phone
        or previous.used
        or previous.expires_at <= call.now
    ):
        raise RpcFailure("PHONE_CODE_EXPIRED")
    user = call.world.user_by_phone(phone)
    if user is not None:
        _at_home(call, user)
    after = _NEXT[previous.kind]
    if after is None:
        # core.telegram.org/method/auth.resendCode: 406 SEND_CODE_UNAVAILABLE once every
        # way of sending the code was used.
        raise RpcFailure("SEND_CODE_UNAVAILABLE")
    return _sent_code(call.world.new_login_code(phone, previous.phone_code_hash, kind=after))


@ROUTES.on(fn.auth.CancelCodeRequest, login=False)
def cancel_code(call: Call, request: fn.auth.CancelCodeRequest) -> bool:
    code = call.world.login_code(request.phone_code_hash)
    if code is not None:
        code.expires_at = min(code.expires_at, call.now)
    return True


@ROUTES.on(fn.auth.SignInRequest, login=False)
def sign_in(
    call: Call, request: fn.auth.SignInRequest
) -> tt.auth.Authorization | tt.auth.AuthorizationSignUpRequired:
    phone = _phone(request.phone_number)
    code = call.world.login_code(request.phone_code_hash)
    if code is None or code.phone != phone or code.used or code.expires_at <= call.now:
        raise RpcFailure("PHONE_CODE_EXPIRED")
    if not request.phone_code:
        raise RpcFailure("PHONE_CODE_EMPTY")
    user = call.world.user_by_phone(phone)
    if user is None:
        # The number has no account: Telegram asks to sign up, which third-party apps cannot
        # do (Telethon raises PhoneNumberUnoccupiedError). Nobody can read an unregistered
        # number's code in the sandbox, so the code itself is not checked here.
        return tt.auth.AuthorizationSignUpRequired()
    _at_home(call, user)
    if request.phone_code != code.code:
        raise RpcFailure("PHONE_CODE_INVALID")
    code.used = True
    return _finish_login(call, user.id)


@ROUTES.on(fn.auth.LogOutRequest)
def log_out(call: Call, request: fn.auth.LogOutRequest) -> tt.auth.LoggedOut:
    call.world.log_out(call.key_id)
    return tt.auth.LoggedOut()
