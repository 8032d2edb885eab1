"""The static checks `python -m launcher test` runs before pytest: ruff (lint, then the
format check), then mypy.

Both read their settings from pyproject.toml (`[tool.ruff]`, `[tool.mypy]`); each prints its
findings as it would on its own, then one line with its verdict and the time it took.
TG_INVITER_SKIP_CHECKS=1 skips them (for example while iterating on one test).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.settings import PROJECT_ROOT

PREFIX = "tg-inviter:"
SKIP_ENV = "TG_INVITER_SKIP_CHECKS"


@dataclass(frozen=True)
class Check:
    name: str
    argv: Sequence[str]


def default_checks(python: str = sys.executable) -> list[Check]:
    return [
        Check("ruff check", [python, "-m", "ruff", "check", "--quiet", "."]),
        # `ruff format .` makes the tree pass; this only says which files it would change.
        Check("ruff format", [python, "-m", "ruff", "format", "--check", "--quiet", "."]),
        Check("mypy", [python, "-m", "mypy"]),
    ]


@dataclass(frozen=True)
class CheckResult:
    name: str
    returncode: int
    seconds: float

    @property
    def passed(self) -> bool:
        return self.returncode == 0


def run_checks(
    checks: Sequence[Check] | None = None,
    *,
    cwd: Path = PROJECT_ROOT,
    say: Callable[[str], None] = print,
) -> list[CheckResult]:
    """Run every check (all of them, even after a failure) and report each one's time."""
    results: list[CheckResult] = []
    for check in default_checks() if checks is None else checks:
        started = time.monotonic()
        try:
            code = subprocess.run(list(check.argv), cwd=cwd, check=False).returncode
        except OSError as exc:
            say(f"{PREFIX} {check.name}: could not start ({exc})")
            code = 127
        result = CheckResult(check.name, code, time.monotonic() - started)
        verdict = "passed" if result.passed else f"FAILED (exit code {code})"
        say(f"{PREFIX} {check.name}: {verdict} in {result.seconds:.1f} s")
        results.append(result)
    return results


def checks_wanted(environ: dict[str, str] | None = None) -> bool:
    environ = dict(os.environ) if environ is None else environ
    return environ.get(SKIP_ENV, "") not in {"1", "true", "yes"}
