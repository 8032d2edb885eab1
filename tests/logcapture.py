"""The JSON log lines a process writes, captured for assertions."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.logs import setup_logging


@contextmanager
def captured_logs(process: str) -> Iterator[io.StringIO]:
    """The JSON lines a process writes, as its composition root configures them."""
    buffer = io.StringIO()
    setup_logging(process, stream=buffer)
    try:
        yield buffer
    finally:
        logging.getLogger().handlers.clear()


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
