"""Benchmark: the product's bot against a bare aiogram echo bot on the same simulated Telegram.

    .venv/bin/python bench/bot_latency.py [--messages 200] [--block 20]

The simulated Bot API (`sandbox.server.SandboxServer`) runs in this process; each bot runs as
its own process long-polling it, so its CPU is its own. A message is put into the chat as the
user sends it (`BotApiState.user_sends`, no HTTP) and the latency is the time until the bot's
answer is stored by the simulated `sendMessage`. Messages go one at a time, as a person chats:
the next one `--pause` ms after the answer arrived (a bot's work after its answer, such as
closing the update's database session or writing its timing, is then not counted against
the next message, which no person sends within a millisecond).

- **product**: `python -m bot` (the dispatcher, its middlewares: trace and timing, one database
  session, the registered user from the sender cache, FSM state in Redis remembered by the
  bot) answering `/help`;
- **bare**: an aiogram 3 `Dispatcher` with one handler and no middleware or storage, which
  answers every message with the same text `/help` gives (in English, no parse mode, as the
  product's bot sends it), so both bots ask the simulated Telegram for the same work.

One token allows one long poll at a time, so the two take turns in blocks of `--block`
messages (each block starts its bot afresh and lets it answer one untimed message first),
interleaved until each answered `--messages`: a busy spell of the shared machine hits both.

Database and Redis as for `api_scale.py` (BENCH_DATABASE_URL is emptied; BENCH_REDIS_URL or
REDIS_URL, flushed).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.common import bench_database, migrate  # noqa: E402

USER = 7_777_001
PROFILE = {"username": "latency_user", "first_name": "Lena", "language_code": "en"}
TARGET_RATIO = 1.5


# --- the bare bot (a child process) -------------------------------------------------------------------
async def bare_bot(api_url: str, token: str) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)))
    dp = Dispatcher()

    from core.i18n import t

    answer = t("en", "help")

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(answer)

    await dp.start_polling(bot, handle_signals=True)


# --- measuring -------------------------------------------------------------------------------------------
class Answers:
    """Wakes the bench when the bot stores a message in the user's chat."""

    def __init__(self) -> None:
        from sandbox.botapi import PrivateChat

        self.arrived = asyncio.Event()
        original = PrivateChat.add
        answers = self

        def add(chat: Any, sender: Any, **content: Any) -> Any:
            message = original(chat, sender, **content)
            if sender == "bot":
                answers.arrived.set()
            return message

        # Wrapping a method of the sandbox's class for the bench's run (typeshed-style types
        # of the method do not describe a replacement).
        PrivateChat.add = add  # type: ignore[method-assign, assignment]

    async def one(self, state: Any, text: str, timeout: float = 30.0) -> float:
        self.arrived.clear()
        started = time.perf_counter()
        state.user_sends(USER, text, **PROFILE)
        await asyncio.wait_for(self.arrived.wait(), timeout)
        return (time.perf_counter() - started) * 1000


def product_env(database_url: str, redis_url: str, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("BENCH_DATABASE_URL", "BOT_TOKEN", "BOT_API_URL", "SANDBOX_HOST", "WEBHOOK_URL")
    }
    return env | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": secrets.token_urlsafe(40),
        "CODE_PEPPER": secrets.token_urlsafe(40),
        "SESSION_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "SANDBOX": "on",
        "SANDBOX_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        "ADMIN_TELEGRAM_IDS": "",
    }


async def block(
    kind: str, sandbox: Any, answers: Answers, env: dict[str, str], n: int, pause_s: float
) -> list[float]:
    if kind == "product":
        command = [sys.executable, "-m", "bot"]
        text = "/help"
    else:
        command = [sys.executable, __file__, "--bare", sandbox.url]
        text = "hello"
    # The child's output (a SIGTERM line each time a turn ends) goes to a file, shown when the
    # bot does not answer. Started, never waited on here: the loop goes on at once.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(  # noqa: ASYNC220
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                await answers.one(sandbox.state, text, timeout=60)  # up, polling, first costs paid
            except TimeoutError:
                log.seek(0)
                output = log.read().decode(errors="replace")
                raise SystemExit(f"the {kind} bot did not answer:\n{output}") from None
            found = []
            for _ in range(n):
                await asyncio.sleep(pause_s)
                found.append(await answers.one(sandbox.state, text))
            return found
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace, database_url: str) -> None:
    from redis.asyncio import Redis

    from core.settings import SANDBOX_BOT_TOKEN
    from sandbox.server import SandboxServer

    redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL")
    if not redis_url:
        from core.settings import DATA_DIR
        from launcher.services import ensure_local_services

        redis_url = ensure_local_services(DATA_DIR).redis_url.rsplit("/", 1)[0] + "/4"
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    await _empty(database_url)

    answers = Answers()
    sandbox = await SandboxServer(SANDBOX_BOT_TOKEN).start()
    try:
        port = int(sandbox.url.rsplit(":", 1)[1])
        env = product_env(database_url, redis_url, port)
        found: dict[str, list[float]] = {"product": [], "bare": []}
        while min(len(v) for v in found.values()) < args.messages:
            for kind in ("product", "bare"):
                n = min(args.block, args.messages - len(found[kind]))
                if n > 0:
                    found[kind] += await block(kind, sandbox, answers, env, n, args.pause / 1000)
            print(f"  {len(found['product'])} / {args.messages} each", flush=True)
    finally:
        await sandbox.stop()

    print(f"\n{'bot':<8} {'answers':>7} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for kind, values in found.items():
        print(
            f"{kind:<8} {len(values):>7} {pct(values, 0.5):>8.2f} {pct(values, 0.95):>8.2f} "
            f"{statistics.fmean(values):>8.2f}"
        )
    print()
    for name, q in (("p50", 0.5), ("p95", 0.95)):
        product, bare = pct(found["product"], q), pct(found["bare"], q)
        ratio = product / bare
        print(
            f"bot_latency: {name} product/bare = {ratio:.2f} ({product:.1f} ms vs {bare:.1f} ms) "
            f"(target <= {TARGET_RATIO}) {'PASS' if ratio <= TARGET_RATIO else 'FAIL'}"
        )


async def _empty(database_url: str) -> None:
    from sqlalchemy import text

    from db.engine import create_engine
    from db.models import Base

    engine = create_engine(database_url, pool_size=1)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200, help="answers timed per bot")
    parser.add_argument("--block", type=int, default=20, help="messages per turn of one bot")
    parser.add_argument(
        "--pause", type=float, default=50.0, help="ms between an answer and the next message"
    )
    parser.add_argument("--bare", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        from core.settings import SANDBOX_BOT_TOKEN

        asyncio.run(bare_bot(args.bare, SANDBOX_BOT_TOKEN))
        return
    from core.logs import setup_logging

    setup_logging("bench", level="WARNING", fmt="json")
    database_url = migrate(bench_database())  # alembic runs its own event loop
    asyncio.run(run(args, database_url))


if __name__ == "__main__":
    main()
