"""Both languages say everything, with the same placeholders."""

from __future__ import annotations

import string

from core.i18n import CATALOG, pick_language, t


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_languages_have_the_same_keys_and_placeholders() -> None:
    assert set(CATALOG) == {"ru", "en"}
    assert CATALOG["ru"].keys() == CATALOG["en"].keys()
    for key, english in CATALOG["en"].items():
        assert _fields(CATALOG["ru"][key]) == _fields(english), key
        assert CATALOG["ru"][key] != english or not english.strip(), key


def test_lookup_and_accept_language() -> None:
    assert t("ru", "error.not_found") == "Не найдено."
    assert t("de", "error.not_found") == "Not found."
    assert t("en", "error.rate_limited", retry_after=7).endswith("7 s.")
    assert pick_language("ru-RU,ru;q=0.9,en-US;q=0.8") == "ru"
    assert pick_language("de-DE,en;q=0.5,ru;q=0.4") == "en"
    assert pick_language("") == "en"
