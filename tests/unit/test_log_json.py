"""The JSON lines the compiled helper writes (`_lines.json_errors`) are byte for byte those of
the Python path: every event scanned into an object and encoded by `jsonl.line`.

The same material as tests/unit/test_log_fast.py (corpus, generated calm and busy logs, the live
error storm, fuzzed error records with everything the C path must refuse), in several chunk
sizes, with file and node names that need escaping, and through the parallel scan whose workers
hand JSON lines over as bytes (line numbers moved on by `rebase`).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from probes.logs import jsonl, lines, parallel
from probes.logs.model import LogEvent
from probes.logs.scanner import EventScanner, scan_file
from tests.bench.events_scan import generate
from tests.bench.sim_ssh import tomcat_lines
from tests.unit.test_log_fast import CHUNKS, DATA, _fuzzed

needs_helper = pytest.mark.skipif(
    not jsonl.AVAILABLE or lines.error_record is None, reason="the C helper is not built"
)
NAME, NODE = 'logs/"node 1"\\catalina.out', "nœud-1"


def _python(data: bytes, chunk: int, name: str, node: str | None, **options: object) -> str:
    scanner = EventScanner(**options)  # type: ignore[arg-type]
    events: list[LogEvent] = []
    for at in range(0, len(data), chunk):
        events += scanner.feed(data[at : at + chunk])
    events += scanner.close()
    return "".join(jsonl.line(name, event, node) for event in events)


def _helper(
    data: bytes, chunk: int, name: str, node: str | None, **options: object
) -> tuple[str, int]:
    """The JSON text and how many of its lines the helper wrote."""
    scanner = EventScanner(json=jsonl.frame(name, node), **options)  # type: ignore[arg-type]
    items: list[LogEvent | bytes] = []
    for at in range(0, len(data), chunk):
        piece = data[at : at + chunk]
        items += scanner.feed_items(piece, len(piece))
    items += scanner.close_items()
    written = sum(item.count(b"\n") for item in items if isinstance(item, bytes))
    text = "".join(
        item.decode() if isinstance(item, bytes) else jsonl.line(name, item, node) for item in items
    )
    return text, written


def _same(data: bytes, name: str = NAME, node: str | None = NODE, **options: object) -> int:
    """Both paths compared chunk size by chunk size; the lines the helper wrote in 1 MiB
    chunks."""
    written = 0
    for chunk in CHUNKS:
        text, count = _helper(data, chunk, name, node, **options)
        assert text == _python(data, chunk, name, node, **options), chunk
        written = max(written, count)
    return written


@needs_helper
@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.log")))
def test_every_corpus_file_gives_the_python_paths_json(name: str) -> None:
    _same((DATA / name).read_bytes())


@needs_helper
@pytest.mark.parametrize("profile", ["busy", "calm"])
def test_the_benchmark_logs_are_written_mostly_by_the_helper_and_the_same(
    profile: str, tmp_path: Path
) -> None:
    path = tmp_path / "catalina.out"
    generate(path, 2, seed=7, profile=profile)
    data = path.read_bytes()
    written = _same(data, node=None)
    events = _python(data, 1 << 20, NAME, None).count("\n")
    if profile == "busy":
        assert written > 0.9 * events > 1000  # the volume never reaches Python


@needs_helper
def test_the_live_error_storm_gives_the_python_paths_json() -> None:
    assert _same(b"".join(tomcat_lines(20_000))) > 0


@needs_helper
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzzed_error_records_give_the_python_paths_json(seed: int) -> None:
    data = "\n".join(_fuzzed(random.Random(seed))).encode() + b"\n"
    assert _same(data) > 200
    _same(data, max_fold_lines=3)
    _same(data, max_line=100)
    _same(data, kinds=frozenset({"error", "member-left"}))


@needs_helper
def test_quotes_backslashes_and_long_traces_are_escaped_and_cut_like_orjson() -> None:
    head = '22-Nov-2026 10:00:00.000 SEVERE [main] com.example.Shop.buy Said "no" \\ C:\\x'
    trace = ['java.lang.IllegalStateException: "quoted" \\ back']
    trace += [
        f"\tat com.example.long.package.name.Klass{n}.call{n}(Klass.java:{n})" for n in range(150)
    ]
    record = "\n".join([head, *trace, "22-Nov-2026 10:00:01.000 INFO [main] a.b.c next"]) + "\n"
    data = record.encode() * 3
    assert _same(data) == 2  # the first one tells the helper the logger's fields
    text, _ = _helper(data, 1 << 20, NAME, NODE)
    assert "…" in text  # the text was cut at the cap, with its ellipsis


_SEVERE = (
    "22-Nov-2026 10:00:{s:02d}.000 SEVERE [exec-1] "
    "org.apache.catalina.core.StandardWrapperValve.invoke Servlet.service() threw exception"
)
_TRACE = "java.lang.IllegalStateException: no session\n\tat com.example.Cart.show(Cart.java:9)"


@needs_helper
def test_glued_records_are_cut_by_the_helper_as_split_glued_cuts_them() -> None:
    """A SEVERE glued onto an application's quiet line (an unflushed writer) is written by the
    helper; every line whose first record may be an event, or that `_GLUE` may cut elsewhere or
    more than once, goes to Python, and the JSON lines are the same either way."""
    quiet = "2026-11-22 10:00:{s:02d},123 INFO  [exec-2] com.example.Shop - Order {s} created"
    lines_ = [_SEVERE.format(s=0), "2026-11-22 10:00:00,500 INFO  [main] a.b.C - ok"]
    for s in range(1, 40):
        lines_.append(quiet.format(s=s) + "  " + _SEVERE.format(s=s))
        if s % 3 == 0:
            lines_.append(_TRACE)
    python_firsts = (
        "2026-11-22 10:00:01,000 ERROR [exec-2] com.example.Shop - payment failed",
        "2026-11-22 10:00:01,000 INFO  [exec-2] com.example.Shop - Member 10.0.0.3 left",
        "2026-11-22 10:00:01,000 INFO  [exec-2] org.apache.catalina.core.X - Server startup",
        "2026-11-22 10:00:01,000 INFO  [exec-2] com.example.Shop - due Nov 22, 2026 at noon",
        "2026-11-22 10:00:01,000 INFO  [exec-2] com.example.Shop - path 1/2/3 | cut",
        "2026-11-22 10:00:01,000 SEVERE [exec-2] com.example.Shop - glued to a SEVERE",
        "2026-11-22 10:00:01,000 INFO [exec-2] com.example.Shop - " + _SEVERE.format(s=2),
        "22-Nov-2026 10:00:01.000 INFO [exec-2] com.example.Shop.run a JUL line first",
        "2026-11-22 10:00:01,000 [exec-2] INFO com.example.Shop - thread before the level",
        "2026-11-22 10:00:01,000 INFORMATION [exec-2] com.example.Shop - a longer word",
        "2026-11-22 10:00:01,000 error [exec-2] com.example.Shop - lower-case error",
    )
    for first in python_firsts:
        lines_.append(first + " " + _SEVERE.format(s=1))
        lines_.append(_TRACE)
    lines_.append("short 10:00:01 " + _SEVERE.format(s=3))
    lines_.append("2026-11-22 10:00:09,000 INFO  [main] a.b.C - the end")
    data = "\n".join(lines_).encode() + b"\n"
    written = _same(data)
    assert written >= 39  # every glued quiet line (the first SEVERE tells the helper its fields)
    assert _same(data, max_fold_lines=1) > 0
    _same(data, max_line=120)


@needs_helper
def test_a_file_name_orjson_refuses_takes_the_python_road() -> None:
    name = "bad-\udcff.log"
    assert jsonl.frame(name, None) is None
    data = "\n".join(_fuzzed(random.Random(5))).encode() + b"\n"
    text, written = _helper(data, 1 << 20, name, None)
    assert written == 0 and text == _python(data, 1 << 20, name, None)


@needs_helper
def test_the_parallel_scan_hands_over_json_lines_numbered_as_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_SIZE", 0)
    monkeypatch.setattr(parallel, "_can_fork", lambda: True)
    path = tmp_path / "catalina.out"
    generate(path, 3, seed=11, profile="busy")
    expected = "".join(jsonl.line(NAME, event, NODE) for event in scan_file(path))
    items = list(parallel.iter_items_parallel(str(path), 3, json=jsonl.frame(NAME, NODE)))
    assert sum(isinstance(item, bytes) for item in items) > 3  # several parts wrote bytes
    text = "".join(
        item.decode() if isinstance(item, bytes) else jsonl.line(NAME, item, NODE) for item in items
    )
    assert text == expected


@needs_helper
def test_rebase_moves_every_line_number_and_refuses_what_is_no_json_line() -> None:
    prefix, _ = jsonl.frame("f", None) or (b"", b"")
    lines_ = prefix + b'9,"x":1}\n' + prefix + b'10,"x":2}\n'
    assert (
        jsonl.rebase(lines_, len(prefix), 991)
        == prefix + b'1000,"x":1}\n' + prefix + b'1001,"x":2}\n'
    )
    with pytest.raises(ValueError, match="not a JSON line"):
        jsonl.rebase(prefix + b'x,"x":1}\n', len(prefix), 1)
