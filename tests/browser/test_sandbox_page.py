"""The sandbox page in Chromium: the demo flow from the page alone.

`python -m sandbox` (with its demo world), `python -m bot` and `python -m workers` run as the
run command starts them without Telegram credentials. In the browser, Alice says /start,
links herself with /link and one click on her phone beside the chat, collects
@sandbox_lounge with /parse, exports the audience as a CSV document, and creates and starts a
campaign into "Old Friends" with /campaign_new through its buttons; the world view then shows
the people her account added, and the invite calls. A new person made on the page chats too.
Screenshots go to `.data/screenshots/sandbox-*.png`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from core.i18n import t
from core.settings import PROJECT_ROOT
from sandbox.world.demo import ALICE, LOUNGE, OLD_FRIENDS

pytestmark = pytest.mark.e2e

WAIT_S = 30
START_S = 30


def wait(driver: WebDriver, timeout: float = WAIT_S) -> WebDriverWait:  # type: ignore[type-arg]
    return WebDriverWait(driver, timeout, poll_frequency=0.1)


def shoot(driver: WebDriver, folder: Path, name: str) -> None:
    time.sleep(0.3)  # let the last redraw finish
    driver.save_screenshot(str(folder / f"sandbox-{name}.png"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Installation:
    """The sandbox, the bot and the workers as separate processes, their output in files."""

    url: str
    processes: list[tuple[subprocess.Popen[bytes], Path]]

    def output(self) -> str:
        texts = [(log.name, log.read_text(errors="replace")) for _, log in self.processes]
        # A traceback is shown whole; otherwise the end of each log is enough.
        return "\n".join(
            f"--- {name}\n{text if 'Traceback' in text else text[-4000:]}" for name, text in texts
        )


@pytest.fixture
def installation(
    test_env: dict[str, str], engine: Any, redis: Any, tmp_path: Path
) -> Iterator[Installation]:
    # `engine` and `redis` empty the database and Redis: Alice is new to the bot.
    port = _free_port()
    env = {
        **os.environ,
        **test_env,
        "SANDBOX": "on",
        "SANDBOX_PORT": str(port),
        "SANDBOX_DEMO": "on",
        "PARSE_DELAY_SCALE": "0",
        "INVITE_PAUSE_MIN_S": "1",
        "INVITE_PAUSE_MAX_S": "1",
    }
    for name in (
        "BOT_TOKEN",
        "BOT_API_URL",
        "SANDBOX_HOST",
        "TELEGRAM_API_ID",
        "TELEGRAM_API_HASH",
    ):
        env.pop(name, None)
    running = Installation(f"http://127.0.0.1:{port}", [])

    def spawn(module: str) -> None:
        log = tmp_path / f"{module}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", module],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        running.processes.append((proc, log))

    try:
        spawn("sandbox")
        deadline = time.monotonic() + START_S
        while True:
            try:
                with urllib.request.urlopen(running.url + "/sandbox/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        "the sandbox did not start:\n" + running.output()
                    ) from None
                time.sleep(0.1)
        spawn("bot")
        spawn("workers")
        yield running
    finally:
        for proc, _ in running.processes:
            proc.terminate()
        for proc, _ in running.processes:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    assert "Traceback" not in running.output(), running.output()


# ---- reading and driving the page ------------------------------------------------------------
def messages(driver: WebDriver) -> list[dict[str, Any]]:
    return driver.execute_script(  # type: ignore[no-any-return]
        """return [...document.querySelectorAll('#chat-log .message')].map((m) => ({
             id: Number(m.dataset.id), from: m.dataset.from,
             text: m.querySelector('.text')?.textContent ?? '',
             photo: m.querySelector('img.photo') !== null,
             document: m.querySelector('a.document')?.getAttribute('download') ?? null,
             buttons: [...m.querySelectorAll('button.inline-button')].map((b) => b.textContent)}));"""
    )


def last_id(driver: WebDriver) -> int:
    shown = messages(driver)
    return shown[-1]["id"] if shown else 0


def say(driver: WebDriver, text: str) -> int:
    """Type into the chat's text box and send; the id of the last message before it."""
    before = last_id(driver)
    field = driver.find_element(By.ID, "composer-text")
    field.send_keys(text, Keys.ENTER)
    wait(driver).until(
        lambda d: any(
            m["from"] == "user" and m["text"] == text and m["id"] > before for m in messages(d)
        )
    )
    return before


