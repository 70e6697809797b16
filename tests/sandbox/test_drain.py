"""The drain and rejoin wizards on the real sandbox, through the scripted CLI.

Every test leaves the cluster fully up with every worker enabled, whatever happens.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from console import exitcodes
from console.audit import AuditLog, read_entries
from console.cluster import maintenance
from console.config import load_inventory
from console.operations.workers import WorkerActions
from console.sandbox import httpd, sshd, tomcat
from console.sandbox.layout import NodeLayout, SandboxLayout
from probes.balancer.httpd_client import BalancerReader, WorkerChange
from probes.balancer.model import BalancerChangeNotApplied
from tests.sandbox.helpers import (
    app_get,
    log_size,
    new_user,
    parse_reply,
    peers,
    wait_for,
    wait_for_member_event,
)

pytestmark = pytest.mark.sandbox
RUN_TIMEOUT = 300


def cli(
    layout: SandboxLayout, audit: Path, *args: str, inventory: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLUSTERCONSOLE_AUDIT_LOG": str(audit)}
    command = [sys.executable, "-m", "console", "--config", str(inventory or layout.inventory)]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=RUN_TIMEOUT,
    )


def statuses(layout: SandboxLayout) -> dict[str, str | None]:
    async def read() -> dict[str, str | None]:
        async with BalancerReader(layout.balancer_url) as reader:
            page = await reader.read()
        return {w.route or w.url: w.status for b in page.balancers for w in b.workers}

    return asyncio.run(read())


def set_workers(
    layout: SandboxLayout, audit: Path, routes: list[str], change: WorkerChange
) -> None:
    async def apply() -> None:
        wa = WorkerActions(load_inventory(layout.inventory), AuditLog(audit, "scripted"))
        try:
            for route in routes:
                await wa.set_worker("httpd", route, change, step="test-restore")
        finally:
            await wa.aclose()

    asyncio.run(apply())


def restore(layout: SandboxLayout, tmp_path: Path) -> None:
    """Every node running and in the cluster, every worker enabled."""
    for node in layout.nodes:
        if tomcat.running_pid(node) is None:
            others = peers(layout, node)
            offsets = {peer.name: log_size(peer.catalina_out) for peer in others}
            tomcat.start(node)
            for peer in others:
                wait_for_member_event(peer, node, "memberAdded", offsets[peer.name], 60)
    routes = [node.jvm_route for node in layout.nodes]
    set_workers(
        layout, tmp_path / "restore.jsonl", routes, WorkerChange(drain=False, disabled=False)
    )
    assert all(status == "Init Ok" for status in statuses(layout).values())


@pytest.fixture
def cluster(sandbox: SandboxLayout, tmp_path: Path) -> Iterator[SandboxLayout]:
    restore(sandbox, tmp_path)
    try:
        yield sandbox
    finally:
        restore(sandbox, tmp_path)


def node2(layout: SandboxLayout) -> NodeLayout:
    return layout.nodes[1]


def test_dry_run_shows_the_exact_changes_and_changes_nothing(
    cluster: SandboxLayout, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    before = statuses(cluster)
    result = cli(cluster, audit, "--wizard", "drain", "--node", "node2", "--dry-run")
    assert result.returncode == exitcodes.OK, result.stdout + result.stderr
    assert "w_status_N" in result.stdout and "w_status_D" in result.stdout
    assert "sandbox-stop.sh" in result.stdout
    assert "nothing was changed" in result.stdout
    assert statuses(cluster) == before
    assert tomcat.running_pid(node2(cluster)) is not None
    assert not audit.exists() or read_entries(audit) == []


def test_without_yes_and_without_a_terminal_nothing_changes(
    cluster: SandboxLayout, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    before = statuses(cluster)
    result = cli(cluster, audit, "--wizard", "drain", "--node", "node2")
    assert result.returncode == exitcodes.REFUSED, result.stdout + result.stderr
    assert "--yes" in result.stdout + result.stderr
    assert statuses(cluster) == before
    assert read_entries(audit) == []


def test_refuses_to_drain_the_last_usable_worker(cluster: SandboxLayout, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    set_workers(cluster, tmp_path / "setup.jsonl", ["node1", "node3"], WorkerChange(disabled=True))
    result = cli(cluster, audit, "--wizard", "drain", "--node", "node2", "--yes", "--json")
    assert result.returncode == exitcodes.REFUSED, result.stdout + result.stderr
    assert "last usable worker" in result.stdout
    assert statuses(cluster)["node2"] == "Init Ok"
    assert read_entries(audit) == []


def test_unknown_node_and_wizard_are_usage_errors(cluster: SandboxLayout, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    result = cli(cluster, audit, "--wizard", "drain", "--node", "node9", "--yes")
    assert result.returncode == exitcodes.USAGE
    assert "no node 'node9'" in result.stderr and "Traceback" not in result.stderr
    result = cli(cluster, audit, "--wizard", "dance", "--node", "node2")
    assert result.returncode == exitcodes.USAGE and "no wizard 'dance'" in result.stderr


def test_a_balancer_that_ignores_the_change_is_detected(
    cluster: SandboxLayout, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"

    async def attempt() -> None:
        wa = WorkerActions(load_inventory(cluster.inventory), AuditLog(audit, "scripted"))
        try:
            client = wa._client("httpd")
            client.writer.referer = "http://elsewhere.example/balancer-manager"  # type: ignore[union-attr]
            await wa.set_worker("httpd", "node2", WorkerChange(drain=True), node="node2")
        finally:
            await wa.aclose()

    with pytest.raises(BalancerChangeNotApplied, match="did not apply drain on"):
        asyncio.run(attempt())
    assert statuses(cluster)["node2"] == "Init Ok"
    before, after = read_entries(audit)
    assert before["phase"] == "before" and after["result"]["ok"] is False


class StickyLoad:
    """A few users, each with its own session, clicking through the balancer without pause."""

    def __init__(self, url: str, users: int) -> None:
        self.url = url
        self.users = users
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.counts: list[list[int]] = [[] for _ in range(users)]
        self.threads = [threading.Thread(target=self._user, args=(i,)) for i in range(users)]

    def _user(self, index: int) -> None:
        with new_user() as client:
            while not self.stop.is_set():
                try:
                    response = client.get(self.url)
                    if response.status_code != 200:
                        self.failures.append(f"HTTP {response.status_code}")
                        continue
                    self.counts[index].append(parse_reply(response.text).count)
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                self.stop.wait(0.05)

    def __enter__(self) -> StickyLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


@pytest.mark.disruptive
def test_drain_then_rejoin_under_load_fails_no_request_and_audits_every_change(
    cluster: SandboxLayout, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    node = node2(cluster)
    with StickyLoad(cluster.app_url, 6) as load:
        wait_for(lambda: all(len(c) >= 3 for c in load.counts), 60, "every user to get answers")
        drained = cli(cluster, audit, "--wizard", "drain", "--node", "node2", "--yes")
        assert drained.returncode == exitcodes.OK, drained.stdout + drained.stderr
        assert tomcat.running_pid(node) is None
        assert statuses(cluster)["node2"] == "Init Drn Dis"
        assert "logged node2 leaving" in drained.stdout
        assert "shows node2 disabled" in drained.stdout  # the state left, as read back
        assert "its Tomcat is stopped" in drained.stdout
        assert list(in_maintenance(cluster, audit)) == ["node2"]
        rejoined = cli(cluster, audit, "--wizard", "rejoin", "--node", "node2", "--yes")
        assert rejoined.returncode == exitcodes.OK, rejoined.stdout + rejoined.stderr
        assert "shows node2 serving" in rejoined.stdout and "out of maintenance" in rejoined.stdout
        assert in_maintenance(cluster, audit) == {}
        marks = [len(c) for c in load.counts]
        wait_for(
            lambda: all(len(c) >= m + 3 for c, m in zip(load.counts, marks, strict=True)),
            60,
            "every user to keep getting answers after the rejoin",
        )
    assert load.failures == []
    for counts in load.counts:
        assert counts == sorted(counts) and len(set(counts)) == len(counts), counts
    assert statuses(cluster)["node2"] == "Init Ok"
    with new_user() as client:
        direct = app_get(client, node.http_url + "/app/")
    assert direct.node == "node2"
    # The rejoin reset httpd's byrequests counters: with equal factors a new user lands on each
    # node in turn, so one of three new users is on node2 now, not after the others catch up.
    landed = []
    for _ in range(3):
        with new_user() as client:
            landed.append(app_get(client, cluster.app_url).node)
    assert "node2" in landed, landed
    entries = read_entries(audit)
    steps = [e["step"] for e in entries if e["phase"] == "before"]
    assert steps == [
        "run",
        "drain",
        "disable",
        "stop",
        "maintenance-mark",
        "run",
        "start",
        "enable",
        "rebalance",
        "maintenance-clear",
    ]
    runs = [e for e in entries if e["step"] == "run" and e["phase"] == "after"]
    assert [e["result"]["status"] for e in runs] == ["done", "done"]
    assert "shows node2 serving" in runs[1]["result"]["state"]
    worker_changes = [e for e in entries if e["phase"] == "before" and "change" in e["request"]]
    assert all(e["state_before"]["worker"]["status"] for e in worker_changes)
    ids = {e["id"] for e in entries if e["phase"] == "after" and e["result"]["ok"]}
    assert ids == {e["id"] for e in entries if e["phase"] == "before"}


@pytest.mark.disruptive
def test_a_node_that_does_not_stop_in_time_fails_and_stays_out_of_the_balancer(
    cluster: SandboxLayout, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    text = cluster.inventory.read_text(encoding="utf-8")
    stop = str(tomcat.stop_script(node2(cluster)))
    inventory = cluster.inventory.with_name("cluster-nostop.toml")
    inventory.write_text(text.replace(f'stop = "{stop}"', 'stop = "true"'), encoding="utf-8")
    answers = tmp_path / "answers.toml"
    answers.write_text("stop_margin = 2\n", encoding="utf-8")
    result = cli(
        cluster,
        audit,
        "--wizard",
        "drain",
        "--node",
        "node2",
        "--yes",
        "--answers",
        str(answers),
        inventory=inventory,
    )
    assert result.returncode == exitcodes.PROBLEMS, result.stdout + result.stderr
    assert "did not stop within" in result.stderr
    assert "shows node2 disabled (no request goes there)" in result.stdout
    assert "its Tomcat runs" in result.stdout
    assert tomcat.running_pid(node2(cluster)) is not None
    assert statuses(cluster)["node2"] == "Init Drn Dis"


@pytest.mark.disruptive
@pytest.mark.parametrize(
    ("sig", "reason"),
    [
        (signal.SIGINT, "cancelled by the operator"),
        (signal.SIGHUP, "stopped by SIGHUP (the terminal was closed)"),
    ],
)
def test_cancelling_halfway_leaves_the_node_drained_and_says_so(
    cluster: SandboxLayout, tmp_path: Path, sig: signal.Signals, reason: str
) -> None:
    audit = tmp_path / "audit.jsonl"
    answers = tmp_path / "answers.toml"
    answers.write_text("drain_seconds = 600\n", encoding="utf-8")
    env = {**os.environ, "CLUSTERCONSOLE_AUDIT_LOG": str(audit)}
    command = [sys.executable, "-m", "console", "--config", str(cluster.inventory)]
    args = ["--wizard", "drain", "--node", "node2", "--yes", "--answers", str(answers)]
    process = subprocess.Popen(
        [*command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line)
            if "wait-drained: waiting for" in line:
                break
        process.send_signal(sig)
        rest, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(lines) + rest
    assert process.returncode == exitcodes.PROBLEMS, output + errors
    assert f"{reason} during wait-drained" in output
    assert "shows node2 drained (no new sessions)" in output  # read back
    assert "Traceback" not in errors
    assert statuses(cluster)["node2"] == "Init Drn Ok"
    assert tomcat.running_pid(node2(cluster)) is not None
    with new_user() as client:
        assert app_get(client, cluster.app_url).node != "node2"
    entries = read_entries(audit)
    assert [(e["step"], e["phase"]) for e in entries] == [
        ("run", "before"),
        ("drain", "before"),
        ("drain", "after"),
        ("run", "after"),  # how the run ended and the state it left, audited
    ]
    assert entries[2]["result"]["ok"] is True
    assert entries[3]["result"]["status"] == "cancelled"
    assert "shows node2 drained" in entries[3]["result"]["state"]


def in_maintenance(layout: SandboxLayout, audit: Path) -> dict[str, maintenance.MaintenanceMark]:
    """The maintenance marks the wizards wrote next to the test's audit log."""
    name = load_inventory(layout.inventory).cluster.name
    return maintenance.load(name, path=audit.parent / maintenance.FILE_NAME)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.disruptive
