"""CSV files the product writes (audiences, opt-outs, a campaign's attempts and follow-up
list): streamed a batch at a time, and safe to open in a spreadsheet.

Names are what people typed into Telegram. A cell that starts with `=`, `+`, `-`, `@`, a tab
or a carriage return is read as a formula by spreadsheet programs (OWASP, "CSV Injection"),
so such a text gets a leading `'`, which they show as text; `unquote` takes it off again when
the product reads its own file back. Numbers are written as they are (a chat id may be
negative), and so is a @username, which is only letters, digits and underscores.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_USERNAME = re.compile(r"@[A-Za-z0-9_]{1,32}")


def cell(value: object) -> object:
    """A value as written: a text a spreadsheet would run as a formula is quoted."""
    formula = isinstance(value, str) and value.startswith(FORMULA_START)
    if formula and not _USERNAME.fullmatch(str(value)):
        return "'" + str(value)
    return "" if value is None else value


def unquote(text: str) -> str:
    """A cell as `cell` wrote it, back to what it was."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


async def stream(
    header: Sequence[str], batches: AsyncIterator[Iterable[Sequence[object]]]
) -> AsyncIterator[bytes]:
    """The header, then one piece of the file per batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def take() -> bytes:
        out = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return out

    writer.writerow(header)
    yield take()
    async for rows in batches:
        writer.writerows([cell(v) for v in row] for row in rows)
        yield take()
