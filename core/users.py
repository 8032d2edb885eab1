"""Users and their workspaces: registration on /start, language choice, tenancy checks."""

from __future__ import annotations

from collections.abc import Iterable

from core.dto import TelegramProfile, UserDTO, WorkspaceRef, WorkspaceRole
from core.errors import NotFound
from core.interfaces import Dal, UserStore

LANGUAGES = ("ru", "en")


def language_for(language_code: str | None) -> str:
    """Russian for Russian-speaking clients (DESIGN §1), English otherwise."""
    if language_code and language_code.lower().split("-")[0] in ("ru", "uk", "be", "kk"):
        return "ru"
    return "en"


async def register(dal: Dal, profile: TelegramProfile, admin_ids: Iterable[int]) -> tuple[UserDTO, bool]:
    """Create or refresh the user; a new user gets a personal workspace they own."""
    user, created = await dal.upsert_user(profile, make_admin=profile.telegram_id in set(admin_ids))
    if created:
        name = f"@{user.username}" if user.username else user.first_name or str(user.telegram_id)
        workspace_id = await dal.create_workspace(user.id, name, personal=True)
        await dal.audit(
            "user.registered", actor_user_id=user.id, workspace_id=workspace_id, details={}
        )
    await dal.commit()
    return user, created


async def set_language(dal: Dal, user_id: int, language: str) -> UserDTO:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    user = await dal.set_language(user_id, language)
    await dal.commit()
    return user


async def require_workspace(store: UserStore, user_id: int, workspace_id: int) -> WorkspaceRole:
    """The caller's role in a workspace; a foreign or unknown workspace is `NotFound` (never 403)."""
    role = await store.workspace_role(user_id, workspace_id)
    if role is None:
        raise NotFound("workspace", workspace_id=workspace_id)
    return role


async def workspaces_of(store: UserStore, user_id: int) -> list[WorkspaceRef]:
    return await store.list_workspaces(user_id)


async def personal_workspace(store: UserStore, user_id: int) -> WorkspaceRef:
    """The workspace the bot works in for this user: their personal one (listed first).

    Raises NotFound when the user has no workspace at all (never registered).
    """
    workspaces = await store.list_workspaces(user_id)
    if not workspaces:
        raise NotFound("workspace", user_id=user_id)
    return workspaces[0]
