"""A Google service account's private key, read once when a destination is saved and again
by the sender: the same parser for both, so a key that can never sign is refused at once."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key


def rsa_private_key(secret: str) -> RSAPrivateKey:
    """The key as `cryptography` loads it; ValueError naming what is wrong (never the key).
    Google signs service-account grants with RS256 only."""
    if not secret:
        raise ValueError("the private key is required")
    try:
        key = load_pem_private_key(secret.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("the private key is not an unencrypted PEM private key") from None
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("the private key must be an RSA key")
    return key
