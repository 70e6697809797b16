"""Scanning a big file on several cores must give exactly the one-pass events, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.logs import parallel
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
