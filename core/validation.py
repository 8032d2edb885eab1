"""Rules every piece of outside input obeys before it is stored or parsed further
(DESIGN §4: no input ever reaches a 500).

PostgreSQL stores no NUL character in text ("invalid byte sequence for encoding UTF8:
0x00"), and a lone surrogate (`"\\ud800"` in JSON) cannot be encoded as UTF-8 at all; both
would fail deep inside the driver, so they are refused at the edge, naming the field.
"""

from __future__ import annotations

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def text_problem(value: str) -> str | None:
    """The problem code of a text that cannot be stored (`nul_character`, `bad_text`), or None."""
    if "\x00" in value:
        return "nul_character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "bad_text"
    return None


def is_number(value: str) -> bool:
    """Whether `value` is a whole number written in ASCII digits (what `int()` reads as one).

    `str.isdigit()` alone is not that: it is true for "²" or "①", which `int()` refuses
    (a ValueError, not an answer), and for other scripts' digits, which no Telegram id or
    count is written in."""
    return value.isascii() and value.isdigit()
