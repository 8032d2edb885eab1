"""Feature routers. `get_routers()` fixes their order: the fallback must stay last."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import errors, fallback, start, web_auth


def get_routers() -> list[Router]:
    # Fresh routers on every call: a router attaches to one dispatcher only, and tests and
    # the end-to-end run build a dispatcher each.
    return [
        errors.create_router(),
        start.create_router(),
        web_auth.create_router(),
        fallback.create_router(),
    ]
