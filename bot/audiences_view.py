"""How /audiences looks in the chat: the list with its buttons, the delete confirmation,
and the report of a CSV import."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.lists import Int64, add_page_buttons, short
from core.audiences import ImportReport
from core.dto import AudienceDTO
from core.i18n import has_text, t
from core.pagination import Page

AUDIENCES_PAGE = 10
REPORT_LINES = 10


class AudienceAction(CallbackData, prefix="au"):
    """`au:<action>:<workspace>:<audience id or page cursor>`.

    As everywhere, the presser's role in the workspace is checked again on every press.
    """

    action: str
    """export | import | delete | yes | no | page"""
    ws: Int64
    id: Int64


ACTIONS = ("export", "import", "delete", "yes", "no", "page")


def render_audiences(
    page: Page[AudienceDTO],
    *,
    workspace_id: int,
    cursor: int,
    lang: str,
    owner: bool,
    notice: str | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /audiences (starting after audience id `cursor`); Delete is offered to
    the workspace's owner only, the one it works for (`core.users.ensure_owner`)."""
    head = [notice] if notice else []
    if not page.items and not cursor:
        return "\n\n".join([*head, t(lang, "audiences.empty")]), None
    lines = [t(lang, "audiences.title")]
    builder = InlineKeyboardBuilder()
    for audience in page.items:
        if audience.pending_usernames:
            lines.append(
                t(
                    lang,
                    "audiences.item_pending",
                    name=audience.name,
                    size=audience.size,
                    pending=audience.pending_usernames,
                )
            )
        else:
            lines.append(t(lang, "audiences.item", name=audience.name, size=audience.size))
        actions = ("export", "import", "delete") if owner else ("export", "import")
        for action in actions:
            builder.button(
                text=t(lang, f"audiences.{action}", name=short(audience.name)),
                callback_data=AudienceAction(action=action, ws=workspace_id, id=audience.id),
            )
    sizes = [1] * (len(actions) * len(page.items))
    nav = add_page_buttons(
        builder,
        lang=lang,
        cursor=cursor,
        next_cursor=page.next_cursor,
        page=lambda at: AudienceAction(action="page", ws=workspace_id, id=at),
    )
    if nav:
        sizes.append(nav)
    builder.adjust(*sizes)
    text = "\n\n".join([*head, "\n".join(lines), t(lang, "audiences.footer")])
    return text, builder.as_markup()


def render_delete_confirm(audience: AudienceDTO, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for action in ("yes", "no"):
        builder.button(
            text=t(lang, f"audiences.delete_{action}"),
            callback_data=AudienceAction(action=action, ws=audience.workspace_id, id=audience.id),
        )
    builder.adjust(2)
    return t(
        lang, "audiences.delete_confirm", name=audience.name, size=audience.size
    ), builder.as_markup()


def render_import_report(report: ImportReport, name: str, lang: str) -> str:
    """Totals, then the first `REPORT_LINES` bad lines with their numbers and problems."""
    parts = [
        t(
            lang,
            "audiences.import_report",
            name=name,
            lines=report.lines,
            accepted=report.accepted,
            new_members=report.new_members,
            new_usernames=report.new_usernames,
        )
    ]
    if report.unreachable:
        parts.append(t(lang, "audiences.import_unreachable", count=report.unreachable))
    if report.errors:
        lines = [t(lang, "audiences.import_errors", count=len(report.errors))]
        for error in report.errors[:REPORT_LINES]:
            code = str(error.get("problem", ""))
            key = f"import.problem.{code}"
            problem = t(lang, key) if has_text(key) else code
            value = str(error.get("value") or "")
            lines.append(
                t(
                    lang,
                    "audiences.import_line_value" if value else "audiences.import_line",
                    line=error.get("line"),
                    problem=problem,
                    value=value,
                )
            )
        if len(report.errors) > REPORT_LINES:
            lines.append(t(lang, "audiences.import_more", count=len(report.errors) - REPORT_LINES))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
