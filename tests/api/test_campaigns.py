"""`/api/v1/campaigns` against a sandbox world served over loopback, as in production: the
pre-flight asks it through the linked accounts, the invite engine works the campaign."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import WorkspaceRole
from core.i18n import refusal_message, t
from core.installation import LIMITS_KEY
from core.limits import limits_from
from core.settings import Settings
from db.dal import open_dal
from db.models import Membership
from gateway.telegram import TelegramGateway
from sandbox.server import SandboxServer
from sandbox.world import SandboxClientFactory, World
from sandbox.world.model import Membership as ChatMembership
from tests.api.bodies import conforming
from tests.api.conftest import IssueCode, MakeUser, Person
from tests.invites.conftest import FAST, OWNER_TG, TARGET, Setup, link_accounts, make_audience
from webui_api.app import init_app
from webui_api.campaign_schemas import CampaignList, CampaignReportOut, EventList
from workers.inviting import InviteConfig

OTHER_CHAT = 7_000_002  # the accounts are plain members: nobody may add people
RU = {"Accept-Language": "ru"}
CAMPAIGN_ROUTES = [
    ("GET", ""),
    ("POST", "/preflight"),
    ("GET", "/report"),
    ("GET", "/events"),
    ("POST", "/start"),
    ("POST", "/pause"),
    ("POST", "/resume"),
    ("POST", "/cancel"),
    ("POST", "/duplicate"),
]


@dataclass
class Env:
    api: TestClient
    setup: Setup
    owner: dict[str, str]  # the workspace owner's Authorization header


async def _login(api: TestClient, person: Person, issue_code: IssueCode) -> dict[str, str]:
    code = await issue_code(person)
    resp = await api.post("/api/v1/auth/verify", json={"username": person.username, "code": code})
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}


@pytest.fixture
async def env(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis,
    issue_code: IssueCode,  # type: ignore[no-untyped-def]
) -> AsyncIterator[Env]:
    world = World()
    async with SandboxServer(world=world) as sandbox:
        configured = settings.model_copy(
            update={"sandbox_port": int(sandbox.url.rsplit(":", 1)[1])}
        )
        gateway = TelegramGateway(SandboxClientFactory(sandbox.url))
        ws, accounts = await link_accounts(
            world, gateway, sessionmaker, configured, [901, 902, 903]
        )
        world.put_users([{"id": 900, "first_name": "Creator"}])
        # 901 and 902 may add people to the megagroup; 903 is a plain member.
        world.put_chat(
            TARGET,
            "megagroup",
            "Target",
            username="target_group",
            creator=900,
            members=[903],
            admins={901: ["invite_users"], 902: ["invite_users"]},
        )
        world.put_chat(
            OTHER_CHAT,
            "megagroup",
            "Other",
            username="other_group",
            creator=900,
            members=[901, 902, 903],
        )
        async with TestClient(TestServer(init_app(configured), host="127.0.0.1")) as api:
            async with open_dal(sessionmaker) as dal:
                owner = await dal.get_user_by_telegram_id(OWNER_TG)
            assert owner is not None
            yield Env(
                api,
                Setup(world, gateway, sessionmaker, configured, ws, accounts),
                await _login(api, Person(owner, "boss"), issue_code),
            )


async def _ok(resp: ClientResponse, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _refused(resp: ClientResponse, status: int = 400) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    error: dict[str, Any] = (await resp.json())["error"]
    return error


def _invalid(lang: str, problem: str, **params: object) -> str:
    """The message of a 400 whose problem has a catalog sentence: that sentence alone."""
    return refusal_message(lang, {"problem": problem, **params})


async def _audience(
    env: Env, ids: range | list[int], name: str = "people", **fields: object
) -> int:
    people = env.setup.people(ids, seen_by_tg=901, **fields)
    return await make_audience(env.setup.sessionmaker, env.setup.ws, name, people)


async def _create(
    env: Env, headers: dict[str, str] | None = None, **body: object
) -> dict[str, Any]:
    return await _ok(
        await env.api.post("/api/v1/campaigns", json=body, headers=headers or env.owner), 201
    )


async def test_create_runs_the_preflight(env: Env) -> None:
    s, acc = env.setup, env.setup.accounts
    audience = await _audience(env, range(20_001, 20_007))
    chat = s.world.find_chat(TARGET)
    for member in (20_001, 20_002):
        chat.members[member] = ChatMembership(chat.date)
    async with open_dal(s.sessionmaker) as dal:
        await dal.add_opt_out(s.ws, 20_006)
        await dal.commit()

    created = await _create(
        env, name="  Grow   the group ", audience_id=audience, target="https://t.me/Target_Group"
    )
    assert created["status"] == "draft" and created["name"] == "Grow the group"
    assert created["target"] == {
        "ref": "target_group",
        "chat_id": TARGET,
        "kind": "megagroup",
        "title": "Target",
    }
    pre = created["preflight"]
    assert pre["ready"] is True and (pre["kind"], pre["title"]) == ("megagroup", "Target")
    assert sorted(pre["eligible"]) == sorted([acc[901], acc[902]])
    assert pre["excluded"] == {str(acc[903]): "not_admin"}
    assert pre["exclusion_texts"] == {"not_admin": "not an admin of the chat"}
    assert pre["accounts"] == {str(acc[n]): f"@acc{n}" for n in (901, 902, 903)}
    assert (
        pre["to_invite"],
        pre["already_members"],
        pre["opted_out"],
        pre["attempted_before"],
    ) == (3, 2, 1, 0)
    assert pre["warnings"] == [] and pre["warning_texts"] == {} and pre["unchecked"] == []
    assert pre["days_to_finish"] == 1 and pre["members_complete"] is True
    assert (
        pre["invite_link"].startswith("https://t.me/+")
        and created["invite_link"] == pre["invite_link"]
    )
    limits = limits_from(s.settings)
    assert pre["limits"] == {
        "daily_per_account": limits.daily_per_account,
        "daily_per_chat": limits.daily_per_chat,
        "lifetime_per_chat": limits.lifetime_per_chat,
        "daily_per_target": limits.daily_per_target,
        "pause_min_s": limits.pause_min_s,
        "pause_max_s": limits.pause_max_s,
    }
    assert created["counts"] == {
        "pending": 3,
        "unconfirmed": 0,
        "invited": 0,
        "already_member": 2,
        "failed": 0,
        "skipped": 1,
    }
    assert created["progress"] == {"done": 3, "total": 6}
    assert (
        created["start_at"],
        created["active_hours"],
        created["started_at"],
        created["finished_at"],
    ) == (None, None, None, None)
    assert s.invite_calls() == []  # a pre-flight only looks

    again = await _ok(
        await env.api.get(f"/api/v1/campaigns/{created['id']}", headers=env.owner | RU)
    )
    assert again["preflight"]["exclusion_texts"] == {"not_admin": "не админ чата"}
    assert {k: v for k, v in again.items() if k != "preflight"} == {
        k: v for k, v in created.items() if k != "preflight"
    }


async def test_list_pages_filters_and_schedules(env: Env) -> None:
    audience = await _audience(env, range(20_101, 20_104))
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = await _create(env, name="one", audience_id=audience, target="@target_group")
    later = await _create(
        env,
        name="later",
        audience_id=audience,
        target="@target_group",
        start_at=tomorrow,
        active_hours="22-6",
    )
    third = await _create(env, name="three", audience_id=audience, target="@target_group")
    assert later["start_at"] == tomorrow and later["active_hours"] == "22-6"

    page = await _ok(await env.api.get("/api/v1/campaigns?limit=2", headers=env.owner))
    assert [i["id"] for i in page["items"]] == [third["id"], later["id"]] and page["next_cursor"]
    rest = await _ok(
        await env.api.get(
            f"/api/v1/campaigns?limit=2&cursor={page['next_cursor']}", headers=env.owner
        )
    )
    assert [i["id"] for i in rest["items"]] == [first["id"]] and rest["next_cursor"] is None
    assert set(page["items"][0]) == {
        "id",
        "name",
        "status",
        "waiting_reason",
        "paused_reason",
        "target",
        "counts",
        "progress",
        "created_at",
    }
    assert (
        page["items"][0]["counts"]["pending"] == 3
        and page["items"][0]["target"]["chat_id"] == TARGET
    )

    scheduled = await _ok(
        await env.api.post(f"/api/v1/campaigns/{later['id']}/start", headers=env.owner)
    )
    assert scheduled["status"] == "scheduled" and scheduled["started_at"] is None
    only = await _ok(await env.api.get("/api/v1/campaigns?status=scheduled", headers=env.owner))
    assert [i["id"] for i in only["items"]] == [later["id"]]
    both = await _ok(
        await env.api.get("/api/v1/campaigns?status=draft,%20scheduled", headers=env.owner)
    )
    assert [i["id"] for i in both["items"]] == [third["id"], later["id"], first["id"]]
    # A paused scheduled campaign resumes as scheduled: its start time is still ahead.
    await _ok(await env.api.post(f"/api/v1/campaigns/{later['id']}/pause", headers=env.owner))
    resumed = await _ok(
        await env.api.post(f"/api/v1/campaigns/{later['id']}/resume", headers=env.owner)
    )
    assert resumed["status"] == "scheduled"

    allowed = "draft, approval, scheduled, running, paused, waiting, done, cancelled"
    for lang in ("en", "ru"):
        error = await _refused(
            await env.api.get(
                "/api/v1/campaigns?status=running,finished",
                headers=env.owner | {"Accept-Language": lang},
            )
        )
        assert error["details"] == {
            "field": "status",
            "problem": "campaign_status",
            "allowed": allowed,
        }
        assert error["message"] == _invalid(lang, "campaign_status", allowed=allowed)


async def test_bad_bodies_ids_and_queries_are_explained(env: Env) -> None:
    audience = await _audience(env, [20_201])
    valid = {"name": "ok", "audience_id": audience, "target": "@target_group"}
    for change, field, problem, params in (
        ({"name": "   "}, "name", "campaign_name", {"max": 128}),
        ({"name": "x" * 129}, "name", "campaign_name", {"max": 128}),
        ({"audience_id": 999_999}, "audience_id", "audience_unknown", {}),
        ({"target": "t.me/+AbCdEf"}, "target", "target_no_such_chat", {}),
        ({"target": "http://example.com/x"}, "target", "target_link", {}),
        ({"start_at": "tomorrow"}, "start_at", "start_at", {}),
        ({"start_at": "2020-01-01 09:00"}, "start_at", "start_at_past", {}),
        ({"start_at": "2999-01-01 09:00"}, "start_at", "start_at_far", {"days": 365}),
        ({"active_hours": "25-3"}, "active_hours", "active_hours", {}),
        ({"active_hours": "9-9"}, "active_hours", "active_hours", {}),
    ):
        for lang in ("en", "ru"):
            resp = await env.api.post(
                "/api/v1/campaigns",
                json=valid | change,
                headers=env.owner | {"Accept-Language": lang},
            )
            error = await _refused(resp)
            assert (error["code"], error["details"]["field"], error["details"]["problem"]) == (
                "invalid_input",
                field,
                problem,
            ), change
            assert error["message"] == _invalid(lang, problem, **params)
    assert "1 to 128" in _invalid("en", "campaign_name", max=128)
    assert "от 1 до 128" in _invalid("ru", "campaign_name", max=128)

    # Shape errors name the field (the schema's own wording, after the caller's language).
    for body, field in (
        ({"name": "x", "target": "@target_group"}, "audience_id"),
        (valid | {"audience_id": "abc"}, "audience_id"),
        (valid | {"audience_id": 0}, "audience_id"),
        (valid | {"name": 5}, "name"),
        (valid | {"limits": {"daily_per_acount": 3}}, "limits.daily_per_acount"),
        (valid | {"limits": {"daily_per_chat": 0}}, "limits.daily_per_chat"),
    ):
        error = await _refused(
            await env.api.post("/api/v1/campaigns", json=body, headers=env.owner | RU)
        )
        named = field if "_" in field or "." in field else field.capitalize()
        assert error["message"].startswith(named), error
        assert "Неверный запрос" not in error["message"], error
        assert error["details"]["fields"][0]["field"] == field
    garbage = await env.api.post("/api/v1/campaigns", data=b"{not json", headers=env.owner)
    assert (await _refused(garbage))["details"]["field"] == "body"

    for lang in ("en", "ru"):
        headers = env.owner | {"Accept-Language": lang}
        bad_id = await _refused(await env.api.get("/api/v1/campaigns/abc", headers=headers))
        assert bad_id["details"] == {"field": "campaign_id", "problem": "positive_integer"}
        assert bad_id["message"] == _invalid(lang, "positive_integer", field="campaign_id")
        bad_limit = await _refused(await env.api.get("/api/v1/campaigns?limit=0", headers=headers))
        assert bad_limit["message"] == _invalid(
            lang, "integer_range", field="limit", low=1, high=100
        )
    assert _invalid("ru", "positive_integer", field="campaign_id") == (
        "campaign_id: нужно целое положительное число."
    )
    for method, path, field in (
        ("POST", "/api/v1/campaigns/0/start", "campaign_id"),
        ("GET", "/api/v1/campaigns/%C2%B2", "campaign_id"),  # "²" is a digit to str
        ("GET", "/api/v1/campaigns?limit=%C2%B2", "limit"),
        ("GET", "/api/v1/campaigns/1/events?cursor=-1", "cursor"),
        ("GET", "/api/v1/campaigns/1/report?limit=101", "limit"),
    ):
        error = await _refused(await env.api.request(method, path, headers=env.owner))
        assert error["details"]["field"] == field, path

    # Nothing above left a campaign behind.
    assert (await _ok(await env.api.get("/api/v1/campaigns", headers=env.owner)))["items"] == []


async def test_a_person_as_target_is_refused_before_a_draft_is_written(env: Env) -> None:
    audience = await _audience(env, [20_301])
    body = {"name": "oops", "audience_id": audience, "target": "@acc902"}
    for lang in ("en", "ru"):
        resp = await env.api.post(
            "/api/v1/campaigns", json=body, headers=env.owner | {"Accept-Language": lang}
        )
        error = await _refused(resp)
        assert error["details"] == {"field": "target", "problem": "target_is_person"}
        assert error["message"] == _invalid(lang, "target_is_person")
    listed = await _ok(await env.api.get("/api/v1/campaigns", headers=env.owner))
    assert listed["items"] == []  # checked with one account before anything was written
    active = await _ok(
        await env.api.get(
            "/api/v1/campaigns?status=draft,scheduled,running,paused,waiting", headers=env.owner
        )
    )
    assert active["items"] == []


async def test_one_accounts_telegram_error_leaves_it_unchecked(env: Env) -> None:
    """Telegram failing for one account while it reads its rights: the others still count,
    and that account checks its rights itself when it works the campaign."""
    audience = await _audience(env, [20_302])
    env.setup.world.add_fault("channels.GetParticipant", "CHANNELS_TOO_MUCH", account=901)
    created = await _create(env, name="partly", audience_id=audience, target="@target_group")
    acc = env.setup.accounts
    preflight = created["preflight"]
    assert created["status"] == "draft" and preflight["ready"] is True
    assert preflight["unchecked"] == [acc[901]]
    assert preflight["eligible"] == [acc[902]]
    assert preflight["excluded"] == {str(acc[903]): "not_admin"}


async def test_preflight_problems_keep_the_draft_and_block_the_start(env: Env) -> None:
    audience = await _audience(env, [20_401, 20_402])
    acc = env.setup.accounts
    # A chat nobody has is refused before anything is saved (tests/api/test_chats.py); one
    # that vanishes between the check and the pre-flight keeps the draft, not startable.
    nowhere = await _create(env, name="nowhere", audience_id=audience, target="@target_group")
    async with env.setup.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "UPDATE campaigns SET target_ref = 'no_such_chat', target_chat_id = NULL "
                "WHERE id = :id"
            ),
            {"id": nowhere["id"]},
        )
    pre = await _ok(
        await env.api.post(f"/api/v1/campaigns/{nowhere['id']}/preflight", headers=env.owner)
    )
    pre = pre["preflight"]
    assert (pre["ready"], pre["kind"], pre["warnings"]) == (False, None, ["target_not_found"])
    assert pre["warning_texts"] == {"target_not_found": "None of your accounts can see this chat."}
    assert set(pre["excluded"].values()) == {"cannot_see_chat"} and pre["eligible"] == []
    refused = await _refused(
        await env.api.post(f"/api/v1/campaigns/{nowhere['id']}/start", headers=env.owner), 409
    )
    assert refused["details"]["problem"] == "target_not_found"

    members = await _create(env, name="members", audience_id=audience, target="other_group")
    pre = members["preflight"]
    assert (pre["ready"], pre["warnings"], pre["eligible"]) == (False, ["no_eligible_accounts"], [])
    assert pre["excluded"] == {str(acc[n]): "not_admin" for n in (901, 902, 903)}
    for lang in ("en", "ru"):
        refused = await _refused(
            await env.api.post(
                f"/api/v1/campaigns/{members['id']}/start",
                headers=env.owner | {"Accept-Language": lang},
            ),
            409,
        )
        assert refused["message"] == _invalid(lang, "no_eligible_accounts")
    # An account the chat refuses (banned there, say) is left out; the others still count.
    env.setup.world.add_fault("channels.GetParticipant", "CHANNEL_PRIVATE", account=901)
    refused_one = await _create(env, name="refused", audience_id=audience, target="@target_group")
    assert refused_one["preflight"]["eligible"] == [acc[902]]
    assert refused_one["preflight"]["excluded"] == {
        str(acc[901]): "cannot_see_chat",
        str(acc[903]): "not_admin",
    }
    # Once an account is made an admin, a new pre-flight lets it start.
    env.setup.world.put_chat(
        OTHER_CHAT + 1,
        "megagroup",
        "Third",
        username="third_group",
        creator=900,
        admins={902: ["invite_users"]},
    )
    fixed = await _create(env, name="fixed", audience_id=audience, target="third_group")
    assert fixed["preflight"]["eligible"] == [acc[902]]
    assert set(fixed["preflight"]["excluded"].values()) == {"not_a_member"}
    assert (
        await _ok(await env.api.post(f"/api/v1/campaigns/{fixed['id']}/start", headers=env.owner))
    )["status"] == "running"


async def test_another_workspace_gets_404_on_every_route(
    env: Env, make_user: MakeUser, issue_code: IssueCode
) -> None:
    audience = await _audience(env, [20_501])
    mine = await _create(env, name="mine", audience_id=audience, target="@target_group")
    stranger = await _login(env.api, await make_user(), issue_code)
    for method, tail in CAMPAIGN_ROUTES:
        for path, headers in (
            (f"/api/v1/campaigns/{mine['id']}{tail}", stranger),
            (f"/api/v1/campaigns/{mine['id']}{tail}?workspace_id={env.setup.ws}", stranger),
            (f"/api/v1/campaigns/999999{tail}", env.owner),
        ):
            resp = await env.api.request(method, path, headers=headers)
            error = await _refused(resp, 404)
            assert error["code"] == "not_found", (method, path)
        assert (
            await env.api.request(method, f"/api/v1/campaigns/{mine['id']}{tail}")
        ).status == 401
    assert (await _ok(await env.api.get("/api/v1/campaigns", headers=stranger)))["items"] == []
    foreign = await env.api.post(
        "/api/v1/campaigns",
        json={"name": "x", "audience_id": audience, "target": "@target_group"},
        headers=stranger,
    )
    assert (await _refused(foreign))["details"]["problem"] == "audience_unknown"
    # Untouched by all of that.
    again = await _ok(await env.api.get(f"/api/v1/campaigns/{mine['id']}", headers=env.owner))
    assert again["status"] == "draft"
    assert len((await _ok(await env.api.get("/api/v1/campaigns", headers=env.owner)))["items"]) == 1


async def test_start_run_report_and_events(env: Env) -> None:
    s, acc = env.setup, env.setup.accounts
    people = (
        s.people(range(20_601, 20_613), seen_by_tg=901)
        + s.people([20_613], seen_by_tg=901, invite_outcome="privacy")
        + s.people([20_614], seen_by_tg=901, invite_outcome="missing_invitee")
        + s.people([20_615, 20_616], seen_by_tg=901)
    )
    audience = await make_audience(s.sessionmaker, s.ws, "people", people)
    chat = s.world.find_chat(TARGET)
    chat.members[20_615] = ChatMembership(chat.date)
    async with open_dal(s.sessionmaker) as dal:
        await dal.add_opt_out(s.ws, 20_616)
        await dal.commit()
    created = await _create(env, name="Grow", audience_id=audience, target="@target_group")
    base = f"/api/v1/campaigns/{created['id']}"
    started = await _ok(await env.api.post(base + "/start", headers=env.owner))
    assert started["status"] == "running" and started["started_at"] is not None
    assert started["counts"] == {
        "pending": 14,
        "unconfirmed": 0,
        "invited": 0,
        "already_member": 1,
        "failed": 0,
        "skipped": 1,
    }

    # A first round stops at a daily limit of 4: the counts move, the campaign goes on.
    four = replace(FAST, daily_per_account=4)
    await s.engine(InviteConfig(limits=four, pause_scale=0)).run_account(await s.account(901))
    moving = await _ok(await env.api.get(base, headers=env.owner))
    assert moving["status"] == "running" and moving["counts"]["pending"] == 10
    assert moving["counts"]["invited"] + moving["counts"]["failed"] == 4
    assert moving["progress"] == {"done": 6, "total": 16}

    await s.engine().run_account(await s.account(901))
    done = await _ok(await env.api.get(base, headers=env.owner))
    assert done["status"] == "done" and done["finished_at"] is not None
    assert done["counts"] == {
        "pending": 0,
        "unconfirmed": 0,
        "invited": 12,
        "already_member": 1,
        "failed": 2,
        "skipped": 1,
    }
    assert done["progress"] == {"done": 16, "total": 16}
    invited_once = Counter(u for _a, users, _e in s.invite_calls() for u in users)
    assert invited_once == dict.fromkeys(range(20_601, 20_615), 1)
    # The dashboard's figure: today's attempts of the workspace, from the journal.
    today = await _ok(await env.api.get("/api/v1/invites/today", headers=env.owner))
    assert today["outcomes"] == {
        "invited": 12,
        "already_member": 0,
        "unconfirmed": 0,
        "failed": 2,
        "skipped": 0,
        "retry": 0,
    }
    assert today["total"] == 14 and today["since"].endswith("T00:00:00Z")

    report = await _ok(await env.api.get(base + "/report", headers=env.owner))
    assert report["counts"] == done["counts"]
    assert report["reasons"] == {"missing_invitee": 1, "opted_out": 1, "privacy_restricted": 1}
    assert report["reason_texts"] == {code: t("en", f"reason.{code}") for code in report["reasons"]}
    ru = await _ok(await env.api.get(base + "/report", headers=env.owner | RU))
    assert ru["reason_texts"]["opted_out"] == "попросил не приглашать"
    by_id = {a["id"]: a for a in report["accounts"]}
    assert set(by_id) == set(acc.values())
    mine = by_id[acc[901]]
    assert (
        mine["label"],
        mine["invited"],
        mine["failed"],
        mine["attempts"],
        mine["today"],
        mine["today_in_chat"],
    ) == ("@acc901", 12, 2, 14, 14, 14)
    assert (by_id[acc[902]]["attempts"], by_id[acc[903]]["invited"]) == (0, 0)
    limits = limits_from(s.settings)
    assert mine["limits"] == {
        "daily_per_account": limits.daily_per_account,
        "daily_per_chat": limits.daily_per_chat,
        "lifetime_per_chat": limits.lifetime_per_chat,
        "daily_per_target": limits.daily_per_target,
        "pause_min_s": limits.pause_min_s,
        "pause_max_s": limits.pause_max_s,
    }
    # The admins' maximums as stored now (read in the report's own statement) cap them.
    async with open_dal(s.sessionmaker) as dal:
        await dal.put_installation_setting(LIMITS_KEY, {"daily_per_account": 3}, None)
        await dal.commit()
    capped = await _ok(await env.api.get(base + "/report", headers=env.owner))
    assert {a["limits"]["daily_per_account"] for a in capped["accounts"]} == {3}
    assert capped["counts"] == report["counts"] and capped["follow_up"] == report["follow_up"]

    follow = report["follow_up"]
    assert follow["invite_link"] == done["invite_link"] and follow["invite_link"].startswith(
        "https://t.me/+"
    )
    assert {(f["user_id"], f["reason"]) for f in follow["items"]} == {
        (20_613, "privacy_restricted"),
        (20_614, "missing_invitee"),
    }
    assert follow["next_cursor"] is None
    assert all(f["reason_text"] == t("en", f"reason.{f['reason']}") for f in follow["items"])
    first = (await _ok(await env.api.get(base + "/report?limit=1", headers=env.owner)))["follow_up"]
    second = (
        await _ok(
            await env.api.get(
                f"{base}/report?limit=1&cursor={first['next_cursor']}", headers=env.owner
            )
        )
    )["follow_up"]
    assert first["next_cursor"] and second["next_cursor"] is None
    assert first["items"] + second["items"] == follow["items"]

    everything = await conforming(
        await env.api.get(base + "/events?limit=100", headers=env.owner), EventList
    )
    # The pages written as plain data read back through their declared models.
    assert (
        await conforming(await env.api.get(base + "/report", headers=env.owner), CampaignReportOut)
        == capped
    )
    listed = await conforming(
        await env.api.get("/api/v1/campaigns", headers=env.owner), CampaignList
    )
    assert [i["counts"] for i in listed["items"] if i["id"] == done["id"]] == [done["counts"]]
    assert everything["next_cursor"] is None and len(everything["items"]) == 14
    paged: list[dict[str, Any]] = []
    sizes: list[int] = []
    cursor = ""
    while True:
        page = await _ok(
            await env.api.get(f"{base}/events?limit=5&cursor={cursor}", headers=env.owner | RU)
        )
        paged += page["items"]
        sizes.append(len(page["items"]))
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert sizes == [5, 5, 4]
    assert [e["id"] for e in paged] == [e["id"] for e in everything["items"]]
    assert [e["id"] for e in paged] == sorted({e["id"] for e in paged})
    assert {e["user"]["id"] for e in paged} == set(range(20_601, 20_615))
    assert Counter(e["outcome"] for e in paged) == {"invited": 12, "failed": 2}
    assert {e["account"]["id"] for e in paged} == {acc[901]} and paged[0]["account"][
        "label"
    ] == "@acc901"
    failed = next(e for e in paged if e["user"]["id"] == 20_613)
    assert (failed["reason"], failed["reason_text"]) == (
        "privacy_restricted",
        t("ru", "reason.privacy_restricted"),
    )
    assert set(paged[0]) == {
        "id",
        "at",
        "account",
        "user",
        "outcome",
        "reason",
        "reason_text",
        "error",
    }
    assert failed["error"] == "USER_PRIVACY_RESTRICTED"  # Telegram's own name, verbatim


async def test_steering_by_a_manager_and_refused_steps(
    env: Env,
    make_user: MakeUser,
    issue_code: IssueCode,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_user()
    async with sessionmaker() as session, session.begin():
        session.add(
            Membership(
                workspace_id=env.setup.ws, user_id=person.user.id, role=WorkspaceRole.MANAGER
            )
        )
    manager = await _login(env.api, person, issue_code) | {"X-Workspace-Id": str(env.setup.ws)}
    audience = await _audience(env, range(20_701, 20_704))
    created = await _create(env, manager, name="Team", audience_id=audience, target="@target_group")
    base = f"/api/v1/campaigns/{created['id']}"

    async def step(action: str, lang: str = "en") -> ClientResponse:
        return await env.api.post(f"{base}/{action}", headers=manager | {"Accept-Language": lang})

    for lang in ("en", "ru"):
        error = await _refused(await step("pause", lang))
        assert error["details"] == {
            "field": "status",
            "problem": "transition",
            "current": "draft",
            "wanted": "paused",
        }
        assert error["message"] == _invalid(lang, "transition", current="draft", wanted="paused")
    for lang in ("en", "ru"):
        error = await _refused(await step("resume", lang))
        assert error["details"] == {"field": "status", "problem": "not_paused", "status": "draft"}
        assert error["message"] == _invalid(lang, "not_paused", status="draft")
    assert (await _ok(await step("start")))["status"] == "running"
    assert (await _refused(await step("start")))["details"]["problem"] == "transition"
    assert (await _refused(await step("preflight")))["details"]["problem"] == "preflight_status"
    paused = await _ok(await step("pause"))
    assert paused["status"] == "paused"
    rechecked = await _ok(await step("preflight"))
    assert rechecked["status"] == "paused"
    checked_at = [datetime.fromisoformat(c["preflight"]["checked_at"]) for c in (paused, rechecked)]
    assert checked_at[1] > checked_at[0]
    # A paused campaign gives the workers nobody.
    await env.setup.engine().run_account(await env.setup.account(901))
    assert env.setup.invite_calls() == []
    assert (await _ok(await step("resume")))["status"] == "running"
    cancelled = await _ok(await step("cancel"))
    assert cancelled["status"] == "cancelled" and cancelled["finished_at"] is not None
    for action, problem in (
        ("resume", "not_paused"),
        ("pause", "transition"),
        ("start", "transition"),
        ("cancel", "transition"),
        ("preflight", "preflight_status"),
    ):
        assert (await _refused(await step(action)))["details"]["problem"] == problem, action

    copy = await _ok(await step("duplicate"), 201)
    assert copy["id"] != created["id"] and copy["status"] == "draft" and copy["name"] == "Team (2)"
    assert copy["preflight"] is None and copy["target"]["ref"] == "target_group"
    assert copy["counts"] == {
        "pending": 0,
        "unconfirmed": 0,
        "invited": 0,
        "already_member": 0,
        "failed": 0,
        "skipped": 0,
    }
    not_checked = await _refused(
        await env.api.post(f"/api/v1/campaigns/{copy['id']}/start", headers=manager), 409
    )
    assert not_checked["details"]["problem"] == "preflight_missing"
    checked = await _ok(
        await env.api.post(f"/api/v1/campaigns/{copy['id']}/preflight", headers=manager)
    )
    assert checked["preflight"]["to_invite"] == 3 and checked["counts"]["pending"] == 3
    # The owner sees what the manager did.
    listed = await _ok(await env.api.get("/api/v1/campaigns", headers=env.owner))
    assert [(i["id"], i["status"]) for i in listed["items"]] == [
        (copy["id"], "draft"),
        (created["id"], "cancelled"),
    ]


async def test_openapi_documents_the_campaign_routes(env: Env) -> None:
    doc = await _ok(await env.api.get("/api/v1/openapi.json"))
    paths = doc["paths"]
    assert set(paths["/api/v1/campaigns"]) == {"get", "post"}
    create = paths["/api/v1/campaigns"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CampaignCreate"
    }
    assert create["tags"] == ["campaigns"] and create["security"] == [{"bearer": []}]
    assert doc["components"]["schemas"]["CampaignCreate"]["required"] == [
        "name",
        "audience_id",
        "target",
    ]
    for method, tail in CAMPAIGN_ROUTES:
        op = paths[f"/api/v1/campaigns/{{campaign_id}}{tail}"][method.lower()]
        assert {"400", "401", "404"} <= set(op["responses"]), tail
        assert op["parameters"][0]["name"] == "campaign_id"
    report = paths["/api/v1/campaigns/{campaign_id}/report"]["get"]["responses"]["200"]
    assert report["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CampaignReportOut"
    }
    assert {"CampaignOut", "PreflightOut", "EventList", "CampaignList"} <= set(
        doc["components"]["schemas"]
    )


async def test_a_campaigns_own_limits_are_set_shown_and_never_looser(env: Env) -> None:
    s = env.setup
    installation = limits_from(s.settings)
    audience = await _audience(env, range(26_001, 26_121), "own limits")
    body = {
        "name": "careful",
        "audience_id": audience,
        "target": "@target_group",
        "limits": {
            "daily_per_account": 5,
            "daily_per_target": 8,
            "pause_min_s": installation.pause_max_s + 100,
        },
    }
    created = await _create(env, **body)
    own = created["preflight"]["limits"]
    assert (own["daily_per_account"], own["daily_per_target"]) == (5, 8)
    assert own["pause_min_s"] == own["pause_max_s"] == installation.pause_max_s + 100
    assert own["daily_per_chat"] == installation.daily_per_chat  # not set: the installation's
    # Two eligible accounts, 5 a day each, but 8 a day into the chat: 120 people take 15 days.
    assert created["preflight"]["days_to_finish"] == 15

    for lang in ("en", "ru"):
        for limits, problem, params in (
            (
                {"daily_per_account": installation.daily_per_account + 1},
                "campaign_limit_high",
                {"field": "daily_per_account", "high": installation.daily_per_account},
            ),
            (
                {"daily_per_target": installation.daily_per_target + 1},
                "campaign_limit_high",
                {"field": "daily_per_target", "high": installation.daily_per_target},
            ),
            (
                {"pause_min_s": installation.pause_min_s - 1},
                "campaign_pause_short",
                {"field": "pause_min_s", "low": installation.pause_min_s},
            ),
            # A pause no timedelta holds: the same bound as the admins' maximums.
            (
                {"pause_min_s": 10**15},
                "limit_range",
                {"field": "pause_min_s", "low": 1, "high": 10_000_000},
            ),
        ):
            before = len(await _campaign_ids(env))
            error = await _refused(
                await env.api.post(
                    "/api/v1/campaigns",
                    json=body | {"name": "loose", "limits": limits},
                    headers=env.owner | {"Accept-Language": lang},
                )
            )
            assert error["details"]["problem"] == problem
            assert error["message"] == _invalid(lang, problem, **params)
            assert len(await _campaign_ids(env)) == before  # nothing saved


async def _campaign_ids(env: Env) -> list[int]:
    async with env.setup.sessionmaker() as session:
        return list(await session.scalars(text("SELECT id FROM campaigns")))


async def test_an_audience_with_nobody_left_cannot_start(env: Env) -> None:
    s = env.setup
    audience = await _audience(env, [903], "only members")  # 903 is in the chat already
    created = await _create(env, name="nobody", audience_id=audience, target="@target_group")
    assert created["preflight"]["ready"] is False and created["preflight"]["to_invite"] == 0
    assert "nobody_to_invite" in created["preflight"]["warnings"]
    for lang in ("en", "ru"):
        error = await _refused(
            await env.api.post(
                f"/api/v1/campaigns/{created['id']}/start",
                headers=env.owner | {"Accept-Language": lang},
            ),
            409,
        )
        assert error["details"]["problem"] == "nobody_to_invite"
        assert error["message"] == _invalid(lang, "nobody_to_invite")
    assert (await _ok(await env.api.get(f"/api/v1/campaigns/{created['id']}", headers=env.owner)))[
        "status"
    ] == "draft"
    assert s.invite_calls() == []
