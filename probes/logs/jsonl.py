"""Events as the JSON lines of `clusterconsole events --json`, and the parts of those lines the
compiled helper writes itself.

`line` is the one encoding of an event. A busy log's errors are written by `_lines.json_errors`
from the same parts, built here with the same encoder: the frame (everything before the line
number, and the node at the end) and, per error logger, the fields a draft decides. The output
is byte for byte what `line` writes (tests/unit/test_log_json.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

from probes.logs.draft import Draft
from probes.logs.model import LogEvent

_ENCODER = json.JSONEncoder(ensure_ascii=False)
"""`json.dumps(..., ensure_ascii=False)` without building an encoder for every event; used only
for what orjson refuses (a file name that is not UTF-8, carried as surrogates)."""
_CATALINA = ("org.apache.catalina.", "o.a.c.", "o.apache.catalina.")
_READS_MESSAGE = frozenset({"SimpleTcpCluster", "TcpFailureDetector", "DeltaManager"})

Frame = tuple[bytes, bytes]
"""A file's JSON line before its number (`{"schema_version":1,"file":...,"line":`) and after
the detail (`,"node":...}` and the newline)."""
Drafts = dict[bytes, tuple[bytes, bytes] | None]
"""Per error key (`key`): the encoded `source`..`members` fields and the `detail` field."""


def line(name: str, event: LogEvent, node: str | None = None) -> str:
    """One event as a JSON line (with its newline).

    orjson encodes an event in ~1.3 µs where the standard library takes ~8.7 µs (a busy log's
    events average 325 characters of folded stack trace)."""
    row = {
        "schema_version": 1,  # console/schemas/events.schema.json
        "file": name,
        "line": event.line,
        "time": event.time,
        "source": event.source,
        "kind": event.kind,
        "member": event.member,
        "members": event.members,
        "text": event.text,
        "detail": event.detail,
        "node": node,
    }
    try:
        return orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE).decode()
    except TypeError:  # surrogates (a non-UTF-8 file name): the standard encoder escapes them
        row["members"] = list(event.members)
        return _ENCODER.encode(row) + "\n"


def frame(name: str, node: str | None) -> Frame | None:
    """The frame of `name`'s lines; None when orjson cannot encode the name (then every line
    takes `line`'s standard-library road, spaced differently)."""
    try:
        head = orjson.dumps({"schema_version": 1, "file": name})
        tail = orjson.dumps({"node": node})
    except TypeError:
        return None
    return head[:-1] + b',"line":', b"," + tail[1:] + b"\n"


def key(layout: int, level: str, source: str) -> bytes:
    """What `_lines.json_errors` looks an error record up by: layout, level and source."""
    return bytes((48 + layout,)) + level.encode() + b" " + source.encode()


def message_free(layout: int, source: str) -> bool:
    """Whether `classify` decides an error record of this layout and source without its message
    (when no cluster rule's word is in it): every logger but Tomcat's few that read theirs."""
    if layout == 1:
        logger = source.rpartition(".")[0]
        if not logger.startswith(_CATALINA):
            return True
        cls = logger.rpartition(".")[2]
        return cls not in _READS_MESSAGE and not logger.endswith("ha.session")
    return not source.startswith(_CATALINA)  # log4j: Tomcat's logger then reads the message


def fragments(draft: Draft) -> tuple[bytes, bytes]:
    """The fields of a line that come from the draft, encoded as `line` encodes them."""
    middle = orjson.dumps(
        {
            "source": draft.source,
            "kind": draft.kind,
            "member": draft.member,
            "members": draft.members,
        }
    )
    return middle[1:-1], orjson.dumps({"detail": draft.detail})[1:-1]


JsonErrors = Callable[
    [
        bytes | bytearray,
        int,
        int,
        tuple[
            bytes, tuple[tuple[int, int, bytes | tuple[bytes, ...]], ...], bytes, tuple[bytes, ...]
        ],
        list[int],
        tuple[int, int, int, Drafts, bytes, bytes],
        int,
        int,
        list[Any],
    ],
    tuple[int, int, int, int],
]
"""`out`, the last argument: a list, to which the JSON lines written are appended as one bytes
object (a scanner's own list of events: no copy)."""


def _compiled() -> tuple[JsonErrors, Callable[[bytes, int, int], bytes]] | None:
    try:
        from probes.logs import _lines
    except ImportError:  # not built
        return None
    if getattr(_lines, "API", 1) < 2:  # built before json_errors took a list: not used
        return None
    return _lines.json_errors, _lines.rebase


_HELPER = _compiled()
json_errors: JsonErrors | None = _HELPER[0] if _HELPER else None
"""`json_errors(buffer, pos, end, tables, misses, config, cpos, cline, out)`: see _scan.c."""
AVAILABLE = _HELPER is not None
"""Whether the compiled helper writes JSON lines (else every event is encoded by `line`)."""


def rebase(lines: bytes, prefix: int, add: int) -> bytes:
    """JSON lines written with `prefix` bytes before each number, `add` lines further down."""
    if _HELPER is None:  # pragma: no cover - bytes come only from the helper
        raise RuntimeError("the compiled helper is not built")
    return _HELPER[1](lines, prefix, add)
