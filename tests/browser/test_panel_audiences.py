"""Audiences and community search in Chromium, at 1366 px and at 375 px.

- An audience is made from a CSV file with its report (people taken, lines skipped and why,
  ids without a username); a file in the wrong encoding is refused with its sentence and
  makes nothing; the new audience is deleted after a confirmation dialog (cancelled once).
- A search as the linked account finds a group; "Collect members" queues the collection,
  which a parse worker runs to the end on the sandbox, and the audience holds its people.
- The seeded campaign runs; a person's page says where they were invited and how it ended
  (added, or refused by their privacy and on the follow-up list); the member list's filter
  is exported as CSV and holds exactly the people it shows.

Every page checked fits 375 px without sideways scrolling. Screenshots go to
`.data/screenshots/audiences-*.png`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC

from core.accounts import build_account_service
from core.i18n import t as api_t
from core.settings import Settings
from db.leases import LeaseStore
from gateway.telegram import TelegramGateway
from sandbox.world import SandboxClientFactory
from tests.browser.conftest import OWNER_USERNAME, PEOPLE, PRIVATE_PEOPLE, Stack
from tests.browser.test_panel import log_in, shoot, visible, wait
from workers.parsing import EngineConfig, ParseEngine

pytestmark = pytest.mark.e2e

WIDE = (1366, 900)
PHONE = (375, 812)
GARDEN = 7_200_001
GARDENERS = list(range(20_100, 20_112))
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only


def go(driver: WebDriver, hash_: str) -> None:
    driver.execute_script("location.hash = arguments[0];", hash_)


def resize(driver: WebDriver, size: tuple[int, int]) -> None:
    driver.set_window_size(*size)
    wait(driver).until(lambda d: d.execute_script("return window.innerWidth") == size[0])


def fits(driver: WebDriver) -> None:
    """The page scrolls only downwards, whatever its width."""
    widths = driver.execute_script(
        "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];"
    )
    assert widths[0] <= widths[1], widths


def text_of(driver: WebDriver, css: str) -> str:
    return str(
        driver.execute_script(
            "return document.querySelector(arguments[0])?.textContent ?? '';", css
        )
    )


def scalar(stack: Stack, sql: str, **params: Any) -> Any:
    return stack.run(stack._scalar(sql, **params))


def sandbox_post(stack: Stack, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        stack.sandbox_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with DIRECT.open(request, timeout=10) as response:
        assert response.status == 200


def downloads_to(driver: WebDriver, folder: Path) -> None:
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)}
    )


def downloaded(folder: Path, name: str) -> str:
    target = folder / name
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if target.is_file() and not list(folder.glob("*.crdownload")):
            return target.read_text(encoding="utf-8")
        time.sleep(0.1)
    raise AssertionError(f"{name} was not downloaded: {sorted(p.name for p in folder.iterdir())}")


def log_in_owner(driver: WebDriver, stack: Stack) -> None:
    """At a desktop's width (a phone's header folds the user's name into its menu)."""
    resize(driver, WIDE)
    log_in(driver, stack, OWNER_USERNAME, stack.web_auth_code())
    visible(driver, "#current-user")


def test_an_audience_from_a_csv_file_and_its_deletion(
    browser: WebDriver, stack: Stack, screenshots: Path, tmp_path: Path
) -> None:
    driver = browser
    resize(driver, WIDE)
    log_in_owner(driver, stack)
    go(driver, "#/audiences")
    name = visible(driver, "#new-audience-name")
    before = scalar(stack, "SELECT count(*) FROM audiences")

    # A file saved in Latin-1: refused with the API's sentence, nothing made.
    latin = tmp_path / "latin.csv"
    latin.write_bytes("user_id,first_name\n1,Jos\xe9\n".encode("latin-1"))
    name.send_keys("Bad file")
    driver.find_element(By.ID, "new-audience-file").send_keys(str(latin))
    driver.find_element(By.ID, "new-audience-create").click()
    error = visible(driver, "#new-audience-result .form-error")
    assert api_t("en", "problem.file_encoding").lower() in error.text.lower(), error.text
    assert "Invalid request" not in error.text
    assert scalar(stack, "SELECT count(*) FROM audiences") == before

    good = tmp_path / "people.csv"
    good.write_text(
        "user_id,username,first_name\n"
        "30001,garden_ann,Ann\n30002,,Ben\n,cara_c,\nabc,,\n30003,bad name!,\n",
        encoding="utf-8",
    )
    name = driver.find_element(By.ID, "new-audience-name")
    name.clear()
    name.send_keys("From a file")
    driver.find_element(By.ID, "new-audience-file").send_keys(str(good))
    driver.find_element(By.ID, "new-audience-create").click()
    report = visible(driver, "#import-report")
    assert report.text == (
        "5 lines read: 3 people taken (2 new with an id, 1 new by username only); 2 lines skipped."
    )
    assert "1 of them have an id but no username" in text_of(driver, "#import-unreachable")
    rows = driver.execute_script(
        "return [...document.querySelectorAll('#import-errors tbody tr')].map(r => [...r.cells].map(c => c.textContent));"
    )
    assert rows == [
        ["5", "abc", "not a valid Telegram id"],
        ["6", "bad name!", "not a valid username"],
    ]
    wait(driver).until(lambda d: "From a file" in text_of(d, "#audiences-list"))  # the list follows
    fits(driver)
    shoot(driver, screenshots, "audiences-created")
    made = int(scalar(stack, "SELECT id FROM audiences WHERE name = 'From a file'"))

    resize(driver, PHONE)
    driver.find_element(
        By.CSS_SELECTOR, f"#new-audience-result a[href='#/audiences/{made}']"
    ).click()
    delete = visible(driver, "#delete-audience")
    assert text_of(driver, "#audience-size").startswith("2 people")
    fits(driver)
    delete.click()
    dialog = visible(driver, "#delete-dialog")
    assert "«From a file»" in dialog.text and "2 people" in dialog.text
    fits(driver)
    shoot(driver, screenshots, "audiences-delete-dialog-phone")
    driver.find_element(By.ID, "delete-dialog-no").click()
    wait(driver).until(EC.invisibility_of_element_located((By.ID, "delete-dialog")))
    assert scalar(stack, "SELECT count(*) FROM audiences WHERE id = :id", id=made) == 1

    driver.find_element(By.ID, "delete-audience").click()
    visible(driver, "#delete-dialog-yes").click()
    wait(driver).until(lambda d: d.execute_script("return location.hash") == "#/audiences")
    wait(driver).until(lambda d: "Lounge people" in text_of(d, "#audiences-list"))
    assert "From a file" not in text_of(driver, "#audiences-list")
    assert scalar(stack, "SELECT count(*) FROM audiences WHERE id = :id", id=made) == 0
    fits(driver)
    shoot(driver, screenshots, "audiences-list-phone")


