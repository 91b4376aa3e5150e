"""Random secrets handed to people once and stored only as their SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(prefix: str = "") -> str:
    """A fresh 256-bit URL-safe secret, optionally prefixed so it is recognisable."""
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """The stored form of a secret: unsalted SHA-256 is enough for 256 random bits."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
