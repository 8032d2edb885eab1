"""A collection from a chat Telegram does not know is refused before anything is saved."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Audience, ParseTask
from tests.api.test_campaigns import Env, _invalid, _ok, _refused, env  # noqa: F401  (fixture)


async def _counts(env: Env) -> tuple[int, int]:
    async with env.setup.sessionmaker() as session:
        tasks = await session.scalar(select(func.count()).select_from(ParseTask))
        audiences = await session.scalar(select(func.count()).select_from(Audience))
    return int(tasks or 0), int(audiences or 0)


async def test_unknown_or_personal_sources_are_refused_and_nothing_is_saved(env: Env) -> None:
    env.setup.world.put_users([{"id": 4242, "first_name": "Pat", "username": "pat_person"}])
    before = await _counts(env)
    resolves = len(env.setup.world.calls("ResolveUsernameRequest"))

    unknown = await _refused(
        await env.api.post(
            "/api/v1/parse-tasks",
            json={"source": "@no_such_chat_here"},
            headers={**env.owner, "Accept-Language": "ru"},
        )
    )
    assert unknown["details"]["problem"] == "source_not_found"
    assert unknown["message"] == _invalid("ru", "source_not_found", source="@no_such_chat_here")
    person = await _refused(
        await env.api.post(
            "/api/v1/parse-tasks", json={"source": "t.me/pat_person"}, headers=env.owner
        )
    )
    assert person["message"] == _invalid("en", "source_is_person", source="@pat_person")
    assert await _counts(env) == before
    # One question each, through one account.
    assert len(env.setup.world.calls("ResolveUsernameRequest")) == resolves + 2

    queued = await _ok(
        await env.api.post(
            "/api/v1/parse-tasks", json={"source": "@other_group"}, headers=env.owner
        ),
        201,
    )
    assert queued["status"] == "queued"
    assert await _counts(env) == (before[0] + 1, before[1] + 1)
