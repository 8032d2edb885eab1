"""The panel tells the truth at a glance and works on a phone.

- A campaign runs on the sandbox through every outcome (added, already a member, refused
  for privacy and as not a mutual contact, accepted but nobody added, not added after a
  membership check, skipped as unreachable and as opted out); the overview's figures, in
  the API and on the page, are the campaign pages' figures summed, and today's figures are
  what the accounts' usage says.
- Every route of `webui_api/static/app.js` (read from its ROUTES, so pages added later are
  visited too; a route with an id gets one from the data) is opened at 375 px as the
  owner, who is also an installation admin: nothing scrolls sideways, the header takes at
  most 15 % of the screen, and the menu button opens the sections.

Screenshots go to `.data/screenshots/phone-*.png` and `overview-*.png`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from core.settings import Settings
from sandbox.world.model import Membership
from tests.browser.conftest import OWNER_USERNAME, TARGET_CHAT, Stack
from tests.browser.test_admin_pages import call, execute, go
from tests.browser.test_panel import log_in, shoot, visible, wait
from tests.invites.conftest import OWNER_TG, make_audience

pytestmark = pytest.mark.e2e

APP_JS = Path(__file__).resolve().parents[2] / "webui_api" / "static" / "app.js"
PHONE = (375, 812)
HEADER_SHARE = 0.15
COUNTS = ("pending", "unconfirmed", "invited", "already_member", "failed", "skipped")
HELPER_TG, HELPER_USERNAME = 7_102, "phone_helper"

# The campaign of every outcome: (Telegram id, how the sandbox answers an invite).
PLAIN = (30_001, 30_002, 30_003)
REFUSING = {
    30_011: "privacy",  # USER_PRIVACY_RESTRICTED: failed, privacy_restricted
    30_012: "not_mutual",  # USER_NOT_MUTUAL_CONTACT: failed, not_mutual_contact
    30_013: "missing_invitee",  # accepted, missing_invitees: failed, missing_invitee
    30_014: "silent",  # accepted, no service message: unconfirmed, then not_added
    30_015: "phantom",  # the service message, yet not added: unconfirmed, then not_added
}
MEMBER = 30_021  # in the chat already: already_member
BARE = 30_031  # no username and no access hash: skipped, unreachable
OPTED_OUT = 30_041  # on the workspace's opt-out list: skipped, opted_out
REASONS = {
    "privacy_restricted",
    "not_mutual_contact",
    "missing_invitee",
    "not_added",
    "unreachable",
    "opted_out",
}


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """The owner is an installation admin too (made one by the settings on /start), so one
    login reaches every page."""
    return settings.model_copy(update={"admin_telegram_ids": [OWNER_TG]})


# --- the routes, as app.js declares them ------------------------------------------------------
def panel_routes() -> list[str]:
    """The path patterns of app.js's ROUTES, in their order (without ^ and $)."""
    source = APP_JS.read_text(encoding="utf-8")
    block = re.search(r"const ROUTES = \[(.*?)\n\];", source, re.DOTALL)
    assert block is not None, "app.js has no ROUTES list"
    found = re.findall(r"\{\s*path:\s*/\^(.*?)\$/", block.group(1))
    assert len(found) == block.group(1).count("path:"), "a route whose pattern was not read"
    return found


def address(pattern: str, ids: dict[str, str]) -> str:
    """A hash address matching a route pattern; a group takes a value of the data, by the
    path segment before it (an unknown one fails the test: add it to `ids`)."""
    parts: list[str] = []
    for segment in pattern.replace("\\/", "/").split("/"):
        if not segment or segment == "?":
            continue
        if "(" in segment:
            before = parts[-1] if parts else ""
            assert before in ids, f"route {pattern}: which id does '{before}' take? add it to ids"
            parts.append(re.sub(r"\(.*\)", ids[before], segment))
        else:
            parts.append(segment.rstrip("?"))
    hashed = "#/" + "/".join(parts)
    assert re.fullmatch("^" + pattern + "$", hashed[1:]), (pattern, hashed)
    return hashed


def test_the_route_list_is_read_from_app_js() -> None:
    routes = panel_routes()
    for known in (r"\/?", r"\/accounts", r"\/campaigns\/(\d+)", r"\/admin\/limits"):
        assert known in routes, routes
    ids = {"audiences": "3", "campaigns": "4", "accounts": "5"}
    assert address(r"\/campaigns\/(\d+)", ids) == "#/campaigns/4"
    assert address(r"\/?", ids) == "#/"
    assert address(r"\/admin\/?", ids) == "#/admin"


# --- one campaign through every outcome ---------------------------------------------------------
def owner_token(stack: Stack) -> str:
    status, tokens = call(
        stack,
        "POST",
        "/api/v1/auth/verify",
        {"username": OWNER_USERNAME, "code": stack.web_auth_code()},
    )
    assert status == 200, tokens
    return str(tokens["access_token"])


