"""Count a Tomcat access log's responses by status class: 5xx, 4xx, and every request.

Tomcat's AccessLogValve writes one line per request; with the ``common`` and ``combined``
patterns and the sandbox's ``%h %l %u %t "%r" %s %b %D`` alike, the status (``%s``) is the token
right after the quoted request line (``"%r"``), the line's first quoted field. A line is read as
bytes, never decoded: the first double quote opens the request line, which ends at the next
double quote not escaped with a backslash; a space, three digits and a space (or the line's end)
must follow. A line that does not read so (a status ``-``, a cut or binary line, another
pattern) is counted as unreadable: it is never a 5xx, and it never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINE = 64 << 10
"""A line cut across reads and longer than this is counted unreadable without being kept whole
(a request line Tomcat accepts is at most its connector's maxHttpHeaderSize, 8 KiB by
default)."""

# One line: anything but a quote, the quoted request line (backslash escapes allowed, the loop
# unrolled: runs of plain characters, each escape between them), a space and the status, whose
# first digit is kept; then the rest of the line is eaten, so the next try starts at a line start.
_LINE = re.compile(
    rb'^[^"\n]*"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*" ([1-5])[0-9][0-9](?=[ \n]|$)[^\n]*', re.M
)


@dataclass(frozen=True, slots=True)
class AccessCounts:
    """Lines of an access log read at once: requests (readable lines) by status class."""

    requests: int = 0
    """Lines whose status was read."""
    status_4xx: int = 0
    status_5xx: int = 0
    unreadable: int = 0
    """Lines whose status could not be read (not counted in `requests`)."""

    def __add__(self, other: AccessCounts) -> AccessCounts:
        return AccessCounts(
            self.requests + other.requests,
            self.status_4xx + other.status_4xx,
            self.status_5xx + other.status_5xx,
            self.unreadable + other.unreadable,
        )


def count_lines(block: bytes) -> AccessCounts:
    """The counts of `block`, whole lines each ending in a newline (one regular expression pass
    in C over the block: no Python work per line but one per status read)."""
    lines = block.count(b"\n")
    if not lines:
        return AccessCounts()
    firsts = b"".join(_LINE.findall(block))  # each status's first digit
    read = len(firsts)
    return AccessCounts(read, firsts.count(b"4"), firsts.count(b"5"), lines - read)


class AccessLogParser:
    """Counts lines from chunks of a file; a line cut across two chunks is counted once whole.

    The unfinished end of the last chunk is kept (at most MAX_LINE bytes: a longer one is
    already unreadable and only its end is kept, to find where it stops)."""

    def __init__(self) -> None:
        self._carry = b""
        self._long = False

    def feed(self, data: bytes) -> AccessCounts:
        if not data:
            return AccessCounts()
        cut = data.rfind(b"\n")
        if cut < 0:
            self._keep(self._carry + data)
            return AccessCounts()
        head, tail = data[: cut + 1], data[cut + 1 :]
        first = head.find(b"\n")
        counts = AccessCounts()
        if self._long:  # the carried line is already too long: its end is unreadable
            counts = AccessCounts(unreadable=1)
            head = head[first + 1 :]
        elif self._carry:
            line = self._carry + head[: first + 1]
            counts = count_lines(line)
            head = head[first + 1 :]
        self._carry, self._long = b"", False
        counts += count_lines(head)
        self._keep(tail)
        return counts

    def _keep(self, rest: bytes) -> None:
        if len(rest) > MAX_LINE or self._long:
            self._long = True
            self._carry = b""
        else:
            self._carry = rest

    def reset(self) -> None:
        """Forget an unfinished line (the file changed under the reader)."""
        self._carry, self._long = b"", False
