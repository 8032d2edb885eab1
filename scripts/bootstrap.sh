#!/usr/bin/env bash
# Prepares a clean clone for `make run` / `make test`: the system packages the local
# PostgreSQL and Redis need (only when no external server is configured), the
# virtualenv, and the project's Python dependencies. Safe to run again; silent when
# there is nothing to do. `bootstrap.sh test` also installs Chromium and its driver for
# the web panel's browser tests.
#
# Python packages come from requirements/lock-test.txt: exact versions with their sha256
# hashes (`make lock` refreshes it from the ranges in pyproject.toml), so two installs of one
# commit are the same. The lock is made for Python 3.11 and newer on any platform; when pip
# cannot use it here (say a newer Python for which a pinned package has no wheel and its
# sources do not build), bootstrap says so and installs from pyproject.toml's ranges instead.
# TG_INVITER_LOCKED=1 turns that fallback into an error (CI, release checks); a file whose
# hash differs from the lock's is always an error.
set -euo pipefail

MODE=${1:-run}

cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.installed-pyproject.sha256"

say() { echo "bootstrap: $*"; }
die() { echo "bootstrap: error: $*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=(__no_sudo__)
fi

# True when NAME is set in the environment or in .env (the launcher then uses that
# server and never starts a local one).
configured() {
    local name=$1
    if [ -n "${!name:-}" ]; then
        return 0
    fi
    [ -f .env ] && grep -Eq "^[[:space:]]*(export[[:space:]]+)?${name}[[:space:]]*=[[:space:]]*[^[:space:]#]" .env
}

have_initdb() {
    command -v initdb >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

POLICY=/usr/sbin/policy-rc.d
POLICY_CREATED=0
cleanup_policy() {
    if [ "$POLICY_CREATED" -eq 1 ]; then
        "${SUDO[@]}" rm -f "$POLICY" || true
        POLICY_CREATED=0
    fi
}
trap cleanup_policy EXIT

apt_install() {
    command -v apt-get >/dev/null 2>&1 \
        || die "apt-get not found; install $* yourself, or set DATABASE_URL / REDIS_URL"
    [ "${SUDO[0]:-}" = "__no_sudo__" ] && die "need root (or sudo) to install $*"
    # Debian's packages start their system-wide service on install; the launcher runs
    # its own servers on loopback with data under .data/, so keep apt from starting any.
    if [ ! -e "$POLICY" ]; then
        printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
        "${SUDO[@]}" chmod 0755 "$POLICY"
        POLICY_CREATED=1
    fi
    say "installing $* (apt-get)"
    local log
    log=$(mktemp)
    if ! { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
            && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                --no-install-recommends -o Dpkg::Use-Pty=0 "$@"; } >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        die "apt-get could not install $*"
    fi
    rm -f "$log"
    cleanup_policy
}

packages=()
if ! configured DATABASE_URL && ! have_initdb; then
    packages+=(postgresql)
fi
if ! configured REDIS_URL && ! command -v redis-server >/dev/null 2>&1; then
    packages+=(redis-server)
fi
if [ "$MODE" = test ]; then
    [ -x /usr/bin/chromium ] || packages+=(chromium)
    [ -x /usr/bin/chromedriver ] || packages+=(chromium-driver)
fi
if [ "${#packages[@]}" -gt 0 ]; then
    apt_install "${packages[@]}"
fi

PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; install Python 3.11 or newer"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$("$PYTHON" -V 2>&1) is too old; Python 3.11 or newer is required"

if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
        # Debian ships venv/ensurepip in a separate package.
        rm -rf "$VENV"
        apt_install python3-venv
        "$PYTHON" -m venv "$VENV" || die "could not create $VENV"
    fi
    rm -f "$STAMP"
fi

LOCK=requirements/lock-test.txt
[ -f "$LOCK" ] || die "$LOCK is missing; run \`make lock\`"
want=$(cat pyproject.toml "$LOCK" | sha256sum | cut -d' ' -f1)
have=$(cat "$STAMP" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
    pip_install() {
        PIP_ROOT_USER_ACTION=ignore "$VENV/bin/python" -m pip install -q \
            --disable-pip-version-check "$@"
    }
    log=$(mktemp)
    say "installing Python dependencies into $VENV ($LOCK)"
    # The project itself without its dependencies: those come from the lock, hash-checked.
    if pip_install --require-hashes -r "$LOCK" >"$log" 2>&1 \
            && pip_install --no-deps -e . >>"$log" 2>&1; then
        :
    elif grep -q "DO NOT MATCH THE HASHES" "$log"; then
        # A file that is not the one locked: never worked around.
        tail -n 30 "$log" >&2
        rm -f "$log"
        die "a downloaded package does not match its hash in $LOCK; nothing was installed from it"
    elif [ "${TG_INVITER_LOCKED:-0}" = 1 ]; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        die "pip could not install $LOCK (and TG_INVITER_LOCKED=1 forbids the fallback)"
    else
        tail -n 5 "$log" >&2
        say "warning: pip could not install $LOCK with $("$VENV/bin/python" -V 2>&1) (above);" \
            "installing from pyproject.toml's ranges instead (versions may differ from the lock)"
        if ! pip_install -e ".[test]" >"$log" 2>&1; then
            tail -n 30 "$log" >&2
            rm -f "$log"
            die "pip could not install the project"
        fi
    fi
    rm -f "$log"
    echo "$want" >"$STAMP"
fi