def bot_says(driver: WebDriver, after: int, check: Any, timeout: float = WAIT_S) -> dict[str, Any]:
    """The first bot message after `after` for which `check(message)` holds (as it is now)."""

    def found(d: WebDriver) -> dict[str, Any] | bool:
        return next(
            (m for m in messages(d) if m["id"] > after and m["from"] == "bot" and check(m)), False
        )

    try:
        return wait(driver, timeout).until(found)  # type: ignore[no-any-return]
    except TimeoutException:
        raise AssertionError(
            f"no such bot message after #{after}; the chat shows {messages(driver)}"
        ) from None


def press(driver: WebDriver, message_id: int, label: str) -> None:
    """Press the inline button of that message whose text contains `label` (found and clicked
    in one step, since the page redraws a message when the bot edits it)."""
    labels = driver.execute_script(
        """const buttons = [...document.querySelectorAll(
             `#chat-log .message[data-id='${arguments[0]}'] button.inline-button`)];
           const match = buttons.find((b) => b.textContent.includes(arguments[1]));
           if (match) match.click();
           return match ? null : buttons.map((b) => b.textContent);""",
        message_id,
        label,
    )
    assert labels is None, f"no button {label!r} in message #{message_id}: {labels}"


def text_of(driver: WebDriver, css: str) -> str:
    """An element's text read in one step (the page redraws whole parts when the person changes)."""
    return driver.execute_script(  # type: ignore[no-any-return]
        "return document.querySelector(arguments[0])?.textContent ?? '';", css
    )


def rows_of(driver: WebDriver, table: str) -> list[list[str]]:
    """A table's cells as text, read in one step: the page redraws its tables as they change."""
    return driver.execute_script(  # type: ignore[no-any-return]
        "return [...document.querySelectorAll(arguments[0] + ' tbody tr')]"
        ".map((row) => [...row.cells].map((cell) => cell.textContent));",
        table,
    )


def members_shown(driver: WebDriver, chat_id: int) -> list[list[str]]:
    """The members of that chat as the world view shows them (none while another is shown)."""
    return rows_of(driver, f"#chat-detail[data-chat='{chat_id}'] #chat-members")


