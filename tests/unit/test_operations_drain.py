"""The real drain wizard against a fake balancer-manager and a fake node: what it refuses, what it
re-applies when the balancer forgets, and the state it says it left (read back, not assumed).

The balancer is httpd's real 2.4.71 page served by an httpx MockTransport that applies (or
ignores, or forbids) the POSTs; the node is a fake whose `ps` and commands the test controls.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl

import httpx
import pytest

from console import exitcodes
from console.audit import AuditLog, read_entries
from console.cluster import maintenance
from console.cluster.observations import (
    BacklogScanned,
    LogHistoryLost,
    Observation,
    ProcessObserved,
    SshObserved,
)
from console.commands.wizard import _Printer
from console.config import load_inventory
from console.config.model import Inventory
from console.monitor.runner import Monitor
from console.operations.context import NodeContext
from console.operations.engine import Change, Outcome, Progress, Runner, Step
from console.operations.wizards import drain
from console.operations.workers import WorkerActions
from probes.process import TomcatProcess
from probes.ssh.connection import CommandResult, SshCommandError, SshTarget

DATA = Path(__file__).parent / "data" / "balancer"
PAGE = (DATA / "real_2471_page.html").read_text(encoding="latin-1")
URL = "http://127.0.5.1:8000/balancer-manager"
WORKERS = {f"http://127.0.5.1{i}:8080": f"node{i}" for i in (1, 2, 3)}


def inventory(tmp_path: Path) -> Inventory:
    nodes = "".join(
        f'[[nodes]]\nname = "node{i}"\nhost = "127.0.5.1{i}"\ncatalina_base = "/opt/t{i}"\n'
        f'stop = "/opt/t{i}/bin/shutdown.sh"\n'
        for i in (1, 2, 3)
    )
    text = (
        f'[cluster]\nname = "t"\n{nodes}'
        f'[[balancers]]\nname = "httpd"\nkind = "apache"\nurl = "{URL}"\n'
    )
    path = tmp_path / "cluster.toml"
    path.write_text(text, encoding="utf-8")
    return load_inventory(path)


class FakeManager:
    """httpd's balancer-manager for three workers: applies drain/disable POSTs, or ignores them
    (`ignore`, as httpd does without a matching Referer), or refuses them (`forbid`: 403).
    `on_read` runs before every page is served (to reset flags as a graceful reload does)."""

    def __init__(self) -> None:
        self.status = {url: "Init Ok " for url in WORKERS}
        self.ignore = False
        self.forbid = False
        self.posts: list[dict[str, str]] = []
        self.on_read: Callable[[], None] | None = None

    def reload(self) -> None:
        """A graceful restart without BalancerPersist: every worker back to Init Ok."""
        self.status = {url: "Init Ok " for url in WORKERS}

    def page(self) -> str:
        lines = []
        for line in PAGE.splitlines(keepends=True):
            for url, status in self.status.items():
                if f"w={url}&amp;" in line:
                    line = line.replace("Init Ok ", status, 1)
            lines.append(line)
        return "".join(lines)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            form = dict(parse_qsl(request.content.decode()))
            self.posts.append(form)
            if self.forbid:
                return httpx.Response(403, text="Forbidden")
            if not self.ignore:  # httpd leaves a flag the form does not name as it was
                now = self.status[form["w"]].split()
                drain = form.get("w_status_N", "1" if "Drn" in now else "0") == "1"
                disabled = form.get("w_status_D", "1" if "Dis" in now else "0") == "1"
                flags = ["Init", *(["Drn"] if drain else []), "Dis" if disabled else "Ok"]
                self.status[form["w"]] = " ".join(flags) + " "
        elif self.on_read is not None:
            self.on_read()
        return httpx.Response(200, text=self.page(), headers={"content-type": "text/html"})


class FakeSession:
    def __init__(self, node: FakeNode) -> None:
        self.node = node
        self.target = SshTarget("node2", "127.0.5.12", 22, "tomcat")

    async def exec(self, command: str, *, timeout: float) -> CommandResult:
        self.node.reads += 1
        if self.node.on_exec is not None:
            self.node.on_exec(command)
        raise SshCommandError("node2: `sh` failed: not in this fake")  # unloadDelay: assumed

    async def close(self) -> None:
        return None


@dataclass
class FakeNode:
    """node2 as seen over SSH: its Tomcat's state, and the commands run on it."""

    process: TomcatProcess = field(default_factory=lambda: TomcatProcess("running", 4242))
    commands: list[tuple[str, str]] = field(default_factory=list)
    """(command, node2's worker status on the balancer at that moment)."""
    reads: int = 0
    on_exec: Callable[[str], None] | None = None


