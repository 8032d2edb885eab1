"""`/api/v1/history` (the workspace's accounts day by day) and `/api/v1/accounts/{id}` (one
account's page): the rules and the reads are `core/history.py`.

Any member of the workspace may read both; another workspace's account is a 404.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from core import history as hist
from core.history import History
from core.i18n import has_text, t
from db.dal import open_dal
from db.dal_history import HistorySql
from webui_api.history_schemas import (
    AccountPageOut,
    AccountTotalsOut,
    DayCountOut,
    HistoryAccount,
    HistoryOut,
    StatusChangeOut,
)
from webui_api.http import current_workspace, json_model, language, path_id, query_int, require_auth
from webui_api.keys import CAMPAIGNS, SESSIONMAKER
from webui_api.routing import ApiRoutes, Param
from webui_api.views.accounts import _out as account_out
from webui_api.views.campaigns import _limits_out

routes = ApiRoutes(tag="history")

DAYS = Param(
    "days",
    {"type": "integer", "minimum": 1, "maximum": hist.MAX_DAYS, "default": hist.DEFAULT_DAYS},
    f"How many UTC days, today included (1 to {hist.MAX_DAYS})",
    hist.DEFAULT_DAYS,
    lambda r: query_int(r, "days", default=hist.DEFAULT_DAYS, low=1, high=hist.MAX_DAYS),
)


def _sentence(lang: str, key: str) -> str | None:
    return t(lang, key) if has_text(key) else None


def status_text(lang: str, status: str) -> str:
    return _sentence(lang, f"accounts.status.{status}") or status


def reason_text(lang: str, reason: str | None) -> str | None:
    """An account's status reason in words: Telegram's refusal of an account, or one of ours
    (disabled by a member, enabled again after a verdict, …); None when the catalog has none."""
    if not reason:
        return None
    code = hist.reason_code(reason)
    if code is not None:
        return _sentence(lang, f"reason.{code}")
    return _sentence(lang, f"account_reason.{reason.split(':', 1)[0]}")


def _texts(lang: str, prefix: str, codes: Iterable[str | None]) -> dict[str, str]:
    return {
        c: text
        for c in sorted({c for c in codes if c})
        if (text := _sentence(lang, f"{prefix}.{c}")) is not None
    }


def history_out(lang: str, found: History) -> HistoryOut:
    return HistoryOut(
        since=found.since,
        days=found.days,
        accounts=[HistoryAccount(id=a.id, label=hist.label_of(a)) for a in found.accounts],
        invites=[
            DayCountOut(
                day=c.day,
                account_id=c.account_id,
                outcome=c.outcome,
                reason=c.reason,
                counted=c.counted,
                n=c.n,
            )
            for c in found.invites
        ],
        changes=[
            StatusChangeOut(
                account_id=c.account_id,
                at=c.at,
                status=c.status,
                status_text=status_text(lang, c.status),
                reason=c.reason,
                reason_text=reason_text(lang, c.reason),
                until=c.until,
            )
            for c in found.changes
        ],
        outcome_texts=_texts(lang, "outcome", (c.outcome for c in found.invites)),
        reason_texts=_texts(lang, "reason", (c.reason for c in found.invites)),
    )


@routes.get(
    "/api/v1/history",
    summary="The accounts' attempts per UTC day and outcome, and their status changes (?days=30)",
    response=HistoryOut,
    query=(DAYS,),
    workspace=True,
)
async def workspace_history(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    days = DAYS.read(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        found = await hist.workspace_history(
            dal, HistorySql(dal.session), claims.user_id, workspace_id, days=days
        )
    return json_model(history_out(language(request), found))


@routes.get(
    "/api/v1/accounts/{account_id}",
    summary="One account: status in words, rest, usage against the limits, last check, history",
    response=AccountPageOut,
    query=(DAYS,),
    workspace=True,
)
async def account_page(request: web.Request) -> web.Response:
    claims = await require_auth(request)
    account_id = path_id(request, "account_id")
    days = DAYS.read(request)
    async with open_dal(request.app[SESSIONMAKER]) as dal:
        workspace_id = await current_workspace(request, dal, claims.user_id)
        page = await hist.account_page(
            dal,
            HistorySql(dal.session),
            request.app[CAMPAIGNS].limits,
            claims.user_id,
            workspace_id,
            account_id,
            days=days,
        )
    lang = language(request)
    account = page.account
    resting = account.status.value in ("cooldown", "parked", "restricted")
    return json_model(
        AccountPageOut(
            account=account_out(account),
            label=hist.label_of(account),
            status_text=status_text(lang, account.status.value),
            reason_text=reason_text(lang, account.status_reason),
            rest_until=account.cooldown_until if resting else None,
            last_checked_at=account.last_checked_at,
            limits=_limits_out(page.limits),
            totals=AccountTotalsOut(attempts=page.totals.attempts, invited=page.totals.invited),
            history=history_out(lang, page.history),
        )
    )
