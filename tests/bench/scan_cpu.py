"""Benchmark: the event scanner's own CPU time, one process, on the three line mixes.

`events_scan` and `ssh_burst` time whole processes and connections by the wall clock, which a
loaded machine disturbs. This one measures `process_time()` of `scan_file` alone (best of 5):
the calm and busy catalina.out of `events_scan` and the error storm of `ssh_burst` (a stack trace
in one record of a hundred), every event and the membership kinds only.

    .venv/bin/python -m tests.bench.scan_cpu [MB]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from probes.logs import lines
from probes.logs.scanner import scan_file
from tests.bench.events_scan import MEMBERSHIP_KINDS, generate
from tests.bench.sim_ssh import tomcat_lines


def _storm(path: Path, size_mb: int) -> None:
    block = b"".join(tomcat_lines(5000))
    with path.open("wb") as out:
        for _ in range(max(1, (size_mb << 20) // len(block))):
            out.write(block)


def _cpu(
    path: Path, kinds: frozenset[str] | None, runs: int = 5, *, python_records: bool = False
) -> tuple[float, int]:
    """Best CPU seconds of `runs` scans, and the events found (`python_records`: with the C
    record path off, every record read by Python: what `_lines.error_record` buys)."""
    best, events = float("inf"), 0
    compiled = lines.error_record
    try:
        if python_records:
            lines.error_record = None
        for _ in range(runs):
            began = time.process_time()
            events = sum(1 for _ in scan_file(path, kinds=kinds))
            best = min(best, time.process_time() - began)
    finally:
        lines.error_record = compiled
    return best, events


def run(size_mb: int = 50) -> dict[str, Any]:
    mixes: dict[str, dict[str, Any]] = {}
    kinds = frozenset(MEMBERSHIP_KINDS.split(","))
    with tempfile.TemporaryDirectory(prefix="cc-bench-scan-") as root:
        for mix in ("calm", "busy", "storm"):
            path = Path(root) / f"{mix}.log"
            if mix == "storm":
                _storm(path, size_mb)
            else:
                generate(path, size_mb, profile=mix)
            data = path.read_bytes()
            mb, lines = len(data) / (1 << 20), data.count(b"\n")
            del data
            every_s, events = _cpu(path, None)
            kind_s, kind_events = _cpu(path, kinds)
            python_s, _ = _cpu(path, None, python_records=True)
            mixes[mix] = {
                "mb": round(mb, 1),
                "lines": lines,
                "events": events,
                "cpu_s": round(every_s, 3),
                "mb_per_cpu_s": round(mb / every_s, 1),
                "lines_per_cpu_s": round(lines / every_s),
                "us_per_event": round(every_s / max(events, 1) * 1e6, 1),
                "python_records_cpu_s": round(python_s, 3),
                "python_records_us_per_event": round(python_s / max(events, 1) * 1e6, 1),
                "kind_events": kind_events,
                "kind_cpu_s": round(kind_s, 3),
                "kind_mb_per_cpu_s": round(mb / kind_s, 1),
            }
            path.unlink()
    return {"name": "scan_cpu", "kind": MEMBERSHIP_KINDS, "mixes": mixes}


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 50), indent=2))
