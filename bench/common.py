"""What the benchmarks share: their database, its migration, and this process's memory."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "tg_inviter_bench"


def bench_database() -> str:
    """BENCH_DATABASE_URL as is (it is emptied!), else `tg_inviter_bench` (re-created) on the
    server of DATABASE_URL, else on the local PostgreSQL that `make run` / `make test` start."""
    from launcher.services import ensure_database

    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    server = os.environ.get("DATABASE_URL")
    if not server:
        from core.settings import DATA_DIR
        from launcher.services import ensure_local_services

        server = ensure_local_services(DATA_DIR, redis=False).database_url
    return ensure_database(server, BENCH_DB, recreate=True)


def migrate(database_url: str) -> str:
    """`alembic upgrade head`, as the run command does it; the asyncpg URL."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy.engine import make_url

    url = (
        make_url(database_url)
        .set(drivername="postgresql+asyncpg")
        .render_as_string(hide_password=False)
    )
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "head")
    return url


def status_kb(field: str) -> int:
    """A field of /proc/self/status in kB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0
