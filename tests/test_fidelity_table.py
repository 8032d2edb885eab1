"""The sandbox's fidelity table (docs/sandbox.md) names, for each behaviour of Telegram the
product relies on, its source and the test that pins it: every named test must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Fidelity: Telegram's behaviour, its source, the sandbox, the test"
TEST_REF = re.compile(r"(tests/[\w/]+\.py)?(?:::)?\b(test_\w+)")


def _rows() -> list[list[str]]:
    text = (ROOT / "docs" / "sandbox.md").read_text()
    assert HEADING in text, "docs/sandbox.md has no fidelity table"
    table = text.split(HEADING, 1)[1]
    rows = []
    for line in table.splitlines():
        if not line.startswith("| ") or line.startswith("| Telegram's behaviour"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        rows.append(cells)
    return rows


def _tests_in(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text())
    return {
        n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def _all_tests() -> set[str]:
    return {
        name
        for path in ROOT.glob("tests/**/test_*.py")
        for name in _tests_in(str(path.relative_to(ROOT)))
    }


def test_every_row_names_a_source_and_an_existing_test() -> None:
    rows = _rows()
    assert len(rows) >= 40
    missing: list[str] = []
    for behaviour, source, _sandbox, tests in rows:
        assert source, f"no source for: {behaviour[:80]}"
        refs = TEST_REF.findall(tests)
        if not refs:
            # Only a behaviour the product can never meet may go without a test, and says why.
            assert "nothing to test" in tests, f"no test for: {behaviour[:80]}"
            continue
        current = None
        for path, name in refs:
            current = path or current
            found = _tests_in(current) if current else _all_tests()
            if name not in found:
                missing.append(f"{current or 'tests/'}::{name}")
    assert not missing, f"the fidelity table names tests that do not exist: {missing}"
