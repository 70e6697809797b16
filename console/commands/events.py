"""``clusterconsole events FILE...``: membership, lifecycle and error events in saved log files.

The JSON lines (``--json``) are a contract for scripts: one object per event with the keys
``file``, ``line``, ``time``, ``source``, ``kind``, ``member``, ``members``, ``text``, ``detail``
and ``node`` (the name given with ``--node NAME=FILE``, else null).
The table is for people; log text is untrusted and printed with control characters escaped.
A file that cannot be read is reported in one sentence and the others are still scanned.

``--kind K[,K...]`` reports only those kinds, and the needles that can only find other kinds are
not searched at all; ``--since``/``--until`` keep the events logged in that window (ISO 8601, as
precise as wanted: ``2026-11-22``, ``2026-11-22T10:15``; both ends included at the precision
given; an event whose record has no date is left out of a window).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO, cast, get_args

from console import exitcodes
from console.commands.output import GuardedOutput
from console.textsafe import printable
from probes.logs import jsonl
from probes.logs.model import EventKind, LogEvent
from probes.logs.parallel import MIN_SIZE, iter_file_parallel, iter_items_parallel
from probes.logs.records import parse
from probes.logs.scanner import scan_file, scan_items

PROG = "clusterconsole: events"
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WHERE, _TIME, _SOURCE, _KIND, _MEMBER = 32, 19, 9, 25, 21
KINDS: tuple[str, ...] = get_args(EventKind)
_ISO_BOUND = re.compile(r"^\d{4}-\d\d-\d\d(?:[T ]\d\d(?::\d\d(?::\d\d(?:[.,]\d{1,9})?)?)?)?$")


class UsageError(ValueError):
    """An option the command cannot use; the message says which and why."""


def parse_kinds(values: Iterable[str] | None) -> frozenset[str] | None:
    """`--kind` values (each may hold several, comma-separated) as a set; None: every kind."""
    if not values:
        return None
    kinds = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(kinds - set(KINDS))
    if unknown or not kinds:
        raise UsageError(
            f"--kind: unknown kind {', '.join(unknown) or '(none)'}; kinds: {', '.join(KINDS)}"
        )
    return frozenset(kinds)


def parse_time(option: str, value: str | None) -> str | None:
    """A `--since`/`--until` bound as the ISO 8601 prefix events' times are compared with."""
    if value is None:
        return None
    text = value.strip()
    if not _ISO_BOUND.match(text):
        raise UsageError(
            f"{option}: {_safe(value)!r} is not a time; use ISO 8601 such as 2026-11-22 or "
            "2026-11-22T10:15:00"
        )
    return text.replace(" ", "T").replace(",", ".")


def parse_nodes(values: Sequence[str]) -> list[tuple[str, str]]:
    """`--node NAME=FILE` values as (name, file) pairs."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name.strip() or not path:
            raise UsageError(f"--node: {_safe(value)!r} should be NAME=FILE")
        pairs.append((name.strip(), path))
    return pairs


def _window(events: Iterable[LogEvent], since: str | None, until: str | None) -> Iterator[LogEvent]:
    """The events logged between `since` and `until` (prefixes: both ends included)."""
    for event in events:
        time = event.time
        if time is None:
            continue
        if since is not None and time < since:
            continue
        if until is not None and time[: len(until)] > until:
            continue
        yield event


def _safe(text: str) -> str:
    """Text that cannot drive the terminal: control and bidi-override characters escaped."""
    return _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", printable(text))


def _events(path: str, kinds: frozenset[str] | None = None) -> Iterable[LogEvent]:
    """The file's events (of `kinds`; None: all); big files are scanned on several cores.
    Raises OSError, also for what is not a regular file: a FIFO, /dev/zero or /dev/urandom
    would never end."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
        raise OSError(errno.EINVAL, "not a regular file")
    if stat.S_ISREG(info.st_mode) and info.st_size >= MIN_SIZE:
        return iter_file_parallel(path, kinds=kinds)
    return scan_file(path, kinds=kinds)


def _json(name: str, event: LogEvent, node: str | None = None) -> str:
    """One event as a JSON line (with its newline)."""
    return jsonl.line(name, event, node)


def _json_items(
    path: str, name: str, node: str | None, kinds: frozenset[str] | None
) -> Iterable[bytes | str]:
    """The file's events as JSON lines; a busy log's errors come written by the compiled
    helper, many lines at a time, as UTF-8 bytes (the same text `_json` writes for them)."""
    frame = jsonl.frame(name, node)
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
        raise OSError(errno.EINVAL, "not a regular file")
    if stat.S_ISREG(info.st_mode) and info.st_size >= MIN_SIZE:
        items = iter_items_parallel(path, kinds=kinds, json=frame)
    else:
        items = scan_items(path, kinds=kinds, json=frame)
    for item in items:
        yield item if type(item) is bytes else _json(name, cast(LogEvent, item), node)


