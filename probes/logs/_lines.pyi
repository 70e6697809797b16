from typing import Any

API: int

def count_newlines(buffer: bytes | bytearray | memoryview, start: int, end: int, /) -> int: ...
def find_any(
    buffer: bytes | bytearray, start: int, end: int, spec: bytes, /
) -> tuple[int, int]: ...
def error_record(
    buffer: bytes | bytearray, start: int, line_end: int, end: int, max_fold: int, /
) -> tuple[int, str, str, str, str, str, str | None, int] | None: ...
def json_errors(
    buffer: bytes | bytearray,
    pos: int,
    end: int,
    tables: tuple[
        bytes, tuple[tuple[int, int, bytes | tuple[bytes, ...]], ...], bytes, tuple[bytes, ...]
    ],
    misses: list[int],
    config: tuple[int, int, int, dict[bytes, tuple[bytes, bytes] | None], bytes, bytes],
    cpos: int,
    cline: int,
    out: list[Any],
    /,
) -> tuple[int, int, int, int]: ...
def rebase(lines: bytes, prefix_len: int, add: int, /) -> bytes: ...
