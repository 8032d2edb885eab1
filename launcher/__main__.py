"""`python -m launcher run` starts the installation; `python -m launcher test [pytest args]`
runs the test suite against local servers (see `launcher.supervisor`)."""

from __future__ import annotations

import sys

USAGE = """usage: python -m launcher run | test [pytest args...] | lint

  run    start local PostgreSQL/Redis when DATABASE_URL/REDIS_URL are not set, migrate,
         then run the sandbox (when Telegram is simulated), API, bot and workers
  test   run ruff and mypy, then pytest against a fresh test database (local servers of
         its own, apart from `run`'s); extra arguments go to pytest;
         TG_INVITER_SKIP_CHECKS=1 skips ruff and mypy
  lint   only ruff and mypy
"""


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE, end="")
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    # Imported late so that `--help` works even before the dependencies are installed.
    from launcher.supervisor import run_app, run_tests

    if command == "run":
        if rest:
            print(f"tg-inviter: `run` takes no arguments (got {' '.join(rest)})", file=sys.stderr)
            return 2
        return run_app()
    if command == "test":
        return run_tests(rest)
    if command == "lint":
        from launcher.checks import run_checks

        return 0 if all(r.passed for r in run_checks()) else 1
    print(f"tg-inviter: unknown command {command!r}\n{USAGE}", file=sys.stderr, end="")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
