"""Test harness: real PostgreSQL and Redis, migrated with Alembic, isolated per test.

URLs come from TEST_DATABASE_URL / TEST_REDIS_URL (set by `python -m launcher test`);
without them the local servers under `.data/` are started the same way `make run` does.
Sockets may only connect to loopback: no test can reach the real Telegram.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.settings import DATA_DIR, PROJECT_ROOT, Settings
from db.engine import create_engine, create_sessionmaker
from db.models import Base

TEST_DB_NAME = "tg_inviter_test"


# --- loopback only -------------------------------------------------------------------
def _loopback(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths
    host = address[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _loopback(address):
        raise ConnectionRefusedError(f"tests may only connect to loopback, not {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _loopback(address):
        raise ConnectionRefusedError(f"tests may only connect to loopback, not {address!r}")
    return _real_connect_ex(self, address)


# Patching a class of the standard library: its typeshed signatures name a narrower address.
socket.socket.connect = _guarded_connect  # type: ignore[method-assign, assignment]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign, assignment]


# --- servers and settings ---------------------------------------------------------------
@pytest.fixture(scope="session")
def service_urls() -> tuple[str, str]:
    db_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if db_url and redis_url:
        return db_url, redis_url
    from launcher.services import ensure_database, ensure_local_services

    services = ensure_local_services(DATA_DIR)
    db_url = ensure_database(services.database_url, TEST_DB_NAME, recreate=True)
    redis_url = services.redis_url.rsplit("/", 1)[0] + "/1"
    return db_url, redis_url


def _secret() -> str:
    return secrets.token_urlsafe(40)


@pytest.fixture(scope="session")
def test_env(service_urls: tuple[str, str]) -> dict[str, str]:
    """Environment for the processes under test (also handed to subprocesses)."""
    db_url, redis_url = service_urls
    return {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": _secret(),
        "CODE_PEPPER": _secret(),
        "SESSION_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "SANDBOX": "on",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "ADMIN_TELEGRAM_IDS": "",
    }


@pytest.fixture(scope="session")
def settings(test_env: dict[str, str]) -> Settings:
    return Settings(_env_file=None, **{k.lower(): v for k, v in test_env.items()})  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def migrated(service_urls: tuple[str, str]) -> str:
    """`alembic upgrade head` once per run, exactly as the run command does it."""
    from alembic import command
    from alembic.config import Config

    db_url = make_url(service_urls[0]).set(drivername="postgresql+asyncpg")
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = db_url.render_as_string(hide_password=False)
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "head")
    return cfg.attributes["database_url"]


@pytest.fixture
async def engine(migrated: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated, pool_size=5)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def free_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield port
