"""The incremental scanner as the live tail uses it: chunking, latency, quiet streams, restarts,
bounded memory and hostile input."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from probes.logs.model import LogEvent
from probes.logs.scanner import EventScanner, scan_file

DATA = Path(__file__).parent / "data" / "logs"
ALL_FILES = sorted(path.name for path in DATA.glob("*.log"))

JOIN = (
    b"22-Nov-2026 11:59:01.358 INFO [StaticMembership-memberAdded] org.apache.catalina.ha.tcp."
    b"SimpleTcpCluster.memberAdded Replication member added:[org.apache.catalina.tribes.membership."
    b"StaticMember[tcp://{127, 0, 0, 12}:4000,{127, 0, 0, 12},4000, alive=37, securePort=-1, "
    b"UDP Port=-1, id={0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 }, payload={}, command={}, domain={}]]\n"
)
SEVERE = (
    b"22-Nov-2026 12:00:00.000 SEVERE [main] org.apache.catalina.core.StandardContext.start boom\n"
)
TRACE = b"\tat org.apache.catalina.core.StandardContext.startInternal(StandardContext.java:5216)\n"


def chunked(data: bytes, size: int) -> list[LogEvent]:
    scanner = EventScanner()
    found: list[LogEvent] = []
    for start in range(0, len(data), size):
        found.extend(scanner.feed(data[start : start + size]))
    found.extend(scanner.close())
    return found


@pytest.mark.parametrize("name", ALL_FILES)
@pytest.mark.parametrize("size", [1, 7, 4096])
def test_events_do_not_depend_on_where_chunks_are_cut(name: str, size: int) -> None:
    data = (DATA / name).read_bytes()
    whole = list(scan_file(DATA / name))
    assert chunked(data, size) == whole


def test_a_single_line_event_comes_out_of_the_feed_that_completes_its_line() -> None:
    scanner = EventScanner()
    assert scanner.feed(JOIN[:100]) == []
    (event,) = scanner.feed(JOIN[100:])
    assert event.kind == "member-joined" and event.member == "127.0.0.12:4000"
    header = b"Jan 17, 2016 11:21:32 AM org.apache.catalina.startup.Catalina start\n"
    assert scanner.feed(header) == []
    (started,) = scanner.feed(b"INFO: Server startup in 654 ms\n")
    assert started.kind == "server-started" and started.line == 2


def test_an_error_waits_for_its_stack_trace_until_the_stream_goes_quiet() -> None:
    scanner = EventScanner()
    assert scanner.feed(SEVERE + TRACE) == []
    assert scanner.feed(TRACE) == []
    (error,) = scanner.idle()
    assert error.kind == "error" and error.line == 1 and error.text.count("\tat ") == 2
    assert scanner.idle() == []
    assert scanner.feed(TRACE) == []  # an orphan continuation is not a record
    (joined,) = scanner.feed(JOIN)
    assert joined.line == 5


def test_idle_keeps_a_partial_last_line_and_close_reads_it() -> None:
    scanner = EventScanner()
    assert scanner.feed(JOIN[:-1]) == []
    assert scanner.idle() == []
    (event,) = scanner.close()
    assert event.kind == "member-joined" and scanner.lines_seen == 1
    assert scanner.bytes_seen == len(JOIN) - 1


def test_an_error_ends_when_the_next_record_starts() -> None:
    found = EventScanner().feed(SEVERE + TRACE + JOIN)
    assert [event.kind for event in found] == ["error", "member-joined"]
    assert [event.line for event in found] == [1, 3]


def test_reset_restarts_lines_at_one_and_offsets_where_the_stream_resumes() -> None:
    scanner = EventScanner()
    scanner.feed(JOIN + JOIN + SEVERE)
    scanner.reset(4096)
    (event,) = scanner.feed(JOIN)
    assert (event.line, event.offset) == (1, 4096)
    assert scanner.lines_seen == 1 and scanner.bytes_seen == len(JOIN)
    assert scanner.close() == []  # the SEVERE pending before the reset was dropped


def test_line_numbers_and_offsets_survive_a_line_longer_than_max_line() -> None:
    scanner = EventScanner(max_line=1000)
    long_line = b"x" * 10_000_000 + b"\n"
    found: list[LogEvent] = []
    for start in range(0, len(long_line), 65536):
        found.extend(scanner.feed(long_line[start : start + 65536]))
    found.extend(scanner.feed(JOIN))
    assert [(event.line, event.offset) for event in found] == [(2, len(long_line))]
    assert len(scanner._carry) <= 1000


def test_memory_stays_bounded_for_an_endless_line_trace_and_block() -> None:
    scanner = EventScanner(max_line=4096, max_fold_lines=50)
    tracemalloc.start()
    try:
        for _ in range(2000):
            scanner.feed(b"y" * 10_000)  # one 20 MB line, never ended
        scanner.feed(b"\n" + SEVERE)
        for _ in range(2000):
            scanner.feed(TRACE * 10)
        scanner.feed(b"Members [2] {\n" + b"\tMember [10.0.0.1]:5701\n" * 5000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20
    (joined,) = [e for e in scanner.feed(JOIN) if e.kind == "member-joined"]
    assert joined.line == 2 + 20_000 + 1 + 5000 + 1


def test_folded_trace_is_capped_and_the_record_still_reported() -> None:
    scanner = EventScanner(max_fold_lines=5)
    found = scanner.feed(SEVERE + TRACE * 1000 + JOIN)
    error, joined = found
    assert error.text.count("\n") == 5 and len(error.text) <= 8192
    assert joined.line == 1002


def test_an_unclosed_hazelcast_block_is_given_up_and_scanning_continues() -> None:
    data = b"Members [2] {\n" + b"\tMember [10.0.0.1]:5701\n" * 2000 + JOIN
    assert [event.kind for event in EventScanner().feed(data)] == ["member-joined"]


@pytest.mark.parametrize(
    "hostile",
    [
        b"\x00" * 1000 + b"\n",
        b"\xff\xfe\xfd" * 1000 + b"\n",
        b"\x1b[31m\x1b]0;pwned\x07 [bold]red[/bold] [/ [0] {|V" * 100 + b"\n",
        bytes(range(256)) * 40 + b"\n",
        b"{" * 1_000_000 + b"\n",
        b"|1] (" * 200_000 + b"\n",
        (b"SEVERE ember " * 80_000) + b"\n",
    ],
    ids=["nul", "invalid-utf8", "ansi-and-markup", "all-bytes", "1mb-braces", "pipes", "needles"],
)
def test_hostile_lines_never_crash_nor_hide_the_next_event(hostile: bytes) -> None:
    found = chunked(hostile + JOIN, 65536)
    assert found[-1].kind == "member-joined" and found[-1].line == hostile.count(b"\n") + 1
    for event in found:
        assert "\x1b" not in event.text and "\x00" not in event.text
        assert len(event.text) <= 8192


def test_escape_sequences_in_an_event_line_are_neutralised_but_markup_is_kept_as_text() -> None:
    line = JOIN.replace(b"payload={}", b"payload={\x1b[2J\x1b]8;;http://x\x07}[bold]")
    (event,) = EventScanner().feed(line)
    assert "\x1b" not in event.text and "\x07" not in event.text
    assert "[bold]" in event.text and "\ufffd[2J" in event.text


def test_garbage_gives_no_events() -> None:
    import random

    noise = random.Random(7).randbytes(2_000_000)
    assert chunked(noise, 4096) == []


def test_a_two_line_severe_folds_its_trace_up_to_the_cap_then_scanning_resumes() -> None:
    header = b"Jan 17, 2016 11:21:32 AM org.apache.catalina.core.StandardContext startInternal\n"
    found = EventScanner(max_fold_lines=3).feed(header + b"SEVERE: boom\n" + TRACE * 10 + JOIN)
    error, joined = found
    assert error.kind == "error" and error.text.count("\n") == 1 + 3
    assert joined.line == 13
