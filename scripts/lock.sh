#!/usr/bin/env bash
# Refreshes the lock files in requirements/ from the ranges in pyproject.toml (`make lock`).
#
#   requirements/lock.txt       the runtime dependencies (the Docker image installs these)
#   requirements/lock-test.txt  runtime + the `test` extra (scripts/bootstrap.sh installs these)
#
# Versions already pinned are kept unless the ranges exclude them; UPGRADE=1 moves every
# package to the newest release its range allows. Both files are universal (any OS and
# CPU, Python 3.11 and newer) and carry the sha256 of every published file of each pin.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
[ -x "$VENV/bin/python" ] || bash scripts/bootstrap.sh test
if ! "$VENV/bin/uv" --version >/dev/null 2>&1; then
    echo "lock: installing uv into $VENV"
    PIP_ROOT_USER_ACTION=ignore "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        "uv>=0.13,<0.14"
fi

args=(--universal --python-version 3.11 --generate-hashes --quiet)
[ "${UPGRADE:-0}" = 1 ] && args+=(--upgrade)
# The command line uv writes into the header is the one to repeat: `make lock`.
export UV_CUSTOM_COMPILE_COMMAND="make lock"
"$VENV/bin/uv" pip compile pyproject.toml "${args[@]}" -o requirements/lock.txt
"$VENV/bin/uv" pip compile pyproject.toml --extra test "${args[@]}" -o requirements/lock-test.txt
echo "lock: requirements/lock.txt ($(grep -c '==' requirements/lock.txt) pins)," \
    "requirements/lock-test.txt ($(grep -c '==' requirements/lock-test.txt) pins)"
