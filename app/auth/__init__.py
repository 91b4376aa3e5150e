"""Signing in and out: argon2 password hashes, sessions, demo accounts."""
