"""Feature routers. `get_routers()` fixes their order: the fallback must stay last."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    accounts,
    admin,
    audiences,
    campaigns,
    erasure,
    errors,
    fallback,
    linking,
    optouts,
    parsing,
    search,
    start,
    team,
    web_auth,
)


def get_routers() -> list[Router]:
    # Fresh routers on every call: a router attaches to one dispatcher only, and tests and
    # the end-to-end run build a dispatcher each.
    return [
        errors.create_router(),
        # Before /start: the deep link t.me/<bot>?start=optout is an opt-out, not a greeting;
        # before the flows too, so /optout works whatever the person was doing.
        optouts.create_router(),
        start.create_router(),
        web_auth.create_router(),
        parsing.create_router(),
        search.create_router(),
        # Before the linking router: its /cancel would otherwise end the wait for an import file.
        audiences.create_router(),
        # Before the linking router too: /cancel leaves the campaign wizard with its own answer.
        campaigns.create_router(),
        team.create_router(),
        # Before the linking router too: /cancel ends the admin's user search with its own answer.
        admin.create_router(),
        # /erase works while a login waits for an answer, like the commands above.
        erasure.create_router(),
        # Before the fallback, and after the routers whose commands must keep working while
        # a login waits for an answer (the linking router takes any other text as that answer).
        linking.create_router(),
        accounts.create_router(),
        fallback.create_router(),
    ]