class FakeContext(NodeContext):
    fake: FakeNode
    manager: FakeManager

    def open_session(self) -> Any:
        return FakeSession(self.fake)

    async def tomcat(self, timeout: float = 15.0) -> TomcatProcess:
        return self.fake.process

    async def run_command(
        self, command: str, *, step: str, timeout: float, what: str
    ) -> CommandResult:
        entry = self.audit.begin(
            node=self.node.name, step=step, request={"command": command}, wizard=self.wizard
        )
        status = self.manager.status["http://127.0.5.12:8080"]
        self.fake.commands.append((command, status))
        self.fake.process = TomcatProcess("stopped")
        entry.done({"exit_status": 0})
        return CommandResult(0, b"", b"")


@dataclass
class Run:
    outcome: Outcome
    events: list[Progress]
    lines: list[str]
    manager: FakeManager
    node: FakeNode
    audit: Path

    def texts(self, kind: str) -> list[str]:
        return [event.text for event in self.events if event.kind == kind]


def run_drain(
    tmp_path: Path,
    *,
    dry_run: bool = False,
    force: bool = False,
    ssh: str = "up",
    setup: Callable[[FakeManager, FakeNode], None] | None = None,
    out: TextIO | None = None,
    observations: tuple[Observation, ...] = (),
) -> Run:
    inv = inventory(tmp_path)
    manager, node = FakeManager(), FakeNode()
    if setup is not None:
        setup(manager, node)
    audit = AuditLog(tmp_path / "audit.jsonl", "scripted", "t")
    events: list[Progress] = []
    buffer = io.StringIO()
    printer = _Printer(buffer if out is None else out, as_json=out is None)

    def on_progress(event: Progress) -> None:
        events.append(event)
        printer(event)

    async def yes(step: Step[Any], changes: list[Change]) -> bool:
        return True

    async def main() -> Outcome:
        monitor = Monitor(inv)
        now = time.time()
        monitor.observe(SshObserved("node2", ssh, None if ssh == "up" else "refused", now))  # type: ignore[arg-type]
        monitor.observe(ProcessObserved("node2", node.process, now))
        for observation in observations:
            monitor.observe(observation)
        actions = WorkerActions(inv, audit, http_transport=httpx.MockTransport(manager))
        ctx = FakeContext(
            inventory=inv,
            node=inv.node("node2"),
            wizard="drain",
            monitor=monitor,
            audit=audit,
            actions=actions,
            answers={"stop_margin": 5},
        )
        ctx.fake, ctx.manager = node, manager
        runner = Runner(
            drain.WIZARD,
            ctx,
            node="node2",
            on_progress=on_progress,
            confirm=yes,
            dry_run=dry_run,
            force=force,
            audit=audit,
        )
        try:
            return await runner.run()
        finally:
            await actions.aclose()

    outcome = asyncio.run(main())
    return Run(outcome, events, buffer.getvalue().splitlines(), manager, node, audit.path)


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "state"
    monkeypatch.setenv(maintenance.STATE_ENV, str(directory))
    return directory


# ------------------------------------------------------------------ item 2: unknown node state


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_node_whose_tomcat_cannot_be_seen_is_refused_before_any_change(
    tmp_path: Path, dry_run: bool
) -> None:
    def ssh_down(manager: FakeManager, node: FakeNode) -> None:
        node.process = TomcatProcess("unknown", reason="node2: no connection (refused)")

    run = run_drain(tmp_path, dry_run=dry_run, setup=ssh_down)
    assert run.outcome.exit_code == exitcodes.REFUSED
    assert "state is unknown" in run.outcome.text and "refused" in run.outcome.text
    assert run.manager.posts == []
    assert run.manager.status["http://127.0.5.12:8080"] == "Init Ok "
    assert not run.audit.exists() or read_entries(run.audit) == []


def test_a_host_key_mismatch_is_refused_without_even_trying(tmp_path: Path) -> None:
    run = run_drain(tmp_path, ssh="host-key-mismatch")
    assert run.outcome.exit_code == exitcodes.REFUSED
    assert "host-key-mismatch" in run.outcome.text
    assert run.manager.posts == [] and run.node.reads == 0


