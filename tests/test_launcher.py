"""The launcher: local PostgreSQL/Redis, the generated local.env, and the supervisor."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from dotenv import dotenv_values

from core.settings import DATA_DIR, PROJECT_ROOT, parse_session_keys
from launcher.checks import Check, run_checks
from launcher.localenv import ensure_local_env
from launcher.services import (
    choose_port,
    ensure_database,
    ensure_local_services,
    port_is_free,
    with_redis_db,
)
from launcher.supervisor import (
    TEST_DATA_DIR,
    ChildSpec,
    Supervisor,
    is_configured,
    map_pytest_exit_code,
)

SECRETS = ("JWT_SECRET", "CODE_PEPPER", "SESSION_KEYS")


# --- local services -----------------------------------------------------------------------


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def test_ensure_local_services_is_idempotent_and_servers_answer() -> None:
    first = await asyncio.to_thread(ensure_local_services, DATA_DIR)
    try:
        second = await asyncio.to_thread(ensure_local_services, DATA_DIR)
        assert second.started == []
        assert (second.database_url, second.redis_url) == (first.database_url, first.redis_url)
        assert "@127.0.0.1:" in first.database_url and first.database_url.endswith("/tg_inviter")
        assert first.redis_url.startswith("redis://:") and first.redis_url.endswith("/0")

        conn = await asyncpg.connect(first.database_url)
        try:
            assert await conn.fetchval("SELECT 1") == 1
            assert await conn.fetchval("SHOW listen_addresses") == "127.0.0.1"
            # The URL names the port the server really listens on (the preferred one or,
            # when that was taken, the free one it moved to).
            assert f":{await conn.fetchval('SHOW port')}/" in first.database_url
        finally:
            await conn.close()

        client = aioredis.from_url(with_redis_db(first.redis_url, 1))
        try:
            assert await client.ping() is True
            bind = {_text(k): _text(v) for k, v in (await client.config_get("bind")).items()}
            assert bind == {"bind": "127.0.0.1"}
        finally:
            await client.aclose()

        name = "tg_inviter_launcher_check"
        url = await asyncio.to_thread(ensure_database, first.database_url, name, recreate=True)
        assert url.endswith(f"/{name}")
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT current_database()") == name
        finally:
            await conn.close()
        admin = await asyncpg.connect(first.database_url)
        try:
            await admin.execute(f'DROP DATABASE "{name}"')
        finally:
            await admin.close()
    finally:
        # Stops only what the first call started: servers that were already running
        # (for example under `make test`) stay up.
        await asyncio.to_thread(first.stop)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


def test_choose_port_keeps_a_free_preference_and_moves_off_a_taken_one() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        assert not port_is_free(taken)
        moved = choose_port(taken)
        assert moved != taken and port_is_free(moved)
    free = choose_port(None)
    assert port_is_free(free)
    assert choose_port(free) == free


def test_test_servers_live_apart_from_the_run_servers() -> None:
    assert TEST_DATA_DIR != DATA_DIR and TEST_DATA_DIR.is_relative_to(DATA_DIR)


async def test_two_data_dirs_run_their_own_redis_side_by_side() -> None:
    """Two checkouts (two data directories) asking for the same port both get a server of
    their own, and each stop leaves nothing listening."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        wanted = holder.getsockname()[1]  # taken by somebody else
        dirs = [PROJECT_ROOT / ".data" / f"launcher-check-{name}" for name in "ab"]
        started = []
        try:
            for data_dir in dirs:
                started.append(
                    await asyncio.to_thread(
                        ensure_local_services, data_dir, postgres=False, redis_port=wanted
                    )
                )
            ports = [_port_of(s.redis_url) for s in started]
            assert wanted not in ports and len(set(ports)) == 2
            for item in started:
                client = aioredis.from_url(item.redis_url)
                try:
                    assert await client.ping() is True
                    await client.set("checkout", item.redis_url)
                finally:
                    await client.aclose()
            # Asked again, each directory finds its own server where it left it.
            again = await asyncio.to_thread(ensure_local_services, dirs[0], postgres=False)
            assert again.started == [] and again.redis_url == started[0].redis_url
        finally:
            for item in started:
                await asyncio.to_thread(item.stop)
        for port in ports:
            assert not _listening(port), f"a Redis still listens on {port}"


