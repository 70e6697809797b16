"""Scanning a big file on several cores must give exactly the one-pass events, in order."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import pytest

from probes.logs import parallel
from probes.logs.model import LogEvent
from probes.logs.scanner import scan_file
from tests.bench.events_scan import generate


@pytest.fixture(scope="module")
def busy_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parallel") / "catalina.out"
    generate(path, 3)
    return path


def test_parallel_scan_equals_the_one_pass_scan(
    busy_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_SIZE", 0)
    monkeypatch.setattr(parallel, "_can_fork", lambda: True)
    one_pass = list(scan_file(busy_log))
    kinds = {event.kind for event in one_pass}
    assert len(one_pass) > 20 and "error" in kinds and kinds & {"member-joined", "member-left"}
    assert parallel.scan_file_parallel(str(busy_log), workers=3) == one_pass


def test_cuts_fall_between_two_one_line_records(busy_log: Path) -> None:
    data = busy_log.read_bytes()
    with busy_log.open("rb") as handle:
        cut = parallel._safe_cut(handle, len(data) // 2, len(data))
    assert cut is not None and data[cut - 1 : cut] == b"\n"
    before = data[: cut - 1].rsplit(b"\n", 1)[-1]
    after = data[cut:].split(b"\n", 1)[0]
    assert parallel._RECORD_START.match(before) and parallel._RECORD_START.match(after)


def test_small_files_and_unreadable_paths_take_the_one_pass_road(tmp_path: Path) -> None:
    small = tmp_path / "small.log"
    small.write_bytes(b"hello\n")
    assert parallel.scan_file_parallel(str(small)) == []
    with pytest.raises(OSError):
        parallel.scan_file_parallel(str(tmp_path / "missing.log"))
    with pytest.raises(IsADirectoryError):
        parallel.scan_file_parallel(str(tmp_path))


def test_parts_are_claimed_by_whoever_is_free_and_merged_in_order(
    busy_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_SIZE", 0)
    monkeypatch.setattr(parallel, "_can_fork", lambda: True)
    monkeypatch.setattr(parallel, "CHUNK", 4096)  # many lines cross a chunk end
    parts = parallel._parts(str(busy_log), busy_log.stat().st_size, 2)
    assert len(parts) > 4 and parts[0][0] == 0 and parts[-1][1] == busy_log.stat().st_size
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(parts))
    assert parallel.scan_file_parallel(str(busy_log), workers=2) == list(scan_file(busy_log))


def test_parts_of_a_failed_worker_are_scanned_by_the_parent(
    busy_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_SIZE", 0)
    monkeypatch.setattr(parallel, "_can_fork", lambda: True)
    parent = os.getpid()
    scan_range = parallel._scan_range

    def dies_in_a_worker(*args: Any) -> tuple[list[LogEvent], int]:
        if os.getpid() != parent:
            os._exit(3)  # a worker crashing after it claimed a part
        return scan_range(*args)

    monkeypatch.setattr(parallel, "_scan_range", dies_in_a_worker)
    assert parallel.scan_file_parallel(str(busy_log), workers=3) == list(scan_file(busy_log))


def test_a_consumer_that_stops_early_leaves_no_worker_behind(
    busy_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_SIZE", 0)
    monkeypatch.setattr(parallel, "_can_fork", lambda: True)
    started: list[int] = []
    fork_worker = parallel._fork_worker

    def recorded(*args: Any) -> parallel.Worker:
        worker = fork_worker(*args)
        started.append(worker.pid)
        return worker

    monkeypatch.setattr(parallel, "_fork_worker", recorded)
    events = parallel.iter_file_parallel(str(busy_log), workers=3)
    assert next(events) == next(iter(scan_file(busy_log)))
    events.close()  # type: ignore[attr-defined]
    assert len(started) == 2
    for pid in started:  # every worker was reaped
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@pytest.mark.skipif(not hasattr(__import__("fcntl"), "F_SETPIPE_SZ"), reason="Linux pipes only")
def test_a_worker_hands_over_several_busy_parts_without_waiting_for_the_parent() -> None:
    # A busy part's results are ~80 KB marshalled; with a default 64 KB pipe the worker blocked
    # on every write until the parent, scanning a part of its own, read it (a third of its time).
    read_end, write_end = os.pipe()
    try:
        parallel._widen(write_end)
        os.set_blocking(write_end, False)
        message = b"x" * (4 * 80 << 10)
        assert os.write(write_end, message) == len(message)
    finally:
        os.close(read_end)
        os.close(write_end)


class _Child:
    """A worker as the parent sees it: counts how often its pipe was read."""

    def __init__(self) -> None:
        self.reads = 0

    def receive(self, results: dict[int, Any], *, wait: bool) -> None:
        assert not wait
        self.reads += 1


def test_the_parent_reads_the_workers_pipes_while_it_scans_a_part(
    busy_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy part's JSON lines are several times what a pipe holds: a worker writing them blocks
    until the parent reads, so the parent reads after every chunk of its own part, not after the
    part (the worker sat idle half the time)."""
    monkeypatch.setattr(parallel, "CHUNK", 64 << 10)
    size = busy_log.stat().st_size
    probes = parallel._probes_after_sniffing(str(busy_log), None)
    assert probes is not None
    child = _Child()
    children: list[Any] = [child]
    events, rows, lines = parallel._scan_here(
        str(busy_log), (0, size), probes, None, None, children, {}
    )
    assert len(events) > 20 and lines > 1000 and not rows
    assert child.reads >= size // (64 << 10)
