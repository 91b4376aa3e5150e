"""Request-size limits enforced while the body streams in, before anything is buffered.

A multipart body may carry at most `upload_max_files` files and `upload_max_bytes` in all;
any other body at most `request_max_bytes`. A declared Content-Length over the limit is refused
before a byte is read; a chunked body is counted as it arrives and refused the moment it
passes the limit, and the files are counted from the part headers as they go by, so the 11th
file is refused before its content is read. The refusal is raised inside the request (from
`receive`), so whichever code is reading the body, the one error mapping answers: a page in
the reader's language or JSON, 413 for size and 422 for the number of files.
"""

from __future__ import annotations

from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from app.config import Settings
from app.errors import DomainError
from app.i18n import N_, Message

MEGABYTE = 1024 * 1024


class UploadRefused(DomainError, HTTPException):
    """A request body over a limit. Also an HTTPException, so the framework's own body
    parsing lets it through unchanged (it turns other errors into a bare 400)."""

    status_code = 413
    code = "too_large"

    def __init__(self, message: str, **params: Any) -> None:
        # Not DomainError.__init__: its super() here is HTTPException's, which takes a status.
        self.message = Message(message, params)
        Exception.__init__(self, str(self.message))
        self.detail = self.text()
        self.headers = None


class TooManyFiles(UploadRefused):
    """More files in one request than the setting allows."""

    status_code = 422
    code = "too_many_files"


def _too_large(limit: int, multipart: bool) -> UploadRefused:
    if multipart:
        return UploadRefused(N_("The files sent together are larger than {mb} MB in all. "
                                "Send fewer or smaller files."), mb=max(limit // MEGABYTE, 1))
    return UploadRefused(N_("The request is larger than {kb} KB."), kb=max(limit // 1024, 1))


class _FileCounter:
    """Counts the file parts of a multipart body from their headers, chunk by chunk."""

    def __init__(self, boundary: bytes, max_files: int) -> None:
        self.max_files = max_files
        self.files = 0
        self._header_name = b""
        self._disposition = b""
        self._value = b""
        self._parser = MultipartParser(boundary, {
            "on_header_field": self._on_field,
            "on_header_value": self._on_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
        })

    def _on_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._value
        self._header_name, self._value = b"", b""

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._disposition = b""
        if b"filename" in options:
            self.files += 1
            if self.files > self.max_files:
                raise TooManyFiles(N_("At most {count} files can be sent at once."),
                                   count=self.max_files)

    def feed(self, chunk: bytes) -> None:
        """Read one more piece of the body (malformed multipart is left to the real parser)."""
        try:
            self._parser.write(chunk)
        except TooManyFiles:
            raise
        except Exception:  # noqa: BLE001 - not ours to judge: the form parser reports it
            self._parser = _Ignore()  # type: ignore[assignment]


class _Ignore:
    def write(self, chunk: bytes) -> int:
        return len(chunk)


class BodyLimits:
    """ASGI middleware applying the limits of `Settings` to every HTTP request body."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        kind, params = parse_options_header(headers.get("content-type", ""))
        multipart = kind == b"multipart/form-data"
        limit = (self.settings.upload_max_bytes if multipart
                 else self.settings.request_max_bytes)
        declared = headers.get("content-length", "")
        counter = (_FileCounter(params[b"boundary"], self.settings.upload_max_files)
                   if multipart and params.get(b"boundary") else None)
        received = 0

        async def limited_receive() -> AsgiMessage:
            nonlocal received
            if declared.isascii() and declared.isdigit() and len(declared) < 20 \
                    and int(declared) > limit:
                raise _too_large(limit, multipart)  # refused before reading a byte
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise _too_large(limit, multipart)
                if counter is not None:
                    counter.feed(chunk)
            return message

        await self.app(scope, limited_receive, send)
