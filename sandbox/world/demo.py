"""A small demo world, so a newcomer without Telegram credentials has something to work on.

`python -m sandbox` seeds it unless SANDBOX_DEMO=off. Alice and Bob are the accounts to link
(Bob has a 2FA password); the lounge, the news channel (with comments in its discussion
group), the private target group and the old basic group cover every parsing source and
invite outcome.
"""

from __future__ import annotations

from sandbox.world.model import LastSeen, MessageSpec, PostSpec
from sandbox.world.world import World

ALICE, BOB, CAROL, DAVE, ERIN, FRANK = 1001, 1002, 1003, 1004, 1005, 1006
DEMO_PASSWORD = "demo-password"
LOUNGE, NEWS_CHAT, NEWS, TARGET, OLD_FRIENDS, QUIET = (
    1700000001,
    1700000002,
    1700000003,
    1700000004,
    1700000005,
    1700000006,
)
CROWD = range(100001, 100041)
_SEEN: tuple[LastSeen, ...] = ("online", "recently", "week", "month", "long_ago")

DEMO_HINT = f"""\
Demo world (SANDBOX_DEMO=off starts an empty one):
  accounts to link: Alice (user {ALICE}, phone +15550001001) and
                    Bob (user {BOB}, phone +15550001002, 2FA password "{DEMO_PASSWORD}")
  chat with the bot as Alice: POST /sandbox/chat/{ALICE}/send {{"text": "/start"}}
  QR login: GET /sandbox/world/qr for the pending tg://login URL, then
            POST /sandbox/world/qr/scan {{"url": "<that URL>", "user_id": {ALICE}}}
  phone login: the code is at GET /sandbox/world/users/{ALICE}/login_codes
  chats: @sandbox_lounge (megagroup, {len(CROWD) + 6} members), @sandbox_news (channel with
         comments in @sandbox_news_chat), "Sandbox Target" {TARGET} (private megagroup where
         Alice and Bob may invite: /campaign_new offers it, or type {TARGET}),
         "Old Friends" {OLD_FRIENDS} (basic group),
         @sandbox_quiet (hidden member list)
  invite outcomes: @carol privacy, @dave not mutual, @erin missing invitee, @frank too many
         channels; everyone else joins"""


def seed_demo(world: World) -> None:
    """Fill `world` with the demo users and chats described in DEMO_HINT."""
    world.put_users(
        [
            {"id": ALICE, "first_name": "Alice", "last_name": "Adams", "username": "alice",
             "phone": "+15550001001", "premium": True, "photo": True, "last_seen": "online"},
            {"id": BOB, "first_name": "Bob", "last_name": "Brown", "username": "bob",
             "phone": "+15550001002", "photo": True},
            {"id": CAROL, "first_name": "Carol", "username": "carol", "last_seen": "week",
             "invite_outcome": "privacy"},
            {"id": DAVE, "first_name": "Dave", "username": "dave", "last_seen": "month",
             "invite_outcome": "not_mutual"},
            {"id": ERIN, "first_name": "Erin", "username": "erin",
             "invite_outcome": "missing_invitee"},
            {"id": FRANK, "first_name": "Frank", "username": "frank", "last_seen": "long_ago",
             "invite_outcome": "too_many_channels"},
        ]
    )  # fmt: skip
    crowd = []
    for n, user_id in enumerate(CROWD):
        person = {
            "id": user_id,
            "first_name": f"Member{n + 1}",
            "username": f"member_{n + 1}" if n % 3 else None,
            "last_seen": _SEEN[n % len(_SEEN)],
            "photo": n % 2 == 0,
            "premium": n % 7 == 0,
        }
        if n == 5:
            person.update(bot=True, first_name="Helper", username="sandbox_helper_bot")
        if n == 11:
            person.update(deleted=True)
        if n == 17:
            person.update(scam=True)
        crowd.append(person)
    world.put_users(crowd)
    world.set_password(BOB, DEMO_PASSWORD, hint="demo")

    people = [ALICE, BOB, CAROL, DAVE, ERIN, FRANK]
    world.put_chat(
        LOUNGE,
        "megagroup",
        "Sandbox Lounge",
        username="sandbox_lounge",
        creator=ALICE,
        members=[*people, *CROWD],
        admins={BOB: ["invite_users", "pin_messages"]},
        messages=[
            MessageSpec(ALICE, "Welcome to the lounge!"),
            MessageSpec(CROWD[0], "Hi all"),
            MessageSpec(CAROL, "Hello from Carol"),
            MessageSpec(CROWD[3], "Anyone here from the meetup?"),
        ],
    )
    world.put_chat(
        NEWS_CHAT,
        "megagroup",
        "Sandbox News Chat",
        username="sandbox_news_chat",
        creator=ALICE,
        members=[ALICE, BOB, *CROWD[:20]],
    )
    world.put_chat(
        NEWS,
        "channel",
        "Sandbox News",
        username="sandbox_news",
        creator=ALICE,
        members=[ALICE, BOB, *CROWD],
        admins={BOB: ["invite_users", "post_messages"]},
        linked_chat=NEWS_CHAT,
        posts=[
            PostSpec(1, "The sandbox is open", comments=(MessageSpec(CROWD[1], "Nice!"),)),
            PostSpec(
                2,
                "Invite campaigns are coming",
                comments=(
                    MessageSpec(CROWD[2], "Can't wait"),
                    MessageSpec(CROWD[4], "How many per day?"),
                    MessageSpec(CROWD[2], "Thanks"),
                ),
            ),
            PostSpec(3, "Quiet post without comments"),
        ],
    )
    world.put_chat(
        TARGET,
        "megagroup",
        "Sandbox Target",
        creator=ALICE,
        members=[ALICE, BOB],
        admins={BOB: ["invite_users"]},
    )
    world.put_chat(
        OLD_FRIENDS,
        "group",
        "Old Friends",
        creator=ALICE,
        members=[ALICE, BOB, CAROL],
        messages=[MessageSpec(BOB, "Remember this group?"), MessageSpec(CAROL, "Of course")],
    )
    world.put_chat(
        QUIET,
        "megagroup",
        "Quiet Club",
        username="sandbox_quiet",
        creator=BOB,
        members=[BOB, ALICE, *CROWD[20:]],
        hidden_members=True,
        messages=[MessageSpec(CROWD[21], "Members are hidden here"), MessageSpec(BOB, "Indeed")],
    )
