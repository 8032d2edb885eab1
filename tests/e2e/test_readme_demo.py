"""The README's demo, step by step, on the real product as `make run` starts it.

`python -m launcher run` brings up the sandbox (with its demo world), the API, the bot and a
worker on free ports, with the pauses the README suggests for watching the demo
(`INVITE_PAUSE_MIN_S=1`, `INVITE_PAUSE_MAX_S=2`). Alice then does what the numbered demo
says, through the sandbox's control API only, as a person would: /start and /link, her phone
scans the QR code; /parse @sandbox_lounge; /campaign_new with the audience, "Sandbox Target"
from the list, Now, Any time, the installation's limits and Start. People appear in "Sandbox
Target", added by her account; then /web_auth, the panel's login call, and the campaign's
page data and its live stream follow the same invites.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from core.i18n import t
from core.settings import PROJECT_ROOT
from sandbox.world.demo import ALICE, BOB, CROWD, TARGET
from tests.e2e.test_run_command import _free_port, _marked_pids, _read_until
from tests.sandbox_helpers import Message, SandboxChat

pytestmark = pytest.mark.e2e

ALICE_PROFILE = {"username": "alice", "first_name": "Alice", "language_code": "en"}
WAIT_S = 30.0


@dataclass
class Demo:
    """The installation as `make run` started it, and Alice's side of it."""

    sandbox: str
    api: str
    http: aiohttp.ClientSession
    chat: SandboxChat
    output: list[str] = field(default_factory=list)

    async def say(self, text: str) -> int:
        return await self.chat.send(ALICE, text, **ALICE_PROFILE)

    async def bot_says(self, after: int, expect: str) -> Message:
        """The bot's first message after `after` whose text starts with `expect`."""
        return await self.chat.wait_for(
            ALICE, lambda m: (m["text"] or "").startswith(expect), WAIT_S, after=after
        )

    async def press(self, prompt: Message, label: str) -> None:
        """Press the button whose text is `label`, by its callback data, as a person would."""
        buttons = {b["text"]: b.get("data", "") for row in prompt["buttons"] for b in row}
        assert label in buttons, (label, list(buttons))
        await self.chat.press(ALICE, prompt["id"], buttons[label])

    async def get(self, url: str, **kwargs: Any) -> Any:
        async with self.http.get(url, **kwargs) as response:
            assert response.status == 200, (url, response.status, await response.text())
            return await response.json()

    async def post(self, url: str, body: dict[str, Any], **kwargs: Any) -> Any:
        async with self.http.post(url, json=body, **kwargs) as response:
            assert response.status == 200, (url, response.status, await response.text())
            return await response.json()

    async def target_members(self) -> list[dict[str, Any]]:
        chat = await self.get(f"{self.sandbox}/sandbox/world/chats/{TARGET}")
        return list(chat["members"])


@contextlib.asynccontextmanager
async def run_command(test_env: dict[str, str]) -> AsyncIterator[Demo]:
    """`python -m launcher run` on free ports, given the test servers as a `DATABASE_URL` and
    `REDIS_URL` of one's own would be; stopped with SIGTERM, leaving no process behind."""
    api_port, sandbox_port = _free_port(), _free_port()
    marker = uuid.uuid4().hex
    env = {
        **os.environ,
        **test_env,
        "API_PORT": str(api_port),
        "SANDBOX_PORT": str(sandbox_port),
        "SANDBOX": "auto",
        # What the README puts in `.env` to watch the demo move.
        "INVITE_PAUSE_MIN_S": "1",
        "INVITE_PAUSE_MAX_S": "2",
        "TG_INVITER_TEST_MARKER": marker,
    }
    for name in (
        "BOT_TOKEN",
        "BOT_API_URL",
        "TELEGRAM_API_ID",
        "TELEGRAM_API_HASH",
        "SANDBOX_HOST",
        "SANDBOX_DEMO",
        "API_HOST",
        "PANEL_URL",
        "PARSE_DELAY_SCALE",
    ):
        env.pop(name, None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "launcher",
        "run",
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own process group, so nothing it starts can outlive us
    )
    assert proc.stdout is not None
    seen: list[str] = []
    http = aiohttp.ClientSession()
    drain: asyncio.Task[None] | None = None
    try:
        await _read_until(proc.stdout, "panel on", seen, timeout=60)
        await _read_until(proc.stdout, "everyone else joins", seen, timeout=5)
        sandbox = f"http://127.0.0.1:{sandbox_port}"
        started = "".join(seen)
        # The first thing said once everything runs is the sandbox page, then the demo world.
        assert f"try it in a browser: {sandbox}/" in started, started
        assert '"Sandbox Target" 1700000004' in started, started
        # Keep reading the processes' lines, so that a full pipe never holds them up.
        drain = asyncio.create_task(_drain(proc.stdout, seen))
        yield Demo(sandbox, f"http://127.0.0.1:{api_port}", http, SandboxChat(sandbox, http), seen)
    finally:
        await http.close()
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        if drain is not None:
            await asyncio.wait_for(drain, 10)
    output = "".join(seen)
    assert proc.returncode == 0, output
    assert "Traceback" not in output, output
    for _ in range(50):
        if not _marked_pids(marker):
            break
        await asyncio.sleep(0.1)
    assert _marked_pids(marker) == [], "child processes left behind"


