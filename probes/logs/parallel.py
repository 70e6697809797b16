"""Scan one large file on several cores: cut it where no record can span the cut, merge in order.

A cut is placed between two consecutive one-line records (timestamped JUL, ISO, Carbon lines),
neither of them a Hazelcast header, so no stack trace, two-line JUL record or membership block
crosses it and each part scans exactly as it would in one pass. Part 0 is scanned here, the others
in forked workers; line numbers are shifted by the lines of the parts before. Used only where
forking is safe (a single-threaded process, a platform with fork) and the file is large.
"""

from __future__ import annotations

import os
import pickle
import re
import threading
from dataclasses import replace
from typing import BinaryIO

from probes.logs import hazelcast
from probes.logs.model import LogEvent
from probes.logs.needles import Probe
from probes.logs.scanner import SNIFF_LINES, EventScanner, scan_file

MIN_SIZE = 64 << 20
"""Files smaller than this are scanned in one pass: forking would cost more than it saves."""
WINDOW = 256 << 10
"""How far after a nominal cut point a safe cut is looked for."""

_RECORD_START = re.compile(
    rb"^(?:\d{1,2}-[A-Za-z]{3}-\d{4} \d|\d{4}-\d\d-\d\d[ T]\d|\[\d{4}-\d\d-\d\d \d|TID: \[)"
)


def _safe_cut(handle: BinaryIO, nominal: int, size: int) -> int | None:
    """A line start at or after `nominal` preceded by a complete one-line record, or None."""
    handle.seek(nominal)
    window: bytes = handle.read(min(WINDOW, size - nominal))
    lines = window.split(b"\n")[1:-1]  # the first piece may be a partial line, the last one too
    position = nominal + window.find(b"\n") + 1
    previous: bytes | None = None
    for line in lines:
        safe = previous is not None and _RECORD_START.match(previous) and _RECORD_START.match(line)
        if safe and previous and not hazelcast.is_header(previous.decode("utf-8", "replace")):
            return position
        previous = line
        position += len(line) + 1
    return None


def _probes_after_sniffing(path: str) -> tuple[Probe, ...] | None:
    """The probes a one-pass scan settles on after reading the stream's first lines."""
    scanner = EventScanner()
    with open(path, "rb") as handle:
        while scanner._sniffed < SNIFF_LINES:
            chunk = handle.read(64 << 10)
            if not chunk:
                return None
            scanner.feed(chunk)
    return scanner._probes


def _scan_range(
    path: str, start: int, end: int, probes: tuple[Probe, ...] | None
) -> tuple[list[LogEvent], int]:
    """The events of `path[start:end]` (lines numbered from 1) and its line count."""
    scanner = EventScanner()
    scanner.reset(start)
    if probes is not None:
        scanner._use_probes(probes)
    events: list[LogEvent] = []
    chunk = bytearray(1 << 20)
    view = memoryview(chunk)
    with open(path, "rb", buffering=0) as handle:
        handle.seek(start)
        left = end - start
        while left > 0:
            size = handle.readinto(view[: min(len(chunk), left)])
            if not size:
                break
            left -= size
            events.extend(scanner.feed_buffer(chunk, size))
    view.release()
    events.extend(scanner.close())
    return events, scanner.lines_seen


def _can_fork() -> bool:
    import multiprocessing

    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def _fork_scan(
    path: str, start: int, end: int, probes: tuple[Probe, ...] | None
) -> tuple[int, int]:
    """Scan a part in a forked child that pickles its result into a pipe: (pid, read end).

    A bare fork and a pipe cost a few milliseconds; a process pool costs tenths of a second.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: scan, report, leave without running any of the parent's cleanup
        status = 1
        try:
            os.close(read_end)
            data = pickle.dumps(_scan_range(path, start, end, probes), pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _collect(pid: int, pipe: int) -> tuple[list[LogEvent], int] | None:
    """A child's result, or None if it failed (the caller then scans that part itself)."""
    with os.fdopen(pipe, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    result: tuple[list[LogEvent], int] = pickle.loads(data)
    return result


def scan_file_parallel(path: str, workers: int | None = None) -> list[LogEvent]:
    """All events of a file, as `scan_file` finds them, using up to `workers` processes.

    Raises OSError for an unreadable file, like `scan_file`.
    """
    size = os.stat(path).st_size
    workers = workers or os.cpu_count() or 1
    if workers < 2 or size < MIN_SIZE or not _can_fork() or os.path.isdir(path):
        return list(scan_file(path))
    probes = _probes_after_sniffing(path)
    cuts = [0]
    with open(path, "rb") as handle:
        for part in range(1, workers):
            cut = _safe_cut(handle, size * part // workers, size)
            if cut is not None and cut > cuts[-1]:
                cuts.append(cut)
    cuts.append(size)
    if probes is None or len(cuts) < 3:
        return list(scan_file(path))
    children = [_fork_scan(path, cuts[i], cuts[i + 1], probes) for i in range(1, len(cuts) - 1)]
    results = [_scan_range(path, cuts[0], cuts[1], None)]
    for (pid, pipe), i in zip(children, range(1, len(cuts) - 1), strict=True):
        results.append(_collect(pid, pipe) or _scan_range(path, cuts[i], cuts[i + 1], probes))
    merged: list[LogEvent] = []
    before = 0
    for events, lines in results:
        merged.extend(replace(event, line=event.line + before) for event in events)
        before += lines
    return merged