def test_force_changes_the_balancers_but_never_stops_an_unseen_tomcat(tmp_path: Path) -> None:
    def ssh_down(manager: FakeManager, node: FakeNode) -> None:
        node.process = TomcatProcess("unknown", reason="no connection")

    run = run_drain(tmp_path, force=True, setup=ssh_down)
    assert run.outcome.exit_code == exitcodes.PROBLEMS
    assert "cannot tell whether Tomcat runs" in run.outcome.text
    assert run.node.commands == []
    assert "pid None" not in run.outcome.text
    assert run.manager.status["http://127.0.5.12:8080"] == "Init Drn Dis "


# ------------------------------------------------------------------ item 3: state read back


@pytest.mark.parametrize("fault", ["ignore", "forbid"])
def test_the_final_state_is_what_the_balancer_shows_not_what_was_meant(
    tmp_path: Path, fault: str
) -> None:
    def broken(manager: FakeManager, node: FakeNode) -> None:
        setattr(manager, fault, True)

    run = run_drain(tmp_path, setup=broken)
    assert run.outcome.status == "failed"
    assert "drained" not in run.outcome.state
    assert "shows node2 serving (Init Ok)" in run.outcome.state
    assert "Tomcat runs (pid 4242)" in run.outcome.state
    ran = [e for e in read_entries(run.audit) if e["step"] == "run"]
    assert [e["phase"] for e in ran] == ["before", "after"]
    assert ran[1]["result"]["ok"] is False and ran[1]["result"]["state"] == run.outcome.state
    finished = json.loads(run.lines[-1])
    assert finished["event"] == "finished" and finished["state"] == run.outcome.state


def test_a_complete_drain_reads_back_stopped_and_disabled_and_marks_maintenance(
    tmp_path: Path, state_dir: Path
) -> None:
    run = run_drain(tmp_path)
    assert run.outcome.status == "done", run.outcome.text
    assert "shows node2 disabled (no request goes there) (Init Drn Dis)" in run.outcome.state
    assert "its Tomcat is stopped" in run.outcome.state
    assert "marked in maintenance" in run.outcome.state
    marks = maintenance.load("t", path=state_dir / "maintenance.json")
    assert list(marks) == ["node2"] and marks["node2"].operator
    entries = read_entries(run.audit)
    steps = [(e["phase"], e["step"]) for e in entries]
    assert steps[0] == ("before", "run")
    assert steps[-3:] == [
        ("before", "maintenance-mark"),
        ("after", "maintenance-mark"),
        ("after", "run"),
    ]
    assert entries[-1]["result"]["state"] == run.outcome.state


# ------------------------------------------------------------------ item 4: undone under us


def test_a_reload_that_resets_the_worker_before_the_stop_is_reapplied_first(
    tmp_path: Path,
) -> None:
    def reload_once_unload_is_read(manager: FakeManager, node: FakeNode) -> None:
        node.on_exec = lambda command: manager.reload() if node.reads == 1 else None

    run = run_drain(tmp_path, setup=reload_once_unload_is_read)
    assert run.outcome.status == "done", run.outcome.text
    assert any("was undone under the wizard" in text for text in run.texts("warning"))
    # Tomcat was stopped only once its worker was disabled again
    assert [status for _, status in run.node.commands] == ["Init Dis "]  # drain was lost
    befores = [e for e in read_entries(run.audit) if e["phase"] == "before"]
    reapplied = [e for e in befores if e["step"] == "stop" and "change" in e["request"]]
    assert reapplied and reapplied[0]["request"]["change"] == "disabled on"
    assert reapplied[0]["state_before"]["worker"]["status"] == "Init Ok"


def test_a_reset_while_waiting_for_idle_is_reapplied(tmp_path: Path) -> None:
    def reset_after_disable(manager: FakeManager, node: FakeNode) -> None:
        reads = {"since_disabled": 0}

        def on_read() -> None:  # a few reads into wait-idle, the reload comes
            if "Dis" in manager.status["http://127.0.5.12:8080"]:
                reads["since_disabled"] += 1
                if reads["since_disabled"] == 3:
                    manager.reload()

        manager.on_read = on_read

    run = run_drain(tmp_path, setup=reset_after_disable)
    assert run.outcome.status == "done", run.outcome.text
    assert any("undone under the wizard" in text for text in run.texts("warning"))
    assert [status for _, status in run.node.commands] == ["Init Dis "]  # drain was lost


# ------------------------------------------------------------------ item 18: the JSON contract

