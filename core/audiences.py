"""Audiences and collection tasks as users steer them (DESIGN §6): create, list, pause,
resume, cancel, export and import. The workers run the tasks (`workers/parsing.py`).

Any member of a workspace collects and steers tasks; deleting an audience deletes data,
which only the owner may do (DESIGN §2).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core import csvout
from core.accounts import can_work
from core.dto import AccountDTO, AudienceDTO, MemberDTO, ParseTaskDTO
from core.errors import InvalidInput, NotFound
from core.interfaces import Dal, InviteCheck, SourceCheck
from core.pagination import Page, read_page
from core.parsing import (
    DEFAULT_DAYS,
    DEFAULT_POSTS,
    MAX_DAYS,
    MAX_POSTS,
    Filters,
    LastSeen,
    ParseKind,
    ParseStatus,
    Priority,
    parse_source,
    parse_speed,
)
from core.users import ensure_owner, require_workspace
from core.validation import is_number

MAX_AUDIENCE_NAME = 128
IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_LINES = 100_000
# No column of an import needs more (names are cut to 128); the csv module's own limit
# (csv.field_size_limit, 128 KiB) raises `_csv.Error`, which is answered the same way.
IMPORT_MAX_FIELD = 4096
CSV_COLUMNS = (
    "user_id",
    "username",
    "first_name",
    "last_name",
    "last_seen",
    "premium",
    "photo",
    "source",
)
_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")


@dataclass(frozen=True, slots=True)
class ImportReport:
    audience_id: int
    lines: int
    accepted: int
    new_members: int
    new_usernames: int
    errors: list[dict[str, object]] = field(default_factory=list)
    # Ids without a username: Telegram accepts a user only with an access hash an account
    # saw (core.telegram.org/api/peers#access-hash), so a bare id cannot be invited until an
    # account collects them from a chat.
    unreachable: int = 0


MAX_MEMBER_QUERY = 64


@dataclass(frozen=True, slots=True)
class MemberQuery:
    """Which members of an audience to list: a text found in the username or name (or the
    id itself), a last-seen bucket, and the flags a member must have."""

    text: str | None = None
    last_seen: LastSeen | None = None
    with_username: bool = False
    premium: bool = False
    photo: bool = False

    @classmethod
    def parse(cls, text: str | None, last_seen: str | None, **flags: bool) -> MemberQuery:
        clean = " ".join((text or "").split()).lstrip("@") or None
        if clean is not None and len(clean) > MAX_MEMBER_QUERY:
            raise InvalidInput("q", field="q", problem="member_query", max=MAX_MEMBER_QUERY)
        seen = None
        if last_seen:
            try:
                seen = LastSeen(last_seen)
            except ValueError:
                raise InvalidInput(
                    "last_seen",
                    field="last_seen",
                    problem="last_seen",
                    allowed=", ".join(v.value for v in LastSeen),
                ) from None
        return cls(clean, seen, **flags)

    @property
    def filters(self) -> bool:
        """Whether it leaves anybody out."""
        return bool(self.text or self.last_seen or self.with_username or self.premium or self.photo)


def audience_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name or len(name) > MAX_AUDIENCE_NAME:
        raise InvalidInput("name", field="name", problem="name", max=MAX_AUDIENCE_NAME)
    return name


async def _audience_in(dal: Dal, workspace_id: int, audience_id: int) -> AudienceDTO:
    """The workspace's audience (the caller's membership already checked); else `NotFound`."""
    found = await dal.get_audience(workspace_id, audience_id)
    if found is None:
        raise NotFound("audience", audience_id=audience_id)
    return found


async def joining_account(dal: Dal, workspace_id: int, account_id: int | None) -> AccountDTO:
    """The account that joins a private source: the one chosen, or the first usable one.
    `InvalidInput` when the chosen one is not the workspace's or cannot work now."""
    accounts = await dal.list_accounts(workspace_id, after_id=0, limit=1000)
    now = datetime.now(UTC)
    if account_id is None:
        usable = [a for a in accounts if can_work(a, now)]
        if not usable:
            raise InvalidInput("account", field="account_id", problem="no_join_account")
        return usable[0]
    chosen = next((a for a in accounts if a.id == account_id), None)
    if chosen is None or not can_work(chosen, now):
        raise InvalidInput("account", field="account_id", problem="join_account")
    return chosen


