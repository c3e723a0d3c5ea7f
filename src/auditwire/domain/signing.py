"""Standard Webhooks signatures (https://www.standardwebhooks.com), so receivers can verify
that a delivery comes from auditwire with any Standard Webhooks library."""

from __future__ import annotations

import base64
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # 256-bit HMAC keys
SIGNATURE_VERSION = "v1"


def new_signing_secret() -> str:
    """A fresh `whsec_` secret: the prefix and the base64 of random key bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for: the base64-decoded part after the prefix."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
    # hmac.digest with the digest named: OpenSSL's one-shot path, no HMAC object per delivery.
    mac = hmac.digest(key, f"{message_id}.{timestamp}.".encode() + body, "sha256")
    return f"{SIGNATURE_VERSION},{base64.b64encode(mac).decode()}"
