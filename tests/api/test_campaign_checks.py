"""What a campaign's check leaves behind and what a start refuses, through the API.

- A "check and create" whose pre-flight fails (the target turned out to be a person once the
  accounts could be asked) answers with the refusal's sentence and saves no campaign.
- A refused input's message is a sentence for a person: no "Invalid request:" before it, no
  code; the code stays in `details.problem`.
- A campaign of an empty audience, or of one with nobody left to invite, cannot start: the
  campaign says why (`start_problem`, `start_problem_text`, the same rule as the start) and
  a start is a 409 with that sentence, in English and Russian.

The `env` fixture (a sandbox with accounts 901-903, the target megagroup, the API) is the
one of `test_campaigns.py`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from core.i18n import refusal_message
from tests.api.test_campaigns import Env, _audience, _create, _ok, _refused, env  # noqa: F401
from tests.invites.conftest import make_audience

PERSON = 31_001


async def _campaigns(env: Env) -> list[tuple[int, str]]:
    async with env.setup.sessionmaker() as session:
        rows = await session.execute(text("SELECT id, status FROM campaigns ORDER BY id"))
        return [(int(r.id), str(r.status)) for r in rows]


async def _audit(env: Env, action: str) -> list[dict[str, Any]]:
    async with env.setup.sessionmaker() as session:
        rows = await session.scalars(
            text("SELECT details FROM audit_log WHERE action = :a ORDER BY id"), {"a": action}
        )
        return [dict(r) for r in rows]


async def test_a_failed_check_saves_no_campaign(env: Env) -> None:
    world = env.setup.world
    world.put_users([{"id": PERSON, "first_name": "Just", "username": "just_a_person"}])
    audience = await _audience(env, [31_101, 31_102])
    before = await _campaigns(env)
    # While the target is looked up, no account can be asked (each gets an error of the
    # moment), so it is let through; the pre-flight then finds a person, not a chat.
    world.add_fault("ResolveUsernameRequest", "INTERNAL_CHECK_FAILED", 3)
    for lang in ("en", "ru"):
        if lang == "ru":
            world.add_fault("ResolveUsernameRequest", "INTERNAL_CHECK_FAILED", 3)
        error = await _refused(
            await env.api.post(
                "/api/v1/campaigns",
                json={"name": "to a person", "audience_id": audience, "target": "@just_a_person"},
                headers=env.owner | {"Accept-Language": lang},
            )
        )
        assert error["details"]["problem"] == "target_is_person"
        assert error["message"] == refusal_message(lang, {"problem": "target_is_person"})
        assert "target_is_person" not in error["message"]
        assert not error["message"].startswith(("Invalid request", "Неверный запрос"))
        assert error["message"][0].isupper() and error["message"].endswith("."), error
    # Nothing is left: no draft, no cancelled campaign; the audit log keeps the tries.
    assert await _campaigns(env) == before
    assert len(await _audit(env, "campaign.discard")) == 2
    listed = await _ok(await env.api.get("/api/v1/campaigns", headers=env.owner))
    assert [c["id"] for c in listed["items"]] == [c for c, _ in before]


async def test_refusals_read_as_sentences(env: Env) -> None:
    audience = await _audience(env, [31_201])
    for lang, unknown in (("en", "no such audience"), ("ru", "такой нет")):
        error = await _refused(
            await env.api.post(
                "/api/v1/campaigns",
                json={"name": "x", "audience_id": audience + 100, "target": "@target_group"},
                headers=env.owner | {"Accept-Language": lang},
            )
        )
        assert error["details"]["problem"] == "audience_unknown"
        assert unknown in error["message"], error
        assert not error["message"].startswith(("Invalid request", "Неверный запрос")), error
        assert error["message"][0].isupper() and error["message"].endswith("."), error
    # A limit is named in words, not by its field's name.
    error = await _refused(
        await env.api.post(
            "/api/v1/campaigns",
            json={
                "name": "x",
                "audience_id": audience,
                "target": "@target_group",
                "limits": {"daily_per_target": 10_000},
            },
            headers=env.owner,
        )
    )
    assert error["details"]["field"] == "daily_per_target"
    assert error["message"].startswith("Invites into this chat a day: at most"), error


async def test_an_empty_audience_cannot_start(env: Env) -> None:
    empty = await make_audience(env.setup.sessionmaker, env.setup.ws, "empty", [])
    created = await _create(env, name="nobody", audience_id=empty, target="@target_group")
    assert created["preflight"]["ready"] is False and created["preflight"]["to_invite"] == 0
    assert created["start_problem"] == "nobody_to_invite"
    for lang in ("en", "ru"):
        sentence = refusal_message(lang, {"problem": "nobody_to_invite"})
        shown = await _ok(
            await env.api.get(
                f"/api/v1/campaigns/{created['id']}", headers=env.owner | {"Accept-Language": lang}
            )
        )
        assert shown["start_problem_text"] == sentence
        error = await _refused(
            await env.api.post(
                f"/api/v1/campaigns/{created['id']}/start",
                headers=env.owner | {"Accept-Language": lang},
            ),
            409,
        )
        assert (error["code"], error["details"]["problem"]) == ("not_startable", "nobody_to_invite")
        assert error["message"] == sentence
    still = await _ok(await env.api.get(f"/api/v1/campaigns/{created['id']}", headers=env.owner))
    assert still["status"] == "draft" and env.setup.invite_calls() == []

    # A campaign that may start says nothing against it; one that started does not either.
    fine = await _create(
        env, name="fine", audience_id=await _audience(env, [31_301]), target="@target_group"
    )
    assert (fine["start_problem"], fine["start_problem_text"]) == (None, None)
    started = await _ok(
        await env.api.post(f"/api/v1/campaigns/{fine['id']}/start", headers=env.owner)
    )
    assert started["status"] in ("running", "done") and started["start_problem"] is None