def ok(stack: Stack, method: str, path: str, token: str, body: Any = None) -> Any:
    status, answer = call(stack, method, path, body, token)
    assert status in (200, 201), (method, path, status, answer)
    return answer


def _people(stack: Stack, account_id: int) -> list[tuple[int, str | None, int | None, int | None]]:
    world = stack.world
    assert world is not None
    users: list[dict[str, Any]] = [
        {"id": i, "first_name": f"P{i}", "username": f"p{i}"} for i in (*PLAIN, MEMBER, OPTED_OUT)
    ]
    users += [
        {"id": i, "first_name": f"P{i}", "username": f"p{i}", "invite_outcome": how}
        for i, how in REFUSING.items()
    ]
    users.append({"id": BARE, "first_name": "Bare"})
    world.put_users(users)
    chat = world.chats[TARGET_CHAT]
    chat.members[MEMBER] = Membership(chat.date)
    named = [(u["id"], u["username"], account_id, None) for u in users if "username" in u]
    return [*named, (BARE, None, None, None)]


@pytest.fixture(scope="module")
def outcomes(stack: Stack) -> Iterator[dict[str, Any]]:
    """A finished campaign into the panel's target with every outcome; the owner's token."""
    token = owner_token(stack)
    accounts = ok(stack, "GET", "/api/v1/accounts", token)["items"]
    account_id = int(accounts[0]["id"])
    assert stack._sessionmaker is not None
    audience = stack.run(
        make_audience(
            stack._sessionmaker, stack.workspace_id, "Every outcome", _people(stack, account_id)
        )
    )
    execute(stack, "UPDATE audiences SET size = 11 WHERE id = :id", id=audience)
    ok(stack, "POST", "/api/v1/opt-outs", token, {"user_id": OPTED_OUT})
    created = ok(
        stack,
        "POST",
        "/api/v1/campaigns",
        token,
        {"name": "Every outcome", "audience_id": audience, "target": "@panel_target"},
    )
    assert created["start_problem"] is None, created
    ok(stack, "POST", f"/api/v1/campaigns/{created['id']}/start", token)
    deadline = time.monotonic() + 120
    while True:
        campaign = ok(stack, "GET", f"/api/v1/campaigns/{created['id']}", token)
        if campaign["status"] == "done" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert campaign["status"] == "done", campaign
    yield {"token": token, "campaign": campaign, "audience_id": audience}


def test_overview_numbers_equal_the_campaign_pages(
    browser: WebDriver, stack: Stack, screenshots: Path, outcomes: dict[str, Any]
) -> None:
    token, campaign = outcomes["token"], outcomes["campaign"]
    report = ok(stack, "GET", f"/api/v1/campaigns/{campaign['id']}/report", token)
    assert set(report["reasons"]) >= REASONS, report["reasons"]
    counts = campaign["counts"]
    assert counts["invited"] == len(PLAIN) and counts["already_member"] >= 1, counts
    assert counts["failed"] == len(REFUSING) and counts["skipped"] == 2, counts

    # The API: the overview is the sum of every campaign's own counts (the seeded draft's
    # people wait as "to do"); today's figures are the accounts' usage and the added people.
    listed = ok(stack, "GET", "/api/v1/campaigns?limit=100", token)["items"]
    pages = [ok(stack, "GET", f"/api/v1/campaigns/{c['id']}", token) for c in listed]
    summed = {key: sum(p["counts"][key] for p in pages) for key in COUNTS}
    overview = ok(stack, "GET", "/api/v1/overview", token)
    assert overview["counts"] == summed
    usage = sum(a["usage_today"] for a in ok(stack, "GET", "/api/v1/accounts", token)["items"])
    assert overview["today"]["attempts"] == usage > 0
    assert overview["today"]["added"] == summed["invited"] == counts["invited"]

    # The page shows the same numbers as the campaign pages show.
    driver = browser
    log_in(driver, stack, OWNER_USERNAME, stack.web_auth_code())
    visible(driver, "#overview-counts")

    def shown(css: str) -> int:
        value = driver.execute_script(
            "return document.querySelector(arguments[0])?.textContent ?? '';", css
        )
        return int(re.sub(r"\D", "", value) or -1)

    wait(driver).until(lambda d: shown("#overview-invited .stat-value") == summed["invited"])
    on_dashboard = {key: shown(f"#overview-{key} .stat-value") for key in COUNTS}
    assert on_dashboard == summed
    assert shown("#today-attempts .stat-value") == usage
    assert shown("#today-added .stat-value") == counts["invited"]
    shoot(driver, screenshots, "overview-numbers")
    on_pages = dict.fromkeys(COUNTS, 0)
    for page in pages:
        go(driver, f"#/campaigns/{page['id']}")
        title = str(page["name"])
        wait(driver).until(lambda d: heading(d) == title)  # noqa: B023 (waited for at once)
        wait(driver).until(lambda d: shown("#count-pending") >= 0)
        for key in COUNTS:
            on_pages[key] += shown(f"#count-{key}")
    shoot(driver, screenshots, "overview-campaign")
    assert on_pages == on_dashboard


