"""`POST /api/v1/search`: communities worth collecting from, found as a linked account."""

from __future__ import annotations

from aiohttp import web

from db.dal import open_dal
from gateway.community import search_communities
from webui_api.http import current_workspace, json_model, parse_body, require_auth
from webui_api.keys import ACCOUNTS, GATEWAY, LEASES, SESSIONMAKER, SETTINGS
from webui_api.routing import ApiRoutes
from webui_api.schemas import CommunityList, CommunityOut, CommunitySearchIn

routes = ApiRoutes(tag="search")


@routes.post(
    "/api/v1/search",
    summary="Search groups and commentable channels by keywords (runs as a linked account)",
    request=CommunitySearchIn,
    response=CommunityList,
    errors=(409,),
    workspace=True,
    example={"keywords": "python developers"},
)
async def search(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    body = await parse_body(request, CommunitySearchIn)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
    found = await search_communities(
        keywords=body.keywords,
        user_id=claims.user_id,
        workspace_id=workspace_id,
        sessionmaker=request.app[SESSIONMAKER],
        service=request.app[ACCOUNTS],
        gateway=request.app[GATEWAY],
        leases=request.app[LEASES],
        flood_buffer_s=request.app[SETTINGS].flood_buffer_s,
    )
    return json_model(
        CommunityList(
            items=[
                CommunityOut(
                    chat_id=c.chat_id,
                    username=c.username,
                    title=c.title,
                    kind=c.kind,  # type: ignore[arg-type]
                    members=c.members,
                    recent_commenters=c.recent_commenters,
                    score=c.score,
                )
                for c in found
            ]
        )
    )
