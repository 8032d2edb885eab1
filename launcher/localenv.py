"""`.data/local.env`: the settings the launcher generates for a local installation.

The secrets are generated once and kept on later runs (rotating JWT_SECRET would log
everyone out, rotating SESSION_KEYS would make stored Telegram sessions unreadable). A
secret already given in the environment or in `.env` is never generated: those sources win
over this file anyway, and a second copy would only mislead.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from dotenv import dotenv_values

from core.settings import PROJECT_ROOT

HEADER = (
    "# Written by the tg-inviter launcher. Generated secrets are kept across runs;\n"
    "# values in the environment or in .env take precedence over this file.\n"
)
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/@+=,%?&~-]*$")


def _token() -> str:
    return secrets.token_urlsafe(48)


def _session_key() -> str:
    return "k1:" + base64.b64encode(secrets.token_bytes(32)).decode()


GENERATED: dict[str, Callable[[], str]] = {
    "JWT_SECRET": _token,
    "CODE_PEPPER": _token,
    "SESSION_KEYS": _session_key,
}


def ensure_local_env(
    path: Path,
    *,
    database_url: str | None,
    redis_url: str | None,
    dotenv_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Create or update `path` (mode 0600): missing secrets, and the URLs when given.

    `dotenv_path` defaults to the project's `.env`, `environ` to `os.environ`. The file is
    rewritten only when its content changes.
    """
    environ = os.environ if environ is None else environ
    dotenv_path = PROJECT_ROOT / ".env" if dotenv_path is None else dotenv_path
    configured = {key.upper() for key, value in environ.items() if value}
    if dotenv_path.exists():
        configured |= {k.upper() for k, v in dotenv_values(dotenv_path).items() if v}

    current: dict[str, str] = {}
    if path.exists():
        current = {k: v for k, v in dotenv_values(path).items() if v is not None}
    wanted = dict(current)

    for name, make in GENERATED.items():
        if name not in configured and not wanted.get(name):
            wanted[name] = make()
    if database_url is not None:
        wanted["DATABASE_URL"] = database_url
    if redis_url is not None:
        wanted["REDIS_URL"] = redis_url
    # Two equal secrets would fail validation; only ones generated here can collide.
    if wanted.get("JWT_SECRET") and wanted.get("JWT_SECRET") == wanted.get("CODE_PEPPER"):
        wanted["CODE_PEPPER"] = _token()

    text = HEADER + "".join(f"{key}={_quote(value)}\n" for key, value in wanted.items())
    if path.exists() and path.read_text() == text:
        os.chmod(path, 0o600)
        return
    _write_private(path, text)


def _quote(value: str) -> str:
    if _SAFE_VALUE.match(value):
        return value
    if "'" not in value and "\n" not in value:
        return f"'{value}'"  # single quotes: no `${...}` interpolation by dotenv
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
