"""Community search (DESIGN §6): keyword variants, which results to keep, and their score.

Telegram's `contacts.Search` matches titles and usernames loosely, so one phrase is asked
in a few variants. Groups are kept; a broadcast channel only when people can comment on it
(a linked discussion group with recent comments), because only then has it an audience
that can be collected. The score favours size, then activity.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from core.errors import InvalidInput

MAX_VARIANTS = 6
MIN_WORD = 3
MAX_QUERY = 64

_CYR_TO_LAT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "h",
            "ts",
            "ch",
            "sh",
            "sch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


@dataclass(frozen=True, slots=True)
class Community:
    chat_id: int
    username: str | None
    title: str
    kind: str  # group | megagroup | channel
    members: int
    has_discussion: bool = False
    recent_commenters: int = 0  # distinct people under recent posts / in recent messages

    @property
    def score(self) -> float:
        return round(10 * math.log10(self.members + 1) + 3 * math.sqrt(self.recent_commenters), 2)


def transliterate(text: str) -> str:
    return "".join(_CYR_TO_LAT.get(ch, ch) for ch in text.lower())


def keyword_variants(raw: str) -> list[str]:
    """The phrase, its words, and a Latin spelling of Cyrillic ones; at most 6, no repeats."""
    phrase = " ".join(re.sub(r"[^\w\s-]", " ", raw).split()).lower()
    if len(phrase) < MIN_WORD or len(phrase) > MAX_QUERY:
        raise InvalidInput(
            "keywords", field="keywords", problem="keywords_length", min=MIN_WORD, max=MAX_QUERY
        )
    candidates = [phrase]
    words = [w for w in phrase.split() if len(w) >= MIN_WORD]
    if len(words) > 1:
        candidates += words
    candidates += [transliterate(c) for c in list(candidates)]
    seen: list[str] = []
    for candidate in candidates:
        if candidate and candidate not in seen:
            seen.append(candidate)
    return seen[:MAX_VARIANTS]


def rank(found: list[Community]) -> list[Community]:
    """Drop repeats and channels nobody can comment on; best first."""
    unique: dict[int, Community] = {}
    for community in found:
        if community.kind == "channel" and not (
            community.has_discussion and community.recent_commenters
        ):
            continue
        unique.setdefault(community.chat_id, community)
    return sorted(unique.values(), key=lambda c: (-c.score, c.chat_id))
