"""Counting newlines and finding needles: the compiled helper when it was built, else CPython.

Exact line numbers need every newline of a log counted. CPython's `bytes.count(b"\\n")` is an
early-exit loop (1.3-2.5 GB/s here); `_lines.count_newlines` counts the same bytes with SIMD
compares (12 GB/s), which made scanning a busy catalina.out about a quarter faster on one core.
The helper is optional: without a C compiler the package still installs and the scanner uses
`bytes.count`, with the same results.
"""

from __future__ import annotations

import functools
from collections.abc import Callable


def python_count(buffer: bytes | bytearray, start: int, end: int) -> int:
    """The newlines in `buffer[start:end]` (slice bounds), counted by CPython."""
    return buffer.count(b"\n", start, end)


def _compiled() -> Callable[[bytes | bytearray, int, int], int] | None:
    try:
        from probes.logs._lines import count_newlines as compiled
    except ImportError:  # not built: no compiler where the package was installed
        return None
    return compiled


count_newlines: Callable[[bytes | bytearray, int, int], int] = _compiled() or python_count
"""The newlines in `buffer[start:end]` (slice bounds)."""

ACCELERATED = count_newlines is not python_count
"""Whether the compiled count is in use."""


FindAny = Callable[[bytes | bytearray, int, int, bytes], tuple[int, int]]


def _compiled_find() -> FindAny | None:
    try:
        from probes.logs._lines import find_any as compiled
    except ImportError:  # not built, or built before find_any existed
        return None
    return compiled


find_any: FindAny | None = _compiled_find()
"""`find_any(buffer, start, end, spec)`: (position, index) of the first of several needles in
`buffer[start:end]`, in one pass; (-1, -1) when none occurs. None when the helper is absent:
then each needle is searched with `bytes.find` (`probes.logs.needles.Search`)."""

_COMMON = b' etoar02-.i1nscp:lm8h,"634d5u79xgv[]NyS\nIFOkCb{}qEfAP=DLR/wGT()?BU'
"""Bytes of Tomcat, WSO2 and Hazelcast logs, commonest first (counted over the benchmark's logs
and the test corpus); a guard made of them would hit almost everywhere."""


def _commonness(byte: int) -> int:
    """How common a byte is in logs: higher for commoner bytes, 0 for those not in `_COMMON`."""
    index = _COMMON.find(bytes([byte]))
    return len(_COMMON) - index if index >= 0 else 0


MAX_NEEDLES = 64
"""Needles `find_any` takes at most (the scanner searches about ten)."""


@functools.lru_cache(maxsize=256)
def needle_spec(needles: tuple[bytes, ...]) -> bytes:
    """The `find_any` spec of `needles`: for each, the offset and width of its guard (its rarest
    byte pair, or the byte itself for a one-byte needle), its length, then the needle.
    Remembered: every part of a big file builds its searches again (choosing the guards of a
    busy log's needles every time cost 0.05 s of the parent's 500 MB)."""
    if len(needles) > MAX_NEEDLES:
        raise ValueError(f"{len(needles)} needles, at most {MAX_NEEDLES}")
    spec = bytearray()
    for needle in needles:
        if not 1 <= len(needle) <= 255:
            raise ValueError(f"needle of {len(needle)} bytes")
        if len(needle) == 1:
            offset, width = 0, 1
        else:
            pairs = range(len(needle) - 1)
            offset = min(pairs, key=lambda k: _commonness(needle[k]) + _commonness(needle[k + 1]))
            width = 2
        spec += bytes([offset, width, len(needle)]) + needle
    return bytes(spec)


ErrorRecord = Callable[
    [bytes | bytearray, int, int, int, int],
    tuple[int, str, str, str, str, str, str | None, int] | None,
]


def _compiled_error_record() -> ErrorRecord | None:
    try:
        from probes.logs._lines import error_record as compiled
    except ImportError:  # not built, or built before error_record existed
        return None
    return compiled


error_record: ErrorRecord | None = _compiled_error_record()
"""`error_record(buffer, start, line_end, end, max_fold)`: a busy log's commonest record (a
OneLineFormatter SEVERE/ERROR line, or a log4j/logback ERROR line, and its complete stack trace)
read whole in C, as (layout: 1 OneLineFormatter, 2 log4j; its time in ISO 8601, level, source,
message, head line, trace or None, next line start); None for anything the C code does not read
exactly like the Python path, and when the helper is absent."""
