"""PostgreSQL away (restarted, stopped): the API answers a clear 503 with Retry-After — never
a 500 with a traceback — and works again as soon as the server is back."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from core.auth import build_auth_service
from core.dto import TelegramProfile
from core.settings import Settings
from core.users import register
from db.dal import open_dal
from db.engine import create_engine, create_sessionmaker
from db.kv import RedisNotifier, RedisThrottle
from tests.api.test_redis_loss import assert_unavailable, bearer
from tests.logcapture import captured_logs, lines
from tests.pgserver import migrated_own_postgres
from webui_api.app import init_app


async def test_postgresql_down_is_503_then_works_again(settings: Settings, redis: Redis) -> None:
    async with migrated_own_postgres() as server:
        ours = settings.model_copy(update={"database_url": server.url})
        engine = create_engine(server.url, pool_size=1)
        sessionmaker = create_sessionmaker(engine)
        auth = build_auth_service(ours, RedisThrottle(redis), RedisNotifier(redis))
        async with open_dal(sessionmaker) as dal:
            user, _ = await register(
                dal, TelegramProfile(880_001, "pg_away", "Pg", None, "en"), admin_ids=()
            )
            first = (await auth.issue_code(dal, user)).code

        with captured_logs("api") as buffer:
            async with TestClient(TestServer(init_app(ours), host="127.0.0.1")) as api:
                verified = await api.post(
                    "/api/v1/auth/verify", json={"username": "pg_away", "code": first}
                )
                assert verified.status == 200, await verified.text()
                tokens = await verified.json()
                assert (await api.get("/api/v1/campaigns", headers=bearer(tokens))).status == 200
                async with open_dal(sessionmaker) as dal:  # a code asked for before the outage
                    second = (await auth.issue_code(dal, user)).code
                await engine.dispose()

                await asyncio.to_thread(server.stop)

                exchange = await api.post(
                    "/api/v1/auth/verify", json={"username": "pg_away", "code": second}
                )
                assert_unavailable(exchange.status, exchange.headers, await exchange.json())
                for path in ("/api/v1/campaigns", "/api/v1/audiences", "/api/v1/accounts"):
                    call = await api.get(path, headers={**bearer(tokens), "Accept-Language": "ru"})
                    body = await call.json()
                    assert_unavailable(call.status, call.headers, body)
                    assert "недоступен" in body["error"]["message"]

                await asyncio.to_thread(server.start)
                async with asyncio.timeout(5):  # the pool reconnects on the next request
                    while (
                        await api.get("/api/v1/campaigns", headers=bearer(tokens))
                    ).status != 200:
                        await asyncio.sleep(0.1)
                # The refused exchange did not use the code up.
                again = await api.post(
                    "/api/v1/auth/verify", json={"username": "pg_away", "code": second}
                )
                assert again.status == 200, await again.text()

    logged = lines(buffer)
    assert not [e for e in logged if e.get("level") == "error" or "exception" in e]
    assert {e["route"] for e in logged if e.get("event") == "database unreachable"} >= {
        "/api/v1/auth/verify",
        "/api/v1/campaigns",
    }
