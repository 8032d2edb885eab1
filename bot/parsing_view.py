"""How collection tasks look in the chat: the one progress message of a task, the /tasks
list, the /search results, and the callback data of their buttons.

Rendered from the `parse_tasks` row alone, so the message reads the same whether it is
drawn by the command, by a button or by a progress notice from a worker.
"""

from __future__ import annotations

from datetime import datetime

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.lists import Int64, add_page_buttons
from core.dto import AudienceDTO, ParseTaskDTO
from core.i18n import t
from core.pagination import Page
from core.parsing import JOIN_NOTES, ParseKind, ParseStatus, Priority, error_reason
from core.search import Community

TASKS_PAGE = 10
SEARCH_SHOWN = 10
CONTROLS = ("pause", "resume", "cancel")


class TaskAction(CallbackData, prefix="pt"):
    """`pt:<pause|resume|cancel>:<workspace>:<task id>` under a task's progress message.

    The workspace travels with the button and the presser's role in it is checked again:
    callback data is typed by the client and proves nothing.
    """

    action: str
    ws: Int64
    id: Int64


class TaskListAction(CallbackData, prefix="tl"):
    """`tl:<pause|resume|cancel|page>:<workspace>:<task id or cursor>:<page shown>` in /tasks."""

    action: str
    ws: Int64
    id: Int64
    at: Int64 = 0


class SearchParse(CallbackData, prefix="sp"):
    """`sp:<workspace>:<m|c>:<username>`: collect a search result (≤ 57 bytes with a
    32-character username)."""

    ws: Int64
    k: str
    """m: members of a group, c: comment authors of a channel"""
    u: str


def controls(status: str) -> tuple[str, ...]:
    """The buttons a task in this status offers."""
    state = ParseStatus(status)
    if state in (ParseStatus.QUEUED, ParseStatus.RUNNING):
        return ("pause", "cancel")
    if state is ParseStatus.PAUSED:
        return ("resume", "cancel")
    return ()


