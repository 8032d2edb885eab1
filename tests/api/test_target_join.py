"""POST /api/v1/campaigns/{id}/join: the pre-flight offers the accounts that are not in the
target (`can_join`), and the owner lets one join — by the chat's username
(channels.joinChannel) or its invite link (messages.importChatInvite, with an approval when
the chat asks for one) — at the pace of joins, then the target is checked again. Through the
real API over loopback to a sandbox server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import WorkspaceRole
from db.dal_parsing import LAST_JOIN, last_join_params
from db.models import Membership
from sandbox.world.invites import approve, make_invite
from tests.api.conftest import IssueCode, MakeUser
from tests.api.test_campaigns import (
    Env,
    _audience,
    _create,
    _invalid,
    _login,
    _ok,
    _refused,
    env,  # noqa: F401  (the fixture)
)

OPEN, BASIC, ASKING = 7_000_090, 7_000_091, 7_000_092


async def _join(env: Env, campaign: int, account: int, **headers: str) -> Any:
    return await env.api.post(
        f"/api/v1/campaigns/{campaign}/join",
        json={"account_id": account},
        headers=env.owner | headers,
    )


async def test_an_account_joins_a_public_target_then_waits_to_be_made_admin(env: Env) -> None:
    world, acc = env.setup.world, env.setup.accounts
    world.put_chat(OPEN, "megagroup", "Open Club", username="open_club", creator=902, members=[900])
    audience = await _audience(env, [30_101, 30_102])
    created = await _create(env, name="open", audience_id=audience, target="@open_club")
    pre = created["preflight"]
    assert pre["eligible"] == [acc[902]]
    assert pre["excluded"] == {str(acc[901]): "not_a_member", str(acc[903]): "not_a_member"}
    assert pre["can_join"] == [acc[901], acc[903]]

    joined = await _ok(await _join(env, created["id"], acc[901]))
    assert joined["outcome"] == "joined"
    assert joined["message"] == (
        "@acc901 joined the chat. To add people it must also be an admin of the chat "
        "with the right to add members."
    )
    assert 901 in world.find_chat(OPEN).members
    assert [c.account for c in world.calls("JoinChannelRequest")] == [901]
    after = joined["campaign"]["preflight"]
    assert after["excluded"][str(acc[901])] == "not_admin" and after["can_join"] == [acc[903]]

    # One join per account every two minutes: the next one is refused, nothing is called.
    for lang in ("en", "ru"):
        again = await _refused(
            await _join(env, created["id"], acc[901], **{"Accept-Language": lang})
        )
        assert again["details"]["problem"] == "join_too_soon"
        assert again["message"] == _invalid(lang, "join_too_soon", minutes=2)
    assert len(world.calls("JoinChannelRequest")) == 1
    # The same pace as a collection's join: the workers read this join too before theirs.
    async with env.setup.sessionmaker() as session:
        last = await session.scalar(LAST_JOIN, last_join_params(acc[901]))
    assert last is not None and datetime.now(UTC) - last < timedelta(minutes=1)

    # Another workspace's (or no) account: not found; a campaign named by id: no way in.
    missing = await _join(env, created["id"], 999_999)
    assert missing.status == 404
    by_id = await _create(env, name="by id", audience_id=audience, target="-1007000090")
    refused = await _refused(await _join(env, by_id["id"], acc[903]))
    assert refused["details"] == {"field": "target", "problem": "join_needs_link"}


async def test_joining_by_invite_link_with_and_without_an_approval(env: Env) -> None:
    world, acc = env.setup.world, env.setup.accounts
    world.put_chat(BASIC, "group", "Small Room", creator=902, members=[902])
    audience = await _audience(env, [30_201])
    link = make_invite(world, world.find_chat(BASIC))
    created = await _create(env, name="basic", audience_id=audience, target=link.link)
    assert created["preflight"]["can_join"] == [acc[901], acc[903]]
    joined = await _ok(await _join(env, created["id"], acc[901]))
    # In a basic group every member may add people: 901 works at once.
    assert joined["outcome"] == "joined"
    assert joined["message"].endswith("an admin of the chat with the right to add members.")
    assert joined["campaign"]["preflight"]["excluded"][str(acc[901])] == "not_admin"
    # The chat's owner makes it an admin in Telegram: it works from the next check.
    world.find_chat(BASIC).admins[901] = frozenset({"invite_users"})
    checked = await _ok(
        await env.api.post(f"/api/v1/campaigns/{created['id']}/preflight", headers=env.owner)
    )
    assert sorted(checked["preflight"]["eligible"]) == sorted([acc[901], acc[902]])

    world.put_chat(ASKING, "megagroup", "Asking Club", creator=902, members=[902])
    asking = make_invite(world, world.find_chat(ASKING), request_needed=True)
    other = await _create(env, name="asking", audience_id=audience, target=asking.link)
    requested = await _ok(await _join(env, other["id"], acc[903]))
    assert requested["outcome"] == "requested"
    assert "admins have to accept" in requested["message"]
    assert 903 not in world.find_chat(ASKING).members
    approve(world, world.find_chat(ASKING), 903)
    checked = await _ok(
        await env.api.post(f"/api/v1/campaigns/{other['id']}/preflight", headers=env.owner)
    )
    assert checked["preflight"]["excluded"][str(acc[903])] == "not_admin"


async def test_only_the_owner_lets_an_account_join(
    env: Env,
    make_user: MakeUser,
    issue_code: IssueCode,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world, acc = env.setup.world, env.setup.accounts
    world.put_chat(OPEN, "megagroup", "Open Club", username="open_club", creator=902)
    person = await make_user()
    async with sessionmaker() as session, session.begin():
        session.add(
            Membership(
                workspace_id=env.setup.ws, user_id=person.user.id, role=WorkspaceRole.MANAGER
            )
        )
    manager = await _login(env.api, person, issue_code) | {"X-Workspace-Id": str(env.setup.ws)}
    audience = await _audience(env, [30_301])
    created = await _create(env, manager, name="m", audience_id=audience, target="@open_club")
    resp = await env.api.post(
        f"/api/v1/campaigns/{created['id']}/join", json={"account_id": acc[901]}, headers=manager
    )
    assert resp.status == 403
    assert not world.calls("JoinChannelRequest")
