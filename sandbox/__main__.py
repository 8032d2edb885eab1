"""`python -m sandbox`: run the simulated Telegram on its own (DESIGN §9, §9a).

It reads only SANDBOX_HOST, SANDBOX_PORT, SANDBOX_BOT_TOKEN and SANDBOX_DEMO, on purpose
without the project settings: the sandbox must start on a machine that has no database,
Redis or token. The simulated world starts with the demo of `sandbox.world.demo` unless
SANDBOX_DEMO=off.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from sandbox.server import DEFAULT_BOT_TOKEN, SandboxServer
from sandbox.world import World, seed_demo

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
EXIT_USAGE = 2


def parse_port(raw: str | None) -> int:
    """SANDBOX_PORT as an int; 0 asks the OS for a free port. Raises ValueError."""
    if raw is None or not raw.strip():
        return DEFAULT_PORT
    value = raw.strip()
    if not value.isascii() or not value.isdigit() or int(value) > 65535:
        raise ValueError(value)
    return int(value)


def parse_demo(raw: str | None) -> bool:
    """SANDBOX_DEMO: on (default) or off. Raises ValueError."""
    value = (raw or "on").strip().lower() or "on"
    if value not in ("on", "off"):
        raise ValueError(value)
    return value == "on"


async def serve(host: str, port: int, token: str, *, demo: bool = True) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    world = World()
    if demo:
        seed_demo(world)
    server = SandboxServer(token, world=world)
    try:
        await server.start(host, port)
    except OSError as error:
        reason = error.strerror or error
        print(f"sandbox: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return 1
    try:
        print(
            f"sandbox: simulated Bot API and control API on {server.url}",
            flush=True,
        )
        if demo:
            print(
                f"sandbox: demo world seeded ({len(world.users)} users, {len(world.chats)} chats;"
                " accounts to link: @alice 1001, @bob 1002 with 2FA)",
                flush=True,
            )
        else:
            print("sandbox: empty world (SANDBOX_DEMO=off)", flush=True)
        print(f"sandbox: chat with the bot in a browser: {server.url}/", flush=True)
        await stop.wait()
    finally:
        await server.stop()
    return 0


def main() -> int:
    try:
        port = parse_port(os.environ.get("SANDBOX_PORT"))
    except ValueError:
        raw = os.environ.get("SANDBOX_PORT", "")
        print(f"sandbox: SANDBOX_PORT must be a port number 0-65535, got {raw!r}", file=sys.stderr)
        return EXIT_USAGE
    try:
        demo = parse_demo(os.environ.get("SANDBOX_DEMO"))
    except ValueError:
        raw = os.environ.get("SANDBOX_DEMO", "")
        print(f"sandbox: SANDBOX_DEMO must be on or off, got {raw!r}", file=sys.stderr)
        return EXIT_USAGE
    host = os.environ.get("SANDBOX_HOST", "").strip() or DEFAULT_HOST
    token = os.environ.get("SANDBOX_BOT_TOKEN", "").strip() or DEFAULT_BOT_TOKEN
    # Loud world messages (a request nobody simulates) must reach the terminal.
    logging.basicConfig(
        level=logging.WARNING, format="sandbox: %(levelname)s %(name)s: %(message)s"
    )
    return asyncio.run(serve(host, port, token, demo=demo))


if __name__ == "__main__":
    sys.exit(main())
