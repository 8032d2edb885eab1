"""`/api/v1/account-logins`: linking a Telegram account from the panel (QR, 2FA, phone code).

The login itself is `webui_api.linking.PanelLogins`, in this process only; these views parse
the answer, hand it over, and render the login's state in the caller's language. Starting
one needs membership of the workspace the account goes to (owner or manager, as `/link` in
the bot); every other route acts only on a login of the caller (anyone else's is a 404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel

from core.accounts import account_label
from core.i18n import t
from core.telegram import mask_phone
from core.tokens import AccessClaims
from db.dal import open_dal
from webui_api.http import current_workspace, json_model, language, parse_body, require_auth
from webui_api.keys import LOGINS, SESSIONMAKER
from webui_api.linking import LoginState, PanelLogin, qr_svg
from webui_api.linking_schemas import (
    CodeIn,
    LoginOut,
    LoginProblem,
    LoginStart,
    PasswordIn,
    PhoneIn,
    QrOut,
)
from webui_api.routing import ApiRoutes, Handler
from webui_api.views.accounts import _out as account_out

routes = ApiRoutes(tag="linking")

_BASE = "/api/v1/account-logins"
_ONE = _BASE + "/{login}"
_Body = TypeVar("_Body", bound=BaseModel)


def _message(lang: str, login: PanelLogin) -> str:
    """The sentence for the login's state: what to do now, or how it ended."""
    if login.state in (LoginState.FAILED, LoginState.EXPIRED) and login.problem is not None:
        return t(lang, f"weblink.{login.problem.reason}", **login.problem.params)
    if login.state is LoginState.LINKED and login.account is not None:
        name = account_label(login.account.username, login.account.first_name)
        return t(lang, "weblink.linked" if login.created else "weblink.updated", account=name)
    if login.state is LoginState.CODE and login.code_sent is not None:
        sent = login.code_sent
        phone = mask_phone(login.phone) or ""
        email = sent.email_pattern or ""
        return t(lang, f"weblink.code.{sent.via.value}", phone=phone, email=email)
    return t(lang, f"weblink.{login.state.value}")


def _render(request: web.Request, login: PanelLogin) -> web.Response:
    lang = language(request)
    problem = None
    if login.problem is not None:
        problem = LoginProblem(
            code=login.problem.reason,
            message=t(lang, f"weblink.{login.problem.reason}", **login.problem.params),
        )
    qr = None
    if login.state is LoginState.WAITING and login.token is not None:
        qr = QrOut(
            url=login.token.url, svg=qr_svg(login.token.url), expires_at=login.token.expires_at
        )
    via = None
    if login.state is LoginState.CODE and login.code_sent is not None:
        via = login.code_sent.via.value
    linked = login.state is LoginState.LINKED
    body = LoginOut(
        id=login.id,
        method="qr" if login.method == "qr" else "phone",
        state=login.state.value,
        message=_message(lang, login),
        problem=problem,
        tries_left=login.tries_left,
        expires_at=login.expires_at,
        qr=qr,
        code_via=via,  # type: ignore[arg-type]  # CodeDelivery's values are the Literal's
        account=account_out(login.account) if linked and login.account is not None else None,
        created=login.created if linked else None,
    )
    return json_model(body)


async def _caller(request: web.Request) -> tuple[AccessClaims, str]:
    claims = await require_auth(request)
    return claims, request.match_info["login"]


def _answer_route(
    path: str, summary: str, model: type[BaseModel], example: dict[str, str]
) -> Callable[[Handler], Handler]:
    """The route of an answer to a login: its body in, the login as it is now out."""
    return routes.post(
        _ONE + path,
        summary=summary,
        request=model,
        response=LoginOut,
        errors=(404, 409),
        example=example,
    )


async def _answer(
    request: web.Request,
    state: LoginState,
    model: type[_Body],
    text: Callable[[_Body], str],
) -> web.Response:
    """An answer to the caller's login: `text` of the body (read once the caller is known)
    is what the login waits for in `state`; the login is rendered as it is now."""
    claims, login_id = await _caller(request)
    body = await parse_body(request, model)
    login = await request.app[LOGINS].answer(claims.user_id, login_id, state, text(body))
    return _render(request, login)


@routes.post(
    _BASE,
    summary="Start linking a Telegram account to the workspace, by QR code or phone",
    request=LoginStart,
    response=LoginOut,
    status=201,
    workspace=True,
    example={"method": "qr"},
)
async def start_login(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    body = await parse_body(request, LoginStart)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
    login = await request.app[LOGINS].start(
        claims.user_id, claims.session_id, workspace_id, body.method
    )
    response = _render(request, login)
    response.set_status(201)
    return response


@routes.get(
    _ONE,
    summary="A login's state: poll it (the QR code is renewed in place)",
    response=LoginOut,
    errors=(404,),
)
async def get_login(request: web.Request) -> web.Response:
    claims, login_id = await _caller(request)
    return _render(request, request.app[LOGINS].get(claims.user_id, login_id))


@routes.post(
    _ONE + "/qr",
    summary="Replace the login's QR code with a new one now",
    response=LoginOut,
    errors=(404, 409),
)
async def renew_qr(request: web.Request) -> web.Response:
    claims, login_id = await _caller(request)
    return _render(request, await request.app[LOGINS].renew_qr(claims.user_id, login_id))


@_answer_route(
    "/phone",
    "The phone number of a phone login: Telegram sends it a login code",
    PhoneIn,
    {"phone": "+44 7911 123456"},
)
async def submit_phone(request: web.Request) -> web.Response:
    return await _answer(request, LoginState.PHONE, PhoneIn, lambda body: body.phone)


@_answer_route("/code", "The login code Telegram sent", CodeIn, {"code": "1 2 3 4 5"})
async def submit_code(request: web.Request) -> web.Response:
    return await _answer(request, LoginState.CODE, CodeIn, lambda body: body.code)


@_answer_route(
    "/password",
    "The two-step verification password (never stored, logged or sent back)",
    PasswordIn,
    {"password": "correct horse battery staple"},
)
async def submit_password(request: web.Request) -> web.Response:
    # Unwrapped only here, on its way to the login: never into a log or an answer.
    return await _answer(
        request, LoginState.PASSWORD, PasswordIn, lambda body: body.password.get_secret_value()
    )


@routes.route(
    "DELETE",
    _ONE,
    summary="Cancel the login (a half-made authorization is logged out)",
    status=204,
    errors=(404,),
)
async def cancel_login(request: web.Request) -> web.Response:
    claims, login_id = await _caller(request)
    await request.app[LOGINS].cancel(claims.user_id, login_id)
    return web.Response(status=204)
