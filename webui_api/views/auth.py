"""`/api/v1/auth/*`: the one-time code from the bot for tokens; refresh rotation; logout."""

from __future__ import annotations

from aiohttp import web

from core.auth import TokenPair
from core.errors import Unauthorized
from db.dal import open_dal
from webui_api.http import client_info, json_model, parse_body, require_auth
from webui_api.keys import AUTH, LOGINS, SESSIONMAKER, SETTINGS
from webui_api.routing import ApiRoutes
from webui_api.schemas import OkResponse, RefreshRequest, TokenResponse, VerifyRequest

routes = ApiRoutes(tag="auth")
REFRESH_COOKIE = "tgi_refresh"
COOKIE_PATH = "/api/v1/auth"


def _token_response(request: web.Request, pair: TokenPair) -> web.Response:
    settings = request.app[SETTINGS]
    response = json_model(
        TokenResponse(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
        )
    )
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=settings.refresh_absolute_ttl_s,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=settings.effective_panel_url.startswith("https://"),
    )
    return response


@routes.post(
    "/api/v1/auth/verify",
    summary="Exchange a login code from the bot's /web_auth for tokens",
    request=VerifyRequest,
    response=TokenResponse,
    auth=False,
    errors=(401, 429, 503),
    example={"username": "@alice", "code": "483920"},
)
async def verify(request: web.Request) -> web.Response:
    body = await parse_body(request, VerifyRequest)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        pair = await request.app[AUTH].verify(dal, body.username, body.code, client_info(request))
    return _token_response(request, pair)


@routes.post(
    "/api/v1/auth/refresh",
    summary="Rotate a refresh token (body or HttpOnly cookie); reuse revokes the session",
    request=RefreshRequest,
    response=TokenResponse,
    auth=False,
    errors=(401,),
    body_required=False,
    example={"refresh_token": "2f6c1e0a9b8d4c7e5f3a1b0c9d8e7f6a"},
)
async def refresh(request: web.Request) -> web.Response:
    body = await parse_body(request, RefreshRequest) if request.can_read_body else RefreshRequest()
    token = body.refresh_token or request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise Unauthorized("no refresh token")
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        pair = await request.app[AUTH].refresh(dal, token)
    return _token_response(request, pair)


@routes.post(
    "/api/v1/auth/logout",
    summary="End the session: its access and refresh tokens stop working at once",
    response=OkResponse,
)
async def logout(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        await request.app[AUTH].logout(dal, claims, client_info(request))
    # Logins this session opened in this process end with it (webui_api/linking.py).
    await request.app[LOGINS].end_session(claims.session_id)
    response = json_model(OkResponse())
    response.del_cookie(REFRESH_COOKIE, path=COOKIE_PATH)
    return response
