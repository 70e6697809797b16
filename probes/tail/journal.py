"""Following a systemd unit's journal over SSH: the journalctl command and a decoder of its JSON.

Debian's tomcat10 logs to the journal. `journalctl -o json` gives one entry per line with its
`__CURSOR`, so a follower that lost its connection resumes with `--after-cursor` and neither loses
nor repeats an entry.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass


class JournalError(ValueError):
    """journalctl wrote something that is not one JSON entry per line."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journal record: its cursor and its MESSAGE as bytes (without a trailing newline)."""

    cursor: str
    message: bytes


def journal_command(
    unit: str, *, cursor: str | None, from_start: bool, journalctl: str = "journalctl"
) -> str:
    """The remote command following `unit`: after `cursor` if known, else from the start or end."""
    words = [journalctl, "-u", unit, "-f", "-o", "json", "--no-pager", "-q"]
    if cursor is not None:
        words += [f"--after-cursor={cursor}", "--no-tail"]
    elif from_start:
        words.append("--no-tail")
    else:
        words += ["-n", "0"]
    return "exec " + " ".join(shlex.quote(word) for word in words)


def journal_history_command(unit: str, entries: int, journalctl: str = "journalctl") -> str:
    """The remote command printing the unit's last `entries` journal entries (no follow)."""
    words = [journalctl, "-u", unit, "-o", "json", "--no-pager", "-q", "-n", str(entries)]
    return " ".join(shlex.quote(word) for word in words)


def _message(value: object) -> bytes:
    """MESSAGE is a string, a list of byte values (not valid UTF-8), or null."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, list) and all(isinstance(b, int) and 0 <= b < 256 for b in value):
        return bytes(value)
    return b""


class JournalDecoder:
    """Splits journalctl's stdout into entries; holds at most one incomplete line."""

    def __init__(self, max_line: int) -> None:
        self._max_line = max_line
        self._partial = bytearray()

    def feed(self, data: bytes) -> list[JournalEntry]:
        """Parse `data`; return the entries it completes. Raises JournalError on foreign text."""
        if b"\n" not in data:
            self._partial += data
            if len(self._partial) > self._max_line:
                raise JournalError(f"journal line over {self._max_line} bytes")
            return []
        lines = data.split(b"\n")
        if self._partial:
            lines[0] = bytes(self._partial) + lines[0]
            self._partial.clear()
        self._partial += lines.pop()
        return [self._entry(line) for line in lines if line.strip()]

    def _entry(self, line: bytes) -> JournalEntry:
        if len(line) > self._max_line:
            raise JournalError(f"journal line over {self._max_line} bytes")
        try:
            record = json.loads(line)
        except ValueError:
            raise JournalError(
                f"journalctl wrote something that is not JSON: {line[:80]!r}"
            ) from None
        if not isinstance(record, dict) or not isinstance(record.get("__CURSOR"), str):
            raise JournalError(f"journal entry without a cursor: {line[:80]!r}")
        return JournalEntry(record["__CURSOR"], _message(record.get("MESSAGE")))
