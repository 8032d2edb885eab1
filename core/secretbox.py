"""Linked Telegram sessions at rest: AES-256-GCM bound to (workspace, account).

A Telethon session string is a full account takeover, so it is stored only encrypted.
The associated data binds a ciphertext to its row: copying one account's ciphertext into
another row (or workspace) makes it undecryptable instead of silently working. Each row
keeps the id of the key that sealed it, so keys can be rotated while the product runs:
`SESSION_KEYS` lists every key still accepted; the last one seals new data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import DomainError

NONCE_BYTES = 12
_AAD_PREFIX = b"tg-inviter/telegram-session/v1"


class SessionDecryptError(DomainError):
    """Unknown key id, tampered ciphertext, or a ciphertext moved to another row."""

    code = "session_undecryptable"


@dataclass(frozen=True, slots=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes

    def __repr__(self) -> str:  # never print the ciphertext, even though it is encrypted
        return f"Sealed(key_id={self.key_id!r}, bytes={len(self.ciphertext)})"


def _aad(workspace_id: int, account_id: int) -> bytes:
    return b"%s:%d:%d" % (_AAD_PREFIX, workspace_id, account_id)


class SessionCipher:
    def __init__(self, keys: dict[str, bytes]) -> None:
        if not keys:
            raise ValueError("at least one session key is required")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"session key {key_id!r} must be 32 bytes")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current_key_id = list(keys)[-1]

    def seal(self, session: str, *, workspace_id: int, account_id: int) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        aead = self._keys[self.current_key_id]
        ciphertext = aead.encrypt(nonce, session.encode(), _aad(workspace_id, account_id))
        return Sealed(self.current_key_id, nonce, ciphertext)

    def open(self, sealed: Sealed, *, workspace_id: int, account_id: int) -> str:
        """The session string; `SessionDecryptError` when it cannot be this row's session."""
        aead = self._keys.get(sealed.key_id)
        if aead is None:
            raise SessionDecryptError("unknown key id", key_id=sealed.key_id)
        try:
            plain = aead.decrypt(sealed.nonce, sealed.ciphertext, _aad(workspace_id, account_id))
        except InvalidTag:
            raise SessionDecryptError("ciphertext does not belong to this account") from None
        return plain.decode()

    def reseal(self, sealed: Sealed, *, workspace_id: int, account_id: int) -> Sealed | None:
        """The same session under the current key, or None when it already is."""
        if sealed.key_id == self.current_key_id:
            return None
        session = self.open(sealed, workspace_id=workspace_id, account_id=account_id)
        return self.seal(session, workspace_id=workspace_id, account_id=account_id)
