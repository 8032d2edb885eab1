"""Access-token decoding refuses every malformed or forged token (DESIGN §4)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from core.errors import Unauthorized
from core.tokens import REQUIRED_CLAIMS, TokenCodec

SECRET = b"k" * 64
codec = TokenCodec(
    secret=SECRET, issuer="tg-inviter", audience="tg-inviter-panel", ttl=timedelta(minutes=15)
)


def _claims(**over: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": "tg-inviter",
        "aud": "tg-inviter-panel",
        "sub": "42",
        "role": "user",
        "sid": "0b0c4a3e-8b4b-4a59-9d1f-1c2b3a4d5e6f",
        "jti": "abc",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=15),
    }
    claims.update(over)
    return claims


def _forge(
    claims: dict[str, Any], *, key: bytes = SECRET, alg: str = "HS256", typ: str | None = "at+jwt"
) -> str:
    headers = {"typ": typ} if typ else None
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, default=lambda d: int(d.timestamp())).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_good_token_decodes() -> None:
    token = codec.issue(user_id=42, role="admin", session_id="s-1")
    claims = codec.decode(token)
    assert (claims.user_id, claims.role, claims.session_id) == (42, "admin", "s-1")
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    assert set(jwt.decode(token, options={"verify_signature": False})) == set(REQUIRED_CLAIMS)


def test_alg_none_is_refused() -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(_claims())}."
    with pytest.raises(Unauthorized):
        codec.decode(token)


def test_another_algorithm_with_the_same_key_is_refused() -> None:
    with pytest.raises(Unauthorized):
        codec.decode(_forge(_claims(), alg="HS512"))


def test_wrong_key_is_refused() -> None:
    with pytest.raises(Unauthorized):
        codec.decode(_forge(_claims(), key=b"x" * 64))


def test_expired_beyond_leeway_is_refused_within_leeway_accepted() -> None:
    now = datetime.now(UTC)
    codec.decode(_forge(_claims(exp=now - timedelta(seconds=2))))  # 5 s leeway
    with pytest.raises(Unauthorized):
        codec.decode(_forge(_claims(exp=now - timedelta(seconds=30))))


def test_future_nbf_is_refused() -> None:
    with pytest.raises(Unauthorized):
        codec.decode(_forge(_claims(nbf=datetime.now(UTC) + timedelta(minutes=5))))


@pytest.mark.parametrize("claim,value", [("iss", "someone-else"), ("aud", "another-app")])
def test_wrong_issuer_or_audience_is_refused(claim: str, value: str) -> None:
    with pytest.raises(Unauthorized):
        codec.decode(_forge(_claims(**{claim: value})))


@pytest.mark.parametrize("missing", REQUIRED_CLAIMS)
def test_each_missing_claim_is_refused(missing: str) -> None:
    claims = _claims()
    del claims[missing]
    with pytest.raises(Unauthorized):
        codec.decode(_forge(claims))


def test_integer_sub_is_refused() -> None:
    token = f"{_b64({'alg': 'HS256', 'typ': 'at+jwt'})}.{_b64(_claims(sub=42))}"
    import hashlib
    import hmac

    sig = hmac.new(SECRET, token.encode(), hashlib.sha256).digest()
    token += "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    with pytest.raises(Unauthorized):
        codec.decode(token)


@pytest.mark.parametrize("typ", [None, "JWT", "id+jwt"])
def test_wrong_or_missing_typ_is_refused(typ: str | None) -> None:
    with pytest.raises(Unauthorized):
        codec.decode(_forge(_claims(), typ=typ))


def test_garbage_is_refused() -> None:
    for token in ("", "abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30."):
        with pytest.raises(Unauthorized):
            codec.decode(token)
