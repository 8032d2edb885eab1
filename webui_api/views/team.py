"""`/api/v1/workspace/members`: the team of the workspace a request acts in.

Any member lists it; the owner adds managers by username and removes them; a manager may
remove themself (leave). The rules are `core.teams`; a workspace the caller is not in is 404.
"""

from __future__ import annotations

from aiohttp import web

from core.dto import TeamMember
from db.dal import open_dal
from webui_api.http import (
    current_workspace,
    json_model,
    parse_body,
    path_id,
    require_auth,
)
from webui_api.keys import SESSIONMAKER, TEAMS
from webui_api.routing import ApiRoutes
from webui_api.team_schemas import MemberAdd, TeamMemberList, TeamMemberOut

routes = ApiRoutes(tag="team")


def _out(member: TeamMember) -> TeamMemberOut:
    return TeamMemberOut(
        user_id=member.user_id,
        username=member.username,
        first_name=member.first_name,
        role=member.role.value,
    )


@routes.get(
    "/api/v1/workspace/members",
    summary="The workspace's team with roles, the owner first",
    response=TeamMemberList,
    workspace=True,
)
async def list_members(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        team = await request.app[TEAMS].team(dal, claims.user_id, workspace_id)
    return json_model(TeamMemberList(items=[_out(m) for m in team.members]))


@routes.post(
    "/api/v1/workspace/members",
    summary="Add a manager by Telegram username (owner only)",
    request=MemberAdd,
    response=TeamMemberOut,
    errors=(403,),
    status=201,
    workspace=True,
    example={"username": "@alice"},
)
async def add_member(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    body = await parse_body(request, MemberAdd)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        member = await request.app[TEAMS].add_manager(
            dal, claims.user_id, workspace_id, body.username
        )
    return json_model(_out(member), status=201)


@routes.route(
    "DELETE",
    "/api/v1/workspace/members/{user_id}",
    summary="Remove a manager (owner only); a manager may remove themself to leave",
    errors=(403, 404),
    status=204,
    workspace=True,
)
async def remove_member(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    member_id = path_id(request, "user_id")
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        await request.app[TEAMS].remove_member(dal, claims.user_id, workspace_id, member_id)
    return web.Response(status=204)