def percent(done: int, total: int | None) -> int | None:
    if not total:
        return None
    return min(100, done * 100 // total)


def duration(lang: str, seconds: float) -> str:
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return t(lang, "duration.hm", h=hours, m=minutes)
    if minutes:
        return t(lang, "duration.ms", m=minutes, s=secs)
    return t(lang, "duration.s", s=secs)


def _source(task: ParseTaskDTO) -> str:
    return f"{task.source_title} ({task.source})" if task.source_title else task.source


def _progress_line(task: ParseTaskDTO, lang: str) -> str:
    share = percent(task.progress_done, task.progress_total)
    # Once a task has ended, what it fetched is the whole story; the estimate is moot.
    if share is None or ParseStatus(task.status).finished:
        return t(lang, "task.fetched", done=task.progress_done)
    return t(
        lang, "task.fetched_of", done=task.progress_done, total=task.progress_total, percent=share
    )


def render_task(
    task: ParseTaskDTO, audience: AudienceDTO | None, lang: str, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The progress message of one task: what, where to, how far, and its buttons."""
    status = ParseStatus(task.status)
    name = audience.name if audience is not None else task.source
    known = max(0, task.collected - task.new_members)
    head = t(
        lang,
        "task.head",
        id=task.id,
        source=_source(task),
        kind=t(lang, f"task.kind.{ParseKind(task.kind).value}"),
        audience=name,
    )
    lines = [head, t(lang, "task.status", status=t(lang, f"task.state.{status.value}"))]
    started = task.started_at is not None or task.progress_done > 0
    if status is ParseStatus.QUEUED and task.error in JOIN_NOTES:
        # A private source's account waits to get in (the worker's note while queued).
        lines.append(t(lang, f"task.{task.error}"))
    elif status is ParseStatus.QUEUED and not started:
        lines.append(
            t(
                lang,
                "task.queued_hint",
                speed=task.speed,
                priority=t(lang, f"task.priority.{Priority(task.priority).name.lower()}"),
            )
        )
    stats: list[str] = []
    if started:
        stats.append(_progress_line(task, lang))
        if not status.finished:
            stats.append(
                t(
                    lang,
                    "task.collected",
                    collected=task.collected,
                    new=task.new_members,
                    known=known,
                )
            )
            stats.append(t(lang, "task.skipped", skipped=task.skipped))
        if task.accounts_used:
            stats.append(t(lang, "task.accounts", accounts=len(task.accounts_used)))
        if task.started_at is not None:
            end = task.finished_at or now
            stats.append(
                t(
                    lang,
                    "task.elapsed",
                    elapsed=duration(lang, (end - task.started_at).total_seconds()),
                )
            )
    blocks = ["\n".join(lines)]
    if stats:
        blocks.append("\n".join(stats))
    summary: list[str] = []
    if status is ParseStatus.PAUSED:
        summary.append(t(lang, "task.paused_hint"))
    elif status is ParseStatus.DONE:
        summary.append(
            t(
                lang,
                "task.summary_done",
                collected=task.collected,
                new=task.new_members,
                known=known,
                skipped=task.skipped,
            )
        )
        if task.found_by_search > 0:
            summary.append(t(lang, "task.summary_found", found=task.found_by_search))
        if audience is not None:
            summary.append(
                t(lang, "task.summary_audience", audience=audience.name, size=audience.size)
            )
    elif status is ParseStatus.FAILED:
        summary.append(t(lang, "task.summary_failed", reason=error_reason(lang, task.error)))
        if task.collected:
            summary.append(
                t(lang, "task.summary_partial", collected=task.collected, new=task.new_members)
            )
    elif status is ParseStatus.CANCELLED:
        summary.append(
            t(lang, "task.summary_cancelled", collected=task.collected, new=task.new_members)
        )
    if summary:
        blocks.append("\n".join(summary))
    buttons = controls(task.status)
    if not buttons:
        return "\n\n".join(blocks), None
    builder = InlineKeyboardBuilder()
    for action in buttons:
        builder.button(
            text=t(lang, f"task.{action}"),
            callback_data=TaskAction(action=action, ws=task.workspace_id, id=task.id),
        )
    builder.adjust(len(buttons))
    return "\n\n".join(blocks), builder.as_markup()


def render_tasks(
    page: Page[ParseTaskDTO], *, workspace_id: int, at: int, lang: str, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /tasks (`at`: the cursor it starts from, 0 for the newest)."""
    head = [notice] if notice else []
    if not page.items and not at:
        return "\n\n".join([*head, t(lang, "tasks.empty")]), None
    lines = [t(lang, "tasks.title")]
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    for task in page.items:
        share = percent(task.progress_done, task.progress_total)
        progress = (
            t(lang, "tasks.progress", done=task.progress_done, collected=task.collected)
            if share is None
            else t(
                lang,
                "tasks.progress_of",
                done=task.progress_done,
                total=task.progress_total,
                percent=share,
                collected=task.collected,
            )
        )
        lines.append(
            t(
                lang,
                "tasks.item",
                id=task.id,
                source=task.source,
                progress=progress,
                kind=t(lang, f"task.kind.{ParseKind(task.kind).value}"),
                status=t(lang, f"task.state.{task.status}"),
            )
        )
        actions = controls(task.status)
        for action in actions:
            builder.button(
                text=t(lang, f"tasks.{action}", id=task.id),
                callback_data=TaskListAction(action=action, ws=workspace_id, id=task.id, at=at),
            )
        if actions:
            sizes.append(len(actions))
    nav = add_page_buttons(
        builder,
        lang=lang,
        cursor=at,
        next_cursor=page.next_cursor,
        page=lambda cursor: TaskListAction(action="page", ws=workspace_id, id=cursor),
    )
    if nav:
        sizes.append(nav)
    text = "\n\n".join([*head, "\n".join(lines)])
    if not sizes:
        return text, None
    builder.adjust(*sizes)
    return text, builder.as_markup()


def parse_kind_of(community: Community) -> ParseKind:
    """What a one-tap collection of a search result gathers."""
    return ParseKind.COMMENTS if community.kind == "channel" else ParseKind.MEMBERS


def render_search(
    found: list[Community], keywords: str, *, workspace_id: int, lang: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Up to `SEARCH_SHOWN` results; each one with a public username gets a collect button."""
    shown = found[:SEARCH_SHOWN]
    if not shown:
        return t(lang, "search.nothing", keywords=keywords), None
    lines = [t(lang, "search.title", keywords=keywords)]
    builder = InlineKeyboardBuilder()
    for n, community in enumerate(shown, start=1):
        lines.append(
            t(
                lang,
                "search.item",
                n=n,
                title=community.title,
                username=f"@{community.username}"
                if community.username
                else t(lang, "search.no_username"),
                kind=t(lang, f"search.kind.{community.kind}"),
                members=community.members,
                commenters=community.recent_commenters,
                score=community.score,
            )
        )
        if community.username:
            kind = parse_kind_of(community)
            builder.button(
                text=t(
                    lang,
                    "search.parse_comments"
                    if kind is ParseKind.COMMENTS
                    else "search.parse_members",
                    n=n,
                ),
                callback_data=SearchParse(ws=workspace_id, k=kind.value[0], u=community.username),
            )
    builder.adjust(2)
    markup = builder.as_markup()
    return "\n\n".join(lines), markup if markup.inline_keyboard else None