def test_a_node_without_ssh_is_refused_before_any_change_also_in_a_dry_run(
    cluster: SandboxLayout, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    node = node2(cluster)
    before = statuses(cluster)
    sshd.stop(node)
    try:
        for extra in (["--dry-run"], ["--yes"]):
            result = cli(cluster, audit, "--wizard", "drain", "--node", "node2", *extra)
            assert result.returncode == exitcodes.REFUSED, result.stdout + result.stderr
            assert "node2's state is unknown" in result.stdout + result.stderr
            assert "Traceback" not in result.stderr
            assert statuses(cluster) == before
            assert tomcat.running_pid(node) is not None
        assert not audit.exists() or read_entries(audit) == []
        rejoin = cli(cluster, audit, "--wizard", "rejoin", "--node", "node2", "--yes")
        assert rejoin.returncode == exitcodes.REFUSED, rejoin.stdout + rejoin.stderr
        assert not audit.exists() or read_entries(audit) == []
    finally:
        sshd.start(node)


@pytest.mark.disruptive
def test_a_graceful_httpd_restart_during_the_drain_is_noticed_and_the_drain_reapplied(
    cluster: SandboxLayout, tmp_path: Path
) -> None:
    """httpd without BalancerPersist forgets Drain and Disabled on a graceful restart: the
    wizard must see it and apply them again before it goes on to stop Tomcat."""
    audit = tmp_path / "audit.jsonl"
    answers = tmp_path / "answers.toml"
    answers.write_text("drain_seconds = 20\n", encoding="utf-8")
    env = {**os.environ, "CLUSTERCONSOLE_AUDIT_LOG": str(audit)}
    command = [sys.executable, "-m", "console", "--config", str(cluster.inventory)]
    args = ["--wizard", "drain", "--node", "node2", "--yes", "--json", "--answers", str(answers)]
    process = subprocess.Popen(
        [*command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line)
            if json.loads(line)["step"] == "wait-drained":
                break
        assert statuses(cluster)["node2"] == "Init Drn Ok"
        pid = httpd.running_pid(cluster)
        assert pid is not None
        os.kill(pid, signal.SIGUSR1)  # apachectl -k graceful
        wait_for(lambda: statuses(cluster)["node2"] == "Init Ok", 15, "httpd to forget the drain")
        rest, errors = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    events = json_lines("".join(lines) + rest)
    assert process.returncode == exitcodes.OK, errors
    warnings = [e["text"] for e in events if e["event"] == "warning"]
    assert any("undone under the wizard" in str(text) for text in warnings), warnings
    assert statuses(cluster)["node2"] == "Init Drn Dis"
    assert tomcat.running_pid(node2(cluster)) is None
    befores = [e for e in read_entries(audit) if e["phase"] == "before"]
    steps = [e["step"] for e in befores]
    assert steps.index("wait-drained") < steps.index("stop")  # re-applied, audited, before
    assert befores[steps.index("wait-drained")]["state_before"]["worker"]["status"] == "Init Ok"


def test_a_dry_run_into_a_closed_pipe_ends_quietly(cluster: SandboxLayout, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    env = {**os.environ, "CLUSTERCONSOLE_AUDIT_LOG": str(audit), "XDG_STATE_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "console", "--config", str(cluster.inventory)]
    args = ["--wizard", "drain", "--node", "node2", "--dry-run", "--json"]
    process = subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdout is not None and process.stderr is not None
    assert json.loads(process.stdout.readline())  # `| head -1`
    process.stdout.close()
    errors = process.stderr.read().decode()
    assert process.wait(timeout=RUN_TIMEOUT) == exitcodes.OK, errors
    assert "internal error" not in errors and "Broken pipe" not in errors
    assert list(tmp_path.rglob("crash-*.txt")) == []


@pytest.mark.disruptive
def test_a_drain_whose_output_pipe_closes_finishes_and_audits(
    cluster: SandboxLayout, tmp_path: Path
) -> None:
    """`clusterconsole --wizard drain --node node2 --yes | head -5`."""
    audit = tmp_path / "audit.jsonl"
    env = {**os.environ, "CLUSTERCONSOLE_AUDIT_LOG": str(audit), "XDG_STATE_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "console", "--config", str(cluster.inventory)]
    process = subprocess.Popen(
        [*command, "--wizard", "drain", "--node", "node2", "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None and process.stderr is not None
    for _ in range(5):
        process.stdout.readline()
    process.stdout.close()
    errors = process.stderr.read().decode()
    assert process.wait(timeout=RUN_TIMEOUT) == exitcodes.OK, errors
    assert "internal error" not in errors and "Broken pipe" not in errors
    assert list(tmp_path.rglob("crash-*.txt")) == []
    assert statuses(cluster)["node2"] == "Init Drn Dis"
    assert tomcat.running_pid(node2(cluster)) is None
    entries = read_entries(audit)
    ids = {e["id"] for e in entries if e["phase"] == "after" and e["result"]["ok"]}
    assert ids == {e["id"] for e in entries if e["phase"] == "before"}
    assert "maintenance-mark" in {e["step"] for e in entries}
    assert entries[-1]["step"] == "run" and entries[-1]["result"]["status"] == "done"
