"""Scan one large file on several cores: cut it where no record can span the cut, merge in order.

A cut is placed between two consecutive one-line records (timestamped JUL, ISO, Carbon lines),
neither of them a Hazelcast header, so no stack trace, two-line JUL record or membership block
crosses it and each part scans exactly as it would in one pass. The file is cut in many parts that
this process and forked workers claim one at a time from a shared pipe, so a process that runs
slower (a busy core, a colder cache) simply scans fewer parts. Line numbers are shifted by the
lines of the parts before. Used only where forking is safe (a single-threaded process, a platform
with fork) and the file is large.
"""

from __future__ import annotations

import _thread
import itertools
import marshal
import os
import re
from collections.abc import Iterator
from typing import Any, BinaryIO, cast

from probes.logs import hazelcast, jsonl
from probes.logs.departures import Departures
from probes.logs.model import LogEvent
from probes.logs.needles import ALL_KINDS, Probe, searched_kinds
from probes.logs.scanner import SNIFF_LINES, EventScanner, scan_items

MIN_SIZE = 64 << 20
"""Files smaller than this are scanned in one pass: forking would cost more than it saves."""
WINDOW = 256 << 10
"""How far after a nominal cut point a safe cut is looked for."""
CHUNK = 1 << 20
"""Bytes read at a time into one reused buffer."""
PARTS_PER_WORKER = 12
"""Parts per process: more parts even out the finish (a part is ~0.05 s of work in a 500 MB
file) at a small cost per part."""
MIN_PART = 2 * WINDOW
PIPE_SIZE = 1 << 20
"""Bytes a worker's result pipe holds (Linux's default ceiling for unprivileged processes)."""

_RECORD_START = re.compile(
    rb"^(?:\d{1,2}-[A-Za-z]{3}-\d{4} \d|\d{4}-\d\d-\d\d[ T]\d|\[\d{4}-\d\d-\d\d \d|TID: \[)"
)

Part = tuple[int, int]
"""A part of the file: start and end byte offsets."""
Item = LogEvent | bytes
"""An event, or JSON lines of errors the compiled helper wrote (with a JSON frame only)."""
Result = tuple[list[Item], list[Any], int]
"""A scanned part, lines counted from 1: its events scanned here, or the rows of the events a
worker found (marshalled tuples of their fields, and bytes of JSON lines as they are), and its
line count."""


def _safe_cut(handle: BinaryIO, nominal: int, size: int) -> int | None:
    """A line start at or after `nominal` preceded by a complete one-line record, or None.

    A small window is tried first: the first safe cut is almost always within a few lines.
    """
    for span in (16 << 10, WINDOW):
        handle.seek(nominal)
        window: bytes = handle.read(min(span, size - nominal))
        lines = window.split(b"\n")[1:-1]  # the first piece may be a partial line, the last too
        position = nominal + window.find(b"\n") + 1
        previous: bytes | None = None
        for line in lines:
            safe = previous and _RECORD_START.match(previous) and _RECORD_START.match(line)
            if safe and previous and not hazelcast.is_header(previous.decode("utf-8", "replace")):
                return position
            previous = line
            position += len(line) + 1
        if len(window) < span:
            break
    return None


