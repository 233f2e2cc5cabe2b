"""Platform tokens are encrypted at rest with Fernet; MultiFernet lets operators rotate keys."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from crier.core.settings import get_settings

_MISSING_KEY = "cannot decrypt a stored token: is its key still in CRIER_ENCRYPTION_KEYS?"


@lru_cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in get_settings().encryption_key_list()])


def reset_keys() -> None:
    """Forget the cached keys, so the next call reads them from (reloaded) settings; for tests."""
    _fernet.cache_clear()


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:  # a key was removed before its tokens were rotated
        raise RuntimeError(_MISSING_KEY) from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the first (newest) key."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:  # as in decrypt(): no configured key opens it
        raise RuntimeError(_MISSING_KEY) from exc


def is_current(ciphertext: str) -> bool:
    """True when the first (newest) key encrypted `ciphertext`: rotating it would change nothing."""
    try:
        Fernet(get_settings().encryption_key_list()[0].encode()).decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True