class AudienceService:
    # --- tasks -----------------------------------------------------------------------------
    async def create_task(
        self,
        dal: Dal,
        user_id: int,
        workspace_id: int,
        *,
        source: str,
        kind: str = ParseKind.MEMBERS.value,
        speed: str = "medium",
        priority: str = "normal",
        audience: str | None = None,
        posts: int = DEFAULT_POSTS,
        days: int = DEFAULT_DAYS,
        filters: Filters | None = None,
        trace_id: str | None = None,
        check_source: SourceCheck | None = None,
        account_id: int | None = None,
        check_invite: InviteCheck | None = None,
    ) -> ParseTaskDTO:
        """Queue a collection. Without an audience name it fills the one named after the
        source, so collecting the same source again adds no duplicates. `trace_id` (the
        creating update's or request's) is stored so the worker's lines carry it too.
        With `check_source`, a source Telegram does not know is refused before anything is
        saved (no task, no empty audience left behind)."""
        await require_workspace(dal, user_id, workspace_id)
        ref = parse_source(source)
        try:
            parse_kind = ParseKind(kind.strip().lower())
        except ValueError:
            raise InvalidInput("kind", field="kind", problem="kind") from None
        profile = parse_speed(speed)
        order = Priority.parse(priority)
        if not 1 <= posts <= MAX_POSTS:
            raise InvalidInput("posts", field="posts", problem="posts", max=MAX_POSTS)
        if not 1 <= days <= MAX_DAYS:
            raise InvalidInput("days", field="days", problem="days", max=MAX_DAYS)
        invite: dict[str, object] | None = None
        title = ""
        if ref.invite is not None:
            # A private chat by its invite link: one account of the workspace joins it (the
            # worker's first step) and reads it with its own access hash.
            joiner = await joining_account(dal, workspace_id, account_id)
            invite = {"hash": ref.invite, "account_id": joiner.id}
            preview = (
                await check_invite(workspace_id, ref.invite, joiner.id) if check_invite else None
            )
            if preview is not None:
                title = preview.title.strip()[:MAX_AUDIENCE_NAME]
                invite |= {
                    "title": title,
                    "members": preview.members,
                    "request_needed": preview.request_needed,
                }
        elif check_source is not None and ref.username:
            await check_source(workspace_id, ref.username)
        name = audience_name(audience) if audience else (title or ref.label)
        target = await dal.create_audience(workspace_id, name, ref.label, user_id)
        task = await dal.create_parse_task(
            workspace_id=workspace_id,
            created_by_user_id=user_id,
            kind=parse_kind,
            source=ref.label,
            audience_id=target.id,
            speed=profile.name,
            priority=int(order),
            params={
                "posts": posts,
                "days": days,
                "post_id": ref.post_id,
                "filters": (filters or Filters()).to_json(),
                **({"invite": invite} if invite is not None else {}),
            },
            status=ParseStatus.QUEUED,
            trace_id=trace_id,
        )
        await dal.audit(
            "parse.created",
            actor_user_id=user_id,
            workspace_id=workspace_id,
            details={"task_id": task.id, "source": ref.label, "kind": parse_kind.value},
        )
        await dal.commit()
        return task

    async def track_message(
        self, dal: Dal, user_id: int, workspace_id: int, task_id: int, chat_id: int, message_id: int
    ) -> None:
        """Remember the bot message that shows this task's progress (edited as it runs)."""
        task = await self.task(dal, user_id, workspace_id, task_id)
        await dal.set_parse_task_message(task.id, chat_id, message_id)
        await dal.commit()

    async def task(self, dal: Dal, user_id: int, workspace_id: int, task_id: int) -> ParseTaskDTO:
        await require_workspace(dal, user_id, workspace_id)
        task = await dal.get_parse_task(workspace_id, task_id)
        if task is None:
            raise NotFound("parse task", task_id=task_id)
        return task

    async def tasks(
        self,
        dal: Dal,
        user_id: int,
        workspace_id: int,
        *,
        cursor: int | None = None,
        limit: int = 20,
    ) -> Page[ParseTaskDTO]:
        """Newest first."""
        await require_workspace(dal, user_id, workspace_id)
        return await read_page(
            lambda n: dal.list_parse_tasks(workspace_id, before_id=cursor, limit=n),
            limit,
            lambda t: t.id,
        )

    async def pause(self, dal: Dal, user_id: int, workspace_id: int, task_id: int) -> ParseTaskDTO:
        return await self._move(
            dal,
            user_id,
            workspace_id,
            task_id,
            (ParseStatus.QUEUED, ParseStatus.RUNNING),
            ParseStatus.PAUSED,
        )

    async def resume(self, dal: Dal, user_id: int, workspace_id: int, task_id: int) -> ParseTaskDTO:
        return await self._move(
            dal,
            user_id,
            workspace_id,
            task_id,
            (ParseStatus.PAUSED,),
            ParseStatus.QUEUED,
            not_before=None,
        )

    async def cancel(self, dal: Dal, user_id: int, workspace_id: int, task_id: int) -> ParseTaskDTO:
        return await self._move(
            dal,
            user_id,
            workspace_id,
            task_id,
            (ParseStatus.QUEUED, ParseStatus.RUNNING, ParseStatus.PAUSED),
            ParseStatus.CANCELLED,
            finished_at=datetime.now(UTC),
        )

    async def _move(
        self,
        dal: Dal,
        user_id: int,
        workspace_id: int,
        task_id: int,
        from_statuses: tuple[ParseStatus, ...],
        to_status: ParseStatus,
        **extra: object,
    ) -> ParseTaskDTO:
        task = await self.task(dal, user_id, workspace_id, task_id)
        if task.status == to_status.value:
            return task  # pressing twice is not an error
        if not await dal.move_parse_task(task.id, from_statuses, to_status, **extra):
            raise InvalidInput(
                "status",
                field="status",
                problem="task_move",
                task_status=task.status,
                task_wanted=to_status.value,
            )
        await dal.audit(
            f"parse.{to_status.value}",
            actor_user_id=user_id,
            workspace_id=workspace_id,
            details={"task_id": task.id},
        )
        await dal.commit()
        return await self.task(dal, user_id, workspace_id, task_id)

    # --- audiences -------------------------------------------------------------------------
    async def audiences(
        self, dal: Dal, user_id: int, workspace_id: int, *, cursor: int = 0, limit: int = 50
    ) -> Page[AudienceDTO]:
        await require_workspace(dal, user_id, workspace_id)
        return await read_page(
            lambda n: dal.list_audiences(workspace_id, after_id=cursor, limit=n),
            limit,
            lambda a: a.id,
        )

    async def audience(
        self, dal: Dal, user_id: int, workspace_id: int, audience_id: int
    ) -> AudienceDTO:
        await require_workspace(dal, user_id, workspace_id)
        return await _audience_in(dal, workspace_id, audience_id)

    async def members(
        self,
        dal: Dal,
        user_id: int,
        workspace_id: int,
        audience_id: int,
        *,
        cursor: int | None = None,
        limit: int = 50,
        query: MemberQuery | None = None,
    ) -> Page[MemberDTO]:
        """Keyset pages by Telegram user id: every (matching) member exactly once, even while
        the audience grows."""
        await require_workspace(dal, user_id, workspace_id)
        after = cursor if cursor is not None else -(2**63)

        async def fetch(n: int) -> list[MemberDTO]:
            found = await dal.audience_members(
                workspace_id, audience_id, after_user_id=after, limit=n, query=query
            )
            if found is None:
                raise NotFound("audience", audience_id=audience_id)
            return found

        return await read_page(fetch, limit, lambda m: m.user_id)

    async def check_delete(
        self, dal: Dal, user_id: int, workspace_id: int, audience_id: int
    ) -> AudienceDTO:
        """The audience, if this user may delete it: only the owner (others: `Forbidden`)."""
        role = await require_workspace(dal, user_id, workspace_id)
        target = await _audience_in(dal, workspace_id, audience_id)
        ensure_owner(role)
        return target

    async def delete(self, dal: Dal, user_id: int, workspace_id: int, audience_id: int) -> None:
        target = await self.check_delete(dal, user_id, workspace_id, audience_id)
        await dal.delete_audience(target.id)
        await dal.audit(
            "audience.deleted",
            actor_user_id=user_id,
            workspace_id=workspace_id,
            details={"audience_id": target.id, "name": target.name, "size": target.size},
        )
        await dal.commit()

    async def export_csv(
        self,
        dal: Dal,
        user_id: int,
        workspace_id: int,
        audience_id: int,
        query: MemberQuery | None = None,
    ) -> AsyncIterator[bytes]:
        """The audience as CSV (header, one row per member, then username-only entries).
        With a query that filters, the members the member list shows for it, and no
        username-only entries (they have no id, name or profile to match)."""
        target = await self.audience(dal, user_id, workspace_id, audience_id)
        return _csv_rows(
            dal, workspace_id, target.id, query if query is not None and query.filters else None
        )

    async def import_csv(
        self,
        dal: Dal,
        user_id: int,
        workspace_id: int,
        audience_id: int,
        data: bytes,
    ) -> ImportReport:
        """Add people from CSV: a `user_id` and/or `username` column (with a header), or one
        id or @username per line. Bad lines are reported by number; good ones are kept."""
        target = await self.audience(dal, user_id, workspace_id, audience_id)
        members, usernames, errors, lines = parse_import(_decode(data))
        return await self._store_import(
            dal, user_id, workspace_id, target, members, usernames, errors, lines
        )

    async def create_from_csv(
        self, dal: Dal, user_id: int, workspace_id: int, name: str, data: bytes
    ) -> ImportReport:
        """A new audience named `name` holding the people of a CSV file, under the import's
        rules and limits. The file is read whole before anything is written, so a file that
        cannot be read, has no `user_id`/`username` column (several columns, no header
        naming one) or nobody to take creates nothing; nor does a name already in use
        (importing into an existing audience is `import_csv`)."""
        await require_workspace(dal, user_id, workspace_id)
        clean = audience_name(name)
        members, usernames, errors, lines = parse_import(_decode(data), need_id_column=True)
        if not members and not usernames:
            problem = "csv_empty" if lines == 0 else "csv_nobody"
            raise InvalidInput("file", field="file", problem=problem, lines=lines)
        if await dal.audience_by_name(workspace_id, clean) is not None:
            raise InvalidInput("name", field="name", problem="audience_exists", name=clean)
        target = await dal.create_audience(workspace_id, clean, "import", user_id)
        return await self._store_import(
            dal, user_id, workspace_id, target, members, usernames, errors, lines, created=True
        )

    async def _store_import(
        self,
        dal: Dal,
        user_id: int,
        workspace_id: int,
        target: AudienceDTO,
        members: list[MemberDTO],
        usernames: list[str],
        errors: list[dict[str, object]],
        lines: int,
        *,
        created: bool = False,
    ) -> ImportReport:
        new_members = new_usernames = 0
        for start in range(0, max(len(members), len(usernames)), 1000):
            added = await dal.add_members(
                target.id, members[start : start + 1000], usernames[start : start + 1000], "import"
            )
            if added is None:  # deleted meanwhile: the transaction is rolled back
                raise NotFound("audience", audience_id=target.id)
            a, b = added
            new_members += a
            new_usernames += b
        await dal.audit(
            "audience.imported",
            actor_user_id=user_id,
            workspace_id=workspace_id,
            details={
                "audience_id": target.id,
                "accepted": len(members) + len(usernames),
                "errors": len(errors),
                **({"created": True} if created else {}),
            },
        )
        await dal.commit()
        return ImportReport(
            audience_id=target.id,
            lines=lines,
            accepted=len(members) + len(usernames),
            new_members=new_members,
            new_usernames=new_usernames,
            errors=errors,
            unreachable=sum(1 for m in members if m.username is None),
        )


