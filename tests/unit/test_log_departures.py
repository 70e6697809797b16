"""One member-left event per departure, in every way a log is read: a whole file, a live tail fed
line by line, and a big file cut in parts scanned on several cores."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.logs import parallel
from probes.logs.departures import MAX_TRACKED, Departures
from probes.logs.model import LogEvent
from probes.logs.scanner import EventScanner, scan_file

DATA = Path(__file__).parent / "data" / "logs"
SANDBOX = DATA / "sandbox_tomcat101_node1_peer_stop_and_crash.log"
NODE3 = "127.0.4.13:4000"


def departures_of(events: list[LogEvent], member: str) -> list[tuple[int, str | None]]:
    return [(e.line, e.detail) for e in events if e.kind == "member-left" and e.member == member]


EXPECTED = [(57, "graceful"), (59, "crash"), (63, "graceful")]
"""node3 stops (57), rejoins (58), crashes (59, told again at 61), rejoins (62), stops (63)."""


def test_a_file_gives_one_member_left_per_departure() -> None:
    assert departures_of(list(scan_file(SANDBOX)), NODE3) == EXPECTED


def test_a_live_tail_fed_line_by_line_gives_the_same() -> None:
    scanner = EventScanner()
    found: list[LogEvent] = []
    for line in SANDBOX.read_bytes().splitlines(keepends=True):
        found += scanner.feed(line)
        found += scanner.idle()
    found += scanner.close()
    assert departures_of(found, NODE3) == EXPECTED


def test_a_departure_told_on_both_sides_of_a_parallel_cut_is_one_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = SANDBOX.read_bytes()
    lines = data.splitlines(keepends=True)
    cut = sum(len(line) for line in lines[:60])  # between line 60 ("Will verify") and 61
    monkeypatch.setattr(parallel, "MIN_SIZE", 0)
    monkeypatch.setattr(parallel, "_can_fork", lambda: True)
    monkeypatch.setattr(parallel, "_parts", lambda path, size, workers: [(0, cut), (cut, size)])
    found = list(parallel.iter_file_parallel(str(SANDBOX), workers=2))
    assert departures_of(found, NODE3) == EXPECTED
    assert found == list(scan_file(SANDBOX))


def _left(member: str, observer: str | None = None) -> LogEvent:
    return LogEvent("member-left", "tomcat", 1, 0, None, member, observer=observer)


def test_departures_are_per_observer_and_bounded() -> None:
    departures = Departures()
    assert departures.keep(_left("a:1", "x")) and departures.keep(_left("a:1", "y"))
    assert not departures.keep(_left("a:1", "x"))
    for index in range(MAX_TRACKED + 10):
        departures.keep(_left(f"m{index}:1"))
    assert len(departures._gone) <= MAX_TRACKED
