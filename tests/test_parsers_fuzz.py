"""Every parser of outside input either answers or refuses with `InvalidInput` (a 400 or a
sentence in the user's language), whatever the text: digits of other scripts, NULs,
oversized numbers, stray separators. Anything else would be a 500 or "something went
wrong" (a "²" once reached `int()` through `str.isdigit()`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parse_command import BadCommand, read_parse_args
from core.admin import parse_user_query
from core.audiences import parse_import
from core.campaign_service import parse_hours, parse_start_at, parse_target
from core.erasure import parse_person as erasure_person
from core.errors import InvalidInput
from core.installation import parse_assignments
from core.linking import parse_login_code, parse_phone
from core.optouts import _parse_rows as optout_rows
from core.optouts import parse_person as optout_person
from core.parsing import parse_source, parse_speed

_NOW = datetime(2026, 6, 1, tzinfo=UTC)
_ODD = "0123456789²①١٢٣-+:@_.=,/ T\u00a0\u200b\x00eE\"'\n"
TEXTS = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=_ODD, max_size=30),
    st.from_regex(r"-?(100)?\d{1,40}", fullmatch=True),
)
PARSERS: dict[str, Callable[[str], Any]] = {
    "limits": parse_assignments,
    "erasure person": erasure_person,
    "speed": parse_speed,
    "source": parse_source,
    "admin user search": parse_user_query,
    "target": parse_target,
    "active hours": parse_hours,
    "start time": lambda text: parse_start_at(text, _NOW),
    "phone": parse_phone,
    "login code": parse_login_code,
    "opt-out person": optout_person,
    "/parse arguments": read_parse_args,
    "audience CSV": parse_import,
    "audience CSV with an id column": lambda text: parse_import(text, need_id_column=True),
    "opt-out CSV": optout_rows,
}
_FUZZ = settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_parser_answers_or_refuses(name: str) -> None:
    parse = PARSERS[name]

    @_FUZZ
    @given(TEXTS)
    def check(text: str) -> None:
        with contextlib.suppress(InvalidInput, BadCommand):
            parse(text)

    check()


def test_csv_rows_of_odd_cells_are_reported_by_line() -> None:
    cells = st.one_of(st.text(max_size=12), st.text(alphabet=_ODD, max_size=15))
    rows = st.lists(st.lists(cells, min_size=1, max_size=4).map(",".join), max_size=6)
    headers = st.sampled_from(["", "user_id,username,first_name\n", "username\n"])

    @_FUZZ
    @given(headers, rows)
    def check(header: str, lines: list[str]) -> None:
        text = header + "\n".join(lines)
        for parse in (parse_import, optout_rows):
            with contextlib.suppress(InvalidInput):
                parse(text)

    check()
