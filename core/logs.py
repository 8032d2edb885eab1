"""Structured JSON logs with a trace id, and a filter that keeps secrets out of them.

Every process calls `setup_logging()` once. Library logs (aiogram, aiohttp, SQLAlchemy)
go through the same processors, so the redaction applies to them as well: JWTs, refresh
tokens, Telethon session strings, login codes, the bot token and any value under a
sensitive key are replaced by `[redacted]` before a line is written.
"""

from __future__ import annotations

import logging
import re
import secrets as _secrets
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import structlog

from core.logincodes import CODE_ALPHABET, CODE_LENGTH

REDACTED = "[redacted]"
_trace_id: ContextVar[str | None] = ContextVar("trace_id", default=None)

_PATTERNS = [
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),  # JWT
    re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{30,}"),  # bot token
    re.compile(r"\b1[A-Za-z0-9+/_-]{200,}={0,2}"),  # Telethon StringSession
    re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"),  # token_urlsafe(32)
    re.compile(rf"(?<![A-Za-z0-9])[{CODE_ALPHABET}]{{{CODE_LENGTH}}}(?![A-Za-z0-9])"),  # login code
]
_SENSITIVE_KEYS = re.compile(
    r"^(code|login_code|authorization|cookie|set-cookie|pepper|api_hash|session_keys|"
    r"session_string|session|password|.*_token|token|.*_secret|secret)$",
    re.IGNORECASE,
)
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Redact this exact value wherever it appears (e.g. the configured bot token)."""
    if value and len(value) >= 8:
        _registered.add(value)


def redact_text(text: str) -> str:
    for value in _registered:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: REDACTED if _is_sensitive(k, v) else _redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_value(v) for v in value]
    return value


def _is_sensitive(key: object, value: object) -> bool:
    return isinstance(key, str) and bool(_SENSITIVE_KEYS.search(key)) and value not in (None, "")


def redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key in ("level", "timestamp", "logger", "trace_id", "process"):
            continue
        value = event[key]
        event[key] = (
            REDACTED if key != "event" and _is_sensitive(key, value) else _redact_value(value)
        )
    return event


def new_trace_id() -> str:
    trace = _secrets.token_hex(8)
    bind_trace_id(trace)
    return trace


def bind_trace_id(trace: str | None) -> None:
    _trace_id.set(trace)
    if trace is None:
        structlog.contextvars.unbind_contextvars("trace_id")
    else:
        structlog.contextvars.bind_contextvars(trace_id=trace)


def current_trace_id() -> str | None:
    return _trace_id.get()


@contextmanager
def trace_scope(trace: str | None) -> Iterator[str]:
    """Carry on the trace of the request that created some work (a parse task, a campaign)
    while a worker does it, so one id finds its lines in every process; work without a
    stored trace gets a fresh one. The id bound before comes back afterwards."""
    previous = current_trace_id()
    bound = trace or _secrets.token_hex(8)
    bind_trace_id(bound)
    try:
        yield bound
    finally:
        bind_trace_id(previous)


def setup_logging(
    process: str,
    *,
    level: str = "INFO",
    fmt: str = "json",
    secrets: Iterable[str | None] = (),
    stream: Any = None,
) -> None:
    for value in secrets:
        register_secret(value)

    def add_process(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("process", process)
        return event

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_process,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_event,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Per-request lines from aiohttp are useful; SQL echo and polling chatter are not.
    # The bot logs one line per update itself; the scheduler's job bookkeeping is noise.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
