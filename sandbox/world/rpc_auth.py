"""Logging in: QR tokens, phone codes, the 2FA password check, and logging out.

Authorizations belong to auth keys, as in Telegram: whichever process later connects with
the same key (a saved StringSession) is logged in as the same user.
"""

from __future__ import annotations

import secrets

from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.world import render
from sandbox.world.errors import RpcFailure
from sandbox.world.model import PHONE_RE, QR_TOKEN_TTL, LoginCode, LoginToken, normalize_phone
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
        if entry.expires_at <= call.now and entry.scanned_by is None:
            del tokens[token]
    for token, entry in list(tokens.items()):
        if entry.key_id == call.key_id and entry.scanned_by is not None:
            del tokens[token]
            return tt.auth.LoginTokenSuccess(_finish_login(call, entry.scanned_by))
    token = secrets.token_bytes(32)
    expires = call.now + QR_TOKEN_TTL
    tokens[token] = LoginToken(token, call.key_id, expires)
    return tt.auth.LoginToken(expires=expires, token=token)


@ROUTES.on(fn.auth.ImportLoginTokenRequest, login=False)
def import_login_token(
    call: Call, request: fn.auth.ImportLoginTokenRequest
) -> tt.auth.LoginToken | tt.auth.LoginTokenSuccess:
    entry = _live_token(call, request.token)
    if entry.key_id != call.key_id:
        raise RpcFailure("AUTH_TOKEN_INVALID")
    if entry.scanned_by is None:
        return tt.auth.LoginToken(expires=entry.expires_at, token=entry.token)
    del call.world.login_tokens[entry.token]
    return tt.auth.LoginTokenSuccess(_finish_login(call, entry.scanned_by))


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
def _sent_code(code: LoginCode, registered: bool) -> tt.auth.SentCode:
    # A registered user gets the code in their Telegram app, like real logins.
    kind = tt.auth.SentCodeTypeApp if registered else tt.auth.SentCodeTypeSms
    return tt.auth.SentCode(
        type=kind(length=CODE_LENGTH),
        phone_code_hash=code.phone_code_hash,
        next_type=tt.auth.CodeTypeSms(),
        timeout=60,
    )


def _phone(raw: str) -> str:
    if not PHONE_RE.fullmatch(raw.replace(" ", "")):
        raise RpcFailure("PHONE_NUMBER_INVALID")
    return normalize_phone(raw)


@ROUTES.on(fn.auth.SendCodeRequest, login=False)
def send_code(call: Call, request: fn.auth.SendCodeRequest) -> tt.auth.SentCode:
    phone = _phone(request.phone_number)
    user = call.world.user_by_phone(phone)
    if user is not None and user.deleted:
        raise RpcFailure("PHONE_NUMBER_BANNED")
    return _sent_code(call.world.new_login_code(phone), user is not None)


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
    code = call.world.new_login_code(phone, previous.phone_code_hash)
    return _sent_code(code, code.user_id is not None)


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
    if request.phone_code != code.code:
        raise RpcFailure("PHONE_CODE_INVALID")
    code.used = True
    return _finish_login(call, user.id)


@ROUTES.on(fn.auth.LogOutRequest)
def log_out(call: Call, request: fn.auth.LogOutRequest) -> tt.auth.LoggedOut:
    call.world.log_out(call.key_id)
    return tt.auth.LoggedOut()
