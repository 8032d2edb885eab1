"""What a page sends to PostgreSQL (`db/driver.py`): a request that only reads sends no
BEGIN or ROLLBACK, and the caller's role is read once however many layers check it.

Statements are counted where they leave the process: through SQLAlchemy (its cursor event)
and straight through the driver (asyncpg's `execute`, which also carries the adapter's
BEGIN and ROLLBACK, and its `_execute`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from core.auth import STANDING_TTL_S
from db.dal import open_dal
from tests.api.conftest import MakeUser
from tests.api.test_audiences import _auth
from tests.api.test_member_search import _audience


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    statements: list[str] = []

    def through_sqlalchemy(_c: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        statements.append(" ".join(statement.split()))

    def wrap(name: str) -> None:
        real = getattr(asyncpg.Connection, name)

        async def recording(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            statements.append(" ".join(query.split()))
            return await real(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, name, recording)

    wrap("execute")
    wrap("_execute")
    event.listen(Engine, "before_cursor_execute", through_sqlalchemy)
    yield statements
    event.remove(Engine, "before_cursor_execute", through_sqlalchemy)


async def test_a_page_that_only_reads_sends_no_transaction(
    api: TestClient, make_user: MakeUser, login, sessionmaker, sent: list[str]
) -> None:  # type: ignore[no-untyped-def]
    person = await make_user()
    audience_id = await _audience(sessionmaker, person, 120)
    auth = await _auth(login, person)
    me = await api.get("/api/v1/me", headers=auth)  # the token's session is known from here
    workspace = str((await me.json())["workspaces"][0]["id"])
    headers = {**auth, "X-Workspace-Id": workspace}
    async with open_dal(sessionmaker) as dal:
        campaign = await dal.create_campaign(int(workspace), "c", audience_id, "@target")
        await dal.fill_targets(campaign)
        await dal.commit()
    pages = {
        "me": "/api/v1/me",
        "members": f"/api/v1/audiences/{audience_id}/members?limit=50",
        "members q": f"/api/v1/audiences/{audience_id}/members?limit=50&q=anna",
        "audience": f"/api/v1/audiences/{audience_id}",
        "campaigns": "/api/v1/campaigns",
        "campaign": f"/api/v1/campaigns/{campaign}",
        "report": f"/api/v1/campaigns/{campaign}/report",
        "events": f"/api/v1/campaigns/{campaign}/events",
    }
    for name, path in pages.items():
        sent.clear()
        resp = await api.get(path, headers=headers)
        assert resp.status == 200, (name, await resp.text())
        assert sent, name
        control = [
            s for s in sent if s.split(" ")[0].rstrip(";") in ("BEGIN", "ROLLBACK", "COMMIT")
        ]
        assert control == [], (name, sent)
        roles = [s for s in sent if "FROM memberships WHERE user_id" in s]
        assert len(roles) == (0 if name == "me" else 1), (name, sent)
    # Each page is the role and one statement: a page of rows with the check that their
    # audience or campaign is the workspace's, the campaigns with their counts, a campaign
    # with its counts, or everything a report shows (and, once a second, whether the token's
    # session still stands: a read of its own, `STANDING_TTL_S`).
    for name in ("members", "events", "report", "campaigns", "campaign"):
        sent.clear()
        resp = await api.get(pages[name], headers=headers)
        assert resp.status == 200, await resp.text()
        assert len([s for s in sent if "FROM auth_sessions" not in s]) == 2, (name, sent)
    members = await (await api.get(pages["members"], headers=headers)).json()
    assert len(members["items"]) == 50
    listed = await (await api.get(pages["campaigns"], headers=headers)).json()
    shown = await (await api.get(pages["campaign"], headers=headers)).json()
    assert listed["items"][0]["counts"] == shown["counts"] and shown["counts"]["pending"] == 120
    await asyncio.sleep(STANDING_TTL_S + 0.2)
    sent.clear()
    assert (await api.get(pages["members"], headers=headers)).status == 200
    assert len([s for s in sent if "FROM auth_sessions" in s]) == 1, sent
    assert len(sent) == 3, sent
    # Another workspace's campaign and audience, asked for in the caller's own workspace:
    # missing, by that one statement's tenancy check (the role check passes here).
    stranger = await make_user()
    their_audience = await _audience(sessionmaker, stranger, 3)
    async with open_dal(sessionmaker) as dal:
        theirs = (await dal.list_workspaces(stranger.user.id))[0].id
        their_campaign = await dal.create_campaign(theirs, "t", their_audience, "@target")
        await dal.fill_targets(their_campaign)
        await dal.commit()
    for path in (
        f"/api/v1/campaigns/{their_campaign}/events",
        f"/api/v1/campaigns/{their_campaign}/report",
        f"/api/v1/campaigns/{their_campaign}",
        f"/api/v1/audiences/{their_audience}/members?limit=50",
    ):
        resp = await api.get(path, headers=headers)
        assert resp.status == 404, (path, await resp.text())
