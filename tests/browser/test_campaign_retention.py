"""The campaign page's "Did they stay?" section in Chromium: nothing until someone is added,
then added / stayed a day / stayed a week for the source audience, as the retention checks
recorded them (the checks themselves: tests/invites/test_retention.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import OWNER_USERNAME, Stack
from tests.browser.test_panel import log_in, shoot, status_of, visible

pytestmark = pytest.mark.e2e


def wait(driver: WebDriver, timeout: float = 30) -> WebDriverWait:  # type: ignore[type-arg]
    return WebDriverWait(driver, timeout)


async def _record_checks(stack: Stack) -> int:
    """Two of the people added stayed the day, one left; returns how many were added."""
    assert stack._sessionmaker is not None
    from sqlalchemy import text

    async with stack._sessionmaker() as session, session.begin():
        ids = list(
            await session.scalars(
                text(
                    "SELECT tg_user_id FROM retention_checks WHERE campaign_id = :c ORDER BY tg_user_id"
                ),
                {"c": stack.campaign_id},
            )
        )
        assert len(ids) >= 3, ids
        await session.execute(
            text("UPDATE retention_checks SET stayed_day = true WHERE tg_user_id = ANY(:u)"),
            {"u": ids[:2]},
        )
        await session.execute(
            text("""UPDATE retention_checks SET stayed_day = false, stayed_week = false
                                        WHERE tg_user_id = :u"""),
            {"u": ids[2]},
        )
        return len(ids)


def cells(driver: WebDriver) -> list[list[str]]:
    rows: list[Any] = driver.find_elements(By.CSS_SELECTOR, "#campaign-retention tbody tr")
    return [[c.text for c in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def test_the_campaign_page_shows_who_stayed(
    browser: WebDriver, stack: Stack, screenshots: Path
) -> None:
    driver = browser
    log_in(driver, stack, "@" + OWNER_USERNAME, stack.web_auth_code())
    visible(driver, "#current-user")
    driver.get(f"{stack.api_url}/#/campaigns/{stack.campaign_id}")
    visible(driver, "#campaign-progress")
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#campaign-retention .empty"))
    assert (
        "a day and a week after the invite" in driver.find_element(By.ID, "campaign-retention").text
    )

    visible(driver, "#campaign-start").click()
    wait(driver).until(lambda d: status_of(d) == "running")
    # The first people refuse by privacy: wait for a few accepted calls after them. An
    # accepted call is confirmed by a membership check when the account's pass ends (here,
    # with one-second pauses, at the pause), and only then does its retention row exist.
    deadline = time.monotonic() + 40
    while stack.run(_accepted(stack)) < 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    visible(driver, "#campaign-pause").click()
    wait(driver).until(lambda d: status_of(d) == "paused")
    deadline = time.monotonic() + 20
    while stack.run(_added(stack)) < 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(1.0)  # the invite that was on its way when the pause came is recorded
    added = stack.run(_record_checks(stack))
    driver.refresh()
    wait(driver).until(cells)
    (row,) = cells(driver)
    assert row == ["Lounge people", str(added), "2 of 3 checked", "0 of 1 checked"]
    shoot(driver, screenshots, "campaign-retention")


async def _added(stack: Stack) -> int:
    assert stack._sessionmaker is not None
    from sqlalchemy import text

    async with stack._sessionmaker() as session:
        return int(
            await session.scalar(
                text("SELECT count(*) FROM retention_checks WHERE campaign_id = :c"),
                {"c": stack.campaign_id},
            )
            or 0
        )


async def _accepted(stack: Stack) -> int:
    """Calls Telegram accepted (confirmed or still to be confirmed by a membership check)."""
    assert stack._sessionmaker is not None
    from sqlalchemy import text

    async with stack._sessionmaker() as session:
        return int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM invite_events WHERE campaign_id = :c AND outcome IN ('unconfirmed', 'invited')"
                ),
                {"c": stack.campaign_id},
            )
            or 0
        )
