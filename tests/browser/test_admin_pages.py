"""The audit log and the installation's pages in Chromium: the owner reads what was just done
in the workspace, a manager is refused; an admin blocks and unblocks a user (whose token the
API refuses meanwhile), changes an invite limit (a bad value is refused with a sentence that
names it), and reads every account's health. Each new page fits a 375 px wide phone.

Screenshots of the pages go to `.data/screenshots/admin-*.png`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from sqlalchemy import text

from core.i18n import t
from core.settings import Settings
from tests.browser.conftest import ACCOUNT_TG, CODE_TOKEN, OWNER_USERNAME, Stack
from tests.browser.test_panel import attribute, log_in, open_page, shoot, visible, wait

pytestmark = pytest.mark.e2e

ADMIN_TG, ADMIN_USERNAME = 7_009, "root"  # named in ADMIN_TELEGRAM_IDS below
HELPER_TG, HELPER_USERNAME = 7_002, "helper"
PHONE_WIDTH = 375
# The API only, never a proxy a test machine may have configured for the outside world.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """The stack of this module has an installation admin, made one by the settings on /start."""
    return settings.model_copy(update={"admin_telegram_ids": [ADMIN_TG]})


def login_code(stack: Stack, tg_id: int, username: str) -> str:
    """Anyone's /web_auth in the sandbox chat; the code from the bot's reply."""

    async def ask() -> str:
        chat = (
            stack._chat
        )  # the stack's own sandbox chat (the owner's helper covers only the owner)
        assert chat is not None
        sent = await chat.send(
            tg_id, "/web_auth", username=username, first_name=username.title(), language_code="en"
        )
        reply = await chat.wait_for(
            tg_id, lambda m: bool(CODE_TOKEN.search(m["text"] or "")), after=sent
        )
        return str(CODE_TOKEN.findall(reply["text"])[0])

    return stack.run(ask())


def bot_answer(stack: Stack, tg_id: int, username: str, command: str) -> str:
    async def ask() -> str:
        chat = stack._chat
        assert chat is not None
        sent = await chat.send(
            tg_id, command, username=username, first_name=username.title(), language_code="en"
        )
        return str((await chat.wait_for(tg_id, lambda m: bool(m["text"]), after=sent))["text"])

    return stack.run(ask())


def call(
    stack: Stack, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    headers = {"Accept-Language": "en"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        stack.api_url + path, data=data, method=method, headers=headers
    )
    try:
        with DIRECT.open(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def api_login(stack: Stack, tg_id: int, username: str) -> str:
    status, tokens = call(
        stack,
        "POST",
        "/api/v1/auth/verify",
        {"username": username, "code": login_code(stack, tg_id, username)},
    )
    assert status == 200, tokens
    return str(tokens["access_token"])


def execute(stack: Stack, sql: str, **params: Any) -> None:
    async def run() -> None:
        assert stack._sessionmaker is not None
        async with stack._sessionmaker() as session, session.begin():
            await session.execute(text(sql), params)

    stack.run(run())


def go(driver: WebDriver, hash_: str) -> None:
    """Reach a page by its address, as someone typing it would (the panel's hash routes)."""
    driver.execute_script("location.hash = arguments[0];", hash_)


def fits_a_phone(driver: WebDriver, ready_css: str, shot: tuple[Path, str] | None = None) -> None:
    """At 375 px the page scrolls only downwards: nothing sticks out to the side."""
    size = driver.get_window_size()
    driver.set_window_size(PHONE_WIDTH, 800)
    try:
        wait(driver).until(lambda d: d.execute_script("return window.innerWidth") == PHONE_WIDTH)
        visible(driver, ready_css)
        widths = driver.execute_script(
            "const e = document.documentElement;"
            "return [e.scrollWidth, e.clientWidth, document.body.scrollWidth,"
            " Math.max(...[...document.querySelectorAll('main *')].map((n) => n.getBoundingClientRect().right))];"
        )
        assert widths[0] <= widths[1] and widths[2] <= widths[1], widths
        assert widths[3] <= widths[1] + 0.5, widths  # no element pokes out, hidden or not
        if shot:
            shoot(driver, *shot)
    finally:
        driver.set_window_size(size["width"], size["height"])


def text_of(driver: WebDriver, css: str) -> str:
    """Read in one step (the pages redraw); empty while the element is not there."""
    return driver.execute_script(  # type: ignore[no-any-return]
        "return document.querySelector(arguments[0])?.innerText ?? '';", css
    )


def rows_text(driver: WebDriver, css: str) -> list[str]:
    """Read in one step: the pages redraw their tables after each answer."""
    return driver.execute_script(  # type: ignore[no-any-return]
        "return [...document.querySelectorAll(arguments[0])].map((row) => row.innerText);",
        f"{css} tbody tr",
    )


def actions(driver: WebDriver) -> list[str]:
    return driver.execute_script(  # type: ignore[no-any-return]
        "return [...document.querySelectorAll('#audit-log .audit-action')].map((el) => el.dataset.action);"
    )


def data_state(driver: WebDriver) -> str | None:
    return driver.execute_script(  # type: ignore[no-any-return]
        "return document.querySelector('#admin-users [data-state]')?.dataset.state ?? null;"
    )


def test_owner_reads_the_audit_log_and_a_manager_is_refused(
    browser: WebDriver, stack: Stack, screenshots: Path
) -> None:
    driver = browser
    stack.register(HELPER_TG, HELPER_USERNAME)
    log_in(driver, stack, OWNER_USERNAME, stack.web_auth_code())
    visible(driver, "#current-user")
    assert not driver.find_elements(By.ID, "nav-admin")  # the owner is no installation admin

    # Things the owner does in the panel: a manager added, an account disabled and enabled again.
    open_page(driver, "team", "#team-username").send_keys("@" + HELPER_USERNAME)
    driver.find_element(By.CSS_SELECTOR, "main form button[type='submit']").click()
    wait(driver).until(lambda d: "@helper" in text_of(d, "main table"))
    open_page(driver, "accounts", "button[data-account]").click()
    wait(driver).until(lambda d: attribute(d, "table .badge", "data-status") == "disabled")
    driver.find_element(By.CSS_SELECTOR, "button[data-account]").click()
    wait(driver).until(lambda d: attribute(d, "table .badge", "data-status") == "active")

    open_page(driver, "audit", "#audit-log tbody tr")
    assert actions(driver)[:3] == ["account.enabled", "account.disabled", "team.manager_added"]
    rows = rows_text(driver, "#audit-log")
    account_id = int(stack.run(_account_id(stack)))
    assert f"@{OWNER_USERNAME}" in rows[0] and f"enabled account #{account_id}" in rows[0], rows
    assert f"disabled account #{account_id}" in rows[1]
    assert "added @helper as a manager" in rows[2]
    # Older events follow, newest first: the campaign the owner created while setting up.
    assert "campaign.create" in actions(driver)
    assert (
        f"created campaign #{stack.campaign_id} into"
        in driver.find_element(By.ID, "audit-log").text
    )
    page = driver.find_element(By.TAG_NAME, "main").text
    for secret in ("127.0.0.1", "session", "Mozilla", "{"):  # no addresses, session ids, browsers
        assert secret not in page, secret
    assert not driver.find_elements(By.ID, "audit-all")  # the installation's log is for admins
    shoot(driver, screenshots, "admin-01-audit-owner")
    fits_a_phone(driver, "#audit-log tbody tr", (screenshots, "admin-01-audit-owner-phone"))

    # The owner reaches an admin page by its address: the API refuses, and the page says why.
    go(driver, "#/admin/users")
    assert visible(driver, "#admin-refused").text.startswith(
        "This page is for the installation’s admins only"
    )
    assert not driver.find_elements(By.CSS_SELECTOR, "#admin-users table")

    driver.find_element(By.ID, "logout").click()
    visible(driver, "input[name='code']")

    # The manager of the same workspace: no audit log in the menu, and a plain refusal by URL.
    log_in(driver, stack, HELPER_USERNAME, login_code(stack, HELPER_TG, HELPER_USERNAME))
    Select(visible(driver, "#workspace")).select_by_value(str(stack.workspace_id))
    wait(driver).until(
        lambda d: (
            d.execute_script("return document.getElementById('workspace').value")
            == str(stack.workspace_id)
            and attribute(d, "#app", "aria-busy") == "false"
        )
    )
    assert not driver.find_elements(By.ID, "nav-audit") and not driver.find_elements(
        By.ID, "nav-admin"
    )
    go(driver, "#/audit")
    refused = visible(driver, "#audit-refused")
    assert refused.text.startswith("Only the owner of this workspace sees its audit log")
    assert not driver.find_elements(By.CSS_SELECTOR, "#audit-log table")
    shoot(driver, screenshots, "admin-02-audit-manager-refused")
    fits_a_phone(driver, "#audit-refused")


async def _account_id(stack: Stack) -> int:
    assert stack._sessionmaker is not None
    async with stack._sessionmaker() as session:
        return int(
            await session.scalar(
                text("SELECT id FROM telegram_accounts WHERE tg_user_id = :tg"), {"tg": ACCOUNT_TG}
            )
        )


def test_admin_blocks_a_user_changes_a_limit_and_reads_account_health(
    browser: WebDriver, stack: Stack, screenshots: Path
) -> None:
    driver = browser
    stack.register(HELPER_TG, HELPER_USERNAME)
    stack.register(ADMIN_TG, ADMIN_USERNAME)
    helper_token = api_login(stack, HELPER_TG, HELPER_USERNAME)
    assert call(stack, "GET", "/api/v1/me", token=helper_token)[0] == 200

    log_in(driver, stack, ADMIN_USERNAME, login_code(stack, ADMIN_TG, ADMIN_USERNAME))
    assert visible(driver, "#current-user").text == f"@{ADMIN_USERNAME}"
    open_page(driver, "admin", "#admin-users table")
    search = driver.find_element(By.ID, "user-search")
    search.send_keys("@HEL")
    driver.find_element(By.ID, "user-search-go").click()
    wait(driver).until(
        lambda d: (
            len(rows_text(d, "#admin-users")) == 1 and "@helper" in rows_text(d, "#admin-users")[0]
        )
    )
    assert data_state(driver) == "active"

    # The admin role: granted at once, taken back after a confirmation.
    driver.find_element(By.CSS_SELECTOR, "button[data-action='grant-admin']").click()
    visible(driver, "button[data-action='revoke-admin']").click()
    wait(driver).until(EC.alert_is_present())
    assert "@helper" in driver.switch_to.alert.text
    driver.switch_to.alert.accept()
    visible(driver, "button[data-action='grant-admin']")
    assert "\tuser\t" in rows_text(driver, "#admin-users")[0]  # the role column

    # Blocking asks first: saying no changes nothing.
    driver.find_element(By.CSS_SELECTOR, "button[data-action='block']").click()
    wait(driver).until(EC.alert_is_present())
    assert "Block @helper?" in driver.switch_to.alert.text
    driver.switch_to.alert.dismiss()
    assert data_state(driver) == "active"
    assert call(stack, "GET", "/api/v1/me", token=helper_token)[0] == 200

    driver.find_element(By.CSS_SELECTOR, "button[data-action='block']").click()
    wait(driver).until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    wait(driver).until(lambda d: data_state(d) == "blocked")
    shoot(driver, screenshots, "admin-03-users-blocked")
    # Meanwhile the API refuses the helper's token, and the bot gives them no login code.
    status, body = call(stack, "GET", "/api/v1/me", token=helper_token)
    assert status == 401, body
    assert bot_answer(stack, HELPER_TG, HELPER_USERNAME, "/web_auth") == t("en", "blocked")

    visible(driver, "button[data-action='unblock']").click()
    wait(driver).until(lambda d: data_state(d) == "active")
    # The sessions the block ended stay ended; a new login works.
    assert call(stack, "GET", "/api/v1/me", token=helper_token)[0] == 401
    assert (
        call(stack, "GET", "/api/v1/me", token=api_login(stack, HELPER_TG, HELPER_USERNAME))[0]
        == 200
    )
    fits_a_phone(driver, "#admin-users tbody tr", (screenshots, "admin-03-users-phone"))

    # Limits: a bound changed and saved; a bad value refused with a sentence naming the limit.
    driver.find_element(By.ID, "admin-tab-limits").click()
    field = visible(driver, "#limit-daily_per_account")
    field.clear()
    field.send_keys("250")
    driver.find_element(By.ID, "limits-save").click()
    assert visible(driver, "#limits-saved").text == "Saved: Invites per account a day."
    assert driver.find_element(By.ID, "limit-daily_per_account").get_attribute("value") == "250"
    field = driver.find_element(By.ID, "limit-daily_per_account")
    field.clear()
    field.send_keys("0")
    driver.find_element(By.ID, "limits-save").click()
    error = visible(driver, "#limits-error")
    assert error.text == "Invites per account a day: enter a whole number from 1 to 10,000,000."
    assert error.get_attribute("role") == "alert"
    assert (
        driver.find_element(By.ID, "limit-daily_per_account").get_attribute("aria-invalid")
        == "true"
    )
    shoot(driver, screenshots, "admin-04-limits-refused")
    for name, value in (("pause_min_s", "90"), ("pause_max_s", "30"), ("daily_per_account", "250")):
        box = driver.find_element(By.ID, f"limit-{name}")
        box.clear()
        box.send_keys(value)
    driver.find_element(By.ID, "limits-save").click()
    wait(driver).until(
        lambda d: (
            text_of(d, "#limits-error")
            == "The longest pause cannot be shorter than the shortest one."
        )
    )
    assert driver.find_element(By.ID, "limit-pause_max_s").get_attribute("aria-invalid") == "true"
    # The API says the same in the user's language when it is asked directly.
    admin_token = api_login(stack, ADMIN_TG, ADMIN_USERNAME)
    status, body = call(
        stack,
        "PUT",
        "/api/v1/admin/limits",
        {"pause_min_s": 90, "pause_max_s": 30},
        token=admin_token,
    )
    assert status == 400 and body["error"]["details"]["field"] == "pause_max_s", body
    assert body["error"]["message"].startswith("Longest pause between invites:"), body
    driver.refresh()  # what was saved is what the installation has
    assert visible(driver, "#limit-daily_per_account").get_attribute("value") == "250"
    assert (
        call(stack, "GET", "/api/v1/admin/limits", token=admin_token)[1]["maximum"][
            "daily_per_account"
        ]
        == 250
    )
    fits_a_phone(driver, "#limits-form", (screenshots, "admin-04-limits-phone"))

    # Every account's health: status, reason, rest and the last check.
    until = datetime.now(UTC) + timedelta(minutes=10)
    execute(
        stack,
        "UPDATE telegram_accounts SET status = 'cooldown', status_reason = 'FLOOD_WAIT_600', "
        "cooldown_until = :until, last_checked_at = now() WHERE tg_user_id = :tg",
        until=until,
        tg=ACCOUNT_TG,
    )
    driver.find_element(By.ID, "admin-tab-accounts").click()
    badge = visible(driver, "#admin-accounts tbody tr .badge")
    assert badge.get_attribute("data-status") == "cooldown"
    row = rows_text(driver, "#admin-accounts")[0]
    assert (
        f"@acc{ACCOUNT_TG}" in row and "FLOOD_WAIT_600" in row and f"#{stack.workspace_id}" in row
    ), row
    assert row.count(str(until.year)) == 2, row  # rests until …, last checked …
    Select(driver.find_element(By.ID, "health-status")).select_by_value("banned")
    visible(driver, "#admin-accounts .empty")
    Select(driver.find_element(By.ID, "health-status")).select_by_value("cooldown")
    visible(driver, "#admin-accounts tbody tr .badge")
    shoot(driver, screenshots, "admin-05-accounts-health")
    fits_a_phone(
        driver, "#admin-accounts tbody tr", (screenshots, "admin-05-accounts-health-phone")
    )

    # The admin's own audit log can show the whole installation: the block, the limit.
    open_page(driver, "audit", "#audit-all").click()
    wait(driver).until(lambda d: "admin.limits_changed" in actions(d))
    done = actions(driver)
    assert [a for a in done if a.startswith("admin.")] == [
        "admin.limits_changed",
        "admin.user_unblocked",
        "admin.user_blocked",
        "admin.role_revoked",
        "admin.role_granted",
    ]
    rows = rows_text(driver, "#audit-log")
    assert f"@{ADMIN_USERNAME}" in rows[done.index("admin.limits_changed")]
    assert (
        "changed the invite limits: Invites per account a day: 250"
        in rows[done.index("admin.limits_changed")]
    )
    assert "unblocked @helper" in rows[done.index("admin.user_unblocked")]
    assert "made @helper an admin" in rows[done.index("admin.role_granted")]
    assert "logged in to the panel" in rows[done.index("auth.login")]
    page = driver.find_element(By.TAG_NAME, "main").text
    for secret in (
        "127.0.0.1",
        "session",
        "HeadlessChrome",
        "{",
    ):  # no addresses, session ids, browsers
        assert secret not in page, secret
    shoot(driver, screenshots, "admin-06-audit-installation")
    fits_a_phone(driver, "#audit-log tbody tr")

    # The same pages in Russian.
    Select(driver.find_element(By.ID, "lang")).select_by_value("ru")
    wait(driver).until(lambda d: text_of(d, "#nav-admin") == "Установка")
    driver.find_element(By.ID, "nav-admin").click()
    wait(driver).until(
        lambda d: (
            text_of(d, "#admin-tab-accounts") == "Здоровье аккаунтов"
            and rows_text(d, "#admin-users")
        )
    )
    assert "Разблокировать" not in text_of(driver, "main") and "Заблокировать" in text_of(
        driver, "main"
    )
    shoot(driver, screenshots, "admin-07-users-ru")
