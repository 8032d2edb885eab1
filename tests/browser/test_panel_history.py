"""The accounts' history, an account's page, a campaign's plan and CSV exports, draft editing
and deleting drafts together, in Chromium against the real API, bot, sandbox and engine; at
1366 px and at 375 px with nothing wider than the screen.

Screenshots go to `.data/screenshots/` (history-*.png).
"""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import text

from core.i18n import refusal_message
from core.i18n import t as bot_t
from tests.browser.conftest import ACCOUNT_TG, OWNER_USERNAME, PRIVATE_PEOPLE, Stack
from tests.browser.test_panel import log_in, open_page, shoot, status_of, visible, wait

pytestmark = pytest.mark.e2e

WIDE = (1366, 900)
PHONE = (375, 812)
# Downloads go through a Blob (the token lives in the page's memory, not in a cookie): the
# test keeps each Blob's text as the browser receives it.
CATCH_DOWNLOADS = """
window.__downloads = [];
const make = URL.createObjectURL.bind(URL);
URL.createObjectURL = (blob) => { blob.text().then((text) => window.__downloads.push(text)); return make(blob); };
"""


def _fits(driver: WebDriver) -> bool:
    return bool(
        driver.execute_script(
            "const e = document.documentElement; return e.scrollWidth <= e.clientWidth;"
        )
    )


def _go(driver: WebDriver, stack: Stack, hash_: str, ready_css: str) -> Any:
    driver.get(f"{stack.api_url}/#{hash_}")
    return visible(driver, ready_css)


def _both_widths(driver: WebDriver, screenshots: Path, name: str) -> None:
    """At 1366 px and at 375 px: nothing scrolls sideways; a screenshot of each."""
    for label, size in (("wide", WIDE), ("phone", PHONE)):
        driver.set_window_size(*size)
        wait(driver).until(_fits)
        shoot(driver, screenshots, f"history-{name}-{label}")
    driver.set_window_size(*WIDE)


def _text(driver: WebDriver, element_id: str) -> str:
    """An element's text read in one step (the panel may redraw it between two)."""
    return str(
        driver.execute_script(
            "return document.getElementById(arguments[0])?.textContent ?? '';", element_id
        )
    )


def _settled(stack: Stack, people: range) -> int:
    """How many of these people of the campaign have a final result."""
    return int(
        stack.run(
            stack._scalar(
                """SELECT count(*) FROM campaign_targets
                    WHERE campaign_id = :id AND tg_user_id = ANY(:ids)
                      AND state NOT IN ('pending', 'sending')""",
                id=stack.campaign_id,
                ids=list(people),
            )
        )
    )


def _downloaded(driver: WebDriver, button_id: str) -> list[dict[str, str]]:
    before = driver.execute_script("return window.__downloads.length;")
    driver.find_element(By.ID, button_id).click()
    wait(driver).until(lambda d: d.execute_script("return window.__downloads.length;") > before)
    text = driver.execute_script("return window.__downloads[window.__downloads.length - 1];")
    return list(csv.DictReader(io.StringIO(text)))


async def _draft_copies(stack: Stack, n: int) -> list[int]:
    """Drafts like the seeded one (its audience, target and pre-flight)."""
    assert stack._sessionmaker is not None
    ids = []
    async with stack._sessionmaker() as session, session.begin():
        for i in range(n):
            found = await session.scalar(
                text("""INSERT INTO campaigns (workspace_id, created_by_user_id, name, audience_id,
                                               target_ref, target_chat_id, target_kind, target_title,
                                               invite_link, status, priority, limits, preflight)
                        SELECT workspace_id, created_by_user_id, :name, audience_id, target_ref,
                               target_chat_id, target_kind, target_title, invite_link, status,
                               priority, limits, preflight
                          FROM campaigns WHERE id = :id RETURNING id"""),
                {"id": stack.campaign_id, "name": f"Spare draft {i + 1}"},
            )
            ids.append(int(found))
    return ids


def _events(stack: Stack) -> int:
    return int(
        stack.run(
            stack._scalar(
                "SELECT count(*) FROM invite_events WHERE campaign_id = :c", c=stack.campaign_id
            )
        )
    )


