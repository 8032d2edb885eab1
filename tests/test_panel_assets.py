"""The web panel's static files: every text in both languages, data only ever as text."""

from __future__ import annotations

import re

from webui_api.views.panel import STATIC_DIR, load_assets

SCRIPTS = sorted(STATIC_DIR.glob("*.js"))
LITERAL_KEY = re.compile(r"""\bt\('([\w.]+)'""")
CATALOG_KEY = re.compile(r"""^\s*'([\w.]+)':""", re.MULTILINE)


def _catalog(language: str) -> set[str]:
    source = (STATIC_DIR / "i18n.js").read_text()
    block = source.split(f"const {language} = {{", 1)[1].split("\n};", 1)[0]
    return set(CATALOG_KEY.findall(block))


def test_both_languages_have_the_same_texts() -> None:
    en, ru = _catalog("en"), _catalog("ru")
    assert en and en == ru, sorted(en ^ ru)


def test_every_text_the_scripts_name_exists() -> None:
    known = _catalog("en")
    used = {key for path in SCRIPTS for key in LITERAL_KEY.findall(path.read_text())}
    assert used and used <= known, sorted(used - known)


def test_no_html_sinks_and_no_inline_code() -> None:
    for path in SCRIPTS:
        source = path.read_text()
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
        ):
            assert sink not in source, f"{path.name} uses {sink}"
        assert "localStorage.setItem('tgi-token" not in source
    page = (STATIC_DIR / "index.html").read_text()
    assert re.findall(r"<script[^>]*>", page) == ['<script type="module" src="/assets/app.js">']
    assert "style=" not in page and not re.search(r"\son\w+=", page)


def test_every_module_import_is_served() -> None:
    assets = load_assets()
    for path in SCRIPTS:
        for name in re.findall(r"""from '\./([\w.-]+)'""", path.read_text()):
            assert name in assets, f"{path.name} imports {name}, which is not served"
