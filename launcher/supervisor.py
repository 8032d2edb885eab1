"""Runs the whole installation from one command, and the test suite against local servers.

`run_app` prepares the storage (local PostgreSQL/Redis when no URLs are configured),
migrates the database and hands the processes to a `Supervisor`, which prefixes their
output, restarts one that exits (with back-off), stops all of them on SIGINT/SIGTERM or a
settings error, and never leaves one behind.
`run_tests` does the same preparation for `pytest` with a freshly created test database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import aiohttp
from dotenv import dotenv_values

from core.settings import DATA_DIR, LOCAL_ENV_FILE, PROJECT_ROOT, Settings, load_settings
from launcher.checks import checks_wanted, run_checks
from launcher.localenv import ensure_local_env
from launcher.services import (
    LocalServiceError,
    LocalServices,
    ensure_database,
    ensure_local_services,
    with_redis_db,
)

PREFIX = "tg-inviter:"
TEST_DB_NAME = "tg_inviter_test"
TEST_REDIS_DB = 1
# `make test` runs servers of its own, apart from `make run`'s (which it must neither stop nor
# wipe), on ports free at the start: it runs while `make run` runs, and beside the tests of
# another checkout.
TEST_DATA_DIR = DATA_DIR / "test"
DEFAULT_GRACE_S = 10.0
READY_TIMEOUT_S = 60.0
# A child that exits is started again after RESTART_DELAY_S, doubled for every further
# exit up to RESTART_DELAY_MAX_S; a run of STABLE_AFTER_S seconds starts the doubling over.
RESTART_DELAY_S = 1.0
RESTART_DELAY_MAX_S = 30.0
STABLE_AFTER_S = 60.0
# FAILING_AFTER exits in a row, each within QUICK_EXIT_S of the start, are called out as a
# child that keeps failing (it is still restarted: the database may come back).
QUICK_EXIT_S = 5.0
FAILING_AFTER = 5
# core.settings.load_settings exits with 2 on a bad setting, as the bot does when Telegram
# refuses BOT_TOKEN or WEBHOOK_URL and the sandbox on a bad SANDBOX_*: the configuration
# is wrong, a restart would only repeat the same line, so everything stops.
EXIT_SETTINGS = 2
_MAX_LINE = 64 * 1024
_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChildSpec:
    """One supervised process.

    `ready_url`, when set, must answer an HTTP GET with a non-error status before the next
    child starts; `ready_message` is printed once it does (or right after start without a
    `ready_url`).
    """

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    ready_url: str | None = None
    ready_timeout_s: float = READY_TIMEOUT_S
    ready_message: str | None = None


@dataclass
class _Child:
    spec: ChildSpec
    proc: asyncio.subprocess.Process
    waiter: asyncio.Task[int]
    pump: asyncio.Task[None]
    started_at: float
    signalled: bool = field(default=False)
    # Carried from one process of this child to the next (see `_schedule`).
    restarts: int = 0
    quick_exits: int = 0

    @property
    def running(self) -> bool:
        return self.proc.returncode is None


class Supervisor:
    """Starts `children` in order and keeps them running together.

    Once all have started, a child that exits (any exit code, or a signal sent to it
    alone) is started again after a back-off delay, with one line saying so; the others
    keep running. During the start a child that exits or never becomes ready stops
    everything, as does one that exits with `EXIT_SETTINGS` at any time.

    `run()` returns 0 after a requested stop (SIGINT, SIGTERM or `request_stop()`), and 1
    after a failed start or a settings error; either way every child is gone when it
    returns: SIGTERM first, SIGKILL after `grace_s` seconds.
    """

    def __init__(
        self,
        children: Sequence[ChildSpec],
        *,
        grace_s: float = DEFAULT_GRACE_S,
        out: TextIO | None = None,
        started_message: str | None = None,
        handle_signals: bool = True,
        restart_delay_s: float = RESTART_DELAY_S,
        restart_delay_max_s: float = RESTART_DELAY_MAX_S,
        stable_after_s: float = STABLE_AFTER_S,
        quick_exit_s: float = QUICK_EXIT_S,
        failing_after: int = FAILING_AFTER,
    ) -> None:
        self._specs = list(children)
        self._grace_s = grace_s
        self._restart_delay_s = restart_delay_s
        self._restart_delay_max_s = restart_delay_max_s
        self._stable_after_s = stable_after_s
        self._quick_exit_s = quick_exit_s
        self._failing_after = failing_after
        self._out = out
        self._started_message = started_message
        self._handle_signals = handle_signals
        # The current process of each started child, in start order.
        self._children: list[_Child] = []
        self._stop_requested = False
        self._stop_event: asyncio.Event | None = None

    @property
    def pids(self) -> list[int]:
        return [child.proc.pid for child in self._children]

    def request_stop(self) -> None:
        self._stop_requested = True
        if self._stop_event is not None:
            self._stop_event.set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        if self._stop_requested:
            self._stop_event.set()
        installed: list[signal.Signals] = []
        if self._handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self._on_signal, sig)
                installed.append(sig)
        stop_task = asyncio.create_task(self._stop_event.wait())
        try:
            failure = await self._start_all(stop_task)
            if failure is None and not stop_task.done():
                if self._started_message:
                    self._say(self._started_message)
                failure = await self._watch(stop_task)
            if failure is not None:
                self._say(failure)
            return 0 if failure is None else 1
        finally:
            stop_task.cancel()
            await self._shutdown()
            for sig in installed:
                loop.remove_signal_handler(sig)

    # --- internals ---------------------------------------------------------------------

    def _on_signal(self, sig: signal.Signals) -> None:
        if not self._stop_requested:
            self._say(f"got {sig.name}, stopping")
        self.request_stop()

    def _say(self, line: str) -> None:
        self._emit(f"{PREFIX} {line}")

    def _emit(self, line: str) -> None:
        out = self._out or sys.stdout
        out.write(line + "\n")
        out.flush()

    async def _start_all(self, stop_task: asyncio.Task[bool]) -> str | None:
        for spec in self._specs:
            if stop_task.done():
                return None
            try:
                child = await self._spawn(spec)
            except OSError as exc:
                return f"could not start {spec.name} ({' '.join(spec.argv)}): {exc}"
            self._children.append(child)
            if spec.ready_url:
                failure = await self._wait_ready(child, stop_task)
                if failure is not None or stop_task.done():
                    return failure
            if spec.ready_message:
                self._say(spec.ready_message)
        return None

    async def _spawn(self, spec: ChildSpec) -> _Child:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(spec.env or {})}
        # A session of its own: a terminal's Ctrl-C reaches only the supervisor, which
        # then stops the children in order; signalling the group also reaches anything
        # a child started.
        proc = await asyncio.create_subprocess_exec(
            *spec.argv,
            stdin=subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=spec.cwd,
            start_new_session=True,
        )
        assert proc.stdout is not None
        return _Child(
            spec=spec,
            proc=proc,
            waiter=asyncio.create_task(proc.wait()),
            pump=asyncio.create_task(self._pump(spec.name, proc.stdout)),
            started_at=asyncio.get_running_loop().time(),
        )

    async def _pump(self, name: str, stream: asyncio.StreamReader) -> None:
        prefix = f"[{name}] "
        buffer = b""
        while True:
            chunk = await stream.read(_MAX_LINE)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            if len(buffer) >= _MAX_LINE:  # an endless line still gets shown, in pieces
                lines.append(buffer)
                buffer = b""
            for line in lines:
                self._emit(prefix + line.rstrip(b"\r").decode(errors="replace"))
        if buffer:
            self._emit(prefix + buffer.rstrip(b"\r").decode(errors="replace"))

    async def _wait_ready(self, child: _Child, stop_task: asyncio.Task[bool]) -> str | None:
        url = child.spec.ready_url
        assert url is not None
        poll = asyncio.create_task(_poll_http(url))
        try:
            done, _ = await asyncio.wait(
                [poll, stop_task, *(c.waiter for c in self._children)],
                timeout=child.spec.ready_timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            poll.cancel()
            with suppress(asyncio.CancelledError):
                await poll
        if stop_task in done or poll in done:
            return None
        exited = await self._exited_child()
        if exited is not None:
            return exited
        return (
            f"{child.spec.name} did not answer {url} within "
            f"{child.spec.ready_timeout_s:g} s; stopping everything"
        )

    async def _watch(self, stop_task: asyncio.Task[bool]) -> str | None:
        """Restart children that exit until a stop is requested; a reason to stop all."""
        # One loop does every start, so none can begin once the stop has been seen.
        timers: dict[asyncio.Task[None], int] = {}  # back-off delay -> index of the child
        try:
            while True:
                waiting = set(timers.values())
                waiters = {c.waiter: i for i, c in enumerate(self._children) if i not in waiting}
                await asyncio.wait(
                    [stop_task, *waiters, *timers], return_when=asyncio.FIRST_COMPLETED
                )
                if stop_task.done():
                    return None
                for timer in [t for t in timers if t.done()]:
                    index = timers.pop(timer)
                    failure = await self._restart(index)
                    if failure is not None:
                        return failure
                for waiter, index in waiters.items():
                    if not waiter.done():
                        continue
                    child = self._children[index]
                    await self._finish(child, stop_task)
                    if stop_task.done():
                        return None
                    code = child.proc.returncode
                    if code == EXIT_SETTINGS:
                        return f"{child.spec.name} {_how(code)}; stopping the others"
                    delay = self._schedule(child)
                    timers[asyncio.create_task(asyncio.sleep(delay))] = index
        finally:
            for timer in timers:
                timer.cancel()

    def _schedule(self, child: _Child) -> float:
        """Say that `child` exited and will start again; the delay before it does."""
        ran = asyncio.get_running_loop().time() - child.started_at
        if ran >= self._stable_after_s:
            child.restarts = 0
        child.quick_exits = child.quick_exits + 1 if ran < self._quick_exit_s else 0
        # The exponent is bounded: a child failing for days must not overflow the float.
        delay = min(self._restart_delay_s * 2 ** min(child.restarts, 32), self._restart_delay_max_s)
        child.restarts += 1
        line = f"{child.spec.name} {_how(child.proc.returncode)}; "
        if child.quick_exits >= self._failing_after:
            line += (
                f"it keeps failing ({child.quick_exits} times in a row within "
                f"{self._quick_exit_s:g} s of starting); "
            )
        self._say(line + f"restarting in {delay:g} s")
        return delay

    async def _restart(self, index: int) -> str | None:
        old = self._children[index]
        try:
            child = await self._spawn(old.spec)
        except OSError as exc:
            return f"could not restart {old.spec.name} ({' '.join(old.spec.argv)}): {exc}"
        child.restarts, child.quick_exits = old.restarts, old.quick_exits
        self._children[index] = child
        return None

    async def _finish(self, child: _Child, stop_task: asyncio.Task[bool]) -> None:
        """Clear up after a child that exited by itself."""
        # Whatever it started would outlive it unsupervised (and could hold its port).
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(child.proc.pid, signal.SIGKILL)
        # Let its last lines (often the reason) appear before the verdict.
        await asyncio.wait([child.pump, stop_task], timeout=2, return_when=asyncio.FIRST_COMPLETED)

    async def _exited_child(self) -> str | None:
        for child in self._children:
            if child.waiter.done():
                # Let its last lines (often the reason) appear before the verdict.
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(child.pump), 2)
                return f"{child.spec.name} {_how(child.proc.returncode)}; stopping the others"
        return None

    async def _shutdown(self) -> None:
        running = [c for c in self._children if c.running]
        for child in running:
            self._signal(child, signal.SIGTERM)
        if running:
            _, pending = await asyncio.wait([c.waiter for c in running], timeout=self._grace_s)
            stubborn = [c for c in running if c.waiter in pending]
            for child in stubborn:
                self._say(f"{child.spec.name} did not stop within {self._grace_s:g} s; SIGKILL")
                self._signal(child, signal.SIGKILL)
            if stubborn:
                await asyncio.wait([c.waiter for c in stubborn])
        pumps = [c.pump for c in self._children if not c.pump.done()]
        if pumps:
            # A grandchild may still hold the pipe open; do not wait on it forever.
            _, stuck = await asyncio.wait(pumps, timeout=2)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)

    @staticmethod
    def _signal(child: _Child, sig: signal.Signals) -> None:
        try:
            os.killpg(child.proc.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            with suppress(ProcessLookupError):
                child.proc.send_signal(sig)
        child.signalled = True


def _how(code: int | None) -> str:
    if code is not None and code < 0 and -code in signal.valid_signals():
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


async def _poll_http(url: str) -> None:
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            try:
                async with session.get(url) as response:
                    if response.status < 400:
                        return
            except (TimeoutError, aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.2)


# --- the installation -------------------------------------------------------------------


def started_message(settings: Settings) -> str:
    """What to say once everything runs: in the sandbox first its page (where a newcomer
    chats with the bot), then where the panel is, and how to try the demo world."""
    message = f"panel on {settings.effective_panel_url}"
    if settings.sandbox_active:
        page = _local_url(settings.sandbox_host, settings.sandbox_port, "/")
        message = (
            f"try it in a browser: {page} (chat with the bot as a person of the simulated "
            f"world, scan its QR code with their phone, watch the world)\n{PREFIX} {message}"
        )
    if settings.sandbox_active and settings.sandbox_demo == "on":
        from sandbox.world.demo import DEMO_HINT

        hint = DEMO_HINT.replace("POST /", f"POST {settings.sandbox_url}/").replace(
            "GET /", f"GET {settings.sandbox_url}/"
        )
        message += "\n" + "\n".join(f"{PREFIX} {line}" for line in hint.splitlines())
    return message


def sandbox_line(settings: Settings) -> str:
    return (
        "Telegram is simulated (no BOT_TOKEN / TELEGRAM_API_ID+HASH or SANDBOX=on): "
        f"sandbox on {settings.sandbox_url}"
    )


def _local_url(host: str, port: int, path: str) -> str:
    if host in _WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}{path}"


def app_children(settings: Settings, python: str = sys.executable) -> list[ChildSpec]:
    """The installation's processes in start order, run with the launcher's Python."""
    children: list[ChildSpec] = []
    if settings.sandbox_active:
        children.append(
            ChildSpec(
                name="sandbox",
                argv=[python, "-m", "sandbox"],
                # The sandbox reads only the environment (no settings file): hand it the
                # values the other processes will use, wherever they were configured.
                env={
                    "SANDBOX_HOST": settings.sandbox_host,
                    "SANDBOX_PORT": str(settings.sandbox_port),
                    "SANDBOX_BOT_TOKEN": settings.effective_bot_token,
                    "SANDBOX_DEMO": settings.sandbox_demo,
                },
                cwd=PROJECT_ROOT,
                ready_url=_local_url(
                    settings.sandbox_host, settings.sandbox_port, "/sandbox/health"
                ),
                ready_message=sandbox_line(settings),
            )
        )
    children += [
        ChildSpec(
            name="api",
            argv=[python, "-m", "webui_api"],
            cwd=PROJECT_ROOT,
            ready_url=_local_url(settings.api_host, settings.api_port, "/health"),
        ),
        ChildSpec(name="bot", argv=[python, "-m", "bot"], cwd=PROJECT_ROOT),
        ChildSpec(name="workers", argv=[python, "-m", "workers"], cwd=PROJECT_ROOT),
    ]
    return children


def is_configured(name: str, *, dotenv_path: Path | None = None) -> bool:
    """Whether setting `name` is given in the environment or in `.env` (not local.env)."""
    wanted = name.upper()
    if any(key.upper() == wanted and value for key, value in os.environ.items()):
        return True
    dotenv_path = PROJECT_ROOT / ".env" if dotenv_path is None else dotenv_path
    if dotenv_path.exists():
        values = dotenv_values(dotenv_path)
        return any(key.upper() == wanted and value for key, value in values.items())
    return False


def map_pytest_exit_code(code: int) -> int:
    """pytest's exit code as ours: "no tests collected" (5) is a failure, not a skip."""
    if code == 5:
        return 1
    if code < 0:  # killed by a signal
        return 128 + (-code)
    return code


