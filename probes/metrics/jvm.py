"""What SSH can read about a node's JVM without Tomcat's manager application.

From ``/proc/PID``: resident memory, CPU time and when the process started; with a JDK on the
node, heap used and its limit from ``jstat -gc`` / ``jstat -gccapacity`` (run as whoever the SSH
user is: ``jstat`` only sees JVMs of its own user). One short POSIX-sh script, each part marked so
one missing piece (no JDK, no permission) leaves the others' figures. Parsing never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

JSTAT_TIMEOUT = 10
"""Seconds ``jstat`` may take on the node (it attaches to the JVM: about 0.5 s each)."""


def jvm_script(pid: int) -> str:
    """The command that reads a JVM's figures (`pid` is an int: nothing else reaches the shell)."""
    p = int(pid)
    return (
        f"echo '@@stat'; cat /proc/{p}/stat 2>&1; "
        f"echo '@@status'; grep VmRSS /proc/{p}/status 2>&1; "
        "echo '@@tick'; getconf CLK_TCK; "
        "echo '@@uptime'; cat /proc/uptime; "
        "if command -v jstat >/dev/null 2>&1; then "
        f"echo '@@gc'; timeout {JSTAT_TIMEOUT} jstat -gc {p} 2>&1; "
        f"echo '@@gccapacity'; timeout {JSTAT_TIMEOUT} jstat -gccapacity {p} 2>&1; "
        "else echo '@@nojstat'; fi"
    )


@dataclass(frozen=True, slots=True)
class JvmSample:
    """One read of a JVM process over SSH; None where unknown."""

    pid: int
    rss_bytes: int | None = None
    cpu_seconds: float | None = None
    """User + system CPU time the process used since it started."""
    age_seconds: float | None = None
    """How long the process has been running."""
    heap_used: int | None = None
    heap_max: int | None = None
    gc_seconds: float | None = None
    """Total time spent in garbage collection (jstat's GCT)."""
    heap_missing: str | None = None
    """Why the heap figures are unknown (no JDK on the node, jstat refused ...)."""

    def to_json(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "rss_bytes": self.rss_bytes,
            "cpu_seconds": self.cpu_seconds,
            "age_seconds": self.age_seconds,
            "gc_seconds": self.gc_seconds,
        }


def _sections(text: str) -> dict[str, list[str]]:
    parts: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@@") and line[2:].isalnum():
            current = parts.setdefault(line[2:], [])
        elif current is not None:
            current.append(line)
    return parts


def _table(lines: list[str]) -> dict[str, float]:
    """A jstat header line and its values line, as a mapping; {} when not that."""
    rows = [line.split() for line in lines if line.strip()]
    if len(rows) < 2 or len(rows[0]) != len(rows[1]):
        return {}
    out: dict[str, float] = {}
    for key, value in zip(rows[0], rows[1], strict=True):
        try:
            out[key] = float(value)
        except ValueError:
            continue  # "-" for a collector that does not exist
    return out


def _kib(table: dict[str, float], *keys: str) -> int | None:
    if not all(key in table for key in keys):
        return None
    return int(sum(table[key] for key in keys) * 1024)


def parse_jvm(pid: int, output: str) -> JvmSample:
    """The script's output as figures; what it could not read stays None (with the reason for
    the heap)."""
    parts = _sections(output)
    rss = cpu = age = None
    status = " ".join(parts.get("status", []))
    if found := re.search(r"VmRSS:\s*(\d+)\s*kB", status):
        rss = int(found.group(1)) * 1024
    tick_text = " ".join(parts.get("tick", [])).strip()
    tick = int(tick_text) if tick_text.isdigit() and int(tick_text) > 0 else None
    stat = " ".join(parts.get("stat", []))
    # the command name may hold spaces and parentheses: the fields start after the last ')'
    fields = stat.rpartition(")")[2].split() if ")" in stat else []
    if tick is not None and len(fields) > 19 and all(f.isdigit() for f in fields[11:13]):
        cpu = (int(fields[11]) + int(fields[12])) / tick
        uptime = " ".join(parts.get("uptime", [])).split()
        if fields[19].isdigit() and uptime:
            try:
                age = max(0.0, float(uptime[0]) - int(fields[19]) / tick)
            except ValueError:
                age = None
    heap_used = heap_max = gc = None
    missing: str | None = None
    if "nojstat" in parts:
        missing = "no JDK on the node (jstat not found): heap unknown without the manager"
    elif "gc" in parts:
        gc_table, capacity = _table(parts["gc"]), _table(parts.get("gccapacity", []))
        heap_used = _kib(gc_table, "S0U", "S1U", "EU", "OU")
        heap_max = _kib(capacity, "NGCMX", "OGCMX")
        gc = gc_table.get("GCT")
        if heap_used is None:
            said = " ".join(" ".join(parts["gc"]).split())[:160]
            missing = f"jstat could not read the JVM: {said or 'no output'}"
    else:
        missing = "the JVM was not read"
    return JvmSample(pid, rss, cpu, age, heap_used, heap_max, gc, missing)
