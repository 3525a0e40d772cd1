"""API-key tokens: the key id finds the row, the secret is checked against a keyed hash."""

from __future__ import annotations

import pytest

from billstream.access.keys import hash_secret, make_token, secret_matches, split_token

PEPPER = b"pepper"


def test_a_token_splits_back_into_key_id_and_secret() -> None:
    token = make_token("key_0123abcd", "s3cr_et-value")
    assert token == "bsk_key_0123abcd_s3cr_et-value"
    assert split_token(token) == ("key_0123abcd", "s3cr_et-value")


@pytest.mark.parametrize(
    "token", ["", "bsk_key_abc", "bsk_key_abc_", "xyz_key_abc_secret", "bearer"]
)
def test_malformed_tokens_split_to_none(token: str) -> None:
    assert split_token(token) is None


def test_only_the_right_secret_and_pepper_match() -> None:
    stored = hash_secret("secret", PEPPER)
    assert secret_matches("secret", stored, PEPPER)
    assert not secret_matches("Secret", stored, PEPPER)
    assert not secret_matches("secret", stored, b"other pepper")