async def _drain(stream: asyncio.StreamReader, seen: list[str]) -> None:
    while raw := await stream.readline():
        seen.append(raw.decode(errors="replace"))


@pytest.fixture
async def demo(test_env: dict[str, str], engine: Any, redis: Redis) -> AsyncIterator[Demo]:
    # `engine` and `redis` empty the database and Redis: Alice is new to the bot.
    async with run_command(test_env) as running:
        yield running


async def _sse_events(
    response: aiohttp.ClientResponse, count: int, timeout: float
) -> list[tuple[str, dict[str, Any]]]:
    """The next `count` events (name, data) of a server-sent event stream."""
    events: list[tuple[str, dict[str, Any]]] = []

    async def read() -> None:
        name, data = "message", ""
        while len(events) < count:
            raw = await response.content.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data += line.split(":", 1)[1].strip()
            elif not line and data:
                events.append((name, json.loads(data)))
                name, data = "message", ""

    await asyncio.wait_for(read(), timeout)
    return events


async def follow_the_bot_steps(demo: Demo) -> int:
    """Steps 1-3 of the README's demo as Alice, up to pressing Start; the audience's size."""
    # 1. /start, then /link: the bot shows a QR code; Alice's phone scans it; "Linked …".
    sent = await demo.say("/start")
    await demo.chat.wait_for(ALICE, lambda m: "/help" in (m["text"] or ""), WAIT_S, after=sent)
    sent = await demo.say("/link")
    qr = await demo.chat.wait_for(ALICE, lambda m: bool(m["photo"]), WAIT_S, after=sent)
    # What the phone's **Scan the QR code** does: the newest QR login waiting in the world.
    waiting = (await demo.get(f"{demo.sandbox}/sandbox/world/qr"))["tokens"]
    assert waiting, "no QR login waiting after /link"
    await demo.post(
        f"{demo.sandbox}/sandbox/world/qr/scan", {"url": waiting[-1]["url"], "user_id": ALICE}
    )
    linked = await demo.bot_says(qr["id"], "Linked ")
    assert linked["text"] == t("en", "linking.linked", account="@alice"), linked

    # 2. /parse @sandbox_lounge: one message shows the progress, then the summary; the people
    # are in the audience @sandbox_lounge.
    sent = await demo.say("/parse @sandbox_lounge")
    summary = await demo.chat.wait_for(
        ALICE, lambda m: "Done: " in (m["text"] or ""), WAIT_S, after=sent
    )
    found = re.search(r"Done: (\d+) collected", summary["text"])
    assert found, summary
    collected = int(found.group(1))
    assert collected >= len(CROWD) - 3, summary  # the crowd, less a bot and a deleted account
    assert f"The audience «@sandbox_lounge» now has {collected} people" in summary["text"]

    # 3. /campaign_new: the audience @sandbox_lounge, "Sandbox Target" from the list, Now,
    # Any time, the installation's limits, and Start under the pre-flight report.
    sent = await demo.say("/campaign_new")
    picker = await demo.bot_says(sent, t("en", "campaign_new.pick_audience"))
    await demo.press(
        picker,
        t("en", "campaign_new.audience_button", name="@sandbox_lounge", size=collected),
    )
    ask_target = await demo.bot_says(picker["id"], t("en", "campaign_new.ask_target"))
    # The private group Alice created: the bot lists the chats where her account may add people.
    await demo.press(
        ask_target, t("en", "campaign_new.chat_button", title="Sandbox Target", members=2)
    )
    ask_start = await demo.bot_says(ask_target["id"], t("en", "campaign_new.ask_start"))
    await demo.press(ask_start, t("en", "campaign_new.now"))
    ask_hours = await demo.bot_says(ask_start["id"], t("en", "campaign_new.ask_hours"))
    await demo.press(ask_hours, t("en", "campaign_new.any_time"))
    ask_limits = await demo.bot_says(ask_hours["id"], "Step 5 of 5")
    await demo.press(ask_limits, t("en", "campaign_new.std_limits"))
    report = await demo.chat.wait_for(
        ALICE,
        lambda m: (m["text"] or "").endswith(t("en", "preflight.ready")),
        WAIT_S,
        after=ask_limits["id"],
    )
    assert "Chat: «Sandbox Target», supergroup" in report["text"], report
    assert "Will invite (1): @alice" in report["text"], report
    # The lounge's creator and admin (Alice, Bob) are not collected: nobody is in the chat yet.
    assert (
        f"Already in the chat: 0\nInvited before: 0\nOpted out: 0\nTo invite: {collected}"
        in (report["text"])
    ), report
    await demo.press(report, t("en", "preflight.start"))
    return collected


