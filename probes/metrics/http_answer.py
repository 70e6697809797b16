"""HTTP/1.1 answers read from the bytes a connection received, as they come.

`AnswerReader.take` is called with everything received so far whenever more arrives: it gives
the next whole answer (status and body) and removes its bytes, or None while some are still
to come. Bodies come with Content-Length, chunked, or ended by the server's close; nothing is
decoded. Limits: HEAD_LIMIT bytes of status line and headers (and of a chunk's size line), the
caller's limit of body bytes. Every fault is an HttpLiteError with a short reason; a connection
that ended before a byte of the answer is `Stale` (a kept connection the server closed: the
request may be sent again on a new one).
"""

from __future__ import annotations

from dataclasses import dataclass

HEAD_LIMIT = 64 << 10
"""Bytes of status line and headers accepted."""


class HttpLiteError(Exception):
    """The request failed; the message is a short reason (``connection refused``, ...)."""


class Stale(Exception):
    """The connection closed before a byte of the answer (a kept one timed out, or the server
    dropped a fresh one)."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


_MIDDLE = "the connection closed in the middle of the answer"


def _larger(limit: int) -> HttpLiteError:
    return HttpLiteError(f"the answer is larger than {limit >> 20} MiB")


class AnswerReader:
    """Reads one answer after another from a connection's received bytes."""

    def __init__(self) -> None:
        self._head: tuple[int, bool, str, int] | None = None
        """The answer's status, whether the connection stays open after it, how its body ends
        (``length``, ``chunked``, ``close``) and its length (``length``)."""
        self._at = 0
        """Chunked: where the next chunk's size line starts."""
        self._parts: list[bytes] = []
        self._size = 0
        self._trailers = False

    def take(self, data: bytearray, ended: bool, limit: int) -> tuple[Answer, bool] | None:
        """The next answer in `data` and whether the connection stays open after it, its
        bytes removed from `data`; None while bytes of it are still to come. `ended`: nothing
        more will come. HttpLiteError, or Stale when it ended before the answer's first byte."""
        if self._head is None:
            end = data.find(b"\r\n\r\n", 0, HEAD_LIMIT + 4)
            if end < 0:
                if len(data) > HEAD_LIMIT:
                    raise HttpLiteError("the answer's headers are too long")
                if ended:
                    if not data:
                        raise Stale()
                    raise HttpLiteError(_MIDDLE)
                return None
            self._head = _head(bytes(data[:end]), limit)
            del data[: end + 4]
        status, keep, mode, length = self._head
        if mode == "length":
            if len(data) < length:
                if ended:
                    raise HttpLiteError(_MIDDLE)
                return None
            body = bytes(data[:length])
            del data[:length]
        elif mode == "close":
            if len(data) > limit:
                raise _larger(limit)
            if not ended:
                return None
            body = bytes(data)
            data.clear()
        else:
            found = self._chunks(data, ended, limit)
            if found is None:
                return None
            body = found
        self._head = None
        return Answer(status, body), keep

    def _chunks(self, data: bytearray, ended: bool, limit: int) -> bytes | None:
        """A chunked body once its last chunk and trailers are in (the chunks read so far are
        kept between calls)."""
        while True:
            end = data.find(b"\r\n", self._at)
            if end < 0:
                if len(data) - self._at > HEAD_LIMIT:
                    raise HttpLiteError("a chunk header is too long")
                if ended:
                    raise HttpLiteError(_MIDDLE)
                return None
            if end - self._at > HEAD_LIMIT:
                raise HttpLiteError("a chunk header is too long")
            if self._trailers:
                empty = end == self._at
                self._at = end + 2
                if not empty:
                    continue
                body = b"".join(self._parts)
                del data[: self._at]
                self._at, self._parts, self._size, self._trailers = 0, [], 0, False
                return body
            text = bytes(data[self._at : end]).split(b";", 1)[0].strip()
            try:
                length = int(text, 16)
            except ValueError:
                raise HttpLiteError("a garbled chunk in the answer") from None
            if length == 0:
                self._trailers = True
                self._at = end + 2
                continue
            if length < 0 or self._size + length > limit:
                raise _larger(limit)
            if len(data) < end + 2 + length + 2:  # the chunk and the line end after it
                if ended:
                    raise HttpLiteError(_MIDDLE)
                return None
            self._parts.append(bytes(data[end + 2 : end + 2 + length]))
            self._size += length
            self._at = end + 2 + length + 2


def _head(head: bytes, limit: int) -> tuple[int, bool, str, int]:
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if (
        len(status_line) < 2
        or not status_line[0].startswith("HTTP/1.")
        or not (status_line[1].isdigit() and len(status_line[1]) == 3)
    ):
        raise HttpLiteError("not an HTTP answer")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    keep = status_line[0] == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return int(status_line[1]), keep, "chunked", 0
    if "content-length" in headers:
        length = headers["content-length"]
        if not length.isdigit():
            raise HttpLiteError("the answer's Content-Length is not a number")
        if int(length) > limit:
            raise _larger(limit)
        return int(status_line[1]), keep, "length", int(length)
    return int(status_line[1]), False, "close", 0
