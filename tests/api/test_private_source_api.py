"""`POST /api/v1/parse-tasks` with a private chat's invite link: the account that joins is
chosen by `account_id` (or is the first that can work), the link is checked through it first,
and a dead link or a foreign account is refused with nothing saved."""

from __future__ import annotations

from sqlalchemy import text

from core.i18n import t
from sandbox.world.invites import make_invite
from tests.api.test_campaigns import Env, _invalid, _ok, _refused, env  # noqa: F401  (fixture)
from tests.api.test_source_check import _counts

PRIVATE = 1_800_000_777


async def test_invite_links_choose_the_joining_account_and_refuse_dead_links(env: Env) -> None:
    world = env.setup.world
    world.put_chat(PRIVATE, "megagroup", "Hidden Hall", creator=900, members=[900])
    chat = world.chats[PRIVATE]
    live = make_invite(world, chat)
    chosen = env.setup.accounts[902]

    task = await _ok(
        await env.api.post(
            "/api/v1/parse-tasks",
            json={"source": live.link, "account_id": chosen},
            headers=env.owner,
        ),
        201,
    )
    assert task["source"] == f"t.me/+{live.hash}"
    checks = world.calls("messages.CheckChatInvite")
    assert [c.account for c in checks] == [902]  # asked through the account that will join

    default = await _ok(
        await env.api.post(
            "/api/v1/parse-tasks", json={"source": f"t.me/joinchat/{live.hash}"}, headers=env.owner
        ),
        201,
    )
    assert default["id"] != task["id"]
    assert world.calls("messages.CheckChatInvite")[-1].account == 901  # the first usable account

    before = await _counts(env)
    expired = await _refused(
        await env.api.post(
            "/api/v1/parse-tasks",
            json={"source": make_invite(world, chat, expired=True).link},
            headers={**env.owner, "Accept-Language": "ru"},
        )
    )
    assert expired["message"] == _invalid("ru", "invite_expired")
    foreign = await _refused(
        await env.api.post(
            "/api/v1/parse-tasks",
            json={"source": live.link, "account_id": 999_999},
            headers=env.owner,
        )
    )
    assert foreign["message"] == _invalid("en", "join_account")
    assert await _counts(env) == before


async def test_a_task_says_why_it_waits_or_failed_in_words(env: Env) -> None:
    """`error` stays a code for programs; `note` is the sentence the panel shows (a join
    request waiting for the chat's admins, or why the task failed)."""
    world = env.setup.world
    world.put_chat(PRIVATE, "megagroup", "Hidden Hall", creator=900, members=[900])
    live = make_invite(world, world.chats[PRIVATE], request_needed=True)
    task = await _ok(
        await env.api.post("/api/v1/parse-tasks", json={"source": live.link}, headers=env.owner),
        201,
    )
    assert task["note"] is None
    for status, code, note in (
        ("queued", "join_requested", t("ru", "task.join_requested")),
        ("failed", "invite_expired", t("ru", "parse.error.invite_expired")),
        ("queued", None, None),
    ):
        async with env.setup.sessionmaker() as s, s.begin():
            await s.execute(
                text("UPDATE parse_tasks SET status = :s, error = :e WHERE id = :id"),
                {"s": status, "e": code, "id": task["id"]},
            )
        seen = await _ok(
            await env.api.get(
                f"/api/v1/parse-tasks/{task['id']}", headers={**env.owner, "Accept-Language": "ru"}
            )
        )
        assert (seen["status"], seen["error"], seen["note"]) == (status, code, note)


async def test_a_refused_task_move_names_both_states_in_words(env: Env) -> None:
    task = await _ok(
        await env.api.post(
            "/api/v1/parse-tasks", json={"source": "@target_group"}, headers=env.owner
        ),
        201,
    )
    async with env.setup.sessionmaker() as s, s.begin():
        await s.execute(
            text("UPDATE parse_tasks SET status = 'done' WHERE id = :id"), {"id": task["id"]}
        )
    for lang in ("en", "ru"):
        refused = await _refused(
            await env.api.post(
                f"/api/v1/parse-tasks/{task['id']}/pause",
                headers={**env.owner, "Accept-Language": lang},
            )
        )
        assert refused["details"] == {
            "field": "status",
            "problem": "task_move",
            "task_status": "done",
            "task_wanted": "paused",
        }
        words = (t(lang, "task.state.done"), t(lang, "task.state.paused"))
        assert all(w in refused["message"] for w in words), refused["message"]
        assert "{" not in refused["message"]
