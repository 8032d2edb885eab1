"""Opt-outs: people who asked not to be invited.

Two lists, both honoured by every campaign (the pre-flight counts them as `opted_out`, the
engine's claim skips them in the same statement that would reserve the invite):

- the installation's: anyone, registered or not, sends the bot /optout (or opens the deep
  link `t.me/<bot>?start=optout` printed under invite links) and is never invited by any
  workspace of this installation until they send /optin. Nobody but the person can undo it.
- a workspace's own: its owner adds and removes people (bot, API, CSV, panel); any member
  may read it. People are named by Telegram id, or by @username when one of the workspace's
  audiences knows that username (a username alone cannot be resolved without spending an
  account's lookups, and an opt-out must never wait on one).

The rules live here so that the bot, the API and the panel agree.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from core import csvout
from core.errors import InvalidInput, NotFound
from core.interfaces import AuditStore, UserStore
from core.pagination import Page, read_page
from core.users import ensure_owner, workspace_of
from core.validation import is_number

# Where an installation-wide opt-out came from (stored with it).
SOURCE_COMMAND = "command"
SOURCE_DEEP_LINK = "deep_link"
# The deep-link payload (`/start optout`): Telegram passes it as the /start argument
# (core.telegram.org/bots/features#deep-linking: A-Z, a-z, 0-9, _ and -, up to 64 characters).
DEEP_LINK_PAYLOAD = "optout"
# Why an owner's entry is there (opt_outs.reason).
REASON_OWNER = "owner"
REASON_IMPORT = "import"
IMPORT_MAX_BYTES = 1024 * 1024
IMPORT_MAX_LINES = 50_000
CSV_COLUMNS = ("user_id", "username", "reason", "created_at")
# core.telegram.org/bots/api#user: a user id "has at most 52 significant bits".
_MAX_USER_ID = 2**52
_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")


@dataclass(frozen=True, slots=True)
class OptOutEntry:
    tg_user_id: int
    username: str | None
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OptOutImport:
    lines: int
    accepted: int
    added: int
    errors: list[dict[str, object]] = field(default_factory=list)


class OptOutStore(UserStore, AuditStore, Protocol):
    async def commit(self) -> None: ...

    async def set_global_opt_out(self, tg_user_id: int, source: str) -> bool: ...

    async def drop_global_opt_out(self, tg_user_id: int) -> bool: ...

    async def global_opt_out_since(self, tg_user_id: int) -> datetime | None: ...

    async def workspace_opt_outs(
        self, workspace_id: int, *, after: int, limit: int
    ) -> list[OptOutEntry]: ...

    async def count_workspace_opt_outs(self, workspace_id: int) -> int: ...

    async def add_workspace_opt_outs(
        self, workspace_id: int, tg_user_ids: list[int], reason: str
    ) -> int: ...

    async def drop_workspace_opt_out(self, workspace_id: int, tg_user_id: int) -> bool: ...

    async def known_usernames(self, workspace_id: int, names: list[str]) -> dict[str, int]: ...


def optout_link(bot_username: str) -> str:
    """The link anyone can open to stop all invitations from this installation."""
    return f"https://t.me/{bot_username}?start={DEEP_LINK_PAYLOAD}"


# --- the person's own choice ---------------------------------------------------------------
async def opt_out_everywhere(store: OptOutStore, tg_user_id: int, *, source: str) -> bool:
    """Put the person on the installation's list; False when they already were.

    No audit entry names them: the list itself is the record, and it holds nothing but
    the id and when."""
    added = await store.set_global_opt_out(tg_user_id, source)
    await store.commit()
    return added


async def opt_in_everywhere(store: OptOutStore, tg_user_id: int) -> bool:
    """Take the person off the installation's list; False when they were not on it.

    A workspace's own list is its owner's and stays as it is."""
    removed = await store.drop_global_opt_out(tg_user_id)
    await store.commit()
    return removed


# --- a workspace's list ---------------------------------------------------------------------
async def workspace_list(
    store: OptOutStore, user_id: int, workspace_id: int, *, cursor: int | None, limit: int
) -> tuple[Page[OptOutEntry], int]:
    """A page of the workspace's list and its size; any member may read it."""
    await workspace_of(store, user_id, workspace_id)

    async def fetch(n: int) -> list[OptOutEntry]:
        return await store.workspace_opt_outs(workspace_id, after=cursor or 0, limit=n)

    page = await read_page(fetch, limit, key=lambda e: e.tg_user_id)
    return page, await store.count_workspace_opt_outs(workspace_id)


def parse_person(raw: str) -> int | str:
    """A Telegram id (int) or a lower-case username (str); `InvalidInput` otherwise."""
    value = raw.strip()
    if is_number(value):
        number = int(value)
        if not 0 < number < _MAX_USER_ID:
            raise InvalidInput("person", field="person", problem="optout_bad_person")
        return number
    match = _USERNAME.match(value)
    if match is None:
        raise InvalidInput("person", field="person", problem="optout_bad_person")
    return match.group(1).lower()


async def _resolve(store: OptOutStore, workspace_id: int, raw: str) -> int:
    person = parse_person(raw)
    if isinstance(person, int):
        return person
    found = (await store.known_usernames(workspace_id, [person])).get(person)
    if found is None:
        raise InvalidInput(
            "person", field="person", problem="optout_unknown_username", username=person
        )
    return found


