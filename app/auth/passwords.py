"""Password hashing with argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane),
set by STEPWISE_PASSWORD_HASH_*; a hash made with other parameters is redone at sign-in."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.config import get_settings


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                          hash_len=32, salt_len=16, type=Type.ID)


def _hasher() -> PasswordHasher:
    """The hasher of today's settings (verification reads the parameters from the hash)."""
    s = get_settings()
    return _hasher_for(s.password_hash_time_cost, s.password_hash_memory_kib,
                       s.password_hash_parallelism)


def hash_password(password: str) -> str:
    """A salted argon2id hash of a password."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash (a malformed hash never matches)."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's settings."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def dummy_hash() -> str:
    """A hash to verify against when the account is unknown, so timing reveals nothing (made
    with today's parameters, so it costs what a real account's check costs)."""
    return _dummy_hash(_hasher())


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("stepwise-no-such-account")