def _collect(stack: Stack, settings: Settings, task_id: int) -> str:
    """A parse worker on the sandbox the panel's account uses, until the task is finished (a
    task waiting for the account another task holds is tried again after a short rest)."""

    async def run() -> str:
        assert stack._sessionmaker is not None
        engine = ParseEngine(
            sessionmaker=stack._sessionmaker,
            gateway=TelegramGateway(SandboxClientFactory(stack.sandbox_url)),
            service=build_account_service(settings, None),
            leases=LeaseStore(stack._sessionmaker, "browser-parser", ttl_s=30),
            notifier=None,
            owner="browser-parser",
            config=EngineConfig(delay_scale=0),
        )
        try:
            for _ in range(60):
                await engine.run_pending()
                status = str(
                    await stack._scalar("SELECT status FROM parse_tasks WHERE id = :id", id=task_id)
                )
                if status in ("done", "failed", "cancelled"):
                    return status
                await asyncio.sleep(1)
            return status
        finally:
            await engine.close()

    return stack.run(run(), timeout=90)


def test_search_and_collect_from_a_result(
    browser: WebDriver, stack: Stack, screenshots: Path, settings: Settings
) -> None:
    sandbox_post(
        stack,
        "/sandbox/world/users",
        {
            "users": [
                {"id": i, "first_name": f"Gardener {i}", "username": f"gardener{i}"}
                for i in GARDENERS
            ]
        },
    )
    sandbox_post(
        stack,
        "/sandbox/world/chats",
        {
            "id": GARDEN,
            "type": "megagroup",
            "title": "Garden lovers",
            "username": "garden_lovers",
            "members": GARDENERS,
            "messages": [{"from": i, "text": "roses"} for i in GARDENERS[:4]],
        },
    )
    driver = browser
    log_in_owner(driver, stack)
    resize(driver, PHONE)
    go(driver, "#/search")
    keywords = visible(driver, "#search-keywords")
    keywords.send_keys("ga")
    driver.find_element(By.ID, "search-submit").click()
    assert "3 to 64" in visible(driver, "#search-results .form-error").text
    keywords.send_keys("rden")
    driver.find_element(By.ID, "search-submit").click()
    count = visible(driver, "#search-count")
    assert count.text == "Communities found for “garden”: 1.", count.text
    cells = driver.execute_script(
        "return [...document.querySelectorAll('#search-results tbody tr:first-child td')].map(c => c.textContent);"
    )
    assert cells[:5] == ["Garden lovers", "supergroup", "12", "@garden_lovers", "4"], cells
    fits(driver)
    shoot(driver, screenshots, "audiences-search-phone")

    driver.find_element(By.CSS_SELECTOR, f"#search-results button[data-chat='{GARDEN}']").click()
    started = visible(driver, "#search-started")
    assert "@garden_lovers" in started.text
    task_id = int(started.get_attribute("data-task"))
    audience_id = int(started.get_attribute("data-audience"))
    assert _collect(stack, settings, task_id) == "done"
    driver.find_element(
        By.CSS_SELECTOR, f"#search-started a[href='#/audiences/{audience_id}']"
    ).click()
    wait(driver).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#members-list tbody tr")) == len(GARDENERS)
    )
    assert text_of(driver, "#audience-size").startswith(f"{len(GARDENERS)} people")
    fits(driver)

    # Between the search and the click the group lost its username: the source check
    # refuses it with a sentence, and neither a task nor an audience is saved.
    resize(driver, WIDE)
    club = {"id": GARDEN + 1, "type": "megagroup", "title": "Garden club", "members": GARDENERS[:3]}
    sandbox_post(stack, "/sandbox/world/chats", {**club, "username": "garden_club"})
    go(driver, "#/search")
    visible(driver, "#search-keywords").send_keys("garden club")
    driver.find_element(By.ID, "search-submit").click()
    wait(driver).until(lambda d: "@garden_club" in text_of(d, "#search-results"))
    sandbox_post(stack, "/sandbox/world/chats", {**club, "username": "garden_club_moved"})
    tasks = scalar(stack, "SELECT count(*) FROM parse_tasks")
    audiences = scalar(stack, "SELECT count(*) FROM audiences")
    driver.find_element(
        By.CSS_SELECTOR, f"#search-results button[data-chat='{GARDEN + 1}']"
    ).click()
    error = visible(driver, "#search-status .form-error")
    sentence = api_t("en", "problem.source_not_found", source="@garden_club")
    assert sentence.lower() in error.text.lower() and "Invalid request" not in error.text, (
        error.text
    )
    assert scalar(stack, "SELECT count(*) FROM parse_tasks") == tasks
    assert scalar(stack, "SELECT count(*) FROM audiences") == audiences
    fits(driver)
    shoot(driver, screenshots, "audiences-search")


