"""Local PostgreSQL and Redis for a checkout that has no DATABASE_URL / REDIS_URL.

Both servers listen on 127.0.0.1 only, keep their data under the given data directory
(`.data/` for `make run`, `.data/test/` for `make test`), and require generated passwords
kept in `secrets/` there. `ensure_local_services` is idempotent: a server already running on
that data directory is reused (on whatever port it listens), and `LocalServices.stop()` stops
only the servers that the same call started.

Ports: each server starts on the port asked for when that port is free, and otherwise on one
the kernel hands out as free (also when no port is asked for, as `make test` does), so that
`make run` and `make test`, or two checkouts, never fight over a port. The port a server
runs on is kept in the data directory (PostgreSQL's own postmaster.pid, `run/redis.port`).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import redis as redis_py
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.engine import make_url

from core.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

LOCAL_HOST = "127.0.0.1"
# The ports `make run` asks for (stable, so that psql/redis-cli lines keep working); taken
# ones give way to free ports.
LOCAL_PG_PORT = 55432
LOCAL_REDIS_PORT = 56379
# Tries to start a server on a port chosen as free, which another process may take first.
PORT_TRIES = 3
LOCAL_DB_NAME = "tg_inviter"
PG_SUPERUSER = "postgres"
# initdb refuses to run as root, so as root the cluster belongs to this OS user.
PG_OS_USER = "postgres"

PG_START_TIMEOUT_S = 60
REDIS_START_TIMEOUT_S = 20
STOP_TIMEOUT_S = 30

POSTGRESQL = "postgresql"
REDIS = "redis"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class LocalServiceError(RuntimeError):
    """A local server could not be prepared; the message says what to do."""


@dataclass
class LocalServices:
    # The URLs carry the generated passwords: keep them out of reprs and logs.
    database_url: str = field(repr=False)
    redis_url: str = field(repr=False)
    started: list[str]
    data_dir: Path | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop the servers this `ensure_local_services` call started; leave the rest."""
        if self.data_dir is None:
            return
        layout = _Layout(self.data_dir)
        for name, stop in ((REDIS, _stop_redis), (POSTGRESQL, _stop_postgres)):
            if name not in self.started:
                continue
            try:
                stop(layout)
            except (OSError, subprocess.SubprocessError, LocalServiceError) as exc:
                log.warning("could not stop %s: %s", name, exc)
            self.started.remove(name)


def ensure_local_services(
    data_dir: Path,
    *,
    postgres: bool = True,
    redis: bool = True,
    pg_port: int | None = LOCAL_PG_PORT,
    redis_port: int | None = LOCAL_REDIS_PORT,
) -> LocalServices:
    """Make sure the local servers run on `data_dir` and return their URLs.

    A server that is not wanted is neither checked nor started, and its URL is "".
    `pg_port`/`redis_port` are the ports to start on when free (None: any free port); a
    server already running on `data_dir` keeps its port.
    Raises `LocalServiceError` with the tail of the server log when one cannot start.
    """
    data_dir = Path(data_dir).resolve()
    layout = _Layout(data_dir)
    layout.prepare()
    started: list[str] = []
    database_url = redis_url = ""
    with _locked(layout.lock_file):
        try:
            if postgres:
                password, port, did_start = _ensure_postgres(layout, pg_port)
                if did_start:
                    started.append(POSTGRESQL)
                server_url = _pg_url(password, port, "postgres")
                database_url = ensure_database(server_url, LOCAL_DB_NAME)
            if redis:
                password, port, did_start = _ensure_redis(layout, redis_port)
                if did_start:
                    started.append(REDIS)
                redis_url = f"redis://:{quote(password, safe='')}@{LOCAL_HOST}:{port}/0"
        except BaseException:
            LocalServices("", "", started, data_dir).stop()
            raise
    return LocalServices(database_url, redis_url, started, data_dir)


