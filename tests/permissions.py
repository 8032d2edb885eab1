"""The permission matrix: who gets what from every API route and every bot command.

This table is the one source: `tests/test_permission_matrix.py` checks every cell against
the running API and the real bot Dispatcher, and `python -m tests.permissions` writes
`docs/permissions.md` from it (a test keeps the committed page equal to the generated one).

Roles (DESIGN §2):
- anonymous: no token (API); a Telegram user who never sent /start (bot);
- other workspace: a registered user who is not a member of the owner's workspace, asking
  for it (`X-Workspace-Id` of the owner's workspace, and the owner's object ids);
- manager: a member of the workspace with the role manager;
- owner: the workspace's owner;
- admin: an installation admin (global role admin, in ADMIN_TELEGRAM_IDS) who is not a member
  of the workspace: installation routes, not other people's workspace data.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ANON, OTHER, MANAGER, OWNER, ADMIN = "anonymous", "other workspace", "manager", "owner", "admin"
ROLES: tuple[str, ...] = (ANON, OTHER, MANAGER, OWNER, ADMIN)
DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"


@dataclass(frozen=True, slots=True)
class ApiRow:
    method: str
    path: str
    expected: tuple[int, int, int, int, int]  # by ROLES
    variant: str = ""  # a second row for one route: a query (`?all=1`) or a special object
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.variant}]" if self.variant else "")

    def status(self, role: str) -> int:
        return self.expected[ROLES.index(role)]


def _r(
    method: str,
    path: str,
    anon: int,
    other: int,
    manager: int,
    owner: int,
    admin: int,
    *,
    variant: str = "",
    note: str = "",
) -> ApiRow:
    return ApiRow(method, path, (anon, other, manager, owner, admin), variant, note)


PUBLIC = (200, 200, 200, 200, 200)
MEMBERS = (401, 404, 200, 200, 404)  # any member of the workspace; a foreign one is 404
ADMINS = (401, 403, 403, 403, 200)

API: tuple[ApiRow, ...] = (
    # --- auth ---------------------------------------------------------------------------
    _r(
        "POST",
        "/api/v1/auth/verify",
        401,
        200,
        200,
        200,
        200,
        note="anonymous: a username that never sent /start; the others a code from /web_auth",
    ),
    _r(
        "POST",
        "/api/v1/auth/refresh",
        401,
        200,
        200,
        200,
        200,
        note="anonymous: no refresh token; the others their own, once",
    ),
    _r("POST", "/api/v1/auth/logout", 401, 200, 200, 200, 200),
    # --- me -----------------------------------------------------------------------------
    _r("GET", "/api/v1/me", 401, 200, 200, 200, 200, note="the caller themself"),
    _r("GET", "/api/v1/workspaces/{workspace_id}", *MEMBERS),
    # --- accounts -----------------------------------------------------------------------
    _r("GET", "/api/v1/accounts", *MEMBERS),
    _r("POST", "/api/v1/accounts/{account_id}/disable", *MEMBERS),
    _r("POST", "/api/v1/accounts/{account_id}/enable", *MEMBERS),
    _r(
        "DELETE",
        "/api/v1/accounts/{account_id}",
        401,
        404,
        403,
        200,
        404,
        note="unlink: owner only",
    ),
    # --- linking an account in the panel (the caller's own login; anyone else's is 404) ---
    _r("POST", "/api/v1/account-logins", 401, 404, 201, 201, 404, note="as /link in the bot"),
    _r("GET", "/api/v1/account-logins/{login}", *MEMBERS),
    _r("POST", "/api/v1/account-logins/{login}/qr", *MEMBERS),
    _r("POST", "/api/v1/account-logins/{login}/phone", *MEMBERS),
    _r("POST", "/api/v1/account-logins/{login}/code", *MEMBERS),
    _r("POST", "/api/v1/account-logins/{login}/password", *MEMBERS),
    _r("DELETE", "/api/v1/account-logins/{login}", 401, 404, 204, 204, 404),
    # --- collection tasks ---------------------------------------------------------------
    _r("POST", "/api/v1/parse-tasks", 401, 404, 201, 201, 404),
    _r("GET", "/api/v1/parse-tasks", *MEMBERS),
    _r("GET", "/api/v1/parse-tasks/{task_id}", *MEMBERS),
    _r("POST", "/api/v1/parse-tasks/{task_id}/pause", *MEMBERS),
    _r("POST", "/api/v1/parse-tasks/{task_id}/resume", *MEMBERS),
    _r("POST", "/api/v1/parse-tasks/{task_id}/cancel", *MEMBERS),
    # --- audiences ----------------------------------------------------------------------
    _r("GET", "/api/v1/audiences", *MEMBERS),
    _r("GET", "/api/v1/audiences/{audience_id}", *MEMBERS),
    _r("GET", "/api/v1/audiences/{audience_id}/members", *MEMBERS),
    _r("GET", "/api/v1/audiences/{audience_id}/members/{tg_user_id}", *MEMBERS),
    _r("POST", "/api/v1/audiences", 401, 404, 201, 201, 404, note="a new audience from a CSV file"),
    _r("GET", "/api/v1/audiences/{audience_id}/export.csv", *MEMBERS),
    _r("POST", "/api/v1/audiences/{audience_id}/import", *MEMBERS),
    _r("DELETE", "/api/v1/audiences/{audience_id}", 401, 404, 403, 200, 404, note="owner only"),
    # --- search -------------------------------------------------------------------------
    _r("POST", "/api/v1/search", *MEMBERS, note="runs as a linked account of the workspace"),
    # --- campaigns ----------------------------------------------------------------------
    _r(
        "POST",
        "/api/v1/campaigns",
        401,
        404,
        201,
        201,
        404,
        note="creates a draft and runs its pre-flight",
    ),
    _r("GET", "/api/v1/campaigns", *MEMBERS),
    _r("GET", "/api/v1/campaigns/{campaign_id}", *MEMBERS),
    _r("POST", "/api/v1/campaigns/{campaign_id}/preflight", *MEMBERS),
    _r("GET", "/api/v1/campaigns/{campaign_id}/report", *MEMBERS),
    _r("GET", "/api/v1/campaigns/{campaign_id}/events", *MEMBERS),
    _r("POST", "/api/v1/campaigns/{campaign_id}/start", *MEMBERS),
    _r("POST", "/api/v1/campaigns/{campaign_id}/pause", *MEMBERS),
    _r("POST", "/api/v1/campaigns/{campaign_id}/resume", *MEMBERS),
    _r("POST", "/api/v1/campaigns/{campaign_id}/cancel", *MEMBERS),
    _r(
        "POST",
        "/api/v1/campaigns/{campaign_id}/approve",
        401,
        404,
        403,
        200,
        404,
        note="owner only: a manager's campaign past APPROVAL_THRESHOLD",
    ),
    _r(
        "POST", "/api/v1/campaigns/{campaign_id}/reject", 401, 404, 403, 200, 404, note="owner only"
    ),
    _r(
        "POST",
        "/api/v1/campaigns/{campaign_id}/join",
        401,
        404,
        403,
        200,
        404,
        note="owner only: one of the accounts joins the target",
    ),
    _r("POST", "/api/v1/campaigns/{campaign_id}/duplicate", 401, 404, 201, 201, 404),
    _r("GET", "/api/v1/campaigns/{campaign_id}/stream", *MEMBERS, note="server-sent events"),
    _r("GET", "/api/v1/campaigns/{campaign_id}/plan", *MEMBERS),
    _r("GET", "/api/v1/campaigns/{campaign_id}/attempts.csv", *MEMBERS),
    _r("GET", "/api/v1/campaigns/{campaign_id}/follow-up.csv", *MEMBERS),
    _r("PATCH", "/api/v1/campaigns/{campaign_id}", *MEMBERS, note="a draft"),
    _r(
        "DELETE",
        "/api/v1/campaigns/{campaign_id}",
        401,
        404,
        403,
        200,
        404,
        note="a draft: the owner any, a manager the ones they created",
    ),
    _r(
        "POST",
        "/api/v1/campaign-deletions",
        401,
        404,
        403,
        200,
        404,
        note="drafts, all or none: the owner any, a manager the ones they created",
    ),
    _r("GET", "/api/v1/history", *MEMBERS),
    _r("GET", "/api/v1/accounts/{account_id}", *MEMBERS),
    _r(
        "GET",
        "/api/v1/chats",
        *MEMBERS,
        note="the accounts' chats, for picking a target (?can_invite=1)",
    ),
    _r("GET", "/api/v1/limits", *MEMBERS),
    _r("GET", "/api/v1/invites/today", *MEMBERS),
    _r("GET", "/api/v1/overview", *MEMBERS),
    # --- team ---------------------------------------------------------------------------
    _r("GET", "/api/v1/workspace/members", *MEMBERS),
    _r(
        "POST",
        "/api/v1/workspace/members",
        401,
        404,
        403,
        201,
        404,
        note="add a manager: owner only",
    ),
    _r(
        "DELETE",
        "/api/v1/workspace/members/{user_id}",
        401,
        404,
        403,
        204,
        404,
        note="another manager: owner only",
    ),
    _r(
        "DELETE",
        "/api/v1/workspace/members/{user_id}",
        401,
        404,
        204,
        400,
        404,
        variant="self",
        note="oneself: a manager leaves; the owner cannot (400 team_owner)",
    ),
    # --- retention and erasure ------------------------------------------------------------
    _r("GET", "/api/v1/campaigns/{campaign_id}/retention", *MEMBERS),
    _r("POST", "/api/v1/erasures", 401, 404, 403, 201, 404, note="erase one person: owner only"),
    # --- opt-outs ----------------------------------------------------------------------
    _r("GET", "/api/v1/opt-outs", *MEMBERS),
    _r("POST", "/api/v1/opt-outs", 401, 404, 403, 201, 404, note="add a person: owner only"),
    _r("DELETE", "/api/v1/opt-outs/{user_id}", 401, 404, 403, 204, 404, note="owner only"),
    _r("GET", "/api/v1/opt-outs/export.csv", *MEMBERS),
    _r("POST", "/api/v1/opt-outs/import", 401, 404, 403, 200, 404, note="owner only"),
    # --- audit --------------------------------------------------------------------------
    _r("GET", "/api/v1/audit", 401, 404, 403, 200, 404, note="the workspace's log: owner only"),
    _r(
        "GET",
        "/api/v1/audit",
        *ADMINS,
        variant="?all=1",
        note="the whole installation's log: admins",
    ),
    # --- installation admin -------------------------------------------------------------
    _r("GET", "/api/v1/admin/stats", *ADMINS),
    _r("GET", "/api/v1/admin/users", *ADMINS),
    _r("POST", "/api/v1/admin/users/{user_id}/block", *ADMINS, note="another, plain user"),
    _r("POST", "/api/v1/admin/users/{user_id}/unblock", *ADMINS),
    _r("POST", "/api/v1/admin/users/{user_id}/grant-admin", *ADMINS),
    _r("POST", "/api/v1/admin/users/{user_id}/revoke-admin", *ADMINS),
    _r("GET", "/api/v1/admin/limits", *ADMINS),
    _r("PUT", "/api/v1/admin/limits", *ADMINS),
    _r("GET", "/api/v1/admin/accounts", *ADMINS),
    # --- system and the panel -----------------------------------------------------------
    _r("GET", "/health", *PUBLIC),
    _r("GET", "/ready", *PUBLIC),
    _r("GET", "/metrics", *PUBLIC),
    _r("GET", "/api/v1/openapi.json", *PUBLIC),
    _r("GET", "/", *PUBLIC, note="the web panel"),
    _r("GET", "/assets/{name}", *PUBLIC),
)


# --- bot ------------------------------------------------------------------------------------
ALLOWED = "allowed"
OWN_WS = "allowed (own workspace)"
NEW_USER = "allowed (registered on first contact)"
OWNER_ONLY = "owner only"
UNKNOWN = "unknown command"
NOTHING_TO_CANCEL = "nothing to cancel"


@dataclass(frozen=True, slots=True)
class BotRow:
    command: str  # as sent, with arguments
    expected: tuple[str, str, str, str, str]  # by ROLES
    note: str = ""

    @property
    def name(self) -> str:
        return self.command.split()[0].lstrip("/")

    def answer(self, role: str) -> str:
        return self.expected[ROLES.index(role)]


def _b(
    command: str, anon: str, other: str, manager: str, owner: str, admin: str, *, note: str = ""
) -> BotRow:
    return BotRow(command, (anon, other, manager, owner, admin), note)


EVERYONE = (NEW_USER, ALLOWED, ALLOWED, ALLOWED, ALLOWED)
WORK = (NEW_USER, OWN_WS, ALLOWED, ALLOWED, OWN_WS)  # works in the current workspace
TEAM_OWNER = (NEW_USER, OWN_WS, OWNER_ONLY, ALLOWED, OWN_WS)

BOT: tuple[BotRow, ...] = (
    _b("/start", *EVERYONE),
    _b("/help", *EVERYONE),
    _b("/lang", *EVERYONE),
    _b("/web_auth", *EVERYONE, note="a login code for the caller"),
    _b("/accounts", *WORK, note="unlink buttons for the owner only"),
    _b("/link", *WORK),
    _b("/link_phone", *WORK),
    _b("/parse @target_group", *WORK),
    _b("/search crypto", *WORK),
    _b("/tasks", *WORK),
    _b("/audiences", *WORK, note="delete buttons for the owner only"),
    _b("/campaign_new", *WORK),
    _b("/campaigns", *WORK),
    _b("/team", *EVERYONE, note="the current workspace's team"),
    _b("/team_add @newcomer", *TEAM_OWNER),
    _b("/team_remove", *TEAM_OWNER, note="choose whom to remove"),
    _b("/erase 31950", *TEAM_OWNER, note="asks for a confirmation first"),
    _b("/optouts", *WORK, note="the current workspace's opt-out list"),
    _b("/optouts_add 31900", *TEAM_OWNER, note="add to the workspace's list"),
    _b("/optouts_remove 31900", *TEAM_OWNER, note="take off the workspace's list"),
    _b("/optout", *EVERYONE, note="the sender: never invited by any workspace"),
    _b("/optin", *EVERYONE, note="the sender undoes /optout"),
    _b(
        "/admin",
        UNKNOWN,
        UNKNOWN,
        UNKNOWN,
        UNKNOWN,
        ALLOWED,
        note="non-admins never learn it exists",
    ),
    _b("/admin_limits", UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, ALLOWED),
    _b("/cancel", *(NOTHING_TO_CANCEL,) * 5),
)


# --- the page -------------------------------------------------------------------------------
def render_markdown() -> str:
    lines = [
        "# Permissions",
        "",
        (
            "<!-- Generated by `python -m tests.permissions` from `tests/permissions.py`; do not edit by hand."
            " `tests/test_permission_matrix.py` checks every cell and that this page is current. -->"
        ),
        "",
        "Who gets what from every API route and every bot command (DESIGN §2).",
        "",
        "- **anonymous**: no token (API); in the bot a Telegram user who never sent /start.",
        (
            "- **other workspace**: a registered user who is not a member of the workspace, asking for it"
            " (`X-Workspace-Id` of that workspace, its object ids; without the header, in their own"
            " workspace, the same ids are 404 too)."
        ),
        "- **manager** / **owner**: members of the workspace with that role.",
        (
            "- **admin**: an installation admin who is not a member of the workspace: installation routes,"
            " not other people's workspace data."
        ),
        "",
        (
            "Another workspace's object is 404, never 403; 403 means the caller's own workspace (or"
            " installation) needs a role they do not have. Roles live in the domain (`core.users.ensure_owner`,"
            " `core.admin.require_admin`), so the bot and the API agree."
        ),
        "",
        "## API",
        "",
        "| Route | " + " | ".join(ROLES) + " | Note |",
        "|---|" + "---|" * len(ROLES) + "---|",
    ]
    for row in API:
        route = f"`{row.method} {row.path}`" + (f" ({row.variant})" if row.variant else "")
        cells = " | ".join(str(s) for s in row.expected)
        lines.append(f"| {route} | {cells} | {row.note} |")
    lines += [
        "",
        "## Bot",
        "",
        (
            "The bot registers every Telegram user on their first update (`bot/middlewares/user.py`), so"
            " someone who never sent /start is served as a new user in their own new workspace. Commands"
            " work in the user's current workspace (`/team` switches it): a user of another workspace"
            ' and an admin act in their own. A blocked user gets only "blocked".'
        ),
        "",
        "| Command | " + " | ".join(ROLES) + " | Note |",
        "|---|" + "---|" * len(ROLES) + "---|",
    ]
    for bot_row in BOT:
        cells = " | ".join(bot_row.expected)
        lines.append(f"| `{bot_row.command}` | {cells} | {bot_row.note} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    DOC_PATH.write_text(render_markdown(), encoding="utf-8")
    print(f"wrote {DOC_PATH}", file=sys.stderr)
