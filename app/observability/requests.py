"""Every request: an id (echoed in X-Request-ID), one log line, and the request metrics."""

from __future__ import annotations

import logging
from time import perf_counter

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.metrics import HTTP_REQUESTS, HTTP_SECONDS
from app.request_context import HEADER, acceptable, bound_request_id, new_request_id

log = logging.getLogger("stepwise.request")
UNMATCHED = "unmatched"  # one label for every unknown address, so typos cannot flood metrics
_HEADER_KEY = HEADER.lower().encode("latin-1")


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/plans/{plan_id}`), never the concrete path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


def person_id(scope: Scope) -> int | None:
    """The signed-in person's id once the app has identified them (None when anonymous)."""
    viewer = (scope.get("state") or {}).get("user")
    return getattr(viewer, "id", None)


class RequestTracking:
    """Pure ASGI middleware, outermost, so even an unexpected error's 500 carries the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def request_id(scope: Scope) -> str:
        """The id the proxy sent (X-Request-ID, e.g. nginx's $request_id) when it is short and
        plain, so one id follows the request through every log; else a new one."""
        for key, value in scope.get("headers") or ():
            if key == _HEADER_KEY:
                given = value.decode("latin-1")
                if acceptable(given):
                    return given
        return new_request_id()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.request_id(scope)
        status = 500
        started = perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        with bound_request_id(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self.record(scope, status, perf_counter() - started, request_id)

    @staticmethod
    def record(scope: Scope, status: int, seconds: float, request_id: str) -> None:
        """The request's log line and metrics (no query string, path ids or personal data)."""
        method, route = scope.get("method", ""), route_template(scope)
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_SECONDS.labels(method, route).observe(seconds)
        log.info("%s %s %s %.1f ms", method, route, status, seconds * 1000, extra={
            "request_id": request_id, "method": method, "route": route, "status": status,
            "duration_ms": round(seconds * 1000, 1), "person_id": person_id(scope),
        })
