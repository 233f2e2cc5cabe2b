"""Platform tokens at rest: Fernet encryption, and key rotation through MultiFernet."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from crier.core import crypto

TOKEN = "act.tiktok-access-token-0123456789"


def test_encrypt_hides_the_plaintext_and_decrypt_round_trips(encryption_keys):
    encryption_keys(Fernet.generate_key().decode())

    ciphertext = crypto.encrypt(TOKEN)

    assert TOKEN not in ciphertext
    assert crypto.encrypt(TOKEN) != ciphertext  # Fernet salts every token
    assert crypto.decrypt(ciphertext) == TOKEN


def test_a_token_under_the_old_key_still_decrypts_after_a_new_key_is_prepended(encryption_keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    encryption_keys(old)
    ciphertext = crypto.encrypt(TOKEN)

    encryption_keys(new, old)

    assert crypto.decrypt(ciphertext) == TOKEN
    assert (
        Fernet(new.encode()).decrypt(crypto.encrypt(TOKEN).encode()).decode() == TOKEN
    )  # the first key encrypts


def test_rotate_re_encrypts_with_the_newest_key(encryption_keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    encryption_keys(old)
    ciphertext = crypto.encrypt(TOKEN)
    encryption_keys(new, old)

    rotated = crypto.rotate(ciphertext)

    encryption_keys(new)  # the old key can now be retired
    assert crypto.decrypt(rotated) == TOKEN


def test_a_token_whose_key_was_removed_fails_loudly(encryption_keys):
    encryption_keys(Fernet.generate_key().decode())
    ciphertext = crypto.encrypt(TOKEN)

    encryption_keys(Fernet.generate_key().decode())

    with pytest.raises(RuntimeError, match="CRIER_ENCRYPTION_KEYS"):
        crypto.decrypt(ciphertext)
