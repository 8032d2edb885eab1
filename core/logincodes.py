"""Login codes for the web panel (DESIGN §4): generation, normalisation and hashing.

A code is 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L, U), drawn
with `secrets`. Only HMAC-SHA256(pepper, "tg_user_id:code") is ever stored, so a leaked
table is useless without the pepper and a code is bound to one Telegram user.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 6
CODE_TTL_S = 300
MAX_ATTEMPTS_PER_CODE = 5
MAX_CODES_PER_WINDOW = 3
CODES_WINDOW_S = 15 * 60
USERNAME_FAILURES_LIMIT = 10
USERNAME_FAILURES_WINDOW_S = 3600
USERNAME_LOCK_S = 15 * 60
IP_FAILURES_LIMIT = 20
IP_FAILURES_WINDOW_S = 15 * 60

CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
# Telegram usernames: 5–32 of [A-Za-z0-9_], starting with a letter. A few old ones are 4.
USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_STRIP = str.maketrans("", "", " -\t")


def generate_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str | None:
    """Upper-case, drop spaces and dashes; None when the result cannot be a code."""
    code = raw.translate(_STRIP).upper()
    return code if CODE_RE.fullmatch(code) else None


def normalize_username(raw: str) -> str | None:
    """Lookup form of a username: `@` optional, case-insensitive. None when malformed."""
    name = raw.strip().removeprefix("@")
    return name.lower() if USERNAME_RE.fullmatch(name) else None


@dataclass(frozen=True, slots=True)
class CodeHasher:
    pepper: bytes

    def digest(self, tg_user_id: int, code: str) -> bytes:
        return hmac.new(self.pepper, f"{tg_user_id}:{code}".encode(), hashlib.sha256).digest()

    def matches(self, stored: bytes, tg_user_id: int, code: str) -> bool:
        return hmac.compare_digest(stored, self.digest(tg_user_id, code))
