"""One concurrency contract for the API: every resource has an ETag, every write takes If-Match.

A case (a plan, a promotion request, any workflow instance) is versioned: its ETag is its
version, and a write that can race must say which version it was based on (412 when someone
else changed it first, 428 when it does not say). Other resources carry an ETag computed from
their state; a write to them may send If-Match and is refused when the state moved on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from app.engine.audit import canonical_json
from app.engine.runtime import VERSION_MISSING
from app.errors import PreconditionRequired, StaleInstance
from app.i18n import N_

_TAG = r'(?:W/)?"[\x21\x23-\x7e]*"'
_TAGS = re.compile(rf"{_TAG}")
MISSING = N_("Send the version you saw (If-Match: the ETag) with this change, so that nobody's "
             "work is overwritten.")


def version_etag(version: int) -> str:
    """The strong ETag of a versioned resource."""
    return f'"{version}"'


def state_etag(state: Any) -> str:
    """A strong ETag of a resource without a version: a hash of its state (language-free)."""
    return '"' + hashlib.sha256(canonical_json(state).encode("utf-8")).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class IfMatch:
    """The If-Match header of a write: absent, any (*), or the entity tags the caller saw."""

    present: bool = False
    wildcard: bool = False
    strong_tags: tuple[str, ...] = ()

    def expected_version(self, current: int, *, required: bool = True) -> int | None:
        """The version the write was based on, for the engine's version check: the current one
        when a tag matches, one that never exists when none does, VERSION_MISSING (428) when a
        racy write did not say, None when no check is asked for."""
        if not self.present:
            return VERSION_MISSING if required else None
        if self.wildcard:
            return None
        return current if version_etag(current) in self.strong_tags else 0

    def require(self) -> None:
        """Refuse a write that can race but does not say what it was based on (428)."""
        if not self.present:
            raise PreconditionRequired(MISSING)

    def check_state(self, etag: str) -> None:
        """Refuse a write to a state-tagged resource whose state moved on (412)."""
        if self.present and not self.wildcard and etag not in self.strong_tags:
            raise StaleInstance("Someone else changed this first. Reload to see what changed.")


def if_match(
    value: Annotated[str | None, Header(
        alias="If-Match", max_length=1000,
        description="The ETag you read, as it was sent (a write based on an older version, or "
                    "on anything else, is refused with 412; writes to a case without it get "
                    "428)")] = None,
) -> IfMatch:
    """The parsed If-Match header (weak tags never match: If-Match compares strongly; text
    that is no entity tag matches nothing)."""
    if value is None:
        return IfMatch()
    if value.strip() == "*":
        return IfMatch(present=True, wildcard=True)
    tags = tuple(tag for tag in _TAGS.findall(value) if not tag.startswith("W/"))
    return IfMatch(present=True, strong_tags=tags)


IfMatchDep = Annotated[IfMatch, Depends(if_match)]


def weak_etag(body: bytes) -> str:
    """A weak ETag of a representation (lists and reports: the bytes in this language)."""
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class ApiRoute(APIRoute):
    """An API route whose successful GET answers always carry an ETag."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The handler, with a weak ETag added to a GET answer that has none of its own."""
        handler = super().get_route_handler()

        async def with_etag(request: Request) -> Response:
            response = await handler(request)
            if (request.method == "GET" and response.status_code == 200
                    and "etag" not in response.headers and hasattr(response, "body")):
                response.headers["ETag"] = weak_etag(bytes(response.body))
            return response

        return with_etag
