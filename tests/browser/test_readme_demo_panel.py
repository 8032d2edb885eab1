"""The README demo's last step in Chromium: the campaign Alice started in the bot, followed live
on its page in the panel, on the real product as `make run` starts it.

Alice does steps 1-3 through the sandbox's control API (`tests/e2e/test_readme_demo.py`), sends
/web_auth, and logs in to the panel at the API's port as `alice` with the code; the campaign's
page shows "Sandbox Target" running, its bar grows without a reload, and the people the page
counts as invited are in the chat in the simulated world. Screenshot:
`.data/screenshots/readme-demo-campaign.png`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from sandbox.world.demo import ALICE
from tests.browser.test_panel import attribute, progress, shoot, status_of, visible, wait
from tests.e2e.test_readme_demo import (
    Demo,
    follow_the_bot_steps,
    run_command,
    web_auth_code,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
async def demo(test_env: dict[str, str], engine: Any, redis: Redis) -> AsyncIterator[Demo]:
    # `engine` and `redis` empty the database and Redis: Alice is new to the bot.
    async with run_command(test_env) as running:
        yield running


def _watch_the_campaign(driver: WebDriver, api: str, code: str, people: int, folder: Path) -> int:
    """Log in as alice, open the campaign's page and see it move; the invited count shown."""
    driver.get(api + "/")
    visible(driver, "input[name='username']").send_keys("alice")
    driver.find_element(By.CSS_SELECTOR, "input[name='code']").send_keys(code)
    driver.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    assert visible(driver, "#current-user").text == "@alice"

    driver.find_element(By.ID, "nav-campaigns").click()
    # The bot named it after the audience and the chat.
    visible(driver, "a[href^='#/campaigns/']:not([href='#/campaigns/new'])")
    (link,) = [
        a
        for a in driver.find_elements(By.CSS_SELECTOR, "a[href^='#/campaigns/']")
        if a.text == "@sandbox_lounge → Sandbox Target"
    ]
    link.click()
    visible(driver, "#campaign-progress")
    wait(driver).until(lambda d: status_of(d) == "running")
    wait(driver).until(lambda d: attribute(d, "#stream-state", "data-state") == "live")
    assert attribute(driver, "#campaign-progress", "aria-valuemax") == str(people)
    first = progress(driver)
    wait(driver, 30).until(lambda d: progress(d) >= first + 2)
    wait(driver, 30).until(lambda d: int(d.find_element(By.ID, "count-invited").text or 0) >= 2)
    # Drawn from the stream, in the same document: no reload happened.
    assert driver.execute_script("return performance.getEntriesByType('navigation').length") == 1
    shoot(driver, folder, "readme-demo-campaign")
    return int(driver.find_element(By.ID, "count-invited").text)


async def test_the_campaign_page_follows_the_demo_campaign(
    demo: Demo, browser: WebDriver, screenshots: Path
) -> None:
    people = await follow_the_bot_steps(demo)
    code = await web_auth_code(demo)
    # Selenium blocks: it runs in a thread while this loop keeps reading the processes' output.
    invited = await asyncio.to_thread(
        _watch_the_campaign, browser, demo.api, code, people, screenshots
    )
    added = [m for m in (await demo.target_members())[2:] if m["inviter"] == ALICE]
    assert len(added) >= invited >= 2, (added, invited)
