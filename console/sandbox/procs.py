"""The processes the sandbox started, found by pid file and checked against /proc.

A pid file alone is not proof: the pid may since belong to another program. A process counts as
ours only when its command line contains a marker unique to this sandbox (its config path).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from pathlib import Path


def read_pid(pid_file: Path) -> int | None:
    """The pid in `pid_file`, or None when the file is missing or holds no number."""
    try:
        text = pid_file.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def cmdline(pid: int) -> str:
    """The process's command line with NULs as spaces; empty when it is gone or a zombie."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def owned_pid(pid_file: Path, marker: str) -> int | None:
    """The pid from `pid_file` if that process is alive and has `marker` as a whole word.

    A whole word, not a substring: node1's `-Dcatalina.base=.../node1` must not claim node10.
    (Not an exact argv entry either: sshd rewrites its title into one string.)
    """
    pid = read_pid(pid_file)
    if pid is None or not has_token(cmdline(pid), marker):
        return None
    return pid


def has_token(command: str, marker: str) -> bool:
    """True when `marker` stands in `command` delimited by whitespace or the ends."""
    return re.search(rf"(?:^|\s){re.escape(marker)}(?:\s|$)", command) is not None


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until `pid` has exited (or is a zombie); True if it did within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not cmdline(pid):
            return True
        time.sleep(0.05)
    return not cmdline(pid)


def terminate(pid: int, timeout: float = 15.0) -> bool:
    """SIGTERM, then SIGKILL after `timeout`; True if it ended politely."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if wait_gone(pid, timeout):
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait_gone(pid, 5.0)
    return False