def _member_cell(event: LogEvent) -> str:
    if event.kind == "membership":
        count = len(event.members)
        return f"{count} member" + ("" if count == 1 else "s")
    return event.member or "-"


def _kind_cell(event: LogEvent) -> str:
    if event.detail and event.kind in ("member-left", "session-sync"):
        return f"{event.kind} ({event.detail})"
    return event.kind


def _message(event: LogEvent) -> str:
    """What the record says, without the timestamp and logger the other columns already show."""
    if event.kind == "membership":
        return ", ".join(event.members)
    lines = event.text.split("\n")
    record = parse(lines[0])
    if record.awaits_message and len(lines) > 1:
        record = parse(lines[1])
    return (record.message.strip() or lines[0]).replace("\t", " ")


def _isatty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


class _Table:
    """Rows written as they come, in fixed columns, each cut to the terminal width."""

    def __init__(self, out: TextIO, width: int) -> None:
        self._out = out
        self._width = max(40, width)
        self.rows = 0

    def row(self, name: str, event: LogEvent, node: str | None = None) -> None:
        where = _safe(f"{node}:{event.line}" if node else f"{name}:{event.line}")
        if len(where) > _WHERE:
            where = "…" + where[1 - _WHERE :]
        if not self.rows:
            self._write("FILE:LINE", "TIME", "SOURCE", "KIND", "MEMBER", "TEXT", len(where))
        self.rows += 1
        time = (event.time or "-")[:19].replace("T", " ")
        cells = (_safe(time), event.source, _kind_cell(event), _safe(_member_cell(event)))
        self._write(where, *cells, _safe(_message(event)), len(where))

    def _write(
        self, where: str, time: str, source: str, kind: str, member: str, text: str, span: int
    ) -> None:
        span = max(span, 16)
        head = (
            f"{where:<{span}}  {_cut(time, _TIME):<{_TIME}}  {_cut(source, _SOURCE):<{_SOURCE}}  "
            f"{_cut(kind, _KIND):<{_KIND}}  {_cut(member, _MEMBER):<{_MEMBER}}  "
        )
        line = head + _cut(text, max(10, self._width - len(head)))
        self._out.write(_cut(line, self._width) + "\n")


def run(
    files: Sequence[str],
    *,
    as_json: bool,
    out: TextIO,
    err: TextIO,
    width: int | None = None,
    kinds: Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    nodes: Sequence[str] = (),
) -> int:
    """Print the events of each file (then of each `NAME=FILE` in `nodes`); 0 when every file
    was read, 2 when one could not be or an option is wrong (then nothing is scanned).

    Output that cannot be written (a closed pipe) raises `OutputClosed`, never OSError: only a
    file that cannot be read is blamed on the file."""
    try:
        wanted = parse_kinds(kinds)
        low, high = parse_time("--since", since), parse_time("--until", until)
        sources = [(None, name) for name in files] + parse_nodes(nodes)
    except UsageError as exc:
        err.write(f"{PROG}: {exc}\n")
        return exitcodes.USAGE
    if not sources:
        err.write(f"{PROG}: name at least one FILE or --node NAME=FILE\n")
        return exitcodes.USAGE
    out = GuardedOutput.wrap(out, stop=True)
    status = exitcodes.OK
    if width is None:
        # On a terminal rows fit its width; into a pipe or a file they are written whole.
        if _isatty(out):
            import shutil  # only a terminal needs it: a pipe skips the import

            width = shutil.get_terminal_size((120, 24)).columns
        else:
            width = 1 << 20
    table = None if as_json else _Table(out, width)
    read = 0
    """Files read to their end: "no events found" is said only about those."""
    for node, name in sources:
        try:
            if table is None and low is None and high is None:
                guarded = cast(GuardedOutput, out)
                for text in _json_items(name, name, node, wanted):
                    if type(text) is bytes:
                        guarded.write_utf8(text)
                    else:
                        out.write(cast(str, text))
                read += 1
                continue
            events = _events(name, wanted)
            if low is not None or high is not None:
                events = _window(events, low, high)
            for event in events:
                if table is None:
                    out.write(_json(name, event, node))
                else:
                    table.row(name, event, node)
            read += 1
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            err.write(f"{PROG}: {_safe(name)}: {_safe(reason)}\n")
            status = exitcodes.USAGE
    if table is not None and not table.rows and read:
        out.write("no events found\n" if read == len(sources) else "no events found in the rest\n")
    return status
