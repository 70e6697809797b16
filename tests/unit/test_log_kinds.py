"""Asking for some kinds of events: exactly those the full scan finds, and the rest not searched."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.logs import needles, parallel
from probes.logs.model import LogEvent
from probes.logs.scanner import EventScanner, scan_file
from tests.bench.events_scan import generate

DATA = Path(__file__).parent / "data" / "logs"
FILES = sorted(path.name for path in DATA.glob("*.log"))
KINDS = sorted(needles.ALL_KINDS)
MEMBER = (
    "22-Nov-2026 11:59:{s:02d}.000 INFO [StaticMembership-{method}] "
    "org.apache.catalina.ha.tcp.SimpleTcpCluster.{method} {text}:[org.apache.catalina.tribes."
    "membership.StaticMember[tcp://{{127, 0, 0, 12}}:4000,{{127, 0, 0, 12}},4000, alive=37, "
    "securePort=-1, UDP Port=-1, id={{0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 }}, payload={{}}, "
    "command={{}}, domain={{}}]]\n"
)


def _only(events: list[LogEvent], kinds: set[str]) -> list[LogEvent]:
    return [event for event in events if event.kind in kinds]


@pytest.fixture(scope="module")
def busy_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kinds") / "catalina.out"
    generate(path, 3, profile="busy")
    return path


@pytest.mark.parametrize("name", FILES)
def test_each_kind_alone_is_what_the_full_scan_reports_of_it(name: str) -> None:
    everything = list(scan_file(DATA / name))
    for kind in KINDS:
        assert list(scan_file(DATA / name, kinds=frozenset({kind}))) == _only(everything, {kind})
    membership = {"member-joined", "member-left", "membership"}
    assert list(scan_file(DATA / name, kinds=frozenset(membership))) == _only(
        everything, membership
    )


def test_busy_log_by_kind_one_pass_and_parallel(
    busy_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_SIZE", 0)
    monkeypatch.setattr(parallel, "_can_fork", lambda: True)
    everything = list(scan_file(busy_log))
    assert {"error", "member-joined", "member-left"} <= {event.kind for event in everything}
    for kinds in ({"member-joined", "member-left"}, {"error"}, {"member-left"}):
        wanted = _only(everything, kinds)
        assert list(scan_file(busy_log, kinds=frozenset(kinds))) == wanted
        assert parallel.scan_file_parallel(str(busy_log), 3, frozenset(kinds)) == wanted


def test_a_member_leaving_twice_is_two_departures_when_only_departures_are_asked(
    tmp_path: Path,
) -> None:
    log = tmp_path / "catalina.out"
    log.write_text(
        MEMBER.format(s=1, method="memberDisappeared", text="Received member disappeared")
        + MEMBER.format(s=2, method="memberAdded", text="Replication member added")
        + MEMBER.format(s=3, method="memberDisappeared", text="Received member disappeared")
    )
    left = list(scan_file(log, kinds=frozenset({"member-left"})))
    assert [(event.line, event.member) for event in left] == [
        (1, "127.0.0.12:4000"),
        (3, "127.0.0.12:4000"),
    ]


def test_kinds_not_asked_for_are_not_searched() -> None:
    scanner = EventScanner(kinds=frozenset({"member-joined", "member-left", "membership"}))
    searched = {needle for probe in scanner._probes for needle in probe.needles}
    assert b"SEVERE" not in searched and b"ERROR" not in searched
    assert b"org.apache.catalina.ha.session." not in searched
    assert b"tcp://" in searched
    everything = EventScanner()._probes
    assert any(b"ERROR" in probe.needles for probe in everything)


def test_a_stack_trace_line_naming_a_member_is_no_event(tmp_path: Path) -> None:
    # A WARNING (not an error: its trace is not folded) whose exception text quotes a member.
    log = tmp_path / "catalina.out"
    log.write_text(
        "22-Nov-2026 10:00:00.000 WARNING [main] org.apache.catalina.ha.tcp.SimpleTcpCluster.send"
        " Unable to send\n"
        "java.lang.IllegalStateException: Received member disappeared:[org.apache.catalina.tribes"
        ".membership.MemberImpl[tcp://{10, 0, 0, 7}:4000,{10, 0, 0, 7},4000, alive=1, domain={}]]\n"
        "\tat org.apache.catalina.ha.tcp.SimpleTcpCluster.send(SimpleTcpCluster.java:1)\n"
    )
    assert list(scan_file(log)) == []
    assert list(scan_file(log, kinds=frozenset({"member-left"}))) == []