def ensure_database(server_url: str, name: str, *, recreate: bool = False) -> str:
    """Create database `name` on the server of `server_url` (drop it first if `recreate`).

    Returns `server_url` pointing at that database. Existing connections to a database
    being recreated are terminated.
    """
    coro = ensure_database_async(server_url, name, recreate=recreate)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from async code: a nested asyncio.run is not allowed in this thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def ensure_database_async(server_url: str, name: str, *, recreate: bool = False) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain database name: {name!r}")
    url = make_url(server_url)
    maintenance = url.set(drivername="postgresql", database="postgres")
    conn = await _connect(maintenance.render_as_string(hide_password=False))
    try:
        if recreate:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # Created concurrently by another process: that is what we wanted.
            with suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def _connect(dsn: str) -> asyncpg.Connection:
    # The server may accept TCP a moment after pg_ctl reports it ready.
    deadline = time.monotonic() + 10
    while True:
        try:
            return await asyncpg.connect(dsn, timeout=5)
        except (OSError, asyncpg.CannotConnectNowError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


# --- layout ----------------------------------------------------------------------------


class _Layout:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pg_dir = data_dir / "pg"
        self.pg_log = data_dir / "pg.log"
        self.run_dir = data_dir / "run"
        self.secrets_dir = data_dir / "secrets"
        self.pg_password_file = self.secrets_dir / "pg_password"
        self.redis_password_file = self.secrets_dir / "redis_password"
        self.redis_dir = data_dir / "redis"
        self.redis_conf = self.redis_dir / "redis.conf"
        self.redis_log = self.redis_dir / "redis.log"
        self.redis_pid = self.run_dir / "redis.pid"
        self.redis_port_file = self.run_dir / "redis.port"
        self.pg_pid = self.pg_dir / "postmaster.pid"
        self.lock_file = data_dir / ".services.lock"

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.secrets_dir.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.secrets_dir, 0o700)
        self.run_dir.mkdir(exist_ok=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Serialises concurrent launchers (e.g. `make test` and a test calling this again).
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_or_create_secret(path: Path) -> tuple[str, bool]:
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value, False
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    os.chmod(path, 0o600)
    return value, True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    tail = "\n".join(text.splitlines()[-lines:])
    return f"last lines of {path}:\n{tail}" if tail else f"({path} is empty)"


# --- ports -----------------------------------------------------------------------------


def port_is_free(port: int, host: str = LOCAL_HOST) -> bool:
    """Whether a server could listen on `host:port` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers themselves bind: a port left in TIME_WAIT by a stopped server is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(preferred: int | None, host: str = LOCAL_HOST) -> int:
    """`preferred` when it is free, otherwise a port the kernel reports free right now.

    Another process may still take the port before our server binds it; the callers retry
    with a new choice (`PORT_TRIES`).
    """
    if preferred is not None and port_is_free(preferred, host):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


# --- PostgreSQL ------------------------------------------------------------------------


def _pg_url(password: str, port: int, database: str) -> str:
    return f"postgresql://{PG_SUPERUSER}:{quote(password, safe='')}@{LOCAL_HOST}:{port}/{database}"


def _running_pg_port(layout: _Layout) -> int | None:
    # postmaster.pid: pid, data directory, start time, port, ... (PostgreSQL's own record).
    try:
        return int(layout.pg_pid.read_text().splitlines()[3])
    except (OSError, IndexError, ValueError):
        return None


def _pg_bindir(cluster_version: str | None) -> Path:
    if cluster_version:
        # A cluster can only be served by binaries of its own major version.
        candidate = Path(f"/usr/lib/postgresql/{cluster_version}/bin")
        if (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        bindir = Path(found).resolve().parent
        if (bindir / "pg_ctl").exists() and (
            cluster_version is None or _bindir_version(bindir) == cluster_version
        ):
            return bindir
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if cluster_version is None and versions:
        return versions[-1]
    if cluster_version:
        raise LocalServiceError(
            f"the local cluster needs PostgreSQL {cluster_version} binaries, which are not "
            "installed; install them or set DATABASE_URL"
        )
    raise LocalServiceError(
        "PostgreSQL is not installed (no initdb in PATH or /usr/lib/postgresql/*/bin); "
        "run scripts/bootstrap.sh or set DATABASE_URL"
    )


def _bindir_version(bindir: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.search(r"(\d+)", out)
    return match.group(1) if match else None


class _PgRunner:
    """Runs PostgreSQL commands as the cluster's owner (`postgres` when we are root)."""

    def __init__(self, layout: _Layout, bindir: Path) -> None:
        self.layout = layout
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                entry = pwd.getpwnam(PG_OS_USER)
            except KeyError:
                raise LocalServiceError(
                    f"running as root needs an OS user {PG_OS_USER!r} to own the cluster "
                    "(the postgresql package creates it); create it or set DATABASE_URL"
                ) from None
            self.uid, self.gid = entry.pw_uid, entry.pw_gid
            self.groups = set(os.getgrouplist(PG_OS_USER, entry.pw_gid))
        else:
            self.uid, self.gid = os.geteuid(), os.getegid()
            self.groups = set(os.getgroups()) | {self.gid}

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            argv = ["runuser", "-u", PG_OS_USER, "--", *argv]
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        env.pop("PGPASSWORD", None)
        # cwd must be reachable by the cluster owner or initdb/pg_ctl complain.
        return subprocess.run(
            argv,
            check=False,  # the callers read the return code
            cwd=self.layout.data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def own(self, path: Path) -> None:
        if self.as_root:
            os.chown(path, self.uid, self.gid)

    def make_reachable(self) -> None:
        """Let the cluster owner traverse every directory down to the data directory.

        When we are root the server runs as `postgres`, which needs search (x) permission
        on each directory above `.data/pg`. Only directories that belong to this checkout
        (the data directory and, when it lies inside the project, the project's own
        directories) are given o+x; a system or home directory that blocks the way is
        reported instead of being changed.
        """
        if not self.as_root:
            return
        data_dir = self.layout.data_dir
        allowed = {data_dir}
        if data_dir.is_relative_to(PROJECT_ROOT):
            allowed.update(p for p in data_dir.parents if p.is_relative_to(PROJECT_ROOT))
        for directory in [*reversed(data_dir.parents), data_dir]:
            if self._can_traverse(directory):
                continue
            if directory in allowed:
                os.chmod(directory, os.stat(directory).st_mode | stat.S_IXOTH)
                continue
            raise LocalServiceError(
                f"PostgreSQL runs as the OS user {PG_OS_USER!r}, which cannot enter "
                f"{directory}; allow it (chmod o+x {directory}), move the checkout, "
                "or set DATABASE_URL"
            )

    def _can_traverse(self, directory: Path) -> bool:
        st = os.stat(directory)
        if st.st_uid == self.uid:
            return bool(st.st_mode & stat.S_IXUSR)
        if st.st_gid in self.groups:
            return bool(st.st_mode & stat.S_IXGRP)
        return bool(st.st_mode & stat.S_IXOTH)


def _cluster_version(layout: _Layout) -> str | None:
    version_file = layout.pg_dir / "PG_VERSION"
    return version_file.read_text().strip() if version_file.exists() else None


def _ensure_postgres(layout: _Layout, wanted_port: int | None) -> tuple[str, int, bool]:
    version = _cluster_version(layout)
    runner = _PgRunner(layout, _pg_bindir(version))
    runner.make_reachable()

    if version is None:
        password = _initdb(layout, runner)
    else:
        if not layout.pg_password_file.exists():
            raise LocalServiceError(
                f"the local cluster {layout.pg_dir} exists but its password file "
                f"{layout.pg_password_file} is gone; delete {layout.pg_dir} to start afresh "
                "(its data is lost) or set DATABASE_URL"
            )
        password, _ = _read_or_create_secret(layout.pg_password_file)

    status = runner.run("pg_ctl", "-D", str(layout.pg_dir), "status")
    if status.returncode == 0:
        running_port = _running_pg_port(layout)
        if running_port is None:
            raise LocalServiceError(
                f"PostgreSQL runs on {layout.pg_dir} but {layout.pg_pid} names no port; "
                "stop it (pg_ctl stop) or set DATABASE_URL"
            )
        _write_pg_conf(layout, runner, running_port)
        return password, running_port, False

    if not layout.pg_log.exists():
        layout.pg_log.touch(mode=0o600)
    runner.own(layout.pg_log)
    for attempt in range(1, PORT_TRIES + 1):
        port = choose_port(wanted_port)
        try:
            _start_postgres(layout, runner, port)
        except LocalServiceError:
            # A port chosen as free that someone took meanwhile: choose again.
            if attempt == PORT_TRIES or port_is_free(port):
                raise
            log.info("port %s was taken before PostgreSQL bound it; trying another", port)
            continue
        return password, port, True
    raise AssertionError("unreachable")


def _start_postgres(layout: _Layout, runner: _PgRunner, port: int) -> None:
    _write_pg_conf(layout, runner, port)
    log.info("starting PostgreSQL on %s:%s (data in %s)", LOCAL_HOST, port, layout.pg_dir)
    try:
        result = runner.run(
            "pg_ctl",
            "-D",
            str(layout.pg_dir),
            "-l",
            str(layout.pg_log),
            "-w",
            "-t",
            str(PG_START_TIMEOUT_S),
            "start",
            timeout=PG_START_TIMEOUT_S + 15,
        )
    except subprocess.TimeoutExpired:
        raise LocalServiceError(
            f"PostgreSQL did not start within {PG_START_TIMEOUT_S} s; {_tail(layout.pg_log)}"
        ) from None
    if result.returncode != 0:
        raise LocalServiceError(
            f"PostgreSQL did not start (pg_ctl: {result.stderr.strip() or result.stdout.strip()}); "
            f"is port {port} taken? {_tail(layout.pg_log)}"
        )


def _initdb(layout: _Layout, runner: _PgRunner) -> str:
    if layout.pg_dir.exists():
        # No PG_VERSION: an initdb that was interrupted; nothing worth keeping.
        shutil.rmtree(layout.pg_dir)
    # A fresh cluster always gets a fresh password.
    layout.pg_password_file.unlink(missing_ok=True)
    password, _ = _read_or_create_secret(layout.pg_password_file)
    log.info("creating a PostgreSQL cluster in %s", layout.pg_dir)

    # initdb reads the password from a file the cluster owner can open; the secrets
    # directory is root-only, so hand it a short-lived copy inside the data directory.
    fd, pwfile = tempfile.mkstemp(dir=layout.data_dir, prefix=".pgpw-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        runner.own(Path(pwfile))
        last_error = ""
        for locale in ("C.UTF-8", "C"):
            layout.pg_dir.mkdir(mode=0o700)
            runner.own(layout.pg_dir)
            result = runner.run(
                "initdb",
                "-D",
                str(layout.pg_dir),
                "-U",
                PG_SUPERUSER,
                "-A",
                "scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                f"--locale={locale}",
            )
            if result.returncode == 0:
                break
            last_error = (result.stderr or result.stdout).strip()
            shutil.rmtree(layout.pg_dir, ignore_errors=True)
        else:
            raise LocalServiceError(f"initdb failed: {last_error}")
    finally:
        os.unlink(pwfile)

    conf = layout.pg_dir / "postgresql.conf"
    with open(conf, "a") as fh:
        fh.write("\n# Local settings written by the tg-inviter launcher on every start.\n")
        fh.write("include_if_exists = 'tg_inviter.conf'\n")
    return password


def _write_pg_conf(layout: _Layout, runner: _PgRunner, port: int) -> None:
    # Rewritten on every start so that a moved checkout still finds its socket directory.
    runner.own(layout.run_dir)
    path = layout.pg_dir / "tg_inviter.conf"
    text = (
        f"listen_addresses = '{LOCAL_HOST}'\n"
        f"port = {port}\n"
        f"unix_socket_directories = '{_pg_quote(str(layout.run_dir))}'\n"
    )
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
        runner.own(path)


def _pg_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "''")


def _stop_postgres(layout: _Layout) -> None:
    version = _cluster_version(layout)
    if version is None:
        return
    runner = _PgRunner(layout, _pg_bindir(version))
    log.info("stopping PostgreSQL")
    result = runner.run(
        "pg_ctl",
        "-D",
        str(layout.pg_dir),
        "-m",
        "fast",
        "-w",
        "-t",
        str(STOP_TIMEOUT_S),
        "stop",
        timeout=STOP_TIMEOUT_S + 15,
    )
    if result.returncode != 0 and "not running" not in (result.stderr + result.stdout):
        log.warning("PostgreSQL did not stop cleanly: %s", result.stderr.strip())


# --- Redis -----------------------------------------------------------------------------


def _redis_client(password: str, port: int) -> redis_py.Redis:
    return redis_py.Redis(
        host=LOCAL_HOST,
        port=port,
        password=password,
        socket_connect_timeout=1,
        socket_timeout=2,
        # The callers poll on their own; built-in retries with backoff only add seconds.
        retry=Retry(NoBackoff(), 0),
    )


def _redis_answers(password: str, port: int) -> bool:
    """True when our server answers; raises when the port holds a different server."""
    client = _redis_client(password, port)
    try:
        return bool(client.ping())
    except redis_py.AuthenticationError:
        raise LocalServiceError(
            f"port {port} on {LOCAL_HOST} is taken by a Redis that does not "
            "accept the local password; stop it or set REDIS_URL"
        ) from None
    except redis_py.ResponseError as exc:
        raise LocalServiceError(
            f"port {port} on {LOCAL_HOST} answers but not like the local "
            f"Redis ({exc}); stop that server or set REDIS_URL"
        ) from None
    except (redis_py.ConnectionError, redis_py.TimeoutError):
        return False
    finally:
        client.close()


def _write_redis_conf(layout: _Layout, password: str, port: int) -> None:
    def q(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    text = "\n".join(
        [
            "# Written by the tg-inviter launcher on every start; edits are overwritten.",
            f"bind {LOCAL_HOST}",
            "protected-mode yes",
            f"port {port}",
            f"requirepass {q(password)}",
            f"dir {q(str(layout.redis_dir))}",
            "appendonly yes",
            "daemonize yes",
            f"pidfile {q(str(layout.redis_pid))}",
            f"logfile {q(str(layout.redis_log))}",
            "",
        ]
    )
    fd = os.open(layout.redis_conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(layout.redis_conf, 0o600)  # holds the password


def _recorded_redis_port(layout: _Layout) -> int | None:
    try:
        return int(layout.redis_port_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _our_redis_runs(layout: _Layout, password: str) -> int | None:
    """The port of the Redis running on this data directory, if one does."""
    # No record: a server started before ports were recorded, on the one fixed port.
    port = _recorded_redis_port(layout) or LOCAL_REDIS_PORT
    pid = _read_pid(layout.redis_pid)
    if pid is None or not _pid_alive(pid):
        return None
    try:
        return port if _redis_answers(password, port) else None
    except LocalServiceError:
        return None  # the recorded port now holds someone else's server


def _ensure_redis(layout: _Layout, wanted_port: int | None) -> tuple[str, int, bool]:
    binary = shutil.which("redis-server")
    password, _ = _read_or_create_secret(layout.redis_password_file)
    running = _our_redis_runs(layout, password)
    if running is not None:
        return password, running, False
    if binary is None:
        raise LocalServiceError(
            "redis-server is not installed; run scripts/bootstrap.sh or set REDIS_URL"
        )
    layout.redis_dir.mkdir(mode=0o700, exist_ok=True)
    for attempt in range(1, PORT_TRIES + 1):
        port = choose_port(wanted_port)
        try:
            _start_redis(layout, binary, password, port)
        except LocalServiceError:
            if attempt == PORT_TRIES or port_is_free(port):
                raise
            log.info("port %s was taken before Redis bound it; trying another", port)
            continue
        return password, port, True
    raise AssertionError("unreachable")


def _start_redis(layout: _Layout, binary: str, password: str, port: int) -> None:
    _write_redis_conf(layout, password, port)
    layout.redis_port_file.write_text(f"{port}\n")
    log.info("starting Redis on %s:%s (data in %s)", LOCAL_HOST, port, layout.redis_dir)
    result = subprocess.run(
        [binary, str(layout.redis_conf)],
        check=False,  # the return code is read below
        cwd=layout.redis_dir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=REDIS_START_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise LocalServiceError(
            f"redis-server did not start: {(result.stderr or result.stdout).strip()}; "
            f"{_tail(layout.redis_log)}"
        )
    deadline = time.monotonic() + REDIS_START_TIMEOUT_S
    while not _our_redis_runs(layout, password):
        if time.monotonic() > deadline:
            raise LocalServiceError(
                f"Redis did not answer on {LOCAL_HOST}:{port} within "
                f"{REDIS_START_TIMEOUT_S} s; is the port taken? {_tail(layout.redis_log)}"
            )
        time.sleep(0.1)


def _stop_redis(layout: _Layout) -> None:
    password = layout.redis_password_file.read_text().strip()
    pid = _read_pid(layout.redis_pid)
    port = _recorded_redis_port(layout) or LOCAL_REDIS_PORT
    log.info("stopping Redis")
    client = _redis_client(password, port)
    try:
        client.shutdown()
    except (redis_py.ConnectionError, redis_py.TimeoutError):
        pass
    except redis_py.ResponseError as exc:
        log.warning("Redis refused to shut down: %s", exc)
    finally:
        client.close()
    if pid is None:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # A daemon that exited may linger as a zombie until init reaps it.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def with_redis_db(url: str, db: int) -> str:
    """`url` with its database index replaced (redis://…/0 → redis://…/1)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


__all__ = [
    "LOCAL_DB_NAME",
    "LOCAL_PG_PORT",
    "LOCAL_REDIS_PORT",
    "LocalServiceError",
    "LocalServices",
    "choose_port",
    "ensure_database",
    "ensure_database_async",
    "ensure_local_services",
    "port_is_free",
    "with_redis_db",
]
