"""The accounts' history and pages, a campaign's plan, its CSV exports, draft edits and
deletes — against a sandbox world served over loopback, with the real invite engine."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from core.dto import WorkspaceRole
from core.history import since_day
from core.i18n import t
from db.dal import open_dal
from db.dal_history import _INVITE_DAYS, _STATUS_CHANGES
from db.models import Membership
from tests.api.conftest import IssueCode, MakeUser
from tests.api.test_campaigns import (  # noqa: F401 (the `env` fixture)
    RU,
    Env,
    _audience,
    _create,
    _login,
    _ok,
    _refused,
    env,
)
from tests.invites.conftest import FAST, make_audience
from workers.inviting import InviteConfig


def _csv(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


async def _ran_campaign(env: Env) -> tuple[int, str]:
    """A started campaign: 3 people added, 1 refused by privacy, then a flood wait that puts
    account 901 to rest with one person left."""
    s = env.setup
    (private,) = s.people([40_004], seen_by_tg=901, invite_outcome="privacy", username="pat")
    people = [
        *s.people(range(40_001, 40_004), seen_by_tg=901),
        (private[0], "pat", *private[2:]),  # the audience knows their username
        *s.people([40_005], seen_by_tg=901),
    ]
    audience = await make_audience(s.sessionmaker, s.ws, "results", people)
    created = await _create(env, name="Results", audience_id=audience, target="@target_group")
    base = f"/api/v1/campaigns/{created['id']}"
    await _ok(await env.api.post(base + "/start", headers=env.owner))
    four = replace(FAST, daily_per_account=4)
    await s.engine(InviteConfig(limits=four, pause_scale=0)).run_account(await s.account(901))
    s.world.add_fault("channels.InviteToChannel", "FLOOD_WAIT_30", count=1, account=901)
    await s.engine().run_account(await s.account(901))
    return int(created["id"]), base


async def test_history_and_the_account_page(
    env: Env, make_user: MakeUser, issue_code: IssueCode
) -> None:
    s, acc = env.setup, env.setup.accounts
    await _ran_campaign(env)
    history = await _ok(await env.api.get("/api/v1/history?days=30", headers=env.owner))
    today = datetime.now(UTC).date().isoformat()
    assert history["days"] == 30
    assert history["since"] == (datetime.now(UTC).date() - timedelta(days=29)).isoformat()
    assert {a["id"]: a["label"] for a in history["accounts"]} == {
        acc[n]: f"@acc{n}" for n in (901, 902, 903)
    }
    mine = {
        (c["outcome"], c["reason"], c["counted"]): c["n"]
        for c in history["invites"]
        if c["account_id"] == acc[901] and c["day"] == today
    }
    assert mine == {
        ("invited", None, True): 3,
        ("failed", "privacy_restricted", True): 1,
        ("retry", "flood", False): 1,  # the flood wait spent nothing
    }
    assert history["outcome_texts"]["invited"] == t("en", "outcome.invited")
    assert history["reason_texts"]["flood"] == t("en", "reason.flood")
    rests = [c for c in history["changes"] if c["account_id"] == acc[901]]
    assert [c["status"] for c in rests][-1] == "cooldown"
    assert rests[-1]["reason"] == "FLOOD_WAIT_30" and rests[-1]["until"] is not None
    assert rests[-1]["reason_text"] == t("en", "reason.flood")
    assert rests[-1]["status_text"] == t("en", "accounts.status.cooldown")

    page = await _ok(await env.api.get(f"/api/v1/accounts/{acc[901]}", headers=env.owner | RU))
    assert page["account"]["status"] == "cooldown" and page["label"] == "@acc901"
    assert page["status_text"] == t("ru", "accounts.status.cooldown")
    assert page["reason_text"] == t("ru", "reason.flood")
    assert (
        page["rest_until"] is not None and page["account"]["cooldown_until"] == page["rest_until"]
    )
    assert page["account"]["usage_today"] == 4  # invited 3 + privacy 1; the flood is refunded
    assert page["totals"] == {"attempts": 4, "invited": 3}
    assert page["limits"]["daily_per_account"] == s.settings.invite_daily_per_account
    assert {c["account_id"] for c in page["history"]["invites"]} == {acc[901]}
    assert page["history"]["accounts"] == [{"id": acc[901], "label": "@acc901"}]
    assert page["history"]["reason_texts"]["flood"] == t("ru", "reason.flood")

    # Hostile and foreign input.
    for bad in ("0", "91", "-1", "x", "1e3", "%00"):
        error = await _refused(await env.api.get(f"/api/v1/history?days={bad}", headers=env.owner))
        assert error["details"]["field"] in ("days", "query"), error
    stranger = await _login(env.api, await make_user(), issue_code)
    for path in (f"/api/v1/accounts/{acc[901]}", f"/api/v1/history?workspace_id={s.ws}"):
        assert (await _refused(await env.api.get(path, headers=stranger), 404))["code"] == (
            "not_found"
        )
        assert (await env.api.get(path)).status == 401
    assert (await _ok(await env.api.get("/api/v1/history", headers=stranger)))["accounts"] == []
    await _refused(await env.api.get("/api/v1/accounts/999999", headers=env.owner), 404)
    await _refused(await env.api.get("/api/v1/accounts/abc", headers=env.owner), 400)


async def test_the_history_query_walks_the_index(env: Env) -> None:
    """On a journal of many events (and many status changes) the workspace's 30 days are read
    through the (account, time) indexes, not by scanning the tables."""
    s = env.setup
    ids = list(s.accounts.values())
    async with s.sessionmaker() as session, session.begin():
        # Other workspaces' accounts, busy for months.
        await session.execute(
            text("""INSERT INTO invite_events (at, workspace_id, account_id, chat_id, tg_user_id,
                                               outcome, counted)
                    SELECT now() - make_interval(secs => g * 60), :ws, 100000 + g % 50, 1, g,
                           'invited', true
                      FROM generate_series(1, 200000) g"""),
            {"ws": s.ws},
        )
        await session.execute(
            text("""INSERT INTO account_status_changes (account_id, workspace_id, at, status)
                    SELECT :a, :ws, now() - make_interval(secs => g * 60), 'active'
                      FROM generate_series(1, 100000) g"""),
            {"a": ids[0], "ws": s.ws},
        )
        await session.execute(text("ANALYZE invite_events"))
        await session.execute(text("ANALYZE account_status_changes"))
        plans = []
        for query in (_INVITE_DAYS, _STATUS_CHANGES):
            rows = await session.execute(
                text("EXPLAIN " + str(query)),
                {"ids": ids[1:], "since": since_day(datetime.now(UTC), 30)},
            )
            plans.append("\n".join(r[0] for r in rows))
        await session.rollback()
    # Either index that starts with the account serves it: (account, time) or (account, chat, time).
    assert "using ix_invite_events_account_" in plans[0], plans[0]
    assert "Seq Scan" not in plans[0], plans[0]
    assert "ix_account_status_changes_account_at" in plans[1], plans[1]
    assert "Seq Scan" not in plans[1], plans[1]


async def test_exports_stream_the_attempts_and_the_follow_up_list(
    env: Env, make_user: MakeUser, issue_code: IssueCode
) -> None:
    s, acc = env.setup, env.setup.accounts
    campaign_id, base = await _ran_campaign(env)
    resp = await env.api.get(base + "/attempts.csv", headers=env.owner | RU)
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert f'filename="campaign-{campaign_id}-attempts.csv"' in resp.headers["Content-Disposition"]
    rows = _csv(await resp.text())
    assert [r["user_id"] for r in rows][:4] == ["40001", "40002", "40003", "40004"]
    assert all(r["account_id"] == str(acc[901]) and r["account"] == "@acc901" for r in rows), rows
    privacy = next(r for r in rows if r["user_id"] == "40004")
    assert (privacy["username"], privacy["outcome"], privacy["reason"]) == (
        "pat",
        "failed",
        "privacy_restricted",
    )
    assert privacy["outcome_text"] == t("ru", "outcome.failed")
    assert privacy["reason_text"] == t("ru", "reason.privacy_restricted")
    assert privacy["error"] == "USER_PRIVACY_RESTRICTED"
    flood = next(r for r in rows if r["reason"] == "flood")
    assert (flood["outcome"], flood["error"]) == ("retry", "FLOOD_WAIT_30")
    assert len(rows) == 5 and all(r["time_utc"].endswith("Z") for r in rows)
    # The same events the JSON list gives.
    events = await _ok(await env.api.get(base + "/events?limit=100", headers=env.owner))
    assert [int(r["user_id"]) for r in rows] == [e["user"]["id"] for e in events["items"]]

    follow = await env.api.get(base + "/follow-up.csv", headers=env.owner)
    assert follow.status == 200
    listed = _csv(await follow.text())
    link = (await _ok(await env.api.get(base, headers=env.owner)))["invite_link"]
    assert link and listed == [
        {
            "user_id": "40004",
            "username": "pat",
            "first_name": "",  # the audience has no name for them
            "reason": "privacy_restricted",
            "reason_text": t("en", "reason.privacy_restricted"),
            "invite_link": link,
        }
    ]

    stranger = await _login(env.api, await make_user(), issue_code)
    for tail in ("/attempts.csv", "/follow-up.csv"):
        await _refused(await env.api.get(base + tail, headers=stranger), 404)
        await _refused(
            await env.api.get(base + tail + f"?workspace_id={s.ws}", headers=stranger), 404
        )
        await _refused(await env.api.get("/api/v1/campaigns/999999" + tail, headers=env.owner), 404)
        assert (await env.api.get(base + tail)).status == 401


async def test_a_formula_in_a_name_is_not_a_formula_in_the_file(env: Env) -> None:
    s = env.setup
    people = s.people([40_101], seen_by_tg=901, invite_outcome="privacy")
    audience = await make_audience(s.sessionmaker, s.ws, "formula", people)
    async with s.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE audience_members SET first_name = '=cmd|x' WHERE audience_id = :a"),
            {"a": audience},
        )
    created = await _create(env, name="F", audience_id=audience, target="@target_group")
    base = f"/api/v1/campaigns/{created['id']}"
    await _ok(await env.api.post(base + "/start", headers=env.owner))
    await s.engine().run_account(await s.account(901))
    listed = _csv(await (await env.api.get(base + "/follow-up.csv", headers=env.owner)).text())
    assert listed[0]["first_name"] == "'=cmd|x"


async def test_the_plan_of_a_running_campaign(env: Env) -> None:
    audience = await _audience(env, range(40_201, 40_206))
    created = await _create(
        env,
        name="Plan",
        audience_id=audience,
        target="@target_group",
        limits={"daily_per_account": 2, "daily_per_target": 4},
    )
    base = f"/api/v1/campaigns/{created['id']}"
    draft = await _ok(await env.api.get(base + "/plan", headers=env.owner))
    assert draft["next_attempt_at"] is None  # a draft is not worked
    assert draft["to_invite"] == 5 and draft["accounts"] == 2
    # Two accounts at 2 a day each: 4 a day, so two days; the pre-flight's own figure.
    assert draft["days_to_finish"] == 2 and created["preflight"]["days_to_finish"] == 2
    assert draft["own_limits"] == {"daily_per_account": 2, "daily_per_target": 4}
    assert draft["limits"]["daily_per_account"] == 2
    await _ok(await env.api.post(base + "/start", headers=env.owner))
    running = await _ok(await env.api.get(base + "/plan", headers=env.owner))
    at = datetime.fromisoformat(running["next_attempt_at"])
    assert abs((at - datetime.now(UTC)).total_seconds()) < 5  # free now
    assert running["finish_by"] == (datetime.now(UTC).date() + timedelta(days=1)).isoformat()


async def test_a_draft_is_edited_with_the_checks_of_a_creation(
    env: Env, make_user: MakeUser, issue_code: IssueCode
) -> None:
    s = env.setup
    first = await _audience(env, range(40_301, 40_304), name="first")
    second = await _audience(env, range(40_311, 40_313), name="second")
    created = await _create(env, name="Draft", audience_id=first, target="@target_group")
    base = f"/api/v1/campaigns/{created['id']}"

    edited = await _ok(
        await env.api.patch(
            base,
            json={
                "name": "  Draft  two ",
                "audience_id": second,
                "active_hours": "9-21",
                "limits": {"pause_min_s": s.settings.invite_pause_max_s + 60},
            },
            headers=env.owner,
        )
    )
    assert edited["name"] == "Draft two" and edited["active_hours"] == "9-21"
    assert edited["audience_id"] == second
    # The new audience's people, counted by the pre-flight that ran again.
    assert edited["counts"]["pending"] == 2 and edited["preflight"]["to_invite"] == 2
    plan = await _ok(await env.api.get(base + "/plan", headers=env.owner))
    assert plan["own_limits"]["pause_min_s"] == s.settings.invite_pause_max_s + 60

    before = await _ok(await env.api.get(base, headers=env.owner))
    refused = [
        ({"name": ""}, "campaign_name"),
        ({"name": "x" * 129}, "campaign_name"),
        ({"audience_id": 999_999}, "audience_unknown"),
        ({"target": "not a chat!"}, "target_link"),
        ({"target": "@no_such_chat_here"}, "target_no_such_chat"),
        ({"active_hours": "25-3"}, "active_hours"),
        ({"start_at": "2001-01-01T00:00:00Z"}, "start_at_past"),
        ({"limits": {"daily_per_account": 10**9}}, "limit_range"),
        ({"limits": {"pause_min_s": 1}}, "campaign_pause_short"),
        ({"name": "ok", "limits": {"daily_per_account": 10**6}}, None),
    ]
    for body, problem in refused:
        error = await _refused(await env.api.patch(base, json=body, headers=env.owner))
        if problem is not None:
            assert error["details"]["problem"] == problem, (body, error)
        assert "Invalid request" not in error["message"]
    for body in ({"id": 5}, {"name": 5}, [], {"name": "a\u0000b"}):
        await _refused(await env.api.patch(base, json=body, headers=env.owner))
    # Nothing of it was written.
    assert await _ok(await env.api.get(base, headers=env.owner)) == before

    # Only a draft: a started campaign refuses every edit.
    await _ok(await env.api.post(base + "/start", headers=env.owner))
    error = await _refused(await env.api.patch(base, json={"name": "late"}, headers=env.owner))
    assert error["details"]["problem"] == "not_draft"
    stranger = await _login(env.api, await make_user(), issue_code)
    await _refused(await env.api.patch(base, json={"name": "x"}, headers=stranger), 404)
    await _refused(
        await env.api.patch("/api/v1/campaigns/999999", json={"name": "x"}, headers=env.owner), 404
    )


async def test_drafts_are_deleted_all_or_none(
    env: Env, make_user: MakeUser, issue_code: IssueCode
) -> None:
    s = env.setup
    audience = await _audience(env, range(40_401, 40_403))
    drafts = [
        (await _create(env, name=f"d{n}", audience_id=audience, target="@target_group"))["id"]
        for n in range(3)
    ]
    started = (await _create(env, name="run", audience_id=audience, target="@target_group"))["id"]
    await _ok(await env.api.post(f"/api/v1/campaigns/{started}/start", headers=env.owner))

    # A started campaign among them: nothing is deleted.
    error = await _refused(
        await env.api.post(
            "/api/v1/campaign-deletions", json={"ids": [drafts[0], started]}, headers=env.owner
        )
    )
    assert error["details"]["problem"] == "not_draft"
    stranger = await _login(env.api, await make_user(), issue_code)
    foreign = (
        await env.api.post(
            "/api/v1/campaign-deletions", json={"ids": [drafts[0]]}, headers=stranger
        )
    ).status
    assert foreign == 404
    bodies: list[object] = [
        {"ids": []},
        {"ids": list(range(1, 102))},
        {"ids": ["a"]},
        {},
        {"ids": 5},
    ]
    for body in bodies:
        await _refused(
            await env.api.post("/api/v1/campaign-deletions", json=body, headers=env.owner)
        )
    listed = await _ok(await env.api.get("/api/v1/campaigns", headers=env.owner))
    assert len(listed["items"]) == 4

    # A manager deletes their own drafts, not the owner's.
    manager_person = await make_user()
    async with open_dal(s.sessionmaker) as dal:
        dal.session.add(
            Membership(
                workspace_id=s.ws, user_id=manager_person.user.id, role=WorkspaceRole.MANAGER
            )
        )
        await dal.commit()
    manager = await _login(env.api, manager_person, issue_code)
    theirs = (
        await _create(
            env,
            manager | {"X-Workspace-Id": str(s.ws)},
            name="m",
            audience_id=audience,
            target="@target_group",
        )
    )["id"]
    as_manager = manager | {"X-Workspace-Id": str(s.ws)}
    refused = await env.api.post(
        "/api/v1/campaign-deletions", json={"ids": [theirs, drafts[0]]}, headers=as_manager
    )
    assert refused.status == 403
    gone = await _ok(
        await env.api.post("/api/v1/campaign-deletions", json={"ids": [theirs]}, headers=as_manager)
    )
    assert gone == {"deleted": [theirs]}

    # The owner deletes any draft, many at once; a second time they are gone (404).
    gone = await _ok(
        await env.api.post(
            "/api/v1/campaign-deletions", json={"ids": [*drafts[:2], drafts[0]]}, headers=env.owner
        )
    )
    assert gone == {"deleted": drafts[:2]}
    single = await _ok(await env.api.delete(f"/api/v1/campaigns/{drafts[2]}", headers=env.owner))
    assert single == {"deleted": [drafts[2]]}
    await _refused(await env.api.delete(f"/api/v1/campaigns/{drafts[2]}", headers=env.owner), 404)
    left = await _ok(await env.api.get("/api/v1/campaigns", headers=env.owner))
    assert [i["id"] for i in left["items"]] == [started]
    async with s.sessionmaker() as session:
        targets = await session.scalar(
            text("SELECT count(*) FROM campaign_targets WHERE campaign_id = ANY(:ids)"),
            {"ids": drafts},
        )
        audit = await session.scalar(
            text("SELECT count(*) FROM audit_log WHERE action = 'campaign.delete'")
        )
    assert targets == 0 and audit == 3
