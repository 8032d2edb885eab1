"""Access tokens (JWT) and refresh tokens (opaque) for the web panel (DESIGN §4).

Access tokens are HS256 JWTs of 15 minutes. Decoding pins the algorithm list: trusting the
token's own `alg` header is how `none` and HS/RS confusion attacks get in. Every claim is
required, the header must say `typ: at+jwt` (so an ID token or another JWT of ours cannot
be replayed as an access token), and `sub` must be a string.
Refresh tokens are 32 random bytes shown once and stored only as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from core.errors import Unauthorized
from core.validation import is_number

ALGORITHM = "HS256"
ACCESS_TYP = "at+jwt"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "role", "sid", "jti", "iat", "nbf", "exp")
LEEWAY_S = 5


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    role: str
    session_id: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenCodec:
    secret: bytes
    issuer: str
    audience: str
    ttl: timedelta

    def issue(
        self, *, user_id: int, role: str, session_id: str, now: datetime | None = None
    ) -> str:
        now = now or datetime.now(UTC)
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "role": role,
            "sid": session_id,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
        }
        return jwt.encode(payload, self.secret, algorithm=ALGORITHM, headers={"typ": ACCESS_TYP})

    def decode(self, token: str) -> AccessClaims:
        """Verify an access token; any defect raises `Unauthorized`."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != ACCESS_TYP:
                raise Unauthorized("wrong token type")
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],  # pinned: never taken from the token
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": list(REQUIRED_CLAIMS), "verify_signature": True},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("invalid token") from exc
        sub = claims["sub"]
        if not isinstance(sub, str) or not is_number(sub):
            raise Unauthorized("invalid subject")
        if not isinstance(claims["sid"], str) or not isinstance(claims["role"], str):
            raise Unauthorized("invalid claims")
        return AccessClaims(
            user_id=int(sub),
            role=claims["role"],
            session_id=claims["sid"],
            jti=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
