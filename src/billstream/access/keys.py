"""API-key tokens and their keyed hashes (pure).

A token reads ``bsk_<key id>_<secret>``. The key id finds the row; the secret (256 random
bits) is checked against ``HMAC-SHA256(pepper, secret)``. A random 256-bit secret cannot be
guessed, so a slow password hash would only slow every request; the pepper (the server's
secret key) means a stolen table alone cannot be used to test guesses either.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "bsk"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str, pepper: bytes) -> str:
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def make_token(key_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}_{key_id}_{secret}"


def split_token(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed token, else None."""
    parts = token.split("_", 3)
    if len(parts) != 4 or parts[0] != TOKEN_PREFIX or not parts[3]:
        return None
    return f"{parts[1]}_{parts[2]}", parts[3]


def secret_matches(secret: str, stored_hash: str, pepper: bytes) -> bool:
    return hmac.compare_digest(hash_secret(secret, pepper), stored_hash)
