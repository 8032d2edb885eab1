"""The new-campaign form and a draft's page in Chromium, for checks that do not pass.

- A "check and create" whose pre-flight fails shows the refusal as a sentence (no
  "Invalid request:", no code) and leaves no campaign behind.
- An empty audience cannot be chosen; an audience with nobody left to invite gets a
  pre-flight whose Start is disabled with the reason beside it, and so does the draft's
  page, which shows no "live" badge (a draft changes only when someone acts on it).
- Adding a manager is confirmed on the page.

Screenshots go to `.data/screenshots/checks-*.png`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from core.i18n import refusal_message
from sandbox.world.model import Membership
from tests.browser.conftest import OWNER_USERNAME, TARGET_CHAT, Stack
from tests.browser.test_admin_pages import execute, go
from tests.browser.test_panel import attribute, log_in, shoot, visible, wait
from tests.invites.conftest import make_audience

pytestmark = pytest.mark.e2e

PERSON = 32_001
MEMBERS = (32_011, 32_012)  # in the target chat already
HELPER_TG, HELPER_USERNAME = 7_202, "checks_helper"


def campaign_count(stack: Stack) -> int:
    return int(stack.run(stack._scalar("SELECT count(*) FROM campaigns")))


def fill_form(driver: WebDriver, name: str, audience: int, target: str) -> None:
    go(driver, "#/campaigns")  # a fresh form each time: the same address would not redraw it
    visible(driver, "#new-campaign")
    go(driver, "#/campaigns/new")
    visible(driver, "#campaign-name").send_keys(name)
    Select(driver.find_element(By.ID, "campaign-audience")).select_by_value(str(audience))
    driver.find_element(By.ID, "campaign-target").send_keys(target)
    driver.find_element(By.CSS_SELECTOR, "#campaign-form button[type='submit']").click()


def test_checks_that_do_not_pass(browser: WebDriver, stack: Stack, screenshots: Path) -> None:
    world, sessionmaker = stack.world, stack._sessionmaker
    assert world is not None and sessionmaker is not None
    world.put_users([{"id": PERSON, "first_name": "Just", "username": "just_a_person"}])
    world.put_users([{"id": i, "first_name": f"M{i}", "username": f"m{i}"} for i in MEMBERS])
    chat = world.chats[TARGET_CHAT]
    for member in MEMBERS:
        chat.members[member] = Membership(chat.date)
    empty = stack.run(make_audience(sessionmaker, stack.workspace_id, "Nobody yet", []))
    members = stack.run(
        make_audience(
            sessionmaker,
            stack.workspace_id,
            "Already inside",
            [(i, f"m{i}", None, None) for i in MEMBERS],
        )
    )
    execute(stack, "UPDATE audiences SET size = 2 WHERE id = :id", id=members)

    driver = browser
    log_in(driver, stack, OWNER_USERNAME, stack.web_auth_code())
    visible(driver, "#current-user")

    # An empty audience is listed but cannot be chosen, and is never the one offered.
    go(driver, "#/campaigns/new")
    select = Select(visible(driver, "#campaign-audience"))
    option = driver.find_element(By.CSS_SELECTOR, f"#campaign-audience option[value='{empty}']")
    assert option.get_attribute("disabled") is not None
    assert option.text.startswith("Nobody yet (empty"), option.text
    assert select.first_selected_option.get_attribute("value") != str(empty)

    # A failed check: a sentence, and no campaign saved.
    before = campaign_count(stack)
    world.add_fault("ResolveUsernameRequest", "INTERNAL_CHECK_FAILED", 1)
    fill_form(driver, "To a person", stack.audience_id, "@just_a_person")
    refused = visible(driver, "main .form-error")
    sentence = refusal_message("en", {"problem": "target_is_person"})
    wait(driver).until(lambda d: refused.text == sentence)
    assert "Invalid request" not in refused.text and "target_is_person" not in refused.text
    assert campaign_count(stack) == before
    shoot(driver, screenshots, "checks-failed")

    # Nobody left to invite: the pre-flight's Start is disabled and says why.
    fill_form(driver, "Nobody left", members, "@panel_target")
    visible(driver, "#preflight")
    why = refusal_message("en", {"problem": "nobody_to_invite"})
    assert driver.find_element(By.ID, "preflight-start").get_attribute("disabled") is not None
    assert visible(driver, "#preflight-start-problem").text == why
    assert "0 days" not in driver.find_element(By.ID, "preflight").text  # no "about 0 days"
    shoot(driver, screenshots, "checks-nobody-preflight")
    visible(driver, "#preflight-keep").click()
    wait(driver).until(lambda d: attribute(d, "#campaign-status .badge", "data-status") == "draft")
    start = visible(driver, "#campaign-start")
    assert start.get_attribute("disabled") is not None
    assert start.get_attribute("aria-describedby") == "campaign-start-problem"
    assert visible(driver, "#campaign-start-problem").text == why
    assert attribute(driver, "#stream-state", "data-state") is None  # no "● live" on a draft
    assert driver.find_element(By.ID, "stream-state").text == ""
    shoot(driver, screenshots, "checks-nobody-draft")

    # Adding a manager says so on the page.
    stack.register(HELPER_TG, HELPER_USERNAME)
    go(driver, "#/team")
    visible(driver, "#team-username").send_keys(f"@{HELPER_USERNAME}")
    driver.find_element(By.CSS_SELECTOR, "main form button[type='submit']").click()
    added = visible(driver, "#team-added")
    assert added.text == f"@{HELPER_USERNAME} is now a manager."
    shoot(driver, screenshots, "checks-team-added")