def migrate(python: str = sys.executable) -> None:
    if not (PROJECT_ROOT / "alembic.ini").exists():
        raise _Fatal(f"{PROJECT_ROOT / 'alembic.ini'} is missing; cannot migrate the database")
    with subprocess.Popen(
        [python, "-m", "alembic", "upgrade", "head"],
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(f"[migrate] {line.rstrip()}", flush=True)
    if proc.returncode != 0:
        raise _Fatal(f"database migration failed (alembic upgrade head exited {proc.returncode})")


class _Fatal(Exception):
    """Stops the launcher with one line."""


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def _stopping_services(services: list[LocalServices]) -> Iterator[None]:
    # Until the supervisor takes over the signals, SIGTERM must unwind like Ctrl-C so the
    # servers this run started are stopped.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            for item in services:
                item.stop()
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, previous)


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format=f"{PREFIX} %(message)s", stream=sys.stdout)


def run_app(data_dir: Path = DATA_DIR) -> int:
    """`python -m launcher run`: storage, secrets, migrations, then every process."""
    _setup_logging()
    started: list[LocalServices] = []
    try:
        with _stopping_services(started):
            need_pg = not is_configured("DATABASE_URL")
            need_redis = not is_configured("REDIS_URL")
            database_url = redis_url = None
            if need_pg or need_redis:
                services = ensure_local_services(data_dir, postgres=need_pg, redis=need_redis)
                started.append(services)
                database_url = services.database_url or None
                redis_url = services.redis_url or None
            ensure_local_env(LOCAL_ENV_FILE, database_url=database_url, redis_url=redis_url)
            settings = load_settings()
            migrate()
            supervisor = Supervisor(
                app_children(settings),
                started_message=started_message(settings),
            )
            return asyncio.run(supervisor.run())
    except (LocalServiceError, _Fatal) as exc:
        print(f"{PREFIX} {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def run_tests(pytest_args: Sequence[str], data_dir: Path = TEST_DATA_DIR) -> int:
    """`python -m launcher test`: ruff and mypy, then pytest against a fresh
    `tg_inviter_test` database. A failed check stops the run before pytest."""
    _setup_logging()
    if checks_wanted():
        failed = [r.name for r in run_checks() if not r.passed]
        if failed:
            print(f"{PREFIX} {' and '.join(failed)} failed; pytest was not run", flush=True)
            return 1
    env = dict(os.environ)
    started: list[LocalServices] = []
    try:
        with _stopping_services(started):
            need_pg = not env.get("TEST_DATABASE_URL")
            need_redis = not env.get("TEST_REDIS_URL")
            if need_pg or need_redis:
                services = ensure_local_services(
                    data_dir, postgres=need_pg, redis=need_redis, pg_port=None, redis_port=None
                )
                started.append(services)
                if need_pg:
                    env["TEST_DATABASE_URL"] = ensure_database(
                        services.database_url, TEST_DB_NAME, recreate=True
                    )
                if need_redis:
                    env["TEST_REDIS_URL"] = with_redis_db(services.redis_url, TEST_REDIS_DB)
            # Tests that load the settings need the secrets a first `run` would create.
            ensure_local_env(LOCAL_ENV_FILE, database_url=None, redis_url=None)
            code = subprocess.run(
                [sys.executable, "-m", "pytest", *pytest_args],
                cwd=PROJECT_ROOT,
                env=env,
                check=False,  # pytest's exit code is mapped below
            ).returncode
            if code == 5:
                print(f"{PREFIX} pytest collected no tests; counting that as a failure")
            return map_pytest_exit_code(code)
    except LocalServiceError as exc:
        print(f"{PREFIX} {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
