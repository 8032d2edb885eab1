"""What every RPC handler of the world shares: the call context, routing, and peer checks.

Handlers are plain functions `(call, request) -> TL result` registered per Telethon request
class. Peer checks are as strict as Telegram's: an access hash is only valid for the account
it was shown to, so a user or channel learned by account A cannot be used by account B.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from telethon.tl import TLRequest
from telethon.tl import types as tt

from sandbox.world.errors import RpcFailure
from sandbox.world.model import WorldChat, WorldUser

if TYPE_CHECKING:
    import datetime as dt

    from sandbox.world.world import Connection, World

Handler = Callable[["Call", Any], Any]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True, slots=True)
class Route:
    handler: Handler
    needs_login: bool


class Routes:
    """Request class -> handler, filled by decorators in each rpc_* module."""

    def __init__(self) -> None:
        self.table: dict[type[TLRequest], Route] = {}

    def on(self, *request_types: type[TLRequest], login: bool = True) -> Callable[[H], H]:
        def register(handler: H) -> H:
            for request_type in request_types:
                if request_type in self.table:
                    raise RuntimeError(f"two handlers for {request_type.__name__}")
                self.table[request_type] = Route(handler, login)
            return handler

        return register


@dataclass(slots=True)
class Call:
    world: World
    connection: Connection
    account: WorldUser | None
    """The user the calling auth key is logged in as."""
    now: dt.datetime

    @property
    def viewer(self) -> int:
        """Whose eyes results are rendered for (0 before login)."""
        return self.account.id if self.account is not None else 0

    @property
    def key_id(self) -> int:
        return self.connection.key_id

    def me(self) -> WorldUser:
        if self.account is None:
            raise RpcFailure("AUTH_KEY_UNREGISTERED")
        return self.account

    # ---- peers the request names ---------------------------------------------------------
    def user(self, inp: Any) -> WorldUser:
        if isinstance(inp, tt.InputUserSelf):
            return self.me()
        if isinstance(inp, tt.InputUser):
            found = self.world.users.get(inp.user_id)
            if found is not None and inp.access_hash == self.world.user_hash(self.viewer, found.id):
                return found
        raise RpcFailure("USER_ID_INVALID")

    def channel(self, inp: Any) -> WorldChat:
        if isinstance(inp, (tt.InputChannel, tt.InputPeerChannel)):
            found = self.world.chats.get(inp.channel_id)
            if (
                found is not None
                and found.is_channel
                and inp.access_hash == self.world.chat_hash(self.viewer, found.id)
            ):
                return found
        raise RpcFailure("CHANNEL_INVALID")

    def basic_group(self, chat_id: int) -> WorldChat:
        found = self.world.chats.get(chat_id)
        if found is None or found.kind != "group":
            raise RpcFailure("CHAT_ID_INVALID")
        return found

    def peer(self, inp: Any) -> WorldUser | WorldChat:
        if isinstance(inp, tt.InputPeerSelf):
            return self.me()
        if isinstance(inp, tt.InputPeerUser):
            found = self.world.users.get(inp.user_id)
            if found is not None and inp.access_hash == self.world.user_hash(self.viewer, found.id):
                return found
            raise RpcFailure("PEER_ID_INVALID")
        if isinstance(inp, tt.InputPeerChat):
            chat = self.world.chats.get(inp.chat_id)
            if chat is None or chat.kind != "group":
                raise RpcFailure("PEER_ID_INVALID")
            return chat
        if isinstance(inp, tt.InputPeerChannel):
            return self.channel(inp)
        raise RpcFailure("PEER_ID_INVALID")

    def readable(self, chat: WorldChat) -> WorldChat:
        """The chat if this account may read it: public, or it is a member."""
        if chat.username is None and self.viewer not in chat.members:
            raise RpcFailure("CHANNEL_PRIVATE" if chat.is_channel else "CHAT_ID_INVALID")
        return chat


def named_users(request: Any) -> Iterator[int]:
    """User ids the request names, for the call log (self references excluded)."""
    stack: list[Any] = [request]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
            continue
        if isinstance(item, (tt.InputUser, tt.InputPeerUser)):
            yield item.user_id
            continue
        if hasattr(item, "SUBCLASS_OF_ID"):
            stack.extend(reversed([v for k, v in vars(item).items() if not k.startswith("_")]))
