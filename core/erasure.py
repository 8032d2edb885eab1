"""Erasing one person from a workspace (issue "people first", item 7): the owner's answer to
"forget me".

Everything the workspace holds about the person goes — audience entries (by id and by
username), campaign targets, the ledger, retention checks, their name in audit entries —
except one opt-out entry, the least needed never to invite them again. Their invite
attempts stay as anonymous rows (the person's id blanked), because they are what the
accounts' daily limits are counted from. The audit entry of the erasure itself says how
much was removed, never whom.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.errors import InvalidInput
from core.interfaces import AuditStore, UserStore
from core.logincodes import normalize_username
from core.users import ensure_owner, require_workspace

OPT_OUT_REASON = "erased"
# Telegram user ids are positive and fit 64 bits (core.telegram.org/api/bots/ids: up to 52 bits).
MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Person:
    """Whom to erase: a Telegram id, or a username (`@` optional)."""

    tg_user_id: int | None
    username: str | None  # lower case, without `@`


def parse_person(raw: str) -> Person:
    """`123456` or `@name`; anything else is `InvalidInput` (problem `erase_person`)."""
    text = (raw or "").strip()
    if text.isascii() and text.isdigit():
        value = int(text)
        if 0 < value <= MAX_ID:
            return Person(value, None)
    elif (name := normalize_username(text)) is not None:
        return Person(None, name)
    raise InvalidInput("person", field="person", problem="erase_person")


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure removed: rows per table, how many Telegram ids it concerned, and
    whether an opt-out keeps them from being invited again (a person known by username
    only has no id to keep)."""

    removed: dict[str, int]
    people: int
    opted_out: bool

    @property
    def total(self) -> int:
        return sum(
            n for table, n in self.removed.items() if table not in ("opt_outs", "invite_events")
        )


class ErasureStore(UserStore, AuditStore, Protocol):
    async def people_named(self, workspace_id: int, username: str) -> list[int]: ...

    async def erase_people(
        self, workspace_id: int, ids: list[int], username: str | None, reason: str
    ) -> dict[str, int]: ...

    async def commit(self) -> None: ...


async def check_erase(store: UserStore, user_id: int, workspace_id: int) -> None:
    """Raises unless this user may erase people here: the owner only (a manager `Forbidden`,
    a stranger `NotFound`)."""
    ensure_owner(await require_workspace(store, user_id, workspace_id))


async def erase(store: ErasureStore, user_id: int, workspace_id: int, person: Person) -> Erasure:
    """Erase one person from the workspace, in one transaction, and audit it without them."""
    await check_erase(store, user_id, workspace_id)
    ids = [person.tg_user_id] if person.tg_user_id is not None else []
    if person.username is not None:
        ids = await store.people_named(workspace_id, person.username)
    removed = await store.erase_people(workspace_id, ids, person.username, OPT_OUT_REASON)
    result = Erasure(removed=removed, people=len(ids), opted_out=bool(ids))
    # The entry names what was removed and how, never whom (an id is the person too).
    await store.audit(
        "person.erased",
        actor_user_id=user_id,
        workspace_id=workspace_id,
        details={
            "by": "username" if person.username else "id",
            "people": len(ids),
            "removed": removed,
        },
    )
    await store.commit()
    return result
