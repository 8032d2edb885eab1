"""GET /api/v1/chats (the accounts' chats, for picking a target) and the targets
POST /api/v1/campaigns takes besides a public username: invite links and `-100…` ids,
refused before anything is saved when the accounts cannot use the chat. Over loopback to a
sandbox server, through the real API."""

from __future__ import annotations

from redis.asyncio import Redis

from db.leases import LeaseStore
from sandbox.world.invites import make_invite
from tests.api.test_campaigns import (
    OTHER_CHAT,
    Env,
    _audience,
    _campaign_ids,
    _create,
    _invalid,
    _ok,
    _refused,
    env,  # noqa: F401  (the fixture)
)
from tests.invites.conftest import FAST, TARGET, make_audience
from workers.inviting import InviteConfig

PRIVATE, THEIRS, BASIC = 7_000_060, 7_000_061, 7_000_062


def _private_chats(env: Env) -> None:
    """ "Secret Club": private, 902 its creator, 901 an admin without the right to add
    people. "Their Room": private, none of the accounts in it. "Small Group": a basic group
    903 is in."""
    world = env.setup.world
    world.put_chat(
        PRIVATE,
        "megagroup",
        "Secret Club",
        creator=902,
        members=[901, 903, 900],
        admins={901: ["pin_messages"]},
    )
    world.put_chat(THEIRS, "megagroup", "Their Room", creator=900)
    world.put_chat(BASIC, "group", "Small Group", creator=900, members=[903])


async def test_chats_where_an_account_may_invite(env: Env) -> None:
    _private_chats(env)
    acc = env.setup.accounts
    listed = await _ok(await env.api.get("/api/v1/chats?can_invite=1", headers=env.owner))
    assert [
        (c["id"], c["kind"], c["title"], c["username"], c["members"], c["target"])
        for c in listed["items"]
    ] == [
        (PRIVATE, "megagroup", "Secret Club", None, 4, f"-100{PRIVATE}"),
        (TARGET, "megagroup", "Target", "target_group", 4, "@target_group"),
        (BASIC, "group", "Small Group", None, 2, str(BASIC)),
    ]
    by_id = {c["id"]: c for c in listed["items"]}
    assert by_id[PRIVATE]["accounts"] == [
        {"id": acc[901], "label": "@acc901", "may_invite": False},
        {"id": acc[902], "label": "@acc902", "may_invite": True},
        {"id": acc[903], "label": "@acc903", "may_invite": False},
    ]
    assert [a["id"] for a in by_id[TARGET]["accounts"] if a["may_invite"]] == [acc[901], acc[902]]
    # Without the filter: every group or channel they are in ("Other": nobody may add people).
    everything = await _ok(await env.api.get("/api/v1/chats", headers=env.owner))
    assert {c["id"] for c in everything["items"]} == {PRIVATE, TARGET, BASIC, OTHER_CHAT}
    # One getDialogs page per account, then the cache.
    assert len(env.setup.world.calls("GetDialogsRequest")) == 3
    bad = await _refused(await env.api.get("/api/v1/chats?can_invite=maybe", headers=env.owner))
    assert bad["details"] == {"field": "can_invite", "problem": "flag"}


async def test_private_targets_by_link_and_id_and_refusals_that_save_nothing(env: Env) -> None:
    _private_chats(env)
    world = env.setup.world
    acc = env.setup.accounts
    audience = await _audience(env, [30_001, 30_002])

    ours = make_invite(world, world.find_chat(PRIVATE))
    by_link = await _create(env, name="by link", audience_id=audience, target=ours.link)
    assert by_link["target"] == {
        "ref": f"+{ours.hash}",
        "chat_id": PRIVATE,
        "kind": "megagroup",
        "title": "Secret Club",
    }
    pre = by_link["preflight"]
    assert (pre["ready"], pre["kind"], pre["title"], pre["eligible"]) == (
        True,
        "megagroup",
        "Secret Club",
        [acc[902]],
    )

    by_id = await _create(env, name="by id", audience_id=audience, target=f"-100{PRIVATE}")
    assert by_id["preflight"]["ready"] is True and by_id["preflight"]["eligible"] == [acc[902]]
    started = await _ok(
        await env.api.post(f"/api/v1/campaigns/{by_id['id']}/start", headers=env.owner)
    )
    assert started["status"] == "running"

    before = await _campaign_ids(env)
    theirs = make_invite(world, world.find_chat(THEIRS))
    expired = make_invite(world, world.find_chat(PRIVATE), expired=True)
    for target, problem in (
        (theirs.link, "target_not_member"),
        (expired.link, "target_no_such_chat"),
        ("https://t.me/+Unknown1234", "target_no_such_chat"),
        ("@no_such_chat_here", "target_no_such_chat"),
        (f"-100{THEIRS}", "target_no_such_chat"),
        ("-1009999999", "target_no_such_chat"),
    ):
        for lang in ("en", "ru"):
            error = await _refused(
                await env.api.post(
                    "/api/v1/campaigns",
                    json={"name": "x", "audience_id": audience, "target": target},
                    headers=env.owner | {"Accept-Language": lang},
                )
            )
            assert error["details"] == {"field": "target", "problem": problem}, target
            assert error["message"] == _invalid(lang, problem)
    assert await _campaign_ids(env) == before  # no draft left behind, not even a cancelled one