def test_a_persons_status_and_a_filtered_export(
    browser: WebDriver, stack: Stack, screenshots: Path, tmp_path: Path
) -> None:
    driver = browser
    resize(driver, WIDE)
    downloads_to(driver, tmp_path)
    log_in_owner(driver, stack)
    go(driver, f"#/campaigns/{stack.campaign_id}")
    visible(driver, "#campaign-start").click()
    # The engine invites one person a second; the first privacy refusals and additions.
    # (in whatever order the engine takes them: a target's id is not the person's)
    wait(driver, 60).until(
        lambda d: (
            scalar(
                stack,
                "SELECT count(*) FROM campaign_targets WHERE campaign_id = :c AND state = 'invited'",
                c=stack.campaign_id,
            )
            >= 2
            and scalar(
                stack,
                "SELECT count(*) FROM campaign_targets WHERE campaign_id = :c AND state = 'failed'",
                c=stack.campaign_id,
            )
            >= 1
        )
    )
    refused = int(
        scalar(
            stack,
            "SELECT tg_user_id FROM campaign_targets WHERE campaign_id = :c AND state = 'failed' LIMIT 1",
            c=stack.campaign_id,
        )
    )
    added = int(
        scalar(
            stack,
            "SELECT tg_user_id FROM campaign_targets WHERE campaign_id = :c AND state = 'invited' LIMIT 1",
            c=stack.campaign_id,
        )
    )
    assert refused in PRIVATE_PEOPLE and added in PEOPLE

    go(driver, f"#/audiences/{stack.audience_id}")
    search = visible(driver, "#member-search")
    search.send_keys("person2000")
    shown = [f"person{i}" for i in PEOPLE if f"person{i}".startswith("person2000")]
    wait(driver).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#members-list tbody tr")) == len(shown)
    )
    driver.find_element(By.ID, "export-filtered").click()
    exported = list(
        csv.DictReader(
            io.StringIO(downloaded(tmp_path, f"audience-{stack.audience_id}-filtered.csv"))
        )
    )
    assert [r["username"] for r in exported] == shown

    driver.find_element(
        By.CSS_SELECTOR, f"a.person-link[href='#/audiences/{stack.audience_id}/people/{refused}']"
    ).click()
    outcome = visible(driver, "#person-campaigns .outcome")
    assert outcome.get_attribute("data-state") == "failed"
    assert outcome.text.startswith("not added: ")
    follow = text_of(driver, "#person-campaigns")
    assert (
        "On the follow-up list" in follow
        and "Grow the target" in follow
        and "Panel Target" in follow
    )
    assert "Not on any opt-out list" in text_of(driver, "#person-optout")
    fits(driver)
    shoot(driver, screenshots, "audiences-person-refused")

    go(driver, f"#/audiences/{stack.audience_id}/people/{added}")
    wait(driver).until(
        lambda d: (
            d.execute_script(
                "return document.querySelector('#person-campaigns .outcome')?.dataset.state"
            )
            == "invited"
        )
    )
    assert "added to the chat" in text_of(driver, "#person-campaigns")
    assert "not checked yet" in text_of(driver, "#person-campaigns")  # a day and a week later
    resize(driver, PHONE)
    visible(driver, "#person-campaigns")
    fits(driver)
    shoot(driver, screenshots, "audiences-person-phone")
    go(driver, f"#/audiences/{stack.audience_id}")
    visible(driver, "#export-filtered")
    fits(driver)
    shoot(driver, screenshots, "audiences-members-phone")
