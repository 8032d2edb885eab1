"""The retention line of a campaign's report: how many of the people it added stayed a day
and a week (`core.retention`), counted among those already checked."""

from __future__ import annotations

from core.i18n import t
from core.retention import RetentionFigures


def retention_line(figures: RetentionFigures, lang: str) -> str:
    return t(
        lang,
        "retention.line",
        added=figures.added,
        stayed_day=figures.stayed_day,
        day_checked=figures.stayed_day + figures.left_day,
        stayed_week=figures.stayed_week,
        week_checked=figures.stayed_week + figures.left_week,
    )
