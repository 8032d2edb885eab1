"""Keyset pages: every list of the product is read in bounded pages, never unbounded.

A store is asked for one row more than the page holds; that extra row only tells whether
another page exists, and the cursor is the key of the page's last row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
PAGE_MAX = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: int | None


async def read_page(
    fetch: Callable[[int], Awaitable[list[T]]], limit: int, key: Callable[[T], int]
) -> Page[T]:
    """`fetch(n)` returns up to n rows after the cursor; `limit` is clamped to 1..PAGE_MAX."""
    limit = max(1, min(limit, PAGE_MAX))
    rows = await fetch(limit + 1)
    items = rows[:limit]
    return Page(items, key(items[-1]) if len(rows) > limit else None)
