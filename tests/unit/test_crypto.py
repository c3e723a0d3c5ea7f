from __future__ import annotations

import stat
from pathlib import Path

import pytest

from auditwire.crypto import SecretBox, load_or_create_key
from auditwire.errors import StorageError


def test_secret_round_trips_and_ciphertext_hides_it() -> None:
    box = SecretBox(b"k" * 32)
    sealed = box.encrypt("verification-token-1234")
    assert b"verification-token-1234" not in sealed
    assert box.decrypt(sealed) == "verification-token-1234"
    assert box.encrypt("same") != box.encrypt("same")


def test_wrong_key_is_refused_not_garbled() -> None:
    sealed = SecretBox(b"a" * 32).encrypt("secret")
    with pytest.raises(StorageError):
        SecretBox(b"b" * 32).decrypt(sealed)


def test_key_file_is_made_once_and_private(tmp_path: Path) -> None:
    first = load_or_create_key("", tmp_path)
    second = load_or_create_key("", tmp_path)
    assert first == second and len(first) == 32
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600


def test_setting_wins_over_key_file(tmp_path: Path) -> None:
    from_file = load_or_create_key("", tmp_path)
    assert load_or_create_key("a passphrase", tmp_path) != from_file
