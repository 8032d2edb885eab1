"""The simulated MTProto world: users, chats and accounts behind real Telethon clients.

`World` is the state and RPC pipeline; `InProcessClientFactory` / `SandboxClientFactory` make
`TelegramClient`s wired to a world in this process or to a running sandbox over loopback;
`seed_demo` fills a world with a small demo.
"""

from sandbox.world.client import (
    SANDBOX_API_HASH,
    SANDBOX_API_ID,
    InProcessClientFactory,
    LocalSender,
    RemoteSender,
    SandboxClientFactory,
)
from sandbox.world.demo import DEMO_HINT, seed_demo
from sandbox.world.errors import RpcFailure
from sandbox.world.world import World

__all__ = [
    "DEMO_HINT",
    "SANDBOX_API_HASH",
    "SANDBOX_API_ID",
    "InProcessClientFactory",
    "LocalSender",
    "RemoteSender",
    "RpcFailure",
    "SandboxClientFactory",
    "World",
    "seed_demo",
]
