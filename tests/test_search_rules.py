"""Community search rules: variants, filtering, ranking."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.search import Community, keyword_variants, rank


def test_variants() -> None:
    assert keyword_variants("Crypto  Trading!") == ["crypto trading", "crypto", "trading"]
    assert keyword_variants("крипто чат") == [
        "крипто чат",
        "крипто",
        "чат",
        "kripto chat",
        "kripto",
        "chat",
    ]
    assert keyword_variants("python") == ["python"]
    for bad in ("", "ab", "x" * 100):
        with pytest.raises(InvalidInput):
            keyword_variants(bad)


def test_rank_keeps_groups_and_commentable_channels() -> None:
    found = [
        Community(1, "big", "Big group", "megagroup", 50_000),
        Community(2, "news", "Mute channel", "channel", 900_000),
        Community(3, "talk", "Channel with comments", "channel", 20_000, True, 40),
        Community(1, "big", "Big group", "megagroup", 50_000),
        Community(4, "small", "Small group", "group", 30),
        Community(5, "dead", "Discussion but silent", "channel", 10_000, True, 0),
    ]
    ranked = rank(found)
    assert [c.chat_id for c in ranked] == [3, 1, 4]
    assert ranked[0].score > ranked[1].score > ranked[2].score