def test_checks_report_each_verdict_and_time(tmp_path: Path) -> None:
    lines: list[str] = []
    results = run_checks(
        [
            Check("fine", [sys.executable, "-c", "pass"]),
            Check("broken", [sys.executable, "-c", "raise SystemExit(3)"]),
        ],
        cwd=tmp_path,
        say=lines.append,
    )
    assert [(r.name, r.returncode, r.passed) for r in results] == [
        ("fine", 0, True),
        ("broken", 3, False),
    ]
    assert lines[0].startswith("tg-inviter: fine: passed in ") and lines[0].endswith(" s")
    assert lines[1].startswith("tg-inviter: broken: FAILED (exit code 3) in ")


def test_local_secrets_are_private() -> None:
    secrets_dir = DATA_DIR / "secrets"
    if not secrets_dir.exists():
        pytest.skip("no local services were ever started here")
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    for path in secrets_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- local.env ----------------------------------------------------------------------------


def _clear_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*SECRETS, "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_local_env_keeps_secrets_and_updates_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_secrets(monkeypatch)
    path = tmp_path / ".data" / "local.env"
    no_dotenv = tmp_path / ".env"

    ensure_local_env(
        path, database_url="postgresql://u:p@h:1/a", redis_url=None, dotenv_path=no_dotenv
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = dotenv_values(path)
    assert all(first[name] for name in SECRETS)
    assert first["JWT_SECRET"] != first["CODE_PEPPER"]
    assert len(first["JWT_SECRET"].encode()) >= 32
    assert list(parse_session_keys(first["SESSION_KEYS"])) == ["k1"]
    assert first["DATABASE_URL"] == "postgresql://u:p@h:1/a"
    assert "REDIS_URL" not in first

    ensure_local_env(
        path,
        database_url="postgresql://u:p@h:1/b",
        redis_url="redis://:x@h:2/0",
        dotenv_path=no_dotenv,
    )
    second = dotenv_values(path)
    assert {name: second[name] for name in SECRETS} == {name: first[name] for name in SECRETS}
    assert second["DATABASE_URL"] == "postgresql://u:p@h:1/b"
    assert second["REDIS_URL"] == "redis://:x@h:2/0"

    mtime = path.stat().st_mtime_ns
    ensure_local_env(path, database_url=None, redis_url=None, dotenv_path=no_dotenv)
    assert dotenv_values(path) == second
    assert path.stat().st_mtime_ns == mtime  # nothing changed, nothing written
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_local_env_leaves_configured_secrets_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_secrets(monkeypatch)
    monkeypatch.setenv("JWT_SECRET", "j" * 48)
    dotenv = tmp_path / ".env"
    dotenv.write_text("# mine\nexport CODE_PEPPER='pepper-from-dotenv-0123456789abcdef'\n")
    path = tmp_path / "local.env"

    ensure_local_env(path, database_url=None, redis_url=None, dotenv_path=dotenv)
    values = dotenv_values(path)
    assert "JWT_SECRET" not in values
    assert "CODE_PEPPER" not in values
    assert values["SESSION_KEYS"]


def test_local_env_values_survive_quoting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_secrets(monkeypatch)
    path = tmp_path / "local.env"
    url = "postgresql://u:p$a#s s@h:1/db"
    ensure_local_env(path, database_url=url, redis_url=None, dotenv_path=tmp_path / ".env")
    assert dotenv_values(path)["DATABASE_URL"] == url


def test_is_configured_reads_env_and_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_secrets(monkeypatch)
    dotenv = tmp_path / ".env"
    dotenv.write_text("REDIS_URL=redis://example:6379/0\nDATABASE_URL=\n")
    assert is_configured("REDIS_URL", dotenv_path=dotenv)
    assert not is_configured("DATABASE_URL", dotenv_path=dotenv)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@h:1/a")
    assert is_configured("DATABASE_URL", dotenv_path=dotenv)


def test_pytest_no_tests_collected_is_a_failure() -> None:
    assert map_pytest_exit_code(0) == 0
    assert map_pytest_exit_code(1) == 1
    assert map_pytest_exit_code(2) == 2
    assert map_pytest_exit_code(5) == 1
    assert map_pytest_exit_code(-signal.SIGTERM) == 128 + signal.SIGTERM


# --- supervisor -----------------------------------------------------------------------------


class _Lines:
    """A text stream that collects whole lines and lets a test wait for one."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        *done, self._partial = self._partial.split("\n")
        self.lines.extend(done)
        return len(text)

    def flush(self) -> None:
        pass

    async def wait_for(self, predicate: Callable[[str], bool], timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                if predicate(line):
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching line in {self.lines!r}")
            await asyncio.sleep(0.02)


def _py(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


SLEEPER = "import os, time; print(f'pid={os.getpid()}', flush=True); time.sleep(600)"
STUBBORN = (
    "import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print(f'pid={os.getpid()}', flush=True); time.sleep(600)"
)


def _pid_from(line: str) -> int:
    return int(line.rsplit("pid=", 1)[1])


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def _wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_child_output_is_prefixed_line_by_line() -> None:
    out = _Lines()
    code = (
        "import sys, time\n"
        "print('hello'); print('two\\nlines', flush=True)\n"
        "print('to stderr', file=sys.stderr, flush=True)\n"
        "sys.stdout.write('no newline'); sys.stdout.flush(); time.sleep(600)\n"
    )
    supervisor = Supervisor(
        [ChildSpec("api", _py(code)), ChildSpec("bot", _py(SLEEPER))],
        out=out,
        handle_signals=False,
        started_message="all started",
    )
    task = asyncio.create_task(supervisor.run())
    await out.wait_for(lambda line: line == "[api] to stderr")
    await out.wait_for(lambda line: line.startswith("[bot] pid="))
    supervisor.request_stop()
    assert await asyncio.wait_for(task, 20) == 0
    assert "tg-inviter: all started" in out.lines
    api_lines = [line for line in out.lines if line.startswith("[api] ")]
    assert api_lines == [
        "[api] hello",
        "[api] two",
        "[api] lines",
        "[api] to stderr",
        "[api] no newline",
    ]
    assert all(_gone(pid) for pid in supervisor.pids)


SETTINGS_ERROR = "from core.settings import load_settings; load_settings()"


async def test_child_with_a_settings_error_stops_the_others_and_fails(
    test_env: dict[str, str],
) -> None:
    out = _Lines()
    # Every other setting valid (a fresh clone has no .env), so API_PORT is the one refused.
    supervisor = Supervisor(
        [
            ChildSpec("api", _py(SLEEPER)),
            ChildSpec(
                "workers",
                _py(SETTINGS_ERROR),
                env={**test_env, "API_PORT": "not-a-port"},
                cwd=PROJECT_ROOT,
            ),
        ],
        out=out,
        handle_signals=False,
        restart_delay_s=0.05,
    )
    code = await asyncio.wait_for(supervisor.run(), 30)
    assert code != 0
    assert "[workers] tg-inviter: setting API_PORT is invalid" in "\n".join(out.lines)
    assert any("workers exited with code 2; stopping the others" in line for line in out.lines)
    assert not any("restarting" in line for line in out.lines)
    sleeper = _pid_from(await out.wait_for(lambda line: line.startswith("[api] pid=")))
    assert _gone(sleeper)


def _pids(out: _Lines, name: str) -> list[int]:
    return [_pid_from(line) for line in out.lines if line.startswith(f"[{name}] pid=")]


async def _wait_pids(out: _Lines, name: str, count: int, timeout: float = 15) -> list[int]:
    await out.wait_for(lambda _: len(_pids(out, name)) >= count, timeout)
    return _pids(out, name)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
async def test_child_killed_alone_is_restarted_and_the_others_keep_running(
    sig: signal.Signals,
) -> None:
    out = _Lines()
    supervisor = Supervisor(
        [ChildSpec("api", _py(SLEEPER)), ChildSpec("workers", _py(SLEEPER))],
        out=out,
        handle_signals=False,
        restart_delay_s=0.2,
    )
    task = asyncio.create_task(supervisor.run())
    try:
        [api] = await _wait_pids(out, "api", 1)
        [first] = await _wait_pids(out, "workers", 1)
        os.kill(first, sig)
        second = (await _wait_pids(out, "workers", 2))[1]
        assert second != first and not _gone(second)
        assert f"tg-inviter: workers was killed by {sig.name}; restarting in 0.2 s" in out.lines
        # Twice: the restarted process is watched like the first one.
        os.kill(second, sig)
        third = (await _wait_pids(out, "workers", 3))[2]
        assert not _gone(third) and _gone(first) and _gone(second)
        assert _pids(out, "api") == [api] and not _gone(api)
        assert not task.done()
    finally:
        supervisor.request_stop()
        assert await asyncio.wait_for(task, 20) == 0
    assert _gone(api) and _gone(third)


QUICK_FAILURE = "import os, sys; print(f'pid={os.getpid()}', flush=True); sys.exit(1)"


async def test_restart_back_off_doubles_and_a_child_that_keeps_failing_is_called_out() -> None:
    out = _Lines()
    supervisor = Supervisor(
        [ChildSpec("api", _py(SLEEPER)), ChildSpec("workers", _py(QUICK_FAILURE))],
        out=out,
        handle_signals=False,
        restart_delay_s=0.05,
        restart_delay_max_s=0.4,
        quick_exit_s=30,
        failing_after=3,
    )
    task = asyncio.create_task(supervisor.run())
    try:
        await _wait_pids(out, "workers", 7, timeout=30)
        [api] = _pids(out, "api")
        assert not _gone(api)
    finally:
        supervisor.request_stop()
        assert await asyncio.wait_for(task, 20) == 0
    said = [line for line in out.lines if line.startswith("tg-inviter: workers exited")][:6]
    delays = [float(line.rsplit("restarting in ", 1)[1].removesuffix(" s")) for line in said]
    assert delays == [0.05, 0.1, 0.2, 0.4, 0.4, 0.4]
    # One line per exit: the first two are plain, from the third on it keeps failing.
    assert [("keeps failing" in line) for line in said] == [False, False, True, True, True, True]
    assert "it keeps failing (3 times in a row within 30 s of starting)" in said[2]
    assert all(line.startswith("tg-inviter: workers exited with code 1; ") for line in said)
    assert _gone(api)


async def test_a_long_run_starts_the_back_off_over() -> None:
    out = _Lines()
    runs_a_while = (
        "import os, sys, time; print(f'pid={os.getpid()}', flush=True); "
        "time.sleep(0.3); sys.exit(1)"
    )
    supervisor = Supervisor(
        [ChildSpec("workers", _py(runs_a_while))],
        out=out,
        handle_signals=False,
        restart_delay_s=0.05,
        stable_after_s=0.2,
        quick_exit_s=0.1,
        failing_after=1,
    )
    task = asyncio.create_task(supervisor.run())
    try:
        await _wait_pids(out, "workers", 4)
    finally:
        supervisor.request_stop()
        assert await asyncio.wait_for(task, 20) == 0
    said = [line for line in out.lines if line.startswith("tg-inviter: workers exited")]
    assert len(said) >= 3
    assert all(line.endswith("; restarting in 0.05 s") for line in said)
    assert not any("keeps failing" in line for line in said)


async def test_stop_during_the_back_off_starts_nothing_more() -> None:
    out = _Lines()
    supervisor = Supervisor(
        [ChildSpec("api", _py(SLEEPER)), ChildSpec("workers", _py(SLEEPER))],
        out=out,
        handle_signals=False,
        restart_delay_s=5,
    )
    task = asyncio.create_task(supervisor.run())
    [api] = await _wait_pids(out, "api", 1)
    [worker] = await _wait_pids(out, "workers", 1)
    os.kill(worker, signal.SIGKILL)
    await out.wait_for(lambda line: "workers was killed by SIGKILL; restarting in 5 s" in line)
    started = time.monotonic()
    supervisor.request_stop()
    assert await asyncio.wait_for(task, 20) == 0
    assert time.monotonic() - started < 3  # the back-off is not waited out
    await asyncio.sleep(0.2)
    assert _pids(out, "workers") == [worker]
    assert _gone(api)


async def test_child_ignoring_sigterm_is_killed_after_grace() -> None:
    out = _Lines()
    supervisor = Supervisor(
        [ChildSpec("bot", _py(STUBBORN)), ChildSpec("api", _py(SLEEPER))],
        out=out,
        handle_signals=False,
        grace_s=0.5,
    )
    task = asyncio.create_task(supervisor.run())
    stubborn = _pid_from(await out.wait_for(lambda line: line.startswith("[bot] pid=")))
    polite = _pid_from(await out.wait_for(lambda line: line.startswith("[api] pid=")))
    started = time.monotonic()
    supervisor.request_stop()
    assert await asyncio.wait_for(task, 20) == 0
    assert time.monotonic() - started >= 0.5
    assert any("bot did not stop" in line and "SIGKILL" in line for line in out.lines)
    assert not any("api did not stop" in line for line in out.lines)
    assert _gone(stubborn) and _gone(polite)


SUPERVISOR_MAIN = """
import asyncio, json, sys
from launcher.supervisor import ChildSpec, Supervisor
specs = [ChildSpec(name, argv) for name, argv in json.loads(sys.argv[1])]
supervisor = Supervisor(specs, grace_s=float(sys.argv[2]), restart_delay_s=float(sys.argv[3]))
sys.exit(asyncio.run(supervisor.run()))
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_to_supervisor_stops_every_child(sig: signal.Signals) -> None:
    specs = [["api", _py(SLEEPER)], ["bot", _py(SLEEPER)], ["workers", _py(STUBBORN)]]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SUPERVISOR_MAIN,
        json.dumps(specs),
        "1",
        "0.1",
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    pids: dict[str, int] = {}
    lines: list[str] = []

    async def read_pids(count: int) -> None:
        while len(pids) < count:
            raw = await asyncio.wait_for(proc.stdout.readline(), 15)
            assert raw, f"supervisor ended early: {lines!r}"
            line = raw.decode().rstrip("\n")
            lines.append(line)
            if "pid=" in line:
                name = line.split("]", 1)[0].lstrip("[")
                pids[name if name not in pids else f"restarted {name}"] = _pid_from(line)

    try:
        await read_pids(3)
        # A child killed alone comes back; the supervisor's own signal then stops it too.
        os.kill(pids["bot"], signal.SIGKILL)
        await read_pids(4)
        assert "tg-inviter: bot was killed by SIGKILL; restarting in 0.1 s" in lines
        proc.send_signal(sig)
        rest, _ = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, lines + rest.decode().splitlines()
    for name, pid in pids.items():
        assert await _wait_gone(pid), f"{name} (pid {pid}) survived the supervisor"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


HEALTH_SERVER = """
import http.server, sys, time
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
time.sleep(0.3)
print("listening", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


async def test_next_child_starts_once_the_previous_answers() -> None:
    out = _Lines()
    port = _free_port()
    supervisor = Supervisor(
        [
            ChildSpec(
                "sandbox",
                _py(HEALTH_SERVER, str(port)),
                ready_url=f"http://127.0.0.1:{port}/sandbox/health",
                ready_message="sandbox is up",
            ),
            ChildSpec("api", _py(SLEEPER)),
        ],
        out=out,
        handle_signals=False,
    )
    task = asyncio.create_task(supervisor.run())
    await out.wait_for(lambda line: line.startswith("[api] pid="))
    supervisor.request_stop()
    assert await asyncio.wait_for(task, 20) == 0
    ready = out.lines.index("tg-inviter: sandbox is up")
    api = next(i for i, line in enumerate(out.lines) if line.startswith("[api] "))
    assert ready < api
    assert all(_gone(pid) for pid in supervisor.pids)


async def test_child_that_never_gets_ready_fails_the_start() -> None:
    out = _Lines()
    port = _free_port()
    supervisor = Supervisor(
        [
            ChildSpec(
                "sandbox",
                _py(SLEEPER),
                ready_url=f"http://127.0.0.1:{port}/sandbox/health",
                ready_timeout_s=1,
            ),
            ChildSpec("api", _py(SLEEPER)),
        ],
        out=out,
        handle_signals=False,
    )
    assert await asyncio.wait_for(supervisor.run(), 20) == 1
    assert any("sandbox did not answer" in line for line in out.lines)
    assert not any(line.startswith("[api] ") for line in out.lines)
    assert all(_gone(pid) for pid in supervisor.pids)


# --- start-up lines -------------------------------------------------------------------------


def test_start_up_lines_point_at_the_sandbox_page_first_and_only_in_the_sandbox(
    test_env: dict[str, str],
) -> None:
    from core.settings import Settings
    from launcher.supervisor import app_children, started_message

    base = {k.lower(): v for k, v in test_env.items()} | {"sandbox": "auto", "sandbox_port": "8181"}
    simulated = Settings(_env_file=None, **base)  # type: ignore[call-arg]
    lines = started_message(simulated).splitlines()
    assert lines[0].startswith("try it in a browser: http://127.0.0.1:8181/ "), lines
    assert lines[1].startswith("tg-inviter: panel on "), lines
    assert app_children(simulated)[0].name == "sandbox"

    # With real credentials the sandbox does not run, so there is no page to point at.
    real = Settings(
        _env_file=None,
        **base,
        bot_token="123456:AAE-token_value",  # type: ignore[call-arg]
        telegram_api_id="12345",
        telegram_api_hash="0" * 32,
    )
    assert not real.sandbox_active
    assert started_message(real) == f"panel on {real.effective_panel_url}"
    assert "sandbox" not in [child.name for child in app_children(real)]