def test_drafts_are_edited_and_deleted_together(
    browser: WebDriver, stack: Stack, screenshots: Path
) -> None:
    log_in(browser, stack, OWNER_USERNAME, stack.web_auth_code())
    visible(browser, "#nav-campaigns")
    spare = stack.run(_draft_copies(stack, 2))

    # The list: a checkbox for each draft; two picked, deleted after one confirmation.
    open_page(browser, "campaigns", "#campaign-filter")
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".draft-pick")) == 3)
    button = browser.find_element(By.ID, "drafts-delete")
    assert not button.is_enabled()
    _both_widths(browser, screenshots, "campaigns")
    for campaign_id in spare:
        browser.find_element(By.CSS_SELECTOR, f".draft-pick[value='{campaign_id}']").click()
    wait(browser).until(lambda d: "(2)" in d.find_element(By.ID, "drafts-delete").text)
    browser.execute_script("window.confirm = () => true;")
    browser.find_element(By.ID, "drafts-delete").click()
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".draft-pick")) == 1)
    left = stack.run(stack._scalar("SELECT count(*) FROM campaigns"))
    assert left == 1
    assert stack.run(stack._scalar("SELECT id FROM campaigns")) == stack.campaign_id

    # The draft's editor: a refused change says why in words and changes nothing.
    _go(browser, stack, f"/campaigns/{stack.campaign_id}", "#draft-edit")
    browser.find_element(By.CSS_SELECTOR, "#draft-edit summary").click()
    hours = visible(browser, "#draft-hours")
    hours.send_keys("25-3")
    browser.find_element(By.ID, "draft-save").click()
    error = visible(browser, "#draft-form .form-error")
    assert error.text == refusal_message("en", {"problem": "active_hours"})
    assert stack.run(stack._scalar("SELECT active_from_hour FROM campaigns")) is None
    _both_widths(browser, screenshots, "draft-edit")

    # Hours around now, so that the next test's campaign works at once.
    hour = datetime.now(UTC).hour
    window = (f"{(hour - 1) % 24}", f"{(hour + 3) % 24}")
    hours.clear()
    hours.send_keys("-".join(window))
    name = browser.find_element(By.ID, "draft-name")
    name.clear()
    name.send_keys("Grow the target, edited")
    browser.find_element(By.ID, "draft-pause_max_s").send_keys("2")
    browser.find_element(By.ID, "draft-save").click()
    wait(browser).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "main h1").text == "Grow the target, edited"
    )
    row = stack.run(
        stack._scalar(
            "SELECT concat_ws('|', name, active_from_hour, active_to_hour, limits->>'pause_max_s') FROM campaigns"
        )
    )
    assert row == f"Grow the target, edited|{window[0]}|{window[1]}|2"


def test_campaign_plan_exports_and_the_account_page(
    browser: WebDriver, stack: Stack, screenshots: Path
) -> None:
    log_in(browser, stack, OWNER_USERNAME, stack.web_auth_code())
    visible(browser, "#nav-campaigns")
    _go(browser, stack, f"/campaigns/{stack.campaign_id}", "#campaign-plan dd")
    # (read afresh: the plan redraws itself when it loads)
    wait(browser).until(lambda d: "none ahead" in _text(d, "plan-next"))  # a draft
    visible(browser, "#campaign-start").click()
    wait(browser).until(lambda d: status_of(d) in ("running", "waiting"))
    # The privacy refusals (the follow-up list) and a few more results.
    wait(browser, 40).until(
        lambda _d: (
            stack.settled() >= len(PRIVATE_PEOPLE) + 2
            and _settled(stack, PRIVATE_PEOPLE) == len(PRIVATE_PEOPLE)
        )
    )
    wait(browser).until(lambda d: d.find_element(By.ID, "plan-next").get_attribute("data-at"))
    visible(browser, "#campaign-pause").click()
    wait(browser).until(lambda d: status_of(d) == "paused")
    wait(browser).until(lambda d: "none ahead" in _text(d, "plan-next"))
    _both_widths(browser, screenshots, "campaign")

    # An invite on its way when the pause came is still recorded: wait for the journal to settle.
    recorded = -1
    while recorded != _events(stack):
        recorded = _events(stack)
        time.sleep(1.5)
    browser.execute_script(CATCH_DOWNLOADS)
    attempts = _downloaded(browser, "export-attempts")
    assert len(attempts) == recorded >= len(PRIVATE_PEOPLE) + 2
    assert set(attempts[0]) >= {"time_utc", "user_id", "account", "outcome", "outcome_text"}
    refused = [r for r in attempts if r["reason"] == "privacy_restricted"]
    assert sorted(int(r["user_id"]) for r in refused) == list(PRIVATE_PEOPLE)
    assert all(r["outcome_text"] == bot_t("en", "outcome.failed") for r in refused)
    assert all(r["account"] == f"@acc{ACCOUNT_TG}" for r in attempts)
    follow_up = _downloaded(browser, "export-follow-up")
    link = browser.find_element(By.ID, "invite-link").text
    # The people the campaign has on its follow-up list now, each with the chat's link.
    listed = stack.run(
        stack._scalar(
            """SELECT coalesce(array_agg(tg_user_id ORDER BY id), '{}') FROM campaign_targets
                WHERE campaign_id = :id AND state = 'failed' AND reason = 'privacy_restricted'""",
            id=stack.campaign_id,
        )
    )
    assert listed and set(listed) <= set(PRIVATE_PEOPLE)
    assert [(int(r["user_id"]), r["invite_link"]) for r in follow_up] == [(i, link) for i in listed]

    # The accounts page: its history chart, and the account's own page from its name.
    open_page(browser, "accounts", "#history-chart svg.chart")
    _both_widths(browser, screenshots, "accounts")
    browser.find_element(By.CSS_SELECTOR, "table a[href^='#/accounts/']").click()
    visible(browser, "#account-facts")
    chart = visible(browser, "#history-chart svg.chart")
    assert "Attempts per day" in chart.get_attribute("aria-label")
    assert browser.find_element(By.CSS_SELECTOR, "#account-status .badge").get_attribute(
        "data-status"
    ) in ("active", "cooldown")
    assert browser.find_element(By.CSS_SELECTOR, "main h1").text == f"@acc{ACCOUNT_TG}"
    total = browser.find_element(By.ID, "account-total").text
    assert total.startswith(f"{recorded} attempts"), total
    # Every label of the chart is whole: none is wider than the drawing.
    cut = browser.execute_script(
        """const svg = document.querySelector('#history-chart svg.chart');
           const w = svg.viewBox.baseVal.width;
           return [...svg.querySelectorAll('text')].filter((t) => t.getBBox().x + t.getBBox().width > w + 0.5).length;"""
    )
    assert cut == 0
    _both_widths(browser, screenshots, "account")
