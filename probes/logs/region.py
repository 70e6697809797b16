"""What the scanner knows about the region of complete lines it is scanning: each line's number,
stream offset and text, the lines above a line (those of the region before too), and the byte
tests that fold a stack trace without decoding it (probes/logs/scanner.py)."""

from __future__ import annotations

import re
from typing import NamedTuple

from probes.logs.lines import count_newlines
from probes.logs.text import clean

TRACE_RUN = re.compile(
    rb"(?:(?:[ \t][^\n]*?[^\s][^\n]*"
    rb"|(?:Caused by:|Suppressed:|\.\.\. |at )[^\n]*"
    rb"|(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable|Fault)(?::[^\n]*|\r?)"
    rb")\n)+"
)
"""A run of stack-trace lines folded in one step: indented and not blank (`\tat ...`), `Caused
by:`, `Suppressed:`, `... 5 more`, an exception's first line (`java.io.IOException: ...`).
It accepts only lines `Trace.take` accepts (ASCII names); others take the line-by-line road."""


def record_start(buf: bytes | bytearray, pos: int, line_end: int) -> bool:
    """Whether a line is certainly no stack-trace line, decided on its bytes: it starts with a
    digit (a stamp: `Trace.take` would say no) and holds no prefix `strip_prefixes` could remove
    (an RFC 3339 journal stamp has `T` at 10, a compose prefix a `|`)."""
    first = buf[pos]
    if not 48 <= first <= 57 or line_end - pos < 11:
        return False
    if buf[pos + 10] == 84 or not buf[pos : pos + 11].isascii():
        return False
    return buf.find(b"|", pos, line_end) < 0


class Line(NamedTuple):
    text: str
    line: int
    offset: int


class Region:
    """Positions, lines and text of the region `buf[start:end]` a scanner is scanning; the
    scanner sets the state (`EventScanner.reset`, `_region`)."""

    _buf: bytes | bytearray
    _start: int
    _end: int
    _cpos: int
    """A line start in the region and its line number: the counting goes on from there."""
    _cline: int
    _base_offset: int
    _max_line: int
    _context: list[tuple[bytes, int, int]]
    """The raw last lines of the region before: (bytes, line, offset)."""

    def _line_at(self, pos: int) -> int:
        """Line number of the line starting at buffer position `pos`."""
        if pos >= self._cpos:
            self._cline += count_newlines(self._buf, self._cpos, pos)
            self._cpos = pos
            return self._cline
        return self._cline - count_newlines(self._buf, pos, self._cpos)

    def _offset(self, pos: int) -> int:
        """Stream offset of a line start in the region (the dropped tail of a long line counts
        only after that line, which is alone in its region)."""
        return self._base_offset + pos - self._start

    def _text(self, start: int, end: int) -> str:
        """A line as safe text, cut to `max_line` bytes for parsing."""
        end = min(end, start + self._max_line)
        if end > start and self._buf[end - 1] == 13:
            end -= 1
        return clean(self._buf[start:end])

    def _above(self, start: int, count: int) -> list[Line]:
        """Up to `count` lines just above the line at `start`, nearest first."""
        lines: list[Line] = []
        while start > self._start and len(lines) < count:
            above = self._buf.rfind(b"\n", self._start, start - 1) + 1 or self._start
            text = self._text(above, start - 1)
            lines.append(Line(text, self._line_at(above), self._offset(above)))
            start = above
        missing = count - len(lines)
        if start <= self._start and missing > 0:
            lines.extend(
                Line(self._decode(raw), line, offset)
                for raw, line, offset in reversed(self._context[-missing:])
            )
        return lines

    def _remember_context(self, end: int) -> None:
        """Keep the region's last lines: the next chunk may need to look above its start.

        They are kept as raw bytes (cut at max_line) and decoded only if someone looks: most
        regions are never looked above, and a live tail feeds one line at a time.
        """
        buf, region_start = self._buf, self._start
        found: list[tuple[bytes, int, int]] = []
        pos = end
        while pos > region_start and len(found) < 3:
            above = buf.rfind(b"\n", region_start, pos - 1) + 1 or region_start
            raw = bytes(buf[above : min(pos - 1, above + self._max_line)])
            found.append((raw, self._line_at(above), self._offset(above)))
            pos = above
        found.reverse()
        if len(found) < 3:
            found = self._context[len(self._context) - (3 - len(found)) :] + found
        self._context = found

    def _decode(self, raw: bytes) -> str:
        return clean(raw[:-1] if raw.endswith(b"\r") else raw)
