"""Linking a Telegram account in the panel, in Chromium: the QR code shown in the page (read
back from the screen as a phone's camera would), scanned by a person of the sandbox's world
who has two-step verification, a wrong then the right password, back on the accounts page
with the new account; the phone-number path; then unlinking with the confirmation dialog.
At 1366 px and at 375 px, where nothing may stick out sideways.

The test plays the person's phone through the sandbox's control API (`/sandbox/world/...`:
the stable contract of docs/sandbox.md). Screenshots go to `.data/screenshots/linking-*.png`.
"""

from __future__ import annotations

import io
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from core.i18n import t
from tests.browser.conftest import OWNER_USERNAME, Stack
from tests.browser.test_panel import log_in, shoot, visible, wait

pytestmark = pytest.mark.e2e

PASSWORD = "tw0 steps here"
# People of the world whose accounts get linked: one per width, one by phone.
WIDE, NARROW, BY_PHONE = 4_001, 4_002, 4_003


def control(stack: Stack, method: str, path: str, body: Any = None) -> Any:
    """A call of the sandbox's control API (127.0.0.1)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        stack.sandbox_url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def fits(driver: WebDriver) -> None:
    widths = driver.execute_script(
        "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];"
    )
    assert widths[0] <= widths[1], widths


def qr_on_screen(driver: WebDriver) -> str:
    """What the QR code the page shows says, read from a screenshot of it."""
    element = visible(driver, "#link-qr")
    wait(driver).until(
        lambda d: d.execute_script(
            "const img = document.getElementById('link-qr');"
            "return img.complete && img.naturalWidth > 0;"
        )
    )
    image = Image.open(io.BytesIO(element.screenshot_as_png))
    (barcode,) = zxingcpp.read_barcodes(image)
    return str(barcode.text)


def link_by_qr(
    driver: WebDriver, stack: Stack, folder: Path, who: int, name: str, tag: str
) -> None:
    visible(driver, "#link-account").click()
    url = qr_on_screen(driver)
    assert url.startswith("tg://login?token=")
    assert driver.find_element(By.ID, "link-message").text == t("en", "weblink.waiting")
    assert "s more" in driver.find_element(By.ID, "link-countdown").text
    fits(driver)
    shoot(driver, folder, f"linking-{tag}-1-qr")

    # The sandbox page's phone scans the newest code waiting in the world: this one.
    waiting = control(stack, "GET", "/sandbox/world/qr")["tokens"]
    assert url == waiting[-1]["url"]
    control(stack, "POST", "/sandbox/world/qr/scan", {"url": url, "user_id": who})
    field = visible(driver, "#link-password")
    assert driver.find_element(By.ID, "link-message").text == t("en", "weblink.password")
    field.send_keys("not the password")
    driver.find_element(By.ID, "link-password-submit").click()
    problem = visible(driver, "#link-problem")
    assert problem.text == t("en", "weblink.password_wrong", left=2)
    # The page keeps no password: the field was emptied as it was sent.
    assert driver.find_element(By.ID, "link-password").get_attribute("value") == ""
    fits(driver)
    shoot(driver, folder, f"linking-{tag}-2-password")

    driver.find_element(By.ID, "link-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "link-password-submit").click()
    notice = visible(driver, "#linked-notice")
    assert notice.text == t("en", "weblink.linked", account=f"@{name}")
    wait(driver).until(lambda d: d.execute_script("return location.hash") == "#/accounts")
    wait(driver).until(
        lambda d: d.find_elements(By.XPATH, f"//tr[.//strong[normalize-space(.)='@{name}']]")
    )
    fits(driver)
    shoot(driver, folder, f"linking-{tag}-3-linked")


def unlink(driver: WebDriver, folder: Path, name: str, tag: str) -> None:
    button = driver.find_element(
        By.XPATH, f"//tr[.//strong[normalize-space(.)='@{name}']]//button[@data-unlink]"
    )
    button.click()
    dialog = visible(driver, "#unlink-dialog")
    assert f"@{name}" in dialog.text
    fits(driver)
    shoot(driver, folder, f"linking-{tag}-4-unlink-confirm")
    # Keeping it closes the question and changes nothing.
    driver.find_element(By.ID, "unlink-dialog-no").click()
    wait(driver).until(lambda d: not d.find_elements(By.ID, "unlink-dialog"))
    assert f"@{name}" in driver.find_element(By.TAG_NAME, "main").text

    driver.find_element(
        By.XPATH, f"//tr[.//strong[normalize-space(.)='@{name}']]//button[@data-unlink]"
    ).click()
    visible(driver, "#unlink-dialog-yes").click()
    notice = visible(driver, "#unlinked-notice")
    assert notice.text == f"@{name} is unlinked."
    wait(driver).until(
        lambda d: not d.find_elements(By.XPATH, f"//tr[.//strong[normalize-space(.)='@{name}']]")
    )
    fits(driver)
    shoot(driver, folder, f"linking-{tag}-5-unlinked")


def test_link_by_qr_with_2fa_and_unlink_at_two_widths(
    browser: WebDriver, stack: Stack, screenshots: Path
) -> None:
    control(
        stack,
        "POST",
        "/sandbox/world/users",
        {
            "users": [
                {"id": WIDE, "username": "wide_one", "first_name": "Wide", "phone": "+10000004001"},
                {
                    "id": NARROW,
                    "username": "narrow_one",
                    "first_name": "Narrow",
                    "phone": "+10000004002",
                },
                {
                    "id": BY_PHONE,
                    "username": "by_phone",
                    "first_name": "Phone",
                    "phone": "+10000004003",
                },
            ]
        },
    )
    for who in (WIDE, NARROW):
        control(stack, "POST", f"/sandbox/world/users/{who}/password", {"password": PASSWORD})
    driver = browser
    driver.set_window_size(1366, 900)
    log_in(driver, stack, OWNER_USERNAME, stack.web_auth_code())
    visible(driver, "#current-user")
    driver.execute_script("location.hash = '#/accounts'")
    visible(driver, "#link-account")
    link_by_qr(driver, stack, screenshots, WIDE, "wide_one", "1366")

    # The phone-number path: the code "Telegram" sent to the person's app, typed in the page.
    visible(driver, "#link-account").click()
    visible(driver, "#link-qr")
    visible(driver, "#link-use-phone").click()
    visible(driver, "#link-phone").send_keys("+1 000 000 4003")
    driver.find_element(By.ID, "link-phone-submit").click()
    code_field = visible(driver, "#link-code")
    assert driver.find_element(By.ID, "link-message").text == t(
        "en", "weblink.code.app", phone="+1********03"
    )
    shoot(driver, screenshots, "linking-1366-6-phone-code")
    code = control(stack, "GET", f"/sandbox/world/users/{BY_PHONE}/login_codes")["codes"][-1]
    code_field.send_keys(code["code"])
    driver.find_element(By.ID, "link-code-submit").click()
    assert visible(driver, "#linked-notice").text == t("en", "weblink.linked", account="@by_phone")

    unlink(driver, screenshots, "wide_one", "1366")

    # A phone's width: the same flow, nothing sticks out sideways.
    driver.set_window_size(375, 812)
    wait(driver).until(lambda d: d.execute_script("return window.innerWidth") == 375)
    fits(driver)
    link_by_qr(driver, stack, screenshots, NARROW, "narrow_one", "375")
    unlink(driver, screenshots, "narrow_one", "375")