async def add(store: OptOutStore, user_id: int, workspace_id: int, raw: str) -> tuple[int, bool]:
    """Add one person (id or a known @username) to the workspace's list. Owner only
    (`Forbidden`). Returns (Telegram id, whether they were not on the list yet)."""
    workspace = await workspace_of(store, user_id, workspace_id)
    ensure_owner(workspace.role)
    tg_user_id = await _resolve(store, workspace_id, raw)
    added = await store.add_workspace_opt_outs(workspace_id, [tg_user_id], REASON_OWNER) > 0
    if added:
        await store.audit(
            "optout.added",
            actor_user_id=user_id,
            workspace_id=workspace_id,
            details={"tg_user_id": tg_user_id},
        )
    await store.commit()
    return tg_user_id, added


async def remove(store: OptOutStore, user_id: int, workspace_id: int, raw: str) -> int:
    """Take one person (id or a known @username) off the workspace's list. Owner only
    (`Forbidden`); someone not on it is `NotFound`. The installation's list is the
    person's own and is never changed here."""
    workspace = await workspace_of(store, user_id, workspace_id)
    ensure_owner(workspace.role)
    tg_user_id = await _resolve(store, workspace_id, raw)
    if not await store.drop_workspace_opt_out(workspace_id, tg_user_id):
        raise NotFound("opt-out", tg_user_id=tg_user_id)
    await store.audit(
        "optout.removed",
        actor_user_id=user_id,
        workspace_id=workspace_id,
        details={"tg_user_id": tg_user_id},
    )
    await store.commit()
    return tg_user_id


async def import_csv(
    store: OptOutStore, user_id: int, workspace_id: int, data: bytes
) -> OptOutImport:
    """Add people from CSV: a `user_id` and/or `username` column (with a header, as the
    export writes it), or one id or @username per line. Owner only. Bad lines (and
    usernames no audience of the workspace knows) are reported by number; good ones are
    kept."""
    workspace = await workspace_of(store, user_id, workspace_id)
    ensure_owner(workspace.role)
    if len(data) > IMPORT_MAX_BYTES:
        raise InvalidInput(
            "file", field="file", problem="file_size", max_mb=IMPORT_MAX_BYTES // 1024 // 1024
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("file", field="file", problem="file_encoding") from None
    if (nul := text.find("\x00")) >= 0:
        raise InvalidInput(
            "file", field="file", problem="csv_nul", line=text.count("\n", 0, nul) + 1
        )
    ids, names, errors, lines = _parse_rows(text)
    known = await store.known_usernames(workspace_id, sorted(set(names.values()))) if names else {}
    for line, name in names.items():
        if name in known:
            ids[line] = known[name]
        else:
            errors.append({"line": line, "value": name, "problem": "unknown_username"})
    errors.sort(key=lambda e: int(str(e["line"])))
    people = sorted(set(ids.values()))
    added = 0
    for start in range(0, len(people), 1000):
        added += await store.add_workspace_opt_outs(
            workspace_id, people[start : start + 1000], REASON_IMPORT
        )
    await store.audit(
        "optout.imported",
        actor_user_id=user_id,
        workspace_id=workspace_id,
        details={"accepted": len(people), "added": added, "errors": len(errors)},
    )
    await store.commit()
    return OptOutImport(lines=lines, accepted=len(people), added=added, errors=errors)


def _parse_rows(text: str) -> tuple[dict[int, int], dict[int, str], list[dict[str, object]], int]:
    """({line: id}, {line: lower-case username to look up}, errors, data lines seen)."""
    # strict: an unterminated quote is a broken file, not one long last field.
    reader = csv.reader(io.StringIO(text), strict=True)
    ids: dict[int, int] = {}
    names: dict[int, str] = {}
    errors: list[dict[str, object]] = []
    header: list[str] | None = None
    lines = 0
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if (
                header is None
                and lines == 0
                and {"user_id", "username"} & {c.strip().lower() for c in row}
            ):
                header = [c.strip().lower() for c in row]
                continue
            lines += 1
            if lines > IMPORT_MAX_LINES:
                raise InvalidInput(
                    "file", field="file", problem="csv_lines", max=IMPORT_MAX_LINES, line=number
                )
            if header is not None:
                record = dict(zip(header, row, strict=False))
                raw = (record.get("user_id") or "").strip() or (
                    record.get("username") or ""
                ).strip()
            else:
                raw = row[0].strip()
            try:
                person = parse_person(raw[:64])
            except InvalidInput:
                errors.append({"line": number, "value": raw[:64], "problem": "bad_person"})
                continue
            if isinstance(person, int):
                ids[number] = person
            else:
                names[number] = person
    except csv.Error:
        raise InvalidInput(
            "file", field="file", problem="csv_syntax", line=reader.line_num
        ) from None
    return ids, names, errors, lines


async def export_csv(store: OptOutStore, user_id: int, workspace_id: int) -> AsyncIterator[bytes]:
    """The workspace's list as CSV (the import reads it back); any member may read it."""
    await workspace_of(store, user_id, workspace_id)
    return _csv_rows(store, workspace_id)


async def _csv_rows(store: OptOutStore, workspace_id: int) -> AsyncIterator[bytes]:
    async def batches() -> AsyncIterator[list[list[object]]]:
        after = 0
        while True:
            batch = await store.workspace_opt_outs(workspace_id, after=after, limit=1000)
            yield [
                [e.tg_user_id, e.username or "", e.reason or "", e.created_at.isoformat()]
                for e in batch
            ]
            if len(batch) < 1000:
                return
            after = batch[-1].tg_user_id

    async for piece in csvout.stream(CSV_COLUMNS, batches()):
        yield piece