# --- every page at 375 px ------------------------------------------------------------------------
def _ids(stack: Stack, token: str, outcomes: dict[str, Any]) -> dict[str, str]:
    accounts = ok(stack, "GET", "/api/v1/accounts", token)["items"]
    tasks = ok(stack, "GET", "/api/v1/parse-tasks", token)["items"]
    return {
        "accounts": str(accounts[0]["id"]),
        "audiences": str(outcomes["audience_id"]),
        "campaigns": str(outcomes["campaign"]["id"]),
        "tasks": str(tasks[0]["id"]),
        # a person's pages take a Telegram id of the data
        "people": str(PLAIN[0]),
        "persons": str(PLAIN[0]),
        "users": str(PLAIN[0]),
    }


def _measure(driver: WebDriver) -> dict[str, float]:
    return driver.execute_script(  # type: ignore[no-any-return]
        """const e = document.documentElement;
        const header = document.querySelector('header.topbar');
        let widest = 0, culprit = '';
        for (const n of document.querySelectorAll('body *')) {
          const r = n.getBoundingClientRect();
          if (r.width && r.right > widest) { widest = r.right; culprit = n.tagName + '#' + n.id + '.' + n.className; }
        }
        return { scroll: e.scrollWidth, client: e.clientWidth, body: document.body.scrollWidth,
                 header: header ? header.getBoundingClientRect().height : 0,
                 height: window.innerHeight, widest, culprit };"""
    )


def heading(driver: WebDriver) -> str:
    return str(driver.execute_script("return document.querySelector('h1')?.textContent ?? '';"))


def page_hash(driver: WebDriver) -> str:
    return str(driver.execute_script("return location.hash;"))


def _settled(driver: WebDriver) -> bool:
    return bool(
        driver.execute_script(
            "const app = document.getElementById('app');"
            "return app.getAttribute('aria-busy') === 'false' && !!document.querySelector('main h1');"
        )
    )


def test_every_route_fits_a_phone(
    browser: WebDriver, stack: Stack, screenshots: Path, outcomes: dict[str, Any]
) -> None:
    token = outcomes["token"]
    stack.register(HELPER_TG, HELPER_USERNAME)
    ok(stack, "POST", "/api/v1/workspace/members", token, {"username": HELPER_USERNAME})
    ids = _ids(stack, token, outcomes)
    driver = browser
    log_in(driver, stack, OWNER_USERNAME, stack.web_auth_code())
    visible(driver, "#current-user")
    driver.set_window_size(*PHONE)
    wait(driver).until(lambda d: d.execute_script("return window.innerWidth") == PHONE[0])
    assert driver.execute_script("return document.getElementById('nav-admin') !== null")

    visited = []
    for pattern in panel_routes():
        where = address(pattern, ids)
        go(driver, "#/tasks" if where == "#/" else "#/")  # a real change of page each time
        wait(driver).until(_settled)
        go(driver, where)
        reached = (where, where.rstrip("/"))
        wait(driver).until(lambda d: _settled(d) and page_hash(d) in reached)  # noqa: B023
        time.sleep(0.6)  # the page's data and charts drawn
        errors = driver.execute_script(
            "return [...document.querySelectorAll('main .form-error')].map((n) => n.textContent);"
        )
        assert errors == [], (where, errors)
        size = _measure(driver)
        slug = re.sub(r"[^a-z0-9]+", "-", where.lower()).strip("-") or "overview"
        shoot(driver, screenshots, f"phone-{slug}")
        assert size["scroll"] <= size["client"] and size["body"] <= size["client"], (where, size)
        assert size["widest"] <= size["client"] + 0.5, (where, size)
        assert size["header"] <= HEADER_SHARE * size["height"], (where, size)
        visited.append(where)
    assert len(visited) == len(panel_routes())

    # The menu button opens the sections (and the tools); a section closes it again.
    go(driver, "#/campaigns")
    wait(driver).until(_settled)
    assert not driver.find_element(By.ID, "nav-audiences").is_displayed()
    button = driver.find_element(By.ID, "menu-button")
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    visible(driver, "#nav-audiences")
    assert driver.find_element(By.ID, "logout").is_displayed()
    size = _measure(driver)
    assert size["scroll"] <= size["client"], size
    shoot(driver, screenshots, "phone-menu-open")
    driver.find_element(By.ID, "nav-audiences").click()
    wait(driver).until(lambda d: d.execute_script("return location.hash") == "#/audiences")
    wait(driver).until(_settled)
    assert driver.find_element(By.ID, "menu-button").get_attribute("aria-expanded") == "false"
    assert _measure(driver)["header"] <= HEADER_SHARE * PHONE[1]
