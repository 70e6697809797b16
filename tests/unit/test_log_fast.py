"""The C record path (`_lines.error_record`) gives exactly the events of the Python path.

Every file of the corpus, the benchmark's generated calm and busy logs, the live error storm and
a fuzzed mix of error records with everything the C path must refuse (tabs, CR, non-ASCII, glued
records, prefixes, long traces, traces cut by a chunk's end), each fed in several chunk sizes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from probes.logs import lines
from probes.logs.model import LogEvent
from probes.logs.scanner import EventScanner
from tests.bench.events_scan import generate
from tests.bench.sim_ssh import tomcat_lines

DATA = Path(__file__).parent / "data" / "logs"
CHUNKS = (1 << 20, 4096, 333)

needs_helper = pytest.mark.skipif(
    lines.error_record is None, reason="the C helper is not built: there is one path only"
)


def _scan(data: bytes, chunk: int, *, fast: bool, **options: object) -> list[LogEvent]:
    saved = lines.error_record
    if not fast:
        lines.error_record = None
    try:
        scanner = EventScanner(**options)  # type: ignore[arg-type]
    finally:
        lines.error_record = saved
    events: list[LogEvent] = []
    for at in range(0, len(data), chunk):
        events += scanner.feed(data[at : at + chunk])
    return events + scanner.close()


def _same(data: bytes, **options: object) -> int:
    """The events of both paths, compared chunk size by chunk size (a line longer than
    `max_line` is cut where a chunk ends, on either path); their number."""
    found = 0
    for chunk in CHUNKS:
        expected = _scan(data, chunk, fast=False, **options)
        assert _scan(data, chunk, fast=True, **options) == expected, chunk
        found = len(expected)
    return found


@needs_helper
@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.log")))
def test_every_corpus_file_gives_the_python_paths_events(name: str) -> None:
    _same((DATA / name).read_bytes())


@needs_helper
@pytest.mark.parametrize("profile", ["busy", "calm"])
def test_generated_benchmark_logs_give_the_python_paths_events(
    profile: str, tmp_path: Path
) -> None:
    path = tmp_path / "catalina.out"
    generate(path, 2, seed=7, profile=profile)
    assert _same(path.read_bytes()) > (1000 if profile == "busy" else 5)


@needs_helper
def test_the_live_error_storm_gives_the_python_paths_events() -> None:
    assert _same(b"".join(tomcat_lines(20_000))) > 0


def _fuzzed(rng: random.Random) -> Iterator[str]:
    """Error records and their traces, most ordinary, many with one thing the C path refuses."""
    heads = (
        "22-Nov-2026 10:00:{s:02d}.{ms:03d} {level} [{thread}] {source} {message}",
        "2026-11-22 10:00:{s:02d},{ms:03d} ERROR [{thread}] com.example.Shop - {message}",
        "2026-11-22 10:00:{s:02d},{ms:03d} {level} [{thread}] {source} - {message}",
        "2026-11-22 10:00:{s:02d},{ms:03d} {level}  [{thread}] com.example.Shop - {message}",
        "2026-11-22 10:00:{s:02d},{ms:03d} FATAL [{thread}] ({source}) - {message}",
        "2026-11-22 10:00:{s:02d}.{ms:03d} ERROR [{thread}] com.example.Shop - {message}",
        "2026-11-22 10:00:{s:02d},{ms:03d} ERROR [{thread}] com.example.Shop {message}",
        "2026-11-22T10:00:{s:02d},{ms:03d} ERROR [{thread}] com.example.Shop - {message}",
        "22-Nov-2026 10:00:{s:02d},{ms:03d} SEVERE [{thread}] {source} {message}",
        "{d:02d}-{mon}-2026 {h:02d}:{s:02d}:{sec:02d}.{ms:03d} SEVERE [{thread}] {source} "
        "{message}",
        "2026-{mm:02d}-{d:02d} {h:02d}:00:{sec:02d},{ms:03d} ERROR [{thread}] a.B - {message}",
        "[tomcat] 22-Nov-2026 10:00:{s:02d}.{ms:03d} SEVERE [{thread}] {source} {message}",
        "web-1 | 22-Nov-2026 10:00:{s:02d}.{ms:03d} SEVERE [{thread}] {source} {message}",
    )
    levels = ("SEVERE", "SEVERE", "ERROR", "FATAL", "CRITICAL", "severe", "GRAVE", "WARNING")
    threads = ("main", "http-nio-8080-exec-1", "a] b", "x]y", "", "t\tab", "naïve", "Bean] (x")
    sources = (
        "org.apache.catalina.core.StandardWrapperValve.invoke",
        "org.apache.catalina.ha.tcp.SimpleTcpCluster.memberDisappeared",
        "org.apache.catalina.ha.session.DeltaManager.waitForSendAllSessions",
        "org.apache.catalina.tribes.group.interceptors.TcpFailureDetector.performBasicCheck",
        "com.example.Foo.<init>",
        "a..b",
        "a.b.",
        "Foo",
        "pkg.Cls.m-1",
        "1bad.start",
    )
    messages = (
        "Servlet.service() threw exception",
        "",
        "Received member disappeared:[tcp://{{10, 0, 0, 2}}:4000]",
        "Manager [/shop]: No session state sent at 22-Nov-2026 10:00:01.000 received",
        "glued 22-Nov-2026 10:00:01.000 SEVERE [main] a.b.c x",
        "end with CR\r",
        "ünïcödé",
        "ctrl \x1b[31m red",
        "bar | inside",
        "long " + "x" * 9000,
        "1 --- [main] a.b : spring",
        "a - b - c",
    )
    trace = (
        "java.lang.IllegalStateException: boom",
        "\tat a.b.C.d(C.java:1)",
        "    at a.b.C.e(C.java:2)",
        "Caused by: java.io.IOException: x",
        "Suppressed: java.lang.Exception",
        "\t... 42 more",
        "... 3 more",
        "at a.b.C.f(C.java:3)",
        "com.example.FooError",
        "com.example.Error",
        "Com.example.FooException: no",
        "a.b.BarFault: x",
        "a.b.Throwable",
        "\t",
        "   ",
        "",
        "\tat näive.C(C.java:1)",
        "\tat a.b.C(C.java:1)\r",
        "not a trace line",
        "Nov 22 10:00:00 host tomcat[1]: journal",
        "2026-11-22T10:00:00 iso T line",
        "22-Nov-2026 10:00:00.000 INFO [main] a.b.c next record",
        "1 | short",
        "12",
    )
    for second in range(3000):
        head = rng.choice(heads) if rng.random() < 0.4 else heads[second % 2]
        fields = {
            "s": second % 60,
            "d": rng.choice((0, 1, 9, 10, 29, 31, 32, 99)),
            "mm": rng.choice((0, 1, 9, 10, 12, 13, 99)),
            "h": rng.choice((0, 9, 23, 24, 99)),
            "sec": rng.choice((0, 59, 60, 61, 99)),
            "mon": rng.choice(("Jan", "NOV", "dec", "Okt", "Mai", "Xyz", "Sep", "feb")),
            "ms": rng.randrange(1000),
            "level": rng.choice(levels) if rng.random() < 0.3 else "SEVERE",
            "thread": rng.choice(threads) if rng.random() < 0.2 else "main",
            "source": rng.choice(sources) if rng.random() < 0.3 else sources[0],
            "message": rng.choice(messages),
        }
        yield head.format(**fields)
        if rng.random() < 0.5:
            depth = rng.choice((1, 2, 5, 20, 199, 200, 250)) if rng.random() < 0.1 else 3
            for _ in range(depth):
                yield rng.choice(trace) if rng.random() < 0.3 else "\tat a.b.C.d(C.java:1)"
        if rng.random() < 0.3:
            yield "2026-11-22 10:00:00,000 INFO  [main] com.example.Shop - ordinary"


@needs_helper
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzzed_error_records_give_the_python_paths_events(seed: int) -> None:
    data = "\n".join(_fuzzed(random.Random(seed))).encode() + b"\n"
    assert _same(data) > 1000
    assert _same(data, max_fold_lines=3) > 1000
    assert _same(data, max_line=100) > 1000


@needs_helper
def test_kinds_asked_give_the_python_paths_events() -> None:
    data = "\n".join(_fuzzed(random.Random(4))).encode() + b"\n"
    for kinds in ({"error"}, {"member-left", "session-sync"}, {"member-joined"}):
        _same(data, kinds=frozenset(kinds))


@needs_helper
def test_the_c_path_reads_the_busy_logs_commonest_record() -> None:
    data = (
        b"22-Nov-2026 10:00:00.000 SEVERE [main] org.apache.catalina.core.X.y It failed\n"
        b"java.lang.IllegalStateException: boom\n\tat a.b.C.d(C.java:1)\n"
        b"22-Nov-2026 10:00:01.000 INFO [main] a.b.c next\n"
    )
    assert lines.error_record is not None
    head_end = data.index(b"\n")
    read = lines.error_record(data, 0, head_end, len(data), 200)
    assert read is not None
    layout, time, level, source, message, head, trace, after = read
    assert (layout, time, level, source, message) == (
        1,
        "2026-11-22T10:00:00.000",
        "SEVERE",
        "org.apache.catalina.core.X.y",
        "It failed",
    )
    assert head == data[:head_end].decode()
    assert trace == "java.lang.IllegalStateException: boom\n\tat a.b.C.d(C.java:1)"
    assert data[after:].startswith(b"22-Nov-2026 10:00:01")
    # the trace may go on in the next chunk: the Python path decides
    assert lines.error_record(data, 0, head_end, after - 1, 200) is None


@needs_helper
def test_a_byte_the_python_path_reads_otherwise_is_refused_wherever_it_is() -> None:
    """The C reading checks every byte of the head and trace lines (16 at a time): a control
    byte, a non-ASCII byte or (in the head) a `|` anywhere hands the record to Python."""
    head = b"22-Nov-2026 10:00:00.000 SEVERE [main] com.example.Shop.buy Payment refused for order"
    trace = b"\tat com.example.shop.OrderService.place(OrderService.java:118) and more text"
    after = b"22-Nov-2026 10:00:01.000 INFO [main] a.b.c next\n"
    read = lines.error_record
    assert read is not None

    def record(h: bytes, t: bytes) -> tuple[object, ...] | None:
        data = h + b"\n" + t + b"\n" + after
        return read(data, 0, len(h), len(data), 200)

    assert record(head, trace) is not None
    for at in range(30, len(head)):
        for bad in (b"\x01", b"\xc3\xa9", b"|", b"\x7f"):
            assert record(head[:at] + bad + head[at:], trace) is None, (at, bad)
    for at in range(1, len(trace)):
        for bad in (b"\x01", b"\xc3\xa9", b"\x1b", b"\x7f"):
            assert record(head, trace[:at] + bad + trace[at:]) is None, (at, bad)
        assert record(head, trace[:at] + b"\t" + trace[at:]) is not None, at
