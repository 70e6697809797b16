"""`up`, `down` and `status`: idempotent start, and stopping only what the sandbox started."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.sandbox import httpd, manager, mariadb, sshd, tomcat
from console.sandbox.layout import SandboxLayout
from console.sandbox.procs import cmdline, owned_pid
from console.sandbox.waits import port_open, wait_until
from tests.sandbox.conftest import TEST_NET

pytestmark = pytest.mark.sandbox


def _pids(layout: SandboxLayout) -> dict[str, int | None]:
    return {row.name: row.pid for row in manager.status(layout)}


def _mtimes(layout: SandboxLayout) -> dict[Path, int]:
    """Modification times of every file Tomcat watches (a rewrite would redeploy the app)."""
    files: dict[Path, int] = {}
    for node in layout.nodes:
        for sub in ("conf", "webapps", "bin"):
            for path in (node.base / sub).rglob("*"):
                if path.is_file():
                    files[path] = path.stat().st_mtime_ns
    for path in (layout.httpd_conf, layout.mariadb_cnf, layout.known_hosts, layout.inventory):
        files[path] = path.stat().st_mtime_ns
    return files


def test_status_lists_every_server_running_and_listening(sandbox: SandboxLayout) -> None:
    rows = manager.status(sandbox)
    assert sorted(row.name for row in rows) == sorted(
        ["mariadb", "httpd"]
        + [node.name for node in sandbox.nodes]
        + [f"{node.name}-sshd" for node in sandbox.nodes]
    )
    for row in rows:
        assert row.running, row
        host, port = row.listen.rsplit(":", 1)
        assert host.startswith(f"{TEST_NET}."), row  # the test sandbox's own /24
        assert port_open(host, int(port)), row
        assert str(sandbox.root) in cmdline(row.pid or 0), row  # started from this sandbox


def test_up_again_is_quick_and_changes_nothing(sandbox: SandboxLayout) -> None:
    pids, mtimes = _pids(sandbox), _mtimes(sandbox)
    lines: list[str] = []
    began = time.monotonic()
    again = manager.up(sandbox.count, report=lines.append)
    elapsed = time.monotonic() - began
    assert again == sandbox
    assert _pids(sandbox) == pids
    assert _mtimes(sandbox) == mtimes, "up rewrote files (Tomcat would redeploy)"
    assert elapsed < 5, f"up on a running sandbox took {elapsed:.1f} s"
    assert sum("already running" in line for line in lines) == len(pids), lines


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A process that has nothing to do with any sandbox."""
    process = subprocess.Popen(["sleep", "300"])
    try:
        # /proc/PID/cmdline can still show the parent's command line for a moment after Popen.
        shown = wait_until(lambda: cmdline(process.pid) == "sleep 300", 5.0)
        assert shown, f"sleeper's cmdline is {cmdline(process.pid)!r}"
        yield process
    finally:
        process.kill()
        process.wait(10)


def test_a_pid_file_naming_someone_else_is_not_ours(
    sandbox: SandboxLayout,
    sleeper: subprocess.Popen[bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A second sandbox directory whose every pid file claims the unrelated process.
    other = SandboxLayout(tmp_path / "other", sandbox.count, sandbox.net)
    pid_files = [other.httpd_pid_file, other.mariadb_pid_file]
    pid_files += [node.pid_file for node in other.nodes]
    pid_files += [node.sshd_pid_file for node in other.nodes]
    for pid_file in pid_files:
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(f"{sleeper.pid}\n")
    other.state_file.write_text(json.dumps({"nodes": other.count, "net": other.net}) + "\n")

    assert owned_pid(other.httpd_pid_file, str(other.httpd_conf)) is None
    assert owned_pid(other.httpd_pid_file, "sleep 300") == sleeper.pid  # the marker decides
    assert httpd.running_pid(other) is None
    assert mariadb.running_pid(other) is None
    assert all(tomcat.running_pid(node) is None for node in other.nodes)
    assert all(sshd.running_pid(node) is None for node in other.nodes)
    assert not any(row.running for row in manager.status(other))

    # The shared sandbox's own pid files do not name the sleeper either way round.
    assert owned_pid(sandbox.httpd_pid_file, "sleep 300") is None

    pids = _pids(sandbox)
    monkeypatch.setenv("CLUSTERCONSOLE_SANDBOX_DIR", str(other.root))
    assert manager.current_layout() == other
    assert manager.down(report=lambda line: None) == 0
    monkeypatch.undo()
    assert sleeper.poll() is None, "down killed a process it did not start"
    assert _pids(sandbox) == pids, "down in another directory touched the shared sandbox"
