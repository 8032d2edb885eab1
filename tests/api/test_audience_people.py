"""An audience made from a CSV upload, one person's status across campaigns, the export of a
filtered member list, and deleting an audience a campaign was made from.

The person's campaigns are real: the invite engine invites an audience on the sandbox (one
person's privacy refuses), the retention check finds one of the added people gone."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import optouts
from core.audiences import IMPORT_MAX_BYTES
from core.i18n import t
from core.settings import Settings
from db.dal import open_dal
from db.dal_optouts import OptOutDal
from sandbox.server import SandboxServer
from tests.api.conftest import MakeUser, Person
from tests.invites.conftest import OWNER_TG, TARGET, Setup, build_setup, make_audience
from tests.invites.test_retention import job, leave

PEOPLE = list(range(20_001, 20_007))
PRIVATE = 20_006  # their privacy refuses the invite: the follow-up list


async def _auth(login, person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    tokens = await login(person)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _audience_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(text("SELECT count(*) FROM audiences")) or 0)


def _form(name: str | None, data: bytes) -> FormData:
    form = FormData()
    if name is not None:
        form.add_field("name", name)
    form.add_field("file", data, filename="people.csv", content_type="text/csv")
    return form


async def test_an_audience_is_made_from_a_csv_with_its_report(
    api: TestClient, make_user: MakeUser, login
) -> None:  # type: ignore[no-untyped-def]
    auth = await _auth(login, await make_user())
    data = (
        "user_id,username,first_name\n777001,alice_a,Alice\n777002,,Bob\n,carol_c,\nxx,,\n,@x!,\n"
    )
    resp = await api.post(
        "/api/v1/audiences", data=_form("From a file", data.encode()), headers=auth
    )
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    audience, report = body["audience"], body["report"]
    assert (audience["name"], audience["source"], audience["size"]) == ("From a file", "import", 2)
    assert audience["pending_usernames"] == 1 and report["audience_id"] == audience["id"]
    assert (
        report["lines"],
        report["accepted"],
        report["new_members"],
        report["new_usernames"],
    ) == (
        5,
        3,
        2,
        1,
    )
    assert report["unreachable"] == 1  # 777002: an id without a username
    assert [(e["line"], e["problem"]) for e in report["errors"]] == [
        (5, "bad_user_id"),
        (6, "bad_username"),
    ]
    members = await (
        await api.get(f"/api/v1/audiences/{audience['id']}/members", headers=auth)
    ).json()
    assert [m["user_id"] for m in members["items"]] == [777001, 777002]

    # The body as text/csv, the name in the query; one id or @username a line.
    plain = await api.post(
        "/api/v1/audiences?name=Plain%20list",
        data=b"777003\n@dave_d\n",
        headers={**auth, "Content-Type": "text/csv"},
    )
    assert plain.status == 201, await plain.text()
    assert (await plain.json())["report"]["accepted"] == 2
    listed = await (await api.get("/api/v1/audiences", headers=auth)).json()
    assert [a["name"] for a in listed["items"]] == ["From a file", "Plain list"]


async def test_a_bad_file_creates_nothing_and_says_why(
    api: TestClient,
    make_user: MakeUser,
    login,
    sessionmaker: async_sessionmaker[AsyncSession],  # type: ignore[no-untyped-def]
) -> None:
    owner = await make_user()
    auth = await _auth(login, owner)
    ru = auth | {"Accept-Language": "ru"}
    taken = await api.post("/api/v1/audiences", data=_form("Taken", b"12345\n"), headers=auth)
    assert taken.status == 201
    before = await _audience_count(sessionmaker)
    cases: list[tuple[str | None, bytes, str, dict[str, object]]] = [
        ("Latin-1", "user_id,first_name\n1,Jos\xe9\n".encode("latin-1"), "file_encoding", {}),
        ("UTF-16", "user_id\n1\n".encode("utf-16"), "file_encoding", {}),
        ("No id", b"phone,first_name\n+100,Ann\n+200,Ben\n", "csv_no_id_column", {}),
        ("Empty", b"", "csv_empty", {}),
        ("Header only", b"user_id,username\n", "csv_empty", {}),
        ("Nobody", b"user_id,username\nabc,\n-5,\n", "csv_nobody", {"lines": 2}),
        ("NUL", b"user_id\n1\x00\n", "csv_nul", {"line": 2}),
        ("taken", b"12345\n", "audience_exists", {"name": "Taken"}),
        ("   ", b"12345\n", "name", {"max": 128}),
        (None, b"12345\n", "name", {"max": 128}),
        ("x" * 129, b"12345\n", "name", {"max": 128}),
    ]
    for name, data, problem, params in cases:
        for headers, lang in ((auth, "en"), (ru, "ru")):
            resp = await api.post("/api/v1/audiences", data=_form(name, data), headers=headers)
            assert resp.status == 400, (name, await resp.text())
            error = (await resp.json())["error"]
            assert error["details"]["problem"] == problem, (name, error)
            sentence = t(lang, f"problem.{problem}", **({"max": 4096, "max_mb": 5} | params))
            assert sentence.lower() in error["message"].lower(), (name, lang, error)
            assert "{" not in error["message"]
    # Over the limit: 413 before anything is read into an audience.
    huge = b"user_id\n" + b"1234567\n" * (IMPORT_MAX_BYTES // 8 + 1)
    too_big = await api.post("/api/v1/audiences", data=_form("Huge", huge), headers=auth)
    assert too_big.status == 413
    no_file = FormData()
    no_file.add_field("name", "No file")
    assert (await api.post("/api/v1/audiences", data=no_file, headers=auth)).status == 400
    # A "name" field the size of a file is not read whole: refused at its bound.
    long_name = await api.post(
        "/api/v1/audiences", data=_form("n" * 100_000, b"12345\n"), headers=auth
    )
    assert long_name.status == 400
    assert (await long_name.json())["error"]["details"]["field"] == "name"
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=nothing-here"):
        broken = await api.post(
            "/api/v1/audiences?name=Broken",
            data=b"--x\r\nnot a form",
            headers={**auth, "Content-Type": content_type},
        )
        assert broken.status == 400, content_type
        assert (await broken.json())["error"]["details"]["problem"] == "multipart"
    assert await _audience_count(sessionmaker) == before

    # Another workspace's id: 404, and nothing made there either.
    stranger = await _auth(login, await make_user())
    ws = (await (await api.get("/api/v1/me", headers=auth)).json())["workspaces"][0]["id"]
    foreign = await api.post(
        f"/api/v1/audiences?workspace_id={ws}", data=_form("Sneaky", b"1\n"), headers=stranger
    )
    assert foreign.status == 404
    assert await _audience_count(sessionmaker) == before


async def _owner(setup: Setup) -> Person:
    async with open_dal(setup.sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(OWNER_TG)
    assert user is not None
    return Person(user=user, username="boss")


async def test_a_persons_status_across_campaigns(
    api: TestClient,
    make_user: MakeUser,
    login,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    setup = await build_setup(sessionmaker, settings)
    people = setup.people(PEOPLE[:-1], seen_by_tg=901) + setup.people(
        [PRIVATE], seen_by_tg=901, invite_outcome="privacy"
    )
    audience = await make_audience(sessionmaker, setup.ws, "lounge people", people)
    first = await setup.campaign(audience, "target_group", name="First")
    await setup.engine().run_account(await setup.account(901))
    start = datetime.now(UTC)
    async with SandboxServer(world=setup.world, page=False) as sandbox:
        await leave(sandbox, 20_001)
    await job(setup).check_members(start + timedelta(days=1, minutes=1))
    # A second campaign into the same chat: the ledger skips everyone tried before.
    second = await setup.campaign(audience, "target_group", name="Second")
    owner = await _owner(setup)
    async with open_dal(sessionmaker) as dal:
        await optouts.add(OptOutDal(dal.session), owner.user.id, setup.ws, "20002")
    auth = await _auth(login, owner)
    base = f"/api/v1/audiences/{audience}/members"

    left = await (await api.get(f"{base}/20001", headers=auth)).json()
    assert left["member"]["user_id"] == 20_001
    assert [c["campaign_id"] for c in left["campaigns"]] == [second, first]
    again, added = left["campaigns"]
    assert (again["state"], again["reason"], again["retention"]) == (
        "skipped",
        "attempted_before",
        None,
    )
    assert again["reason_text"] == t("en", "reason.attempted_before")
    assert (added["state"], added["chat_id"], added["chat_title"]) == ("invited", TARGET, "Target")
    assert added["retention"]["left"] is True and added["retention"]["stayed_day"] is False
    assert added["follow_up"] is False and added["invite_link"] is None
    assert left["opt_out"] == {
        "workspace": False,
        "reason": None,
        "since": None,
        "everywhere": False,
    }

    stayed = await (await api.get(f"{base}/20003", headers=auth)).json()
    kept = stayed["campaigns"][1]["retention"]
    assert (kept["stayed_day"], kept["left"]) == (True, False)

    opted = await (await api.get(f"{base}/20002", headers=auth)).json()
    assert opted["opt_out"]["workspace"] is True and opted["opt_out"]["reason"] == "owner"

    private = await (
        await api.get(f"{base}/{PRIVATE}?limit=1", headers=auth | {"Accept-Language": "ru"})
    ).json()
    assert [c["campaign_id"] for c in private["campaigns"]] == [second]
    page2 = await (
        await api.get(f"{base}/{PRIVATE}?limit=1&cursor={private['next_cursor']}", headers=auth)
    ).json()
    refused = page2["campaigns"][0]
    assert refused["campaign_id"] == first and page2["next_cursor"] is None
    assert (refused["state"], refused["follow_up"]) == ("failed", True)
    assert refused["reason"] in ("privacy_restricted", "missing_invitee", "not_added")
    assert refused["retention"] is None

    # Someone not in the audience, another workspace, a stranger: 404 alike.
    assert (await api.get(f"{base}/999999", headers=auth)).status == 404
    other = await make_user()
    other_auth = await _auth(login, other)
    async with open_dal(sessionmaker) as dal:
        other_ws = (await dal.list_workspaces(other.user.id))[0].id
    assert (await api.get(f"{base}/20001", headers=other_auth)).status == 404
    foreign = await api.get(f"{base}/20001?workspace_id={setup.ws}", headers=other_auth)
    assert foreign.status == 404
    mine = await make_audience(sessionmaker, other_ws, "theirs", [(20_001, None, None, None)])
    # Their own audience holds the same person: they see it, and none of this workspace's campaigns.
    theirs = await (
        await api.get(f"/api/v1/audiences/{mine}/members/20001", headers=other_auth)
    ).json()
    assert theirs["campaigns"] == [] and theirs["opt_out"]["workspace"] is False
    assert (await api.get(f"/api/v1/audiences/{mine}/members/20001", headers=auth)).status == 404
    for bad in ("0", "-1", "abc", "9" * 19):
        assert (await api.get(f"{base}/{bad}", headers=auth)).status in (400, 404), bad


async def test_the_export_follows_the_member_lists_filter(
    api: TestClient,
    make_user: MakeUser,
    login,  # type: ignore[no-untyped-def]
) -> None:
    auth = await _auth(login, await make_user())
    data = "user_id,username,first_name,premium\n" + "".join(
        f"{800_000 + i},{'name_' + str(i) if i % 2 else ''},N{i},{int(i % 3 == 0)}\n"
        for i in range(30)
    )
    made = await api.post(
        "/api/v1/audiences",
        data=(data + ",only_username\n").encode(),
        headers={**auth, "Content-Type": "text/csv"},
        params={"name": "Export me"},
    )
    audience = (await made.json())["audience"]["id"]
    base = f"/api/v1/audiences/{audience}"

    async def exported(query: str) -> list[dict[str, str]]:
        resp = await api.get(f"{base}/export.csv?{query}", headers=auth)
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("text/csv")
        return list(csv.DictReader(io.StringIO(await resp.text())))

    everyone = await exported("")
    assert len(everyone) == 31 and everyone[-1]["username"] == "only_username"
    listed = await (await api.get(f"{base}/members?q=name_1&limit=100", headers=auth)).json()
    rows = await exported("q=name_1")
    assert [int(r["user_id"]) for r in rows] == [m["user_id"] for m in listed["items"]]
    assert [r["username"] for r in rows] == [
        "name_1",
        "name_11",
        "name_13",
        "name_15",
        "name_17",
        "name_19",
    ]
    both = await exported("username=1&premium=1")
    assert [r["username"] for r in both] == ["name_3", "name_9", "name_15", "name_21", "name_27"]
    assert await exported("q=800007") == [r for r in everyone if r["user_id"] == "800007"]
    for query, problem in (
        ("q=" + "x" * 65, "member_query"),
        ("q=" + "x" * 5000, "member_query"),
        ("last_seen=yesterday", "last_seen"),
        ("premium=maybe", "flag"),
        ("q=a%00b", "nul_character"),
    ):
        resp = await api.get(f"{base}/export.csv?{query}", headers=auth)
        assert resp.status == 400, query
        assert (await resp.json())["error"]["details"]["problem"] == problem, query
    stranger = await _auth(login, await make_user())
    assert (await api.get(f"{base}/export.csv?q=name", headers=stranger)).status == 404


async def test_deleting_an_audience_leaves_its_campaigns_their_people(
    api: TestClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    login,  # type: ignore[no-untyped-def]
) -> None:
    setup = await build_setup(sessionmaker, settings)
    audience = await make_audience(
        sessionmaker, setup.ws, "to delete", setup.people(PEOPLE, seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group", name="Made from it")
    auth = await _auth(login, await _owner(setup))
    assert (await api.delete(f"/api/v1/audiences/{audience}", headers=auth)).status == 200
    assert (await api.get(f"/api/v1/audiences/{audience}", headers=auth)).status == 404
    campaign = await (await api.get(f"/api/v1/campaigns/{cid}", headers=auth)).json()
    assert campaign["id"] == cid
    # The campaign keeps the copy of the audience it took when it was filled.
    assert len(await setup.targets(cid)) == len(PEOPLE)
