"""Pieces every paginated list of the bot shares: the page buttons and short button labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from core.i18n import t
from core.validation import INT64_MAX, INT64_MIN

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
"""A number in a button's callback data. The client types callback data and it proves
nothing: a forged button's number past PostgreSQL's bigint would fail in the driver ("value
out of int64 range"), a crash logged with its traceback; out of range, the button's filter
does not match and the press is answered as a stale button."""

BUTTON_NAME = 24
"""Characters of a name shown on a button: longer ones are cut so the keyboard stays readable."""


def short(name: str, limit: int = BUTTON_NAME) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def add_page_buttons(
    builder: InlineKeyboardBuilder,
    *,
    lang: str,
    cursor: int,
    next_cursor: int | None,
    page: Callable[[int], CallbackData],
) -> int:
    """«Back to the start» past the first page and «Next» when more follow, on one row.

    Lists are keyset pages (`core.pagination`), so only the way back to the start and the
    way on are offered. Returns how many buttons were added, for the caller's row sizes.
    """
    added = 0
    if cursor:
        builder.button(text=t(lang, "list.first_page"), callback_data=page(0))
        added += 1
    if next_cursor is not None:
        builder.button(text=t(lang, "list.next_page"), callback_data=page(next_cursor))
        added += 1
    return added
