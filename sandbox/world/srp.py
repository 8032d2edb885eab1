"""The server side of Telegram's 2FA check (SRP-6a over a 2048-bit group, g = 3).

Passwords are never stored, only the verifier v = g^x mod p, exactly as Telegram does; a
client proves it knows the password by the M1 it computes from our B. Each GetPassword hands
out a fresh (srp_id, B) pair that can be used once, so a replayed check fails like it would
in Telegram.
"""

from __future__ import annotations

import hashlib
import os
import secrets

from telethon import password as kdf
from telethon.tl import types as tt

# The 2048-bit safe prime Telegram serves in account.password (clients check it against
# their own copy, so a different one would be refused by Telethon).
PRIME = bytes.fromhex(
    "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d225"
    "30f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f1"
    "8faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907"
    "e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465"
    "b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d811"
    "5f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b"
)
GENERATOR = 3
_P = int.from_bytes(PRIME, "big")


def _h(*parts: bytes) -> bytes:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.digest()


def _pad(number: int) -> bytes:
    return number.to_bytes(256, "big")


class SrpVerifier:
    """One user's cloud password, as the server keeps it."""

    def __init__(self, password: str, hint: str = "") -> None:
        self.algo = tt.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
            salt1=os.urandom(32), salt2=os.urandom(16), g=GENERATOR, p=PRIME
        )
        # The key derivation (PBKDF2 inside two salted SHA-256 rounds) is what clients run too.
        x = int.from_bytes(kdf.compute_hash(self.algo, password), "big")
        self._v = pow(GENERATOR, x, _P)
        self._k = int.from_bytes(_h(PRIME, _pad(GENERATOR)), "big")
        self.hint = hint
        self._rounds: dict[int, tuple[int, bytes]] = {}
        """srp_id -> (b, B) handed out by GetPassword and not used yet."""

    def challenge(self) -> tt.account.Password:
        """A fresh account.password answer for GetPassword."""
        while True:
            b = int.from_bytes(secrets.token_bytes(256), "big") % _P
            g_b = pow(GENERATOR, b, _P)
            big_b = (self._k * self._v + g_b) % _P
            if kdf.is_good_mod_exp_first(g_b, _P) and kdf.is_good_large(big_b, _P):
                break
        srp_id = secrets.randbits(63)
        self._rounds[srp_id] = (b, _pad(big_b))
        if len(self._rounds) > 16:  # clients that ask and never answer
            self._rounds.pop(next(iter(self._rounds)))
        return tt.account.Password(
            new_algo=tt.PasswordKdfAlgoUnknown(),
            new_secure_algo=tt.SecurePasswordKdfAlgoUnknown(),
            secure_random=os.urandom(32),
            has_password=True,
            current_algo=self.algo,
            srp_B=_pad(big_b),
            srp_id=srp_id,
            hint=self.hint or None,
        )

    def verify(self, check: tt.InputCheckPasswordSRP) -> bool | None:
        """True if M1 proves the password; False if not; None if srp_id is unknown or used."""
        round_ = self._rounds.pop(check.srp_id, None)
        if round_ is None:
            return None
        b, big_b = round_
        a = int.from_bytes(check.A, "big")
        if not kdf.is_good_large(a, _P):
            return False
        a_bytes = _pad(a)
        u = int.from_bytes(_h(a_bytes, big_b), "big")
        s = pow(a * pow(self._v, u, _P) % _P, b, _P)
        session_key = _h(_pad(s))
        proof = _h(
            bytes(x ^ y for x, y in zip(_h(PRIME), _h(_pad(GENERATOR)), strict=True)),
            _h(self.algo.salt1),
            _h(self.algo.salt2),
            a_bytes,
            big_b,
            session_key,
        )
        return secrets.compare_digest(proof, check.M1)
