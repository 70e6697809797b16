"""Which processes the sandbox counts as its own: only a whole-word match of its marker."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.sandbox.procs import cmdline, has_token, owned_pid, terminate


@pytest.fixture
def node10_jvm() -> Iterator[subprocess.Popen[bytes]]:
    """A stand-in process whose command line looks like node10's JVM."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "-Dcatalina.base=/x/nodes/node10"]
    )
    # Popen can return before the child's /proc/PID/cmdline shows the new program (vfork).
    deadline = time.monotonic() + 10
    while "node10" not in cmdline(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    yield proc
    terminate(proc.pid, 5)
    proc.wait()


def test_node1_marker_does_not_claim_node10(
    tmp_path: Path, node10_jvm: subprocess.Popen[bytes]
) -> None:
    pid_file = tmp_path / "catalina.pid"
    pid_file.write_text(f"{node10_jvm.pid}\n")
    assert owned_pid(pid_file, "-Dcatalina.base=/x/nodes/node1") is None
    assert owned_pid(pid_file, "-Dcatalina.base=/x/nodes/node10") == node10_jvm.pid


def test_missing_or_garbage_pid_file_is_nobody(tmp_path: Path) -> None:
    assert owned_pid(tmp_path / "none.pid", "x") is None
    garbage = tmp_path / "garbage.pid"
    garbage.write_text("not a pid\n")
    assert owned_pid(garbage, "x") is None


@pytest.mark.parametrize(
    ("command", "marker", "expected"),
    [
        ("sshd: /usr/sbin/sshd -f /s/node1/sshd_config [listener]", "/s/node1/sshd_config", True),
        ("sshd: /usr/sbin/sshd -f /s/node1/sshd_config2 [listener]", "/s/node1/sshd_config", False),
        ("/usr/sbin/apache2 -f /s/httpd/httpd.conf -k start", "/s/httpd/httpd.conf", True),
        ("mariadbd --defaults-file=/s/my.cnf", "--defaults-file=/s/my.cnf", True),
        ("", "x", False),
    ],
)
def test_whole_word_matching(command: str, marker: str, expected: bool) -> None:
    assert has_token(command, marker) is expected