async def web_auth_code(demo: Demo) -> str:
    """/web_auth as Alice: the one-time code from the bot's answer."""
    sent = await demo.say("/web_auth")
    answer = await demo.bot_says(sent, "Your code for the web panel: ")
    assert f"Open {demo.api}/" in answer["text"], answer  # PANEL_URL follows API_PORT
    return str(answer["text"].split(": ", 1)[1].split()[0])


async def test_the_readme_demo_through_the_bot_and_the_panel(demo: Demo) -> None:
    collected = await follow_the_bot_steps(demo)

    # 4. The panel, as soon as the campaign runs: /web_auth as alice, then the login the
    # panel makes with the code. (An account adds at most INVITE_DAILY_PER_CHAT = 15 people
    # into one chat a day, so the campaign moves for about half a minute, then waits.)
    code = await web_auth_code(demo)
    tokens = await demo.post(f"{demo.api}/api/v1/auth/verify", {"username": "alice", "code": code})
    auth = {"Authorization": f"Bearer {tokens['access_token']}", "Accept-Language": "en"}
    listing = await demo.get(f"{demo.api}/api/v1/campaigns", headers=auth)
    (campaign,) = listing["items"]
    assert campaign["status"] == "running", campaign
    url = f"{demo.api}/api/v1/campaigns/{campaign['id']}"
    page = await demo.get(url, headers=auth)
    assert page["target"]["title"] == "Sandbox Target", page
    assert page["target"]["chat_id"] == TARGET, page
    assert page["progress"]["total"] == collected, page

    # The campaign's page follows the invites live: its stream sends the counts as they grow.
    async with demo.http.get(f"{url}/stream", headers=auth) as stream:
        assert stream.status == 200, await stream.text()
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        (first,) = await _sse_events(stream, 1, WAIT_S)
        assert first[0] == "campaign" and first[1]["status"] == "running", first
        latest = first
        while latest[1]["counts"]["invited"] < max(2, first[1]["counts"]["invited"] + 1):
            (latest,) = await _sse_events(stream, 1, WAIT_S)
            assert latest[0] == "campaign" and not latest[1]["finished"], latest
        assert latest[1]["progress"]["done"] > first[1]["progress"]["done"], (first, latest)
        assert latest[1]["progress"]["total"] == collected, latest

    # The world: Sandbox Target has the people the stream counts as invited, added by Alice's
    # account, after Alice and Bob; every invite call was hers.
    members = await demo.target_members()
    assert [m["id"] for m in members[:2]] == [ALICE, BOB], members
    added = members[2:]
    assert len(added) >= latest[1]["counts"]["invited"], (members, latest)
    assert all(m["inviter"] == ALICE for m in added), added
    calls = await demo.get(
        f"{demo.sandbox}/sandbox/world/calls", params={"method": "InviteToChannelRequest"}
    )
    assert calls["calls"] and all(c["account"] == ALICE for c in calls["calls"]), calls

    # Every attempt the campaign's page lists as invited is someone now in Sandbox Target.
    events = await demo.get(f"{url}/events", headers=auth)
    invited = {e["user"]["id"] for e in events["items"] if e["outcome"] == "invited"}
    in_target = {m["id"] for m in await demo.target_members()}
    assert len(invited) >= 2 and invited <= in_target, (events, in_target)
    assert all(e["account"]["label"] == "@alice" for e in events["items"]), events
