"""A sandbox variant (liferay, frevvo) of its own for one test module, beside the main sandbox.

Each variant module brings up a 2-node sandbox of that variant in its own directory and in its
own loopback /24, `$CLUSTERCONSOLE_TEST_VARIANT_NET` or else the main test network's third octet
plus 100 (127.0.2 -> 127.0.102), so it never collides with the session's main sandbox (which may
be running at the same time) or a developer's. It is always brought down at the module's end, so
only one variant runs at a time.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from console.sandbox import manager, tomcat
from console.sandbox.layout import BALANCER_PORT, DATABASE_PORT, HTTP_PORT, SSH_PORT, SandboxLayout
from console.sandbox.waits import port_open
from tests.bench.drain_proof import MIN_RATE, audit_pairs
from tests.bench.rolling_restart import RollingRun, node_timings

from .conftest import TEST_NET

NODES = 2
_ENV_KEYS = ("CLUSTERCONSOLE_SANDBOX_DIR", "CLUSTERCONSOLE_SANDBOX_NET")

log = logging.getLogger("sandbox-variant-tests")


def variant_net() -> str:
    override = os.environ.get("CLUSTERCONSOLE_TEST_VARIANT_NET")
    if override:
        return override
    first, second, third = TEST_NET.split(".")
    return f"{first}.{second}.{(int(third) + 100) % 256}"


@contextmanager
def sandbox_env(root: Path, net: str) -> Iterator[None]:
    """CLUSTERCONSOLE_SANDBOX_DIR/NET pointing at the variant sandbox, restored afterwards."""
    saved = {key: os.environ.get(key) for key in _ENV_KEYS}
    os.environ["CLUSTERCONSOLE_SANDBOX_DIR"] = str(root)
    os.environ["CLUSTERCONSOLE_SANDBOX_NET"] = net
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _busy(net: str) -> list[str]:
    wanted = [(f"{net}.1", BALANCER_PORT), (f"{net}.10", DATABASE_PORT)]
    for index in range(NODES):
        wanted += [(f"{net}.{11 + index}", HTTP_PORT), (f"{net}.{11 + index}", SSH_PORT)]
    return [f"{host}:{port}" for host, port in wanted if port_open(host, port, 0.2)]


@contextmanager
def variant_sandbox(variant: str, root: Path) -> Iterator[SandboxLayout]:
    """Bring up `variant` with NODES nodes in `root`; always bring it down afterwards."""
    net = variant_net()
    with sandbox_env(root, net):
        busy = [] if any(row.running for row in manager.status()) else _busy(net)
        if busy:
            pytest.fail(
                f"the {variant} test sandbox's addresses are already taken ({', '.join(busy)}): "
                f"another sandbox runs on {net}.x; set CLUSTERCONSOLE_TEST_VARIANT_NET",
                pytrace=False,
            )
        try:
            yield manager.up(NODES, report=log.info, variant=variant)
        finally:
            manager.down(report=log.info)


def console(layout: SandboxLayout, *args: str, timeout: float = 180) -> tuple[int, str, str]:
    """Run `clusterconsole ARGS` on the variant sandbox (its directory and network in the
    environment, so `--sandbox` and `sandbox ...` find it): exit code, stdout, stderr."""
    env = {
        **os.environ,
        "CLUSTERCONSOLE_SANDBOX_DIR": str(layout.root),
        "CLUSTERCONSOLE_SANDBOX_NET": layout.net,
    }
    result = subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )
    return result.returncode, result.stdout, result.stderr


def start_stopped_nodes(layout: SandboxLayout) -> list[str]:
    """Start every node that is not running (after a wizard that failed halfway)."""
    started = []
    for node in layout.nodes:
        if tomcat.running_pid(node) is None:
            tomcat.start(node)
            started.append(node.name)
    return started


def filled(value: Any, path: str = "") -> list[str]:
    """Paths of the None values in a JSON document (the figures `status --json` left empty)."""
    if value is None:
        return [path or "."]
    if isinstance(value, dict):
        return [hole for key, item in value.items() for hole in filled(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [hole for i, item in enumerate(value) for hole in filled(item, f"{path}[{i}]")]
    return []


def watched_files(layout: SandboxLayout) -> dict[Path, int]:
    """Modification times of every file Tomcat or a balancer reads (a rewrite on an idempotent
    `up` would redeploy the app or change the balancer)."""
    files: dict[Path, int] = {}
    for node in layout.nodes:
        for sub in ("conf", "webapps", "bin"):
            for path in (node.base / sub).rglob("*"):
                if path.is_file():
                    files[path] = path.stat().st_mtime_ns
    for path in (layout.httpd_conf, layout.haproxy_cfg, layout.inventory):
        if path.exists():
            files[path] = path.stat().st_mtime_ns
    return files


def up_again_changes_nothing(layout: SandboxLayout) -> None:
    """`up` of the same variant on the running sandbox starts nothing and rewrites nothing."""
    pids = {row.name: row.pid for row in manager.status(layout)}
    before = watched_files(layout)
    lines: list[str] = []
    with sandbox_env(layout.root, layout.net):
        again = manager.up(layout.count, report=lines.append, variant=layout.variant)
    assert again == layout
    assert {row.name: row.pid for row in manager.status(layout)} == pids, (pids, lines)
    after = watched_files(layout)
    rewritten = sorted(
        str(path) for path in set(before) | set(after) if before.get(path) != after.get(path)
    )
    assert not rewritten, f"up rewrote files (Tomcat would redeploy): {rewritten}"
    assert sum("already running" in line for line in lines) == len(pids), lines


def check_rolling_restart(result: RollingRun, audit_log: Path, layout: SandboxLayout) -> None:
    """`--wizard rolling-restart` of every node under the sticky load: the nodes restarted in
    inventory order, each received its peers' sessions and serves again; no request failed, no
    session counter broke, every change audited before and after; the rate floor met."""
    run, report = result.run, result.report
    assert run is not None and report is not None
    assert (run.finished or {}).get("status") == "done", run.describe()
    figures = report.to_json()
    assert report.failures == 0, figures["failure_samples"]
    assert report.breaks == 0, figures["break_samples"]
    names = [node.name for node in layout.nodes]
    assert [t.node for t in node_timings(run)] == names
    observed = [str(e.get("text")) for e in run.events if e.get("event") == "observed"]
    state = str((run.finished or {}).get("state"))
    for node in names:
        assert f"{node} received the session state of its peers" in observed, observed
        assert f"shows {node} serving" in state and "Tomcat runs" in state, state
    pairs, unpaired, failed = audit_pairs(audit_log)
    assert not unpaired and not failed, (unpaired, failed)
    steps = {(p["before"].get("node"), p["before"].get("step")) for p in pairs.values()}
    for node in names:
        assert (node, f"{node}/stop") in steps and (node, f"{node}/start") in steps, steps
    # last: a loaded machine slows the load, which then proves less, not that requests failed
    assert result.rate >= MIN_RATE, f"the load reached only {result.rate:.1f} requests/s"
