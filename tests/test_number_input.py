"""Ids and counts are read only from ASCII digits.

`str.isdigit()` is true for "²" and "①", which `int()` refuses with a ValueError: a check
that used it let such input through to `int()` and answered with a crash (a 500 in the API,
"something went wrong" in the bot). Each place that tells an id from a name now asks
`core.validation.is_number`."""

from __future__ import annotations

import pytest

from bot.parse_command import BadCommand, read_parse_args
from core.campaign_service import names_by_id
from core.errors import InvalidInput
from core.optouts import parse_person
from core.validation import is_number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("123", True),
        ("0", True),
        ("", False),
        ("²", False),
        ("1²", False),
        ("①", False),
        ("١٢٣", False),
        ("-1", False),
        (" 1", False),
        ("1e3", False),
    ],
)
def test_is_number(text: str, number: bool) -> None:
    assert is_number(text) is number
    if number:
        assert int(text) >= 0


def test_a_parse_option_in_other_digits_is_refused_as_a_bad_count() -> None:
    assert read_parse_args("@chat comments posts=25").posts == 25  # type: ignore[union-attr]
    for raw in ("posts=²", "days=①", "days=1²"):
        with pytest.raises(BadCommand) as refused:
            read_parse_args(f"@chat comments {raw}")
        assert refused.value.args[0] in ("problem.posts", "problem.days")


def test_an_opt_out_in_other_digits_is_not_a_person() -> None:
    assert parse_person(" 777000 ") == 777000
    for raw in ("²", "①②③"):
        with pytest.raises(InvalidInput):
            parse_person(raw)


def test_a_target_in_other_digits_is_not_named_by_id() -> None:
    assert names_by_id("-1001234") and names_by_id("1234")
    assert not names_by_id("²") and not names_by_id("-²")


def test_ids_and_hours_in_other_scripts_are_not_read_as_numbers() -> None:
    from core.admin import parse_user_query
    from core.campaign_service import parse_hours, parse_target

    assert parse_target("-1001234") == "-1001234" and parse_target("1234") == "1234"
    assert parse_hours("9-21") == (9, 21)
    assert parse_user_query("777000").telegram_id == 777000
    for raw in ("١٢٣", "-100١٢٣"):
        with pytest.raises(InvalidInput):
            parse_target(raw)
    with pytest.raises(InvalidInput):
        parse_hours("٩-٢١")
    with pytest.raises(InvalidInput):
        parse_user_query("١٢٣")