async def test_an_account_busy_inviting_is_listed_with_its_chats_as_last_read(
    env: Env, redis: Redis
) -> None:
    _private_chats(env)
    acc = env.setup.accounts
    first = await _ok(await env.api.get("/api/v1/chats?can_invite=1", headers=env.owner))
    await redis.delete(f"chats:dialogs:{acc[902]}")  # five minutes later
    # A worker holds 902's lease (it keeps it between invites).
    held = await LeaseStore(env.setup.sessionmaker, "worker-x", ttl_s=30).acquire(acc[902])
    assert held is not None
    again = await _ok(await env.api.get("/api/v1/chats?can_invite=1", headers=env.owner))
    assert again == first  # "Secret Club" still offered, with 902 as the one who may add people
    assert [c.account for c in env.setup.world.calls("GetDialogsRequest")].count(902) == 1


async def test_a_campaign_by_link_goes_on_after_the_link_is_revoked(env: Env) -> None:
    _private_chats(env)
    world = env.setup.world
    people = env.setup.people([30_011, 30_012], seen_by_tg=902)  # 902 may add people there
    audience = await make_audience(env.setup.sessionmaker, env.setup.ws, "seen by 902", people)
    link = make_invite(world, world.find_chat(PRIVATE))
    created = await _create(env, name="by link", audience_id=audience, target=link.link)
    assert created["preflight"]["ready"] is True
    await _ok(await env.api.post(f"/api/v1/campaigns/{created['id']}/start", headers=env.owner))
    link.revoked = True  # an admin revoked it after the pre-flight
    engine = env.setup.engine(InviteConfig(limits=FAST, pause_scale=0))
    await engine.run_account(await env.setup.account(902))
    # The link answered INVITE_HASH_EXPIRED; 902 found the chat by its id among its own
    # dialogs, and added everyone.
    checks = [c.error for c in world.calls("CheckChatInviteRequest") if c.account == 902]
    assert checks[-1] == "INVITE_HASH_EXPIRED"
    assert {30_011, 30_012} <= set(world.find_chat(PRIVATE).members)
    assert {state for state, _ in (await env.setup.targets(created["id"])).values()} == {"invited"}


async def test_a_broadcast_channel_of_200_members_is_refused_before_anything_is_saved(
    env: Env,
) -> None:
    """Admins add people to a broadcast channel only while it has fewer than 200 members,
    whoever brought them (tdesktop#1597, Telethon#1434): a full one is refused as a target,
    by name and by id, and a channel one short of it is taken with the warning."""
    world = env.setup.world
    crowd = list(range(50_000, 50_199))
    world.put_users([{"id": i, "first_name": f"R{i}"} for i in crowd])
    world.put_chat(7_000_070, "channel", "Full News", username="full_news", creator=902,
                   members=[*crowd, 902])  # fmt: skip
    world.put_chat(7_000_071, "channel", "Almost Full", username="almost_full", creator=902,
                   members=[*crowd[:198], 902])  # fmt: skip
    audience = await _audience(env, [30_001, 30_002])
    before = await _campaign_ids(env)
    for target in ("@full_news", "-1007000070"):
        for lang in ("en", "ru"):
            error = await _refused(
                await env.api.post(
                    "/api/v1/campaigns",
                    json={"name": "x", "audience_id": audience, "target": target},
                    headers=env.owner | {"Accept-Language": lang},
                )
            )
            assert error["details"] == {
                "field": "target",
                "problem": "target_channel_full",
                "members": 200,
            }
            assert error["message"] == _invalid(lang, "target_channel_full", members=200)
            assert "200" in error["message"]
    assert await _campaign_ids(env) == before

    almost = await _create(env, name="almost", audience_id=audience, target="@almost_full")
    pre = almost["preflight"]
    assert pre["kind"] == "channel" and pre["to_invite"] == 2
    assert {"broadcast_200_cap", "broadcast_cap_too_small"} <= set(pre["warnings"])
    assert "broadcast_full" not in pre["warnings"] and pre["ready"] is True