def _decode(data: bytes) -> str:
    """The text of an upload: at most `IMPORT_MAX_BYTES`, UTF-8 (a BOM, as spreadsheet
    programs write it, is dropped)."""
    if len(data) > IMPORT_MAX_BYTES:
        raise InvalidInput(
            "file", field="file", problem="file_size", max_mb=IMPORT_MAX_BYTES // 1024 // 1024
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("file", field="file", problem="file_encoding") from None


def parse_import(
    text: str, *, need_id_column: bool = False
) -> tuple[list[MemberDTO], list[str], list[dict[str, object]], int]:
    """(members with ids, username-only entries, per-line errors, data lines seen).

    A file that cannot be read as a whole (a NUL, which PostgreSQL does not store; a field
    over `IMPORT_MAX_FIELD`; broken CSV; more than `IMPORT_MAX_LINES` lines) is refused
    with the number of the line where reading stopped. With `need_id_column`, a table of
    several columns whose header names neither `user_id` nor `username` is refused too:
    its first column would otherwise be read as ids or usernames whatever it holds."""
    if (nul := text.find("\x00")) >= 0:
        raise InvalidInput(
            "file", field="file", problem="csv_nul", line=text.count("\n", 0, nul) + 1
        )
    rows = _csv_rows_checked(text)
    header = [h.strip().lower() for h in rows[0]] if rows else []
    has_header = bool({"user_id", "username"} & set(header))
    if need_id_column and not has_header and rows and len(rows[0]) > 1:
        raise InvalidInput("file", field="file", problem="csv_no_id_column")
    body = rows[1:] if has_header else rows
    first_line = 2 if has_header else 1
    members: dict[int, MemberDTO] = {}
    usernames: dict[str, str] = {}
    errors: list[dict[str, object]] = []
    lines = 0
    for number, row in enumerate(body, start=first_line):
        if not any(cell.strip() for cell in row):
            continue
        lines += 1
        if lines > IMPORT_MAX_LINES:
            raise InvalidInput(
                "file", field="file", problem="csv_lines", max=IMPORT_MAX_LINES, line=number
            )
        record = dict(zip(header, row, strict=False)) if has_header else {}
        if not has_header:
            value = row[0].strip()
            record = {"user_id": value} if is_number(value.lstrip("-")) else {"username": value}
        raw_id = (record.get("user_id") or "").strip()
        raw_name = (record.get("username") or "").strip()
        name_match = _USERNAME.match(raw_name) if raw_name else None
        if raw_name and name_match is None:
            errors.append({"line": number, "value": raw_name[:64], "problem": "bad_username"})
            continue
        if raw_id:
            if not is_number(raw_id) or not 0 < int(raw_id) < 2**53:
                errors.append({"line": number, "value": raw_id[:64], "problem": "bad_user_id"})
                continue
            seen = (record.get("last_seen") or "").strip() or LastSeen.UNKNOWN.value
            if seen not in LastSeen._value2member_map_:
                seen = LastSeen.UNKNOWN.value
            members[int(raw_id)] = MemberDTO(
                user_id=int(raw_id),
                username=name_match.group(1) if name_match else None,
                first_name=csvout.unquote((record.get("first_name") or "").strip())[:128],
                last_name=csvout.unquote((record.get("last_name") or "").strip())[:128] or None,
                last_seen=seen,
                premium=(record.get("premium") or "").strip().lower() in ("1", "true", "yes"),
                photo=(record.get("photo") or "").strip().lower() in ("1", "true", "yes"),
                source="import",
            )
        elif name_match:
            usernames[name_match.group(1).lower()] = name_match.group(1)
        else:
            errors.append({"line": number, "value": "", "problem": "no_user_id_or_username"})
    return list(members.values()), list(usernames.values()), errors, lines


def _csv_rows_checked(text: str) -> list[list[str]]:
    """The rows of an import, each field at most `IMPORT_MAX_FIELD` characters."""
    reader = csv.reader(io.StringIO(text))
    rows: list[list[str]] = []
    try:
        for row in reader:
            if any(len(cell) > IMPORT_MAX_FIELD for cell in row):
                raise InvalidInput(
                    "file",
                    field="file",
                    problem="csv_field",
                    max=IMPORT_MAX_FIELD,
                    line=reader.line_num,
                )
            rows.append(row)
    except csv.Error as exc:
        # `_csv.Error: field larger than field limit (131072)` and other unreadable CSV.
        problem = "csv_field" if "field limit" in str(exc) else "csv_syntax"
        raise InvalidInput(
            "file", field="file", problem=problem, max=IMPORT_MAX_FIELD, line=reader.line_num
        ) from None
    return rows


async def _csv_rows(
    dal: Dal, workspace_id: int, audience_id: int, query: MemberQuery | None = None
) -> AsyncIterator[bytes]:
    async def batches() -> AsyncIterator[list[list[object]]]:
        async for batch in dal.audience_member_batches(workspace_id, audience_id, query=query):
            yield [
                [
                    m.user_id,
                    m.username or "",
                    m.first_name,
                    m.last_name or "",
                    m.last_seen,
                    int(m.premium),
                    int(m.photo),
                    m.source or "",
                ]
                for m in batch
            ]
        if query is None:
            usernames = await dal.audience_usernames(audience_id)
            yield [["", u, "", "", "", "", "", "import"] for u in usernames]

    async for piece in csvout.stream(CSV_COLUMNS, batches()):
        yield piece
