"""Rate limits on sign-in, password reset and action links (in-process, time from app.clock).

Each process counts on its own: with N workers an address gets up to N times the limit. The
database-backed lockout (app/auth/lockout.py) is what holds across processes; this limiter only
blunts bursts. Documented in docs/decisions.md.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from fastapi import Request

from app import clock
from app.errors import DomainError

WINDOW = timedelta(minutes=1)


class RateLimited(DomainError):
    """Too many requests of one kind from one address in a minute."""

    status_code = 429
    code = "rate_limited"


class RateLimiter:
    """Sliding one-minute windows of hits per key."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int) -> bool:
        """Count a hit on the key; False when it is over the limit for the last minute."""
        now = clock.now()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= WINDOW:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget quiet keys so memory stays bounded
                for stale in [k for k, v in self._hits.items() if not v]:
                    del self._hits[stale]
            return True


def client_address(request: Request) -> str:
    """The peer address (behind a proxy, run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else ""


def limiter(request: Request) -> RateLimiter:
    """The app's limiter, created on first use."""
    state = request.app.state
    if getattr(state, "rate_limiter", None) is None:
        state.rate_limiter = RateLimiter()
    return state.rate_limiter


def check(request: Request, key: str, limit: int) -> None:
    """Raise RateLimited when this key is over its per-minute limit."""
    if not limiter(request).allow(key, limit):
        raise RateLimited("Too many attempts. Wait a minute and try again.")


async def rate_limit(request: Request) -> None:
    """App-wide dependency: limit the reset pages and action links per client address."""
    # async: a dict and a short lock, no I/O, so no thread-pool hop on every request
    settings = request.app.state.settings
    path, address = request.url.path, client_address(request)
    if path.startswith("/password/") and request.method == "POST":
        check(request, f"reset:{address}", settings.rate_limit_reset_per_minute)
    elif path.startswith("/act/"):
        check(request, f"act:{address}", settings.rate_limit_action_link_per_minute)
    elif path in ("/login", "/api/session") and request.method == "POST":
        check(request, f"login:{address}", settings.rate_limit_sign_in_per_minute * 5)
