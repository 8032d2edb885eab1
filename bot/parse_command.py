"""Reading `/parse <link> [members|comments|authors] [key=value ...]` into a request.

Only the command's syntax lives here; whether a value is allowed (speeds, priorities,
ranges, links) is decided by `core.audiences` / `core.parsing`, for the API alike.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from core.audiences import MAX_AUDIENCE_NAME
from core.errors import InvalidInput
from core.i18n import has_text, problem_params, t
from core.parsing import DEFAULT_DAYS, DEFAULT_POSTS, DEFAULT_SPEED, MAX_DAYS, MAX_POSTS, ParseKind
from core.validation import is_number

# Phones and desktop clients turn typed quotes into typographic ones.
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})
_LIMITS: dict[str, dict[str, Any]] = {
    "posts": {"max": MAX_POSTS},
    "days": {"max": MAX_DAYS},
    "name": {"max": MAX_AUDIENCE_NAME},
}


@dataclass(frozen=True, slots=True)
class ParseRequest:
    source: str
    kind: str = ParseKind.MEMBERS.value
    speed: str = DEFAULT_SPEED
    priority: str = "normal"
    posts: int = DEFAULT_POSTS
    days: int = DEFAULT_DAYS
    audience: str | None = None


class BadCommand(Exception):
    """The problem, as a catalog key and its parameters."""

    def __init__(self, key: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(key)
        self.key = key
        self.params = params or {}

    def text(self, lang: str) -> str:
        return t(lang, self.key, **self.params)


def read_parse_args(args: str) -> ParseRequest | None:
    """The request, or None when there are no arguments (the user needs the usage)."""
    try:
        tokens = shlex.split(args.translate(_QUOTES))
    except ValueError:
        raise BadCommand("problem.quotes") from None
    if not tokens:
        return None
    source, *rest = tokens
    fields: dict[str, Any] = {}
    kinds = {k.value for k in ParseKind}
    for token in rest:
        key, sep, value = token.partition("=")
        key = key.strip().lower()
        if not sep:
            if key in kinds:
                fields["kind"] = key
                continue
            raise BadCommand("problem.option", {"option": token})
        if key in ("speed", "priority"):
            fields[key] = value
        elif key in ("posts", "days"):
            if not is_number(value.strip()):
                raise BadCommand(f"problem.{key}", _LIMITS[key])
            fields[key] = int(value)
        elif key == "audience":
            if not value.strip():
                raise BadCommand("problem.name", _LIMITS["name"])
            fields["audience"] = value
        else:
            raise BadCommand("problem.option", {"option": token})
    return ParseRequest(source=source, **fields)


def problem_text(lang: str, exc: InvalidInput) -> str:
    """A rejected value in words: by its problem code (`bad_link`), else by its field."""
    problem = str(exc.details.get("problem") or "")
    field_name = str(exc.details.get("field") or "")
    for key in (f"problem.{problem}", f"problem.{field_name}"):
        if has_text(key):
            return t(lang, key, **(problem_params(lang, exc.details) | _LIMITS.get(field_name, {})))
    return problem or str(exc)
