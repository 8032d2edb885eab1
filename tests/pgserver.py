"""A PostgreSQL server of a test's own, on a free loopback port, that the test may stop
and start again (the shared test server must never be restarted under other tests).

As root, the cluster belongs to the `postgres` OS user (initdb refuses to run as root).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config

from core.settings import PROJECT_ROOT

PG_OS_USER = "postgres"


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not versions:
        raise RuntimeError("PostgreSQL is not installed (run scripts/bootstrap.sh)")
    return versions[-1].parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnPostgres:
    """initdb + pg_ctl start/stop on a throwaway data directory (trust auth on loopback)."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.port = _free_port()
        # Not under pytest's tmp_path: the cluster owner must be able to enter it.
        self.root = Path(tempfile.mkdtemp(prefix="tg-inviter-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._owner = pwd.getpwnam(PG_OS_USER) if os.geteuid() == 0 else None
        if self._owner is not None:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / argv[0]), *argv[1:]]
        if self._owner is not None:
            command = ["runuser", "-u", PG_OS_USER, "--", *command]
        return subprocess.run(
            command,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c fsync=off "
            f"-c unix_socket_directories={self.root}"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        """A clean, fast shutdown: sessions are ended as in a restart by an operator."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.asynccontextmanager
async def migrated_own_postgres() -> AsyncIterator[OwnPostgres]:
    """A started server of the test's own with the schema at head, removed afterwards."""
    server = OwnPostgres()
    try:
        await asyncio.to_thread(server.init)
        await asyncio.to_thread(server.start)
        cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
        cfg.attributes["database_url"] = server.url
        cfg.attributes["skip_logging"] = True
        await asyncio.to_thread(command.upgrade, cfg, "head")
        yield server
    finally:
        await asyncio.to_thread(server.remove)
