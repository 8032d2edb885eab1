"""The log filter keeps secrets out of every line, ours and the libraries'."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import jwt
import pytest

from core.logs import REDACTED, bind_trace_id, get_logger, new_trace_id, setup_logging
from core.tokens import new_refresh_token

JWT = jwt.encode(
    {"sub": "42"}, "k" * 32, algorithm="HS256"
)  # built here: no token literal in the repo
SESSION = "1" + "A" * 240 + "=="
BOT_TOKEN = "123456789:" + "Q" * 35
CONFIGURED = "configured-secret-value"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    setup_logging("test", stream=buffer, secrets=[CONFIGURED])
    yield buffer
    logging.getLogger().handlers.clear()
    bind_trace_id(None)


def _read(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_patterns_and_keys_are_redacted(lines: io.StringIO) -> None:
    refresh = new_refresh_token()
    log = get_logger("t")
    trace = new_trace_id()
    log.info(
        f"login with {JWT} and {refresh}",
        session_string=SESSION,
        note=f"bot {BOT_TOKEN} code K7MPQ2 and {CONFIGURED}",
        password="hunter2",
        status_code=200,
        nested={"refresh_token": refresh, "list": [JWT]},
    )
    logging.getLogger("aiohttp.access").info("GET /x?t=%s", JWT)
    out = buffer = lines.getvalue()
    for secret in (JWT, refresh, SESSION, BOT_TOKEN, "K7MPQ2", CONFIGURED, "hunter2"):
        assert secret not in buffer, secret
    first, second = _read(lines)
    assert first["trace_id"] == trace and first["process"] == "test"
    assert first["status_code"] == 200
    assert first["nested"]["refresh_token"] == REDACTED
    assert REDACTED in second["event"]
    assert out.count(REDACTED) >= 8


def test_ordinary_text_survives(lines: io.StringIO) -> None:
    get_logger("t").info("campaign started", chat="@my_group", count=15, word="Invite")
    (line,) = _read(lines)
    assert line["chat"] == "@my_group" and line["count"] == 15 and line["word"] == "Invite"
