"""Private chats in the panel, in Chromium:

- a campaign into a private megagroup picked from the list of chats where the account may
  add people, started from the pre-flight, invites into it;
- a public target the account is not in: the pre-flight offers "Let @acc901 join", the
  owner presses it, the account joins (channels.joinChannel) and the check runs again;
- a collection from a private chat's invite link asks which account joins it.

At 1366 px and 375 px (no sideways scrolling). Screenshots go to `.data/screenshots/private-*.png`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from core.i18n import t
from core.parsing import JOIN_TARGET_ACTION
from sandbox.world.invites import make_invite
from tests.browser.conftest import ACCOUNT_TG, OWNER_USERNAME, Stack
from tests.browser.test_admin_pages import execute, go
from tests.browser.test_panel import log_in, shoot, status_of, visible, wait

pytestmark = pytest.mark.e2e

HIDDEN, OPEN_HALL, SECRET = 7_300_001, 7_300_002, 7_300_003  # + 10 at 375 px: a world each


def overflow(driver: WebDriver) -> int:
    """How far the page scrolls sideways (0: it fits)."""
    return int(
        driver.execute_script(
            "const d = document.documentElement; return d.scrollWidth - d.clientWidth;"
        )
    )


def new_campaign(driver: WebDriver, name: str, target: str) -> None:
    go(driver, "#/campaigns")  # a fresh form each time: the same address would not redraw it
    visible(driver, "#new-campaign")
    go(driver, "#/campaigns/new")
    visible(driver, "#campaign-name").send_keys(name)
    if target.startswith("-100"):  # picked from the list of chats
        Select(driver.find_element(By.ID, "campaign-chat")).select_by_value(target)
        assert driver.find_element(By.ID, "campaign-target").get_attribute("value") == target
    else:
        driver.find_element(By.ID, "campaign-target").send_keys(target)
    driver.find_element(By.CSS_SELECTOR, "#campaign-form button[type='submit']").click()


WIDTHS = (1366, 375)


def _ids(width: int) -> tuple[int, int, int]:
    shift = 0 if width == WIDTHS[0] else 10
    return HIDDEN + shift, OPEN_HALL + shift, SECRET + shift


@pytest.fixture(scope="module")
def chats(stack: Stack) -> None:
    """Both widths' chats exist before the first look: the list of chats is read from the
    account's dialogs and kept for a few minutes."""
    world = stack.world
    assert world is not None
    for width in WIDTHS:
        hidden, open_hall, secret = _ids(width)
        world.put_chat(hidden, "megagroup", f"Hidden Club {width}", creator=ACCOUNT_TG)
        world.put_chat(open_hall, "megagroup", f"Open Hall {width}", username=f"open_hall_{width}",
                       creator=900)  # fmt: skip
        world.put_chat(secret, "megagroup", "Secret Source", creator=900, members=[900])


@pytest.mark.parametrize("width", WIDTHS)
def test_private_target_join_and_private_source(
    browser: WebDriver, stack: Stack, chats: None, screenshots: Path, width: int
) -> None:
    world = stack.world
    assert world is not None
    hidden, open_hall, secret = _ids(width)
    driver = browser
    log_in(driver, stack, OWNER_USERNAME, stack.web_auth_code())
    visible(driver, "#current-user")  # (in the menu on a phone)
    driver.set_window_size(width, 900)
    wait(driver).until(lambda d: d.execute_script("return window.innerWidth") == width)

    # 1. Picked from the list: the private club (no username), which the account created.
    go(driver, "#/campaigns/new")
    options = [o.text for o in Select(visible(driver, "#campaign-chat")).options]
    assert any(o.startswith(f"Hidden Club {width}") for o in options), options
    new_campaign(driver, f"Into the club {width}", f"-100{hidden}")
    visible(driver, "#preflight-start")
    assert overflow(driver) <= 0
    shoot(driver, screenshots, f"private-picked-{width}")
    driver.find_element(By.ID, "preflight-start").click()
    wait(driver).until(lambda d: "/campaigns/" in d.current_url and "new" not in d.current_url)
    visible(driver, "#campaign-status .badge")
    # The engine (one invite a second) adds people into the private club.
    wait(driver, 30).until(lambda _d: len(world.find_chat(hidden).members) >= 3)
    driver.find_element(By.ID, "campaign-pause").click()
    wait(driver).until(lambda d: status_of(d) == "paused")  # read in one step: it redraws

    # 2. A public chat the account is not in: the owner lets it join from the pre-flight.
    new_campaign(driver, f"Open hall {width}", f"@open_hall_{width}")
    join = visible(driver, "#preflight-join button[data-account]")
    assert join.text == f"Let @acc{ACCOUNT_TG} join"
    assert (
        t("en", "campaign.exclusion.not_a_member") in driver.find_element(By.ID, "preflight").text
    )
    assert overflow(driver) <= 0
    shoot(driver, screenshots, f"private-join-offer-{width}")
    if width != WIDTHS[0]:
        # The same account joined a chat a moment ago (at the other width): the pace refuses
        # with a sentence, and nothing is asked of Telegram.
        calls = len(world.calls("JoinChannelRequest"))
        join.click()
        wait(driver).until(
            lambda d: "joined a chat a moment ago" in d.find_element(By.TAG_NAME, "main").text
        )
        assert len(world.calls("JoinChannelRequest")) == calls
        execute(stack, "UPDATE audit_log SET at = at - interval '3 minutes' WHERE action = :a",
                a=JOIN_TARGET_ACTION)  # fmt: skip
        join = driver.find_element(By.CSS_SELECTOR, "#preflight-join button[data-account]")
    join.click()
    wait(driver).until(
        lambda d: t("en", "campaign.exclusion.not_admin") in d.find_element(By.ID, "preflight").text
    )
    assert ACCOUNT_TG in world.find_chat(open_hall).members
    assert not driver.find_elements(By.CSS_SELECTOR, "#preflight-join")  # nobody left to join
    shoot(driver, screenshots, f"private-joined-{width}")

    # 3. A private source by its invite link: the form asks which account joins it.
    link = make_invite(world, world.find_chat(secret))
    go(driver, "#/tasks")
    wait(driver).until(lambda d: d.find_elements(By.ID, "new-task"))
    driver.execute_script("document.querySelector('#new-task').closest('details').open = true;")
    assert not driver.find_element(By.ID, "task-account").is_displayed()
    driver.find_element(By.ID, "task-source").send_keys(link.link)
    chooser = Select(visible(driver, "#task-account"))
    wait(driver).until(lambda _d: len(chooser.options) == 2)
    chooser.select_by_visible_text(f"@acc{ACCOUNT_TG}")
    before = len(world.calls("messages.CheckChatInvite"))
    driver.find_element(By.CSS_SELECTOR, "#new-task button[type='submit']").click()
    visible(driver, "#new-task .notice")
    checks = world.calls("messages.CheckChatInvite")[before:]
    assert [c.account for c in checks] == [ACCOUNT_TG]  # asked through the chosen account
    assert overflow(driver) <= 0
    shoot(driver, screenshots, f"private-source-{width}")