CONTRACT = {
    "event",
    "wizard",
    "node",
    "step",
    "index",
    "total",
    "text",
    "waiting_for",
    "figures",
    "changes",
    "state",
    "status",
    "at",
}
KINDS = {
    "plan",
    "started",
    "waiting",
    "warning",
    "change",
    "observed",
    "done",
    "skipped",
    "failed",
    "refused",
    "cancelled",
    "finished",
}


def check_contract(lines: list[str]) -> None:
    assert lines
    for line in lines:
        event = json.loads(line)
        assert set(event) >= CONTRACT, (CONTRACT - set(event), line)
        assert event["event"] in KINDS, line
        assert event["wizard"] == "drain" and event["node"] == "node2"
        datetime.fromisoformat(event["at"])  # ISO 8601
        assert isinstance(event["figures"], dict) and isinstance(event["changes"], list)
        for change in event["changes"]:
            assert isinstance(change["what"], str) and change["what"]
            assert isinstance(change["request"], dict) and change["request"]
        if event["event"] == "change":
            assert event["changes"], f"a change event says what it sent: {line}"
        if event["event"] == "finished":
            assert event["status"] and event["state"]
        if event["step"] is not None:
            assert 1 <= event["index"] <= event["total"]


def test_every_json_line_of_a_dry_run_meets_the_contract(tmp_path: Path) -> None:
    run = run_drain(tmp_path, dry_run=True)
    assert run.outcome.status == "planned"
    check_contract(run.lines)
    assert run.manager.posts == []


def test_every_json_line_of_a_run_meets_the_contract(tmp_path: Path) -> None:
    run = run_drain(tmp_path)
    assert run.outcome.status == "done"
    check_contract(run.lines)
    changes = [json.loads(line) for line in run.lines if '"event": "change"' in line]
    assert {c["step"] for c in changes} >= {"drain", "disable", "stop"}


def test_every_json_line_of_a_refused_run_meets_the_contract(tmp_path: Path) -> None:
    def ssh_down(manager: FakeManager, node: FakeNode) -> None:
        node.process = TomcatProcess("unknown", reason="no connection")

    check_contract(run_drain(tmp_path, setup=ssh_down).lines)


# ------------------------------------------------------------------ unknown is not missing


def running_peers_with_logs(*, node1_truncated: bool) -> tuple[Observation, ...]:
    """node1 and node3 run, their whole logs read, nobody logged as seen; node1's log may have
    been truncated (its membership then unknown)."""
    now = time.time()
    found: list[Observation] = []
    for name in ("node1", "node3"):
        found += [
            SshObserved(name, "up", None, now),
            ProcessObserved(name, TomcatProcess("running", 7), now),
            BacklogScanned(name, "catalina.out", True, now),
        ]
    if node1_truncated:
        found.append(LogHistoryLost("node1", "catalina.out", "truncated", False, now))
    return tuple(found)


def test_a_peer_whose_membership_is_unknown_is_said_unverifiable_not_broken(
    tmp_path: Path,
) -> None:
    run = run_drain(
        tmp_path, dry_run=True, observations=running_peers_with_logs(node1_truncated=True)
    )
    warnings = run.texts("warning")
    unknown = [w for w in warnings if w.startswith("cannot verify replication")]
    assert unknown and "node1's membership is unknown (catalina.out truncated at" in unknown[0]
    broken = [w for w in warnings if w.startswith("replication is not healthy")]
    assert broken and "node1 does not see" not in broken[0]  # node3's own log says it
    assert "node3 does not see node2" in broken[0]


def test_a_peer_whose_log_says_it_sees_nobody_is_replication_broken(tmp_path: Path) -> None:
    run = run_drain(
        tmp_path, dry_run=True, observations=running_peers_with_logs(node1_truncated=False)
    )
    warnings = run.texts("warning")
    assert not [w for w in warnings if w.startswith("cannot verify")]
    assert any("node1 does not see node2" in w for w in warnings)


def test_a_dry_run_refusal_comes_after_the_step_it_belongs_to(tmp_path: Path) -> None:
    def last_usable(manager: FakeManager, node: FakeNode) -> None:
        for url in ("http://127.0.5.11:8080", "http://127.0.5.13:8080"):
            manager.status[url] = "Init Dis "

    out = io.StringIO()
    run = run_drain(tmp_path, dry_run=True, setup=last_usable, out=out)
    assert run.outcome.exit_code == exitcodes.REFUSED
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[1/8] check: check that every balancer")
    refused = next(i for i, line in enumerate(lines) if "REFUSED" in line)
    assert refused > 0 and lines[refused].startswith("[1/8] check: REFUSED: would refuse")
