"""The framed stream the remote log follower writes, and an incremental parser for it.

The remote loop (see `probes.tail.follow`) writes ASCII control lines, and after each `D` header
exactly
the announced number of bytes. Parsing is pure logic so that it can be tested at every split point
and fed straight from `SSHClientSession.data_received`, whatever the packet boundaries.

    O <inode> <offset> <why>    opened the file at this position; why: start|resume|appeared|lost|
                                rewritten (resumed file whose first bytes changed: read from 0)
    D <inode> <offset> <n>      then n bytes, then `K <got>`: the first got bytes are real, the rest
                                zero padding (the file shrank mid-read), so the framing never slips
    T <inode> <size> [rewritten] truncated: size fell below our offset, or (rewritten) the file's
                                first bytes changed although it did not shrink (truncated, then
                                written past our offset within one poll); reading goes on at 0
    R <old inode> <new inode>   rotated: the old file is drained, the new one is read from 0
    M <reason>                  the path cannot be opened (missing, unreadable); retried each poll
    F <inode> <n> <crc>         the cksum of the file's first n bytes (sent back on a resume)
    H                           heartbeat while idle (lets a dead channel kill the remote loop)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

OpenReason = Literal["start", "resume", "appeared", "lost", "rewritten"]
MAX_LINE = 512
_HEADER = re.compile(rb"D ([0-9]{1,20}) ([0-9]{1,20}) ([0-9]{1,20})\n")
_TRAILER = re.compile(rb"K ([0-9]{1,20})\n")
_OPEN_REASONS: dict[bytes, OpenReason] = {
    b"start": "start",
    b"resume": "resume",
    b"appeared": "appeared",
    b"lost": "lost",
    b"rewritten": "rewritten",
}


class FrameError(ValueError):
    """The remote wrote something outside the follower protocol; the stream cannot be trusted."""


@dataclass(frozen=True, slots=True)
class Opened:
    """The remote opened the file: reading continues at `offset` of `inode`."""

    inode: int
    offset: int
    why: OpenReason


@dataclass(frozen=True, slots=True)
class Chunk:
    """Real bytes read at `offset` of `inode` (padding already removed)."""

    inode: int
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Truncated:
    """The file `inode` shrank to `size`, below what was already read; or, `rewritten`, its
    first bytes changed (it was truncated and grew past what was read within one poll)."""

    inode: int
    size: int
    rewritten: bool = False


@dataclass(frozen=True, slots=True)
class Rotated:
    """The path names `new` now; `old` was read to its end first."""

    old: int
    new: int


@dataclass(frozen=True, slots=True)
class Missing:
    """The path could not be opened; `reason` is the remote's plain words."""

    reason: str


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The remote's checksum of the first `size` bytes of file `inode` (opaque to the client)."""

    inode: int
    size: int
    crc: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Nothing new; the remote loop is alive."""


Frame = Opened | Chunk | Truncated | Rotated | Missing | Fingerprint | Heartbeat


def _number(token: bytes, line: bytes) -> int:
    if not token.isdigit() or len(token) > 20:
        raise FrameError(f"bad number {token[:24]!r} in follower line {line[:80]!r}")
    return int(token)


def _fields(line: bytes, count: int) -> list[bytes]:
    parts = line.split(b" ")
    if len(parts) != count:
        raise FrameError(f"follower line {line[:80]!r} should have {count} fields")
    return parts


class FrameParser:
    """Turns arbitrary slices of the follower's stdout into frames; holds at most one frame body."""

    def __init__(self, max_chunk: int, max_line: int = MAX_LINE) -> None:
        self._max_chunk = max_chunk
        self._max_line = max_line
        self._line = bytearray()
        self._body: list[bytes] = []
        self._need = 0  # body bytes still to come
        self._header: tuple[int, int, int] | None = None  # inode, offset, n of the open D frame
        self._in_body = False

    @property
    def pending(self) -> int:
        """Bytes buffered for a frame not yet complete (bounded by one chunk and one line)."""
        return len(self._line) + sum(len(piece) for piece in self._body)

    def feed(self, data: bytes) -> list[Frame]:
        """Parse `data`; return the frames it completes. Raises FrameError on anything foreign."""
        frames: list[Frame] = []
        index, end = 0, len(data)
        while index < end:
            if not self._line and self._header is None and data.startswith(b"D ", index):
                whole = self._whole_chunk(data, index)
                if whole is not None:
                    frames.append(whole[0])
                    index = whole[1]
                    continue
            if self._in_body:
                take = min(self._need, end - index)
                self._body.append(data[index : index + take])
                self._need -= take
                index += take
                if self._need == 0:
                    self._in_body = False
                continue
            newline = data.find(b"\n", index)
            if newline < 0:
                self._line += data[index:]
                if len(self._line) > self._max_line:
                    raise FrameError(f"follower line too long: {bytes(self._line[:80])!r}...")
                break
            if self._line:
                self._line += data[index:newline]
                line = bytes(self._line)
                self._line.clear()
            else:
                line = data[index:newline]
            index = newline + 1
            if len(line) > self._max_line:
                raise FrameError(f"follower line too long: {line[:80]!r}...")
            frame = self._line_done(line)
            if frame is not None:
                frames.append(frame)
        return frames

    def _whole_chunk(self, data: bytes, index: int) -> tuple[Chunk, int] | None:
        """Fast path for the common case, a complete well-formed D frame inside `data`: one
        pass, no buffering. Anything else returns None and goes the careful way."""
        header = _HEADER.match(data, index)
        if header is None:
            return None
        n = int(header[3])
        body = header.end()
        tail = body + n
        trailer = _TRAILER.match(data, tail)
        if trailer is None or not 0 < n <= self._max_chunk or int(trailer[1]) != n:
            return None  # split, padded (a short read) or malformed: the careful path
        return Chunk(int(header[1]), int(header[2]), data[body:tail]), trailer.end()

    def _line_done(self, line: bytes) -> Frame | None:
        if self._header is not None:
            return self._trailer(line)
        tag = line[:1]
        if tag == b"D":
            _, inode, offset, size = _fields(line, 4)
            n = _number(size, line)
            if not 0 < n <= self._max_chunk:
                raise FrameError(f"chunk of {n} bytes announced, limit is {self._max_chunk}")
            self._header = (_number(inode, line), _number(offset, line), n)
            self._need, self._in_body = n, True
            return None
        if tag == b"H" and line == b"H":
            return Heartbeat()
        if tag == b"M" and (len(line) == 1 or line[1:2] == b" "):
            return Missing(line[2:].decode("utf-8", "replace").strip() or "cannot open")
        if tag == b"O":
            _, inode, offset, why = _fields(line, 4)
            reason = _OPEN_REASONS.get(why)
            if reason is None:
                raise FrameError(f"unknown open reason in follower line {line[:80]!r}")
            return Opened(_number(inode, line), _number(offset, line), reason)
        if tag == b"T":
            if line.endswith(b" rewritten"):
                _, inode, size, _ = _fields(line, 4)
                return Truncated(_number(inode, line), _number(size, line), rewritten=True)
            _, inode, size = _fields(line, 3)
            return Truncated(_number(inode, line), _number(size, line))
        if tag == b"F":
            _, inode, size, crc = _fields(line, 4)
            return Fingerprint(_number(inode, line), _number(size, line), _number(crc, line))
        if tag == b"R":
            _, old, new = _fields(line, 3)
            return Rotated(_number(old, line), _number(new, line))
        raise FrameError(f"unexpected line from the remote follower: {line[:80]!r}")

    def _trailer(self, line: bytes) -> Chunk:
        assert self._header is not None
        inode, offset, n = self._header
        if line[:2] != b"K ":
            raise FrameError(f"expected `K <got>` after {n} bytes, got {line[:80]!r}")
        got = _number(line[2:], line)
        if got > n:
            raise FrameError(f"trailer says {got} bytes but only {n} were announced")
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self._body.clear()
        self._header = None
        if got < n:
            if body.count(0, got) != n - got:
                raise FrameError(f"padding after {got} of {n} bytes is not zeros: stream desynced")
            body = body[:got]
        return Chunk(inode, offset, body)
