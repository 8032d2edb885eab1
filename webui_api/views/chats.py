"""`/api/v1/chats`: the groups and channels the workspace's accounts are in, for picking a
campaign's target (`?can_invite=1`: only those where one of them may add people).

Read from each account's dialogs under its lease, a few minutes' cache per account
(`gateway/chats.py`). Any member of the workspace may read it.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from db.dal import open_dal
from gateway.chats import PickerChat
from webui_api.http import current_workspace, json_model, require_auth
from webui_api.keys import CHATS, SESSIONMAKER
from webui_api.routing import ApiRoutes, flag

routes = ApiRoutes(tag="chats")

CAN_INVITE = flag(
    "can_invite",
    "Only chats where one of the workspace's accounts may add people "
    "(its creator, or an admin allowed to add members)",
)


class ChatAccount(BaseModel):
    id: int = Field(description="The linked account")
    label: str = Field(description="Its @username, or its name")
    may_invite: bool = Field(description="Whether it may add people to this chat")


class ChatOut(BaseModel):
    id: int = Field(description="Telegram's id of the chat (without the -100 bots show)")
    kind: str = Field(description="group (basic), megagroup or channel")
    title: str
    username: str | None = Field(description="Its public username; null for a private chat")
    members: int | None = Field(
        description="Members, as Telegram counts them; null when it does not say"
    )
    target: str = Field(description="What to send as a campaign's `target` to pick this chat")
    accounts: list[ChatAccount] = Field(description="The workspace's accounts in the chat")


class ChatList(BaseModel):
    items: list[ChatOut]


def chat_out(chat: PickerChat) -> ChatOut:
    return ChatOut(
        id=chat.chat_id,
        kind=chat.kind,
        title=chat.title,
        username=chat.username,
        members=chat.members,
        target=chat.target,
        accounts=[
            ChatAccount(id=a, label=chat.labels[a], may_invite=a in chat.inviters)
            for a in chat.accounts
        ],
    )


@routes.get(
    "/api/v1/chats",
    summary="Groups and channels the workspace's accounts are in (?can_invite=1: where one may add people)",
    response=ChatList,
    query=(CAN_INVITE,),
    workspace=True,
)
async def list_chats(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    can_invite = CAN_INVITE.read(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
    chats = await request.app[CHATS].chats(claims.user_id, workspace_id, can_invite=can_invite)
    return json_model(ChatList(items=[chat_out(c) for c in chats]))
