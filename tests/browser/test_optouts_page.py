"""The panel's Opt-outs page in Chromium: the owner adds a person by id, is told inline why an
unknown @username cannot be added, and removes the person again; the list follows each step.

A screenshot goes to `.data/screenshots/optouts.png`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC

from core.i18n import t as bot_t
from tests.browser.conftest import OWNER_USERNAME, Stack
from tests.browser.test_panel import log_in, open_page, shoot, visible, wait

pytestmark = pytest.mark.e2e


def _rows(driver: WebDriver) -> list[str]:
    """The first cell (Telegram id) of each row, read in one step (the list is redrawn)."""
    return driver.execute_script(  # type: ignore[no-any-return]
        "return [...document.querySelectorAll('#optouts-list tbody tr td:first-child')].map(td => td.textContent);"
    )


def test_owner_adds_and_removes_an_opt_out(
    browser: WebDriver, stack: Stack, screenshots: Path
) -> None:
    log_in(browser, stack, OWNER_USERNAME, stack.web_auth_code())
    visible(browser, "#nav-optouts")
    open_page(browser, "optouts", "#optouts-total")
    assert _rows(browser) == []
    assert "/optout" in browser.find_element(By.CSS_SELECTOR, "main .hint").text

    person = browser.find_element(By.ID, "optout-person")
    person.send_keys("20039")
    person.submit()
    wait(browser).until(lambda d: _rows(d) == ["20039"])
    assert browser.find_element(By.ID, "optouts-total").text == "People on the list: 1"

    person = browser.find_element(By.ID, "optout-person")
    person.send_keys("@nobody_known")
    person.submit()
    error = visible(browser, "form .form-error")
    # The API's sentence, in the panel's language: why, and what to send instead.
    assert bot_t("en", "problem.optout_unknown_username", username="nobody_known") in error.text
    shoot(browser, screenshots, "optouts")

    browser.find_element(By.CSS_SELECTOR, "#optouts-list button[data-user='20039']").click()
    wait(browser).until(lambda d: _rows(d) == [])
    wait(browser).until(
        EC.text_to_be_present_in_element((By.ID, "optouts-total"), "People on the list: 0")
    )
    assert stack.run(stack._scalar("SELECT count(*) FROM opt_outs")) == 0
