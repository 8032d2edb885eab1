"""Users and their workspaces: registration on /start, language choice, tenancy checks."""

from __future__ import annotations

from collections.abc import Iterable

from core.dto import TelegramProfile, UserDTO, WorkspaceRef, WorkspaceRole
from core.errors import Forbidden, NotFound
from core.interfaces import Dal, UserStore

LANGUAGES = ("ru", "en")


def language_for(language_code: str | None) -> str:
    """Russian for Russian-speaking clients (DESIGN §1), English otherwise."""
    if language_code and language_code.lower().split("-")[0] in ("ru", "uk", "be", "kk"):
        return "ru"
    return "en"


async def register(
    dal: Dal, profile: TelegramProfile, admin_ids: Iterable[int]
) -> tuple[UserDTO, bool]:
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


def is_current(user: UserDTO, profile: TelegramProfile, admin_ids: Iterable[int]) -> bool:
    """Whether `register` would change nothing that matters: the same username and names, the
    language (unless chosen with /lang), and no admin role to grant."""
    last_name = (profile.last_name or None) and profile.last_name[:128]
    return (
        user.username == profile.username
        and user.first_name == profile.first_name[:128]
        and user.last_name == last_name
        and (user.language_explicit or user.language == language_for(profile.language_code))
        and (user.is_admin or profile.telegram_id not in set(admin_ids))
    )


async def sender(
    dal: Dal,
    profile: TelegramProfile,
    admin_ids: Iterable[int],
    *,
    remembered: UserDTO | None = None,
) -> tuple[UserDTO, bool]:
    """The registered user behind an update. Read first, and `register` only when Telegram
    shows something new (a new user, a changed name, username or language): most updates
    then cost one primary-key read and no write or commit. `remembered` is the row as the
    caller's cache holds it (one that forgets a user as soon as their row changes,
    `db.sender_cache`): when Telegram shows nothing new it is the answer, with no read."""
    if remembered is not None and is_current(remembered, profile, admin_ids):
        return remembered, False
    found = await dal.get_user_by_telegram_id(profile.telegram_id)
    if found is not None and is_current(found, profile, admin_ids):
        return found, False
    return await register(dal, profile, admin_ids)


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


async def workspace_of(store: UserStore, user_id: int, workspace_id: int) -> WorkspaceRef:
    """One of the caller's workspaces, with the caller's role; another is `NotFound`."""
    found = next((w for w in await store.list_workspaces(user_id) if w.id == workspace_id), None)
    if found is None:
        raise NotFound("workspace", workspace_id=workspace_id)
    return found


def ensure_owner(role: WorkspaceRole) -> None:
    """Managers run the work; removing accounts, deleting data and managing the team are the
    owner's (DESIGN §2). Every "owner only" rule goes through here."""
    if role is not WorkspaceRole.OWNER:
        raise Forbidden("owner only", role=role.value)


async def current_workspace(store: UserStore, user_id: int) -> WorkspaceRef:
    """The workspace the bot works in for this user: the one chosen in /team while they are
    still a member of it, else their personal one (listed first).

    Raises NotFound when the user has no workspace at all (never registered).
    """
    workspaces = await store.list_workspaces(user_id)
    if not workspaces:
        raise NotFound("workspace", user_id=user_id)
    chosen = await store.current_workspace_id(user_id)
    return next((w for w in workspaces if w.id == chosen), workspaces[0])


async def switch_workspace(dal: Dal, user_id: int, workspace_id: int) -> WorkspaceRef:
    """Make one of the user's workspaces the bot's current one; another is `NotFound`."""
    workspace = await workspace_of(dal, user_id, workspace_id)
    await dal.set_current_workspace(user_id, workspace_id)
    await dal.commit()
    return workspace