def _parts(path: str, size: int, workers: int) -> list[Part]:
    """The file cut at safe points into about `workers * PARTS_PER_WORKER` parts, in order."""
    step = max(MIN_PART, size // min(255, workers * PARTS_PER_WORKER))
    cuts = [0]
    with open(path, "rb") as handle:
        for nominal in range(step, size - step // 2, step):
            cut = _safe_cut(handle, nominal, size)
            if cut is not None and cut > cuts[-1] and cut < size:
                cuts.append(cut)
    cuts.append(size)
    return list(itertools.pairwise(cuts))  # at most 256: a claim is one byte


def _probes_after_sniffing(path: str, kinds: frozenset[str] | None) -> tuple[Probe, ...] | None:
    """The probes a one-pass scan settles on after reading the stream's first lines."""
    scanner = EventScanner(kinds=kinds)
    with open(path, "rb") as handle:
        while scanner._sniffed < SNIFF_LINES:
            chunk = handle.read(64 << 10)
            if not chunk:
                return None
            scanner.feed(chunk)
    return scanner._probes


def _batches(scanner: EventScanner, path: str, start: int, end: int) -> Iterator[list[Item]]:
    """The events of `path[start:end]`, chunk by chunk, as `scanner` finds them.

    Each chunk is cut after its last newline and the partial line moved to the front of the
    buffer for the next read, so the scanner never has to join a line across two chunks.
    """
    chunk = bytearray(CHUNK)
    view = memoryview(chunk)
    try:
        with open(path, "rb", buffering=0) as handle:
            handle.seek(start)
            left, keep = end - start, 0
            while left > 0:
                size = handle.readinto(view[keep : min(len(chunk), keep + left)])
                if not size:
                    break
                left -= size
                filled = keep + size
                cut = chunk.rfind(b"\n", 0, filled) + 1 if left > 0 else filled
                cut = cut or filled  # a line longer than the buffer: the scanner carries it
                yield scanner.feed_items(chunk, cut)
                keep = filled - cut
                chunk[:keep] = bytes(view[cut:filled])  # a copy: the ranges may overlap
            if keep:
                yield scanner.feed_items(chunk, keep)
    finally:
        view.release()
    yield scanner.close_items()


def _part_scanner(
    start: int,
    probes: tuple[Probe, ...] | None,
    kinds: frozenset[str] | None,
    json: jsonl.Frame | None = None,
) -> EventScanner:
    """A scanner for a part starting at byte `start` (lines numbered from 1); the first part
    (no `probes`) sniffs the stream's first lines like a one-pass scan."""
    scanner = EventScanner(kinds=kinds, json=json)
    scanner.reset(start)
    if probes is not None:
        scanner._use_probes(probes)
    return scanner


def _scan_range(
    path: str,
    start: int,
    end: int,
    probes: tuple[Probe, ...] | None,
    kinds: frozenset[str] | None,
    json: jsonl.Frame | None,
) -> tuple[list[Item], int]:
    """The events of `path[start:end]` (lines numbered from 1) and its line count."""
    scanner = _part_scanner(start, probes, kinds, json)
    events = [event for batch in _batches(scanner, path, start, end) for event in batch]
    return events, scanner.lines_seen


def _shifted(e: LogEvent, lines: int) -> LogEvent:
    """The event `lines` lines further down (`dataclasses.replace` costs ~3 times as much)."""
    return LogEvent(
        e.kind,
        e.source,
        e.line + lines,
        e.offset,
        e.time,
        e.member,
        e.members,
        e.text,
        e.detail,
        e.observer,
    )


def _moved(item: Item | tuple[Any, ...], lines: int, prefix: int) -> Item:
    """An event, a row or JSON lines `lines` lines further down."""
    if type(item) is bytes:
        return jsonl.rebase(item, prefix, lines) if lines else item
    if type(item) is tuple:
        return LogEvent(item[0], item[1], item[2] + lines, *item[3:])
    assert isinstance(item, LogEvent)
    return _shifted(item, lines)


def _can_fork() -> bool:
    """Forking is safe only where the platform has it and no other thread holds a lock."""
    return hasattr(os, "fork") and _thread._count() == 0


def _claim(claims: int) -> int | None:
    """The next unclaimed part, or None when all are taken (a one-byte pipe read is atomic)."""
    byte = os.read(claims, 1)
    return byte[0] if byte else None


def _row(e: Item) -> tuple[Any, ...] | bytes:
    """An event's fields, in `LogEvent` order, as marshal can carry them (JSON lines as they
    are: a busy log's errors cross the pipe as the bytes that will be written)."""
    if type(e) is bytes:
        return e
    assert isinstance(e, LogEvent)
    return (
        e.kind,
        e.source,
        e.line,
        e.offset,
        e.time,
        e.member,
        e.members,
        e.text,
        e.detail,
        e.observer,
    )


def _worker(
    path: str,
    parts: list[Part],
    probes: tuple[Probe, ...],
    kinds: frozenset[str] | None,
    claims: int,
    out: int,
    json: jsonl.Frame | None,
) -> None:
    """A forked worker: scan parts as long as there are any, one marshalled message per part.

    The events travel as plain tuples: marshal is several times faster than pickling objects.
    """
    with os.fdopen(out, "wb") as sink:
        while (index := _claim(claims)) is not None:
            start, end = parts[index]
            first = index == 0
            events, lines = _scan_range(path, start, end, None if first else probes, kinds, json)
            message = marshal.dumps((index, lines, [_row(event) for event in events]))
            sink.write(len(message).to_bytes(8, "little"))
            sink.write(message)  # not joined to its length: a busy part's message is ~5 MB
            sink.flush()


def _widen(pipe: int) -> None:
    """Give a result pipe room for several parts' results (Linux; elsewhere it stays as is).

    A part of a busy log carries ~80 KB of marshalled events, more than a pipe's default 64 KB:
    the worker then blocked on each write until the parent, busy scanning a part of its own,
    read it, and sat idle about a third of the time.
    """
    try:
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except (ImportError, AttributeError, OSError):
        pass


def _fork_worker(
    path: str,
    parts: list[Part],
    probes: tuple[Probe, ...],
    kinds: frozenset[str] | None,
    claims: int,
    json: jsonl.Frame | None,
) -> Worker:
    """Start a worker process; a bare fork and a pipe cost a few milliseconds, a pool tenths of
    a second."""
    read_end, write_end = os.pipe()
    _widen(write_end)
    pid = os.fork()
    if pid == 0:  # the child: scan, report, leave without running any of the parent's cleanup
        status = 1
        try:
            os.close(read_end)
            _worker(path, parts, probes, kinds, claims, write_end, json)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return Worker(pid, read_end)


class Worker:
    """The parent's side of a forked worker: its pid and the pipe its results come through."""

    def __init__(self, pid: int, pipe: int) -> None:
        self.pid = pid
        self.pipe = pipe
        self.open = True
        self._buffer = bytearray()
        os.set_blocking(pipe, False)

    def receive(self, results: dict[int, Result], *, wait: bool) -> None:
        """Read the part results that arrived (with `wait`, all of them, until the worker ends)."""
        if not self.open:
            return
        if wait:
            os.set_blocking(self.pipe, True)
        while True:
            try:
                data = os.read(self.pipe, 1 << 20)
            except BlockingIOError:
                break
            if not data:
                self.close()
                break
            self._buffer += data
        while len(self._buffer) >= 8:
            size = int.from_bytes(self._buffer[:8], "little")
            if len(self._buffer) < 8 + size:
                break
            with memoryview(self._buffer) as view:  # no copy of the message
                index, lines, rows = marshal.loads(view[8 : 8 + size])
            del self._buffer[: 8 + size]
            results[index] = ([], rows, lines)

    def close(self, *, kill: bool = False) -> None:
        """Close the pipe and reap the process (killed first when its results are not wanted)."""
        if self.open:
            self.open = False
            os.close(self.pipe)
            if kill:
                import signal

                os.kill(self.pid, signal.SIGKILL)  # not reaped yet: the pid is still this child
            os.waitpid(self.pid, 0)


def _scan_here(
    path: str,
    part: Part,
    probes: tuple[Probe, ...],
    kinds: frozenset[str] | None,
    json: jsonl.Frame | None,
    children: list[Worker],
    results: dict[int, Result],
) -> Result:
    """A part scanned in this process; the workers' pipes are emptied after every chunk.

    A busy log's part carries ~5 MB of JSON lines, five times what a pipe holds: a worker
    writing them blocked until this process had scanned its own whole part, and sat idle
    half the time (the parent did 69 % of the CPU work)."""
    scanner = _part_scanner(part[0], probes, kinds, json)
    events: list[Item] = []
    for batch in _batches(scanner, path, *part):
        events.extend(batch)
        for child in children:
            child.receive(results, wait=False)
    return events, [], scanner.lines_seen


def _merged(
    path: str,
    parts: list[Part],
    probes: tuple[Probe, ...],
    kinds: frozenset[str] | None,
    workers: int,
    json: jsonl.Frame | None,
) -> Iterator[Item]:
    """Events of all parts in order; part 0 streams from here while the workers start."""
    claims, feed = os.pipe()
    os.write(feed, bytes(range(1, len(parts))))  # at most 255 bytes: fits in the pipe buffer
    os.close(feed)
    children = [_fork_worker(path, parts, probes, kinds, claims, json) for _ in range(workers - 1)]
    prefix = len(json[0]) if json else 0
    results: dict[int, Result] = {}
    try:
        scanner = _part_scanner(0, None, kinds, json)
        for batch in _batches(scanner, path, *parts[0]):
            yield from batch
            for child in children:
                child.receive(results, wait=False)
        before, ready = scanner.lines_seen, 1
        while True:
            index = _claim(claims)
            for child in children:
                child.receive(results, wait=index is None)
            missing = [index] if index is not None else []
            if index is None:  # every part is claimed and every worker done: any part lost?
                missing = [part for part in range(ready, len(parts)) if part not in results]
            for part in missing:
                here = _scan_here(path, parts[part], probes, kinds, json, children, results)
                results[part] = here
            while ready in results:
                events, rows, lines = results.pop(ready)
                yield from (_moved(item, before, prefix) for item in events)
                yield from (_moved(row, before, prefix) for row in rows)
                before += lines
                ready += 1
            if index is None:
                break
    finally:
        os.close(claims)
        for child in children:
            child.close(kill=True)


def iter_file_parallel(
    path: str, workers: int | None = None, kinds: frozenset[str] | None = None
) -> Iterator[LogEvent]:
    """All events of a file; see `iter_items_parallel`."""
    return cast(Iterator[LogEvent], iter_items_parallel(path, workers, kinds))  # no frame


def iter_items_parallel(
    path: str,
    workers: int | None = None,
    kinds: frozenset[str] | None = None,
    json: jsonl.Frame | None = None,
) -> Iterator[Item]:
    """All events of a file (of `kinds`, None: all), as `scan_file` finds them, using up to
    `workers` processes.

    Events come while later parts are still being scanned. Raises OSError (at the call) for an
    unreadable file, like `scan_file`. With `json`, a busy log's errors come as bytes of
    JSON lines in that frame (see `EventScanner`), in order among the other events.
    """
    size = os.stat(path).st_size
    workers = workers or os.cpu_count() or 1
    if workers < 2 or size < MIN_SIZE or not _can_fork() or os.path.isdir(path):
        return scan_items(path, kinds=kinds, json=json)
    searched = searched_kinds(kinds)  # the parts report what departures need; kinds cut last
    probes = _probes_after_sniffing(path, searched)
    parts = _parts(path, size, workers)
    if probes is None or len(parts) < 2:
        return scan_items(path, kinds=kinds, json=json)
    return _one_per_departure(_merged(path, parts, probes, searched, workers, json), kinds)


def _one_per_departure(events: Iterator[Item], kinds: frozenset[str] | None) -> Iterator[Item]:
    """Each part drops the departures it repeats; this drops those repeated across parts, then
    the kinds not asked for.

    The generator it returns is lazy like `_merged`: an unreadable file still raises at the
    `iter_file_parallel` call (the stat), as documented."""
    keep = Departures().keep
    if kinds is None or kinds >= ALL_KINDS:
        return (e for e in events if type(e) is bytes or keep(cast(LogEvent, e)))
    return (
        e
        for e in events
        if type(e) is bytes or (keep(cast(LogEvent, e)) and cast(LogEvent, e).kind in kinds)
    )


def scan_file_parallel(
    path: str, workers: int | None = None, kinds: frozenset[str] | None = None
) -> list[LogEvent]:
    """All events of a file in a list; see `iter_file_parallel`."""
    return list(iter_file_parallel(path, workers, kinds))
