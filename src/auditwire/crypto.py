"""Secrets at rest: verification tokens, signing secrets and header values, AES-256-GCM."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from auditwire.errors import ConfigError, StorageError

KEY_FILE = "secret.key"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's standard nonce
_VERSION = b"\x01"


class SecretBox:
    """Encrypts short secrets for the database; the key never leaves the process."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ConfigError(f"secret key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), _VERSION)

    def decrypt(self, sealed: bytes) -> str:
        version, nonce, ciphertext = (
            sealed[:1],
            sealed[1 : 1 + NONCE_BYTES],
            sealed[1 + NONCE_BYTES :],
        )
        try:
            return self._aead.decrypt(nonce, ciphertext, version).decode()
        except InvalidTag:
            raise StorageError("a stored secret cannot be decrypted with this secret key") from None

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"


def key_from_setting(value: str) -> bytes:
    """AUDITWIRE_SECRET_KEY: 32 bytes in URL-safe base64, or any passphrase (hashed to 32 bytes)."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        raw = b""
    return raw if len(raw) == KEY_BYTES else hashlib.sha256(value.encode()).digest()


def load_or_create_key(secret_key: str, data_dir: Path) -> bytes:
    """The key from the setting, else from the data directory's key file, made once (0600)."""
    if secret_key:
        return key_from_setting(secret_key)
    path = data_dir / KEY_FILE
    if path.exists():
        return key_from_setting(path.read_text().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    encoded = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return key_from_setting(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(encoded + "\n")
    return key_from_setting(encoded)


def derive_key(master: bytes, purpose: str) -> bytes:
    """A key of its own for `purpose` (HKDF-SHA256), so that one key never serves two uses."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()
    ).derive(master)