# ---- the demo flow ---------------------------------------------------------------------------
def test_demo_flow_from_the_sandbox_page(
    browser: WebDriver, installation: Installation, screenshots: Path
) -> None:
    driver = browser
    driver.get(installation.url + "/")
    person = wait(driver).until(EC.visibility_of_element_located((By.ID, "person")))
    assert person.get_attribute("value") == str(ALICE)
    assert "Alice" in text_of(driver, "#chat-title")
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"button[data-chat='{LOUNGE}']"))
    shoot(driver, screenshots, "01-start")

    before = say(driver, "/start")
    bot_says(driver, before, lambda m: "/help" in m["text"])

    # /link: the bot shows a QR code; Alice's phone scans it with one click.
    before = say(driver, "/link")
    bot_says(driver, before, lambda m: m["photo"])
    scan = wait(driver).until(EC.element_to_be_clickable((By.ID, "phone-scan")))
    shoot(driver, screenshots, "02-qr")
    scan.click()
    wait(driver).until(lambda d: "Alice" in text_of(d, "#phone-qr-state"))
    bot_says(driver, before, lambda m: m["text"].startswith("Linked "))
    shoot(driver, screenshots, "03-linked")

    # /parse: one message acknowledges the collection and is edited into the summary.
    before = say(driver, "/parse @sandbox_lounge")
    summary = bot_says(driver, before, lambda m: "Done: " in m["text"], 60)
    assert "sandbox_lounge" in summary["text"], summary

    # /audiences: the export arrives as a CSV document that downloads with its file name.
    before = say(driver, "/audiences")
    listing = bot_says(driver, before, lambda m: m["text"].startswith(t("en", "audiences.title")))
    press(driver, listing["id"], "Export")
    document = bot_says(driver, listing["id"], lambda m: m["document"] is not None)
    assert document["document"].startswith("audience-") and document["document"].endswith(".csv"), (
        document
    )
    csv_text = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(document.querySelector(`.message[data-id='${arguments[0]}'] a.document`).href)"
        ".then((r) => r.text()).then(done);",
        document["id"],
    )
    assert csv_text.splitlines()[0].startswith("user_id") and len(csv_text.splitlines()) > 30, (
        csv_text[:200]
    )

    # /campaign_new through its buttons: the audience, the target typed, now, any time, the
    # installation's limits, start.
    before = say(driver, "/campaign_new")
    picker = bot_says(driver, before, lambda m: any("sandbox_lounge" in b for b in m["buttons"]))
    press(driver, picker["id"], "sandbox_lounge")
    bot_says(
        driver,
        picker["id"],
        lambda m: m["text"].startswith(t("en", "campaign_new.ask_target")[:12]),
    )
    before = say(driver, str(OLD_FRIENDS))
    ask_start = bot_says(
        driver, before, lambda m: any(t("en", "campaign_new.now") in b for b in m["buttons"])
    )
    press(driver, ask_start["id"], t("en", "campaign_new.now"))
    ask_hours = bot_says(
        driver,
        ask_start["id"],
        lambda m: any(t("en", "campaign_new.any_time") in b for b in m["buttons"]),
    )
    press(driver, ask_hours["id"], t("en", "campaign_new.any_time"))
    ask_limits = bot_says(
        driver,
        ask_hours["id"],
        lambda m: any(t("en", "campaign_new.std_limits") in b for b in m["buttons"]),
    )
    press(driver, ask_limits["id"], t("en", "campaign_new.std_limits"))
    report = bot_says(
        driver,
        ask_limits["id"],
        lambda m: any(t("en", "campaigns.start") in b for b in m["buttons"]),
    )
    shoot(driver, screenshots, "04-preflight")
    press(driver, report["id"], t("en", "campaigns.start"))

    # The world view: Old Friends gains people added by Alice's account, newest first.
    driver.find_element(By.CSS_SELECTOR, f"button[data-chat='{OLD_FRIENDS}']").click()
    wait(driver, 45).until(lambda d: len(members_shown(d, OLD_FRIENDS)) >= 5)
    rows = members_shown(driver, OLD_FRIENDS)
    # Alice, Bob and Carol were there before (the oldest, at the bottom); above them the new ones.
    assert [row[0].split()[0] for row in rows[-3:]] == ["Carol", "Bob", "Alice"], rows
    added = rows[:-3]
    assert all(row[0].startswith("Member") and "Alice" in row[2] for row in added), added
    shoot(driver, screenshots, "05-world-added")

    driver.find_element(By.ID, "tab-invites").click()
    wait(driver).until(lambda d: len(rows_of(d, "#invite-calls")) >= 2)
    calls = rows_of(driver, "#invite-calls")
    assert all("Alice" in account for _, account, _, _ in calls), calls
    shoot(driver, screenshots, "06-world-invites")

    # The other views answer too: the people (and how inviting each ends) and the faults.
    driver.find_element(By.ID, "tab-people").click()
    wait(driver).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#people tbody tr[data-user='1003'] select")
    )
    driver.find_element(By.ID, "tab-faults").click()
    form = wait(driver).until(EC.visibility_of_element_located((By.ID, "fault-form")))
    form.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    wait(driver).until(
        lambda d: any("FLOOD_WAIT_60" in cell for row in rows_of(d, "#fault-list") for cell in row)
    )
    shoot(driver, screenshots, "07-world-faults")

    # Anyone else: a new person of the world, who chats with the bot in their own chat.
    driver.find_element(By.ID, "new-person").click()
    form = wait(driver).until(EC.visibility_of_element_located((By.ID, "new-person-form")))
    form.find_element(By.NAME, "first_name").send_keys("Zoe")
    form.find_element(By.NAME, "username").send_keys("zoe_demo")
    form.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    wait(driver).until(lambda d: "Zoe @zoe_demo" in text_of(d, "#chat-title"))
    assert "#person=2001" in driver.current_url
    assert messages(driver) == []
    before = say(driver, "/start")
    bot_says(driver, before, lambda m: "Zoe" in m["text"])
    shoot(driver, screenshots, "08-new-person")
