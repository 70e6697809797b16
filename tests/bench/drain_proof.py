"""The proof of issue 5: drain and rejoin nodes under sticky load, with zero failed requests.

A load of sticky clients (console.sandbox.load) runs through the sandbox balancer while
`clusterconsole --wizard drain` then `--wizard rejoin` run as subprocesses, first on node2, then
on every node in turn (a rolling restart by hand). The figures: requests, achieved rate,
failures, counter breaks, node switches, each wizard step's duration (from the wizard's own
`--json` progress events), how long the drain waited, and each wizard's wall time.

The scenario and its helpers are shared with tests/sandbox/test_drain_under_load.py, which
asserts on the same run what this benchmark reports.

Run alone: `.venv/bin/python -m tests.bench.run --only drain_proof --out bench-results`
(starts its own sandbox on 127.0.9.x and always stops it).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from console.audit import AUDIT_ENV, read_entries
from console.sandbox import tomcat
from console.sandbox.layout import SandboxLayout
from console.sandbox.load import ClientReport, LoadGenerator, LoadReport, LoadWindow
from probes.balancer.httpd_client import BalancerReader, BalancerWriter, WorkerChange
from probes.balancer.model import BalancerError

BENCH_NET = "127.0.9"
CLIENTS = 20
RATE = 130.0
"""Asked for; the proof needs at least MIN_RATE achieved. Each client waits for its reply, so
slow replies on a busy 2-core machine cost rate that pacing never makes up: ask for more."""
MIN_RATE = 100.0
REQUEST_TIMEOUT = 5.0
WIZARD_TIMEOUT = 300.0
"""`--timeout` given to each wizard (the whole run's limit)."""
WARM_REPLIES = 3
"""Replies every client must have had before the measured part starts (JSP compiled, sessions
made on every node)."""


@dataclass(frozen=True, slots=True)
class StepTiming:
    """One step of a wizard run, timed from its progress events (epoch seconds)."""

    index: int
    name: str
    outcome: str
    duration_s: float
    waited_s: float
    """From the step's first `waiting` event to its end (0 when it never waited)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "step": self.name,
            "outcome": self.outcome,
            "duration_s": round(self.duration_s, 3),
            "waited_s": round(self.waited_s, 3),
        }


@dataclass(frozen=True, slots=True)
class WizardRun:
    """One `clusterconsole --wizard ... --json` subprocess, as it ran."""

    wizard: str
    node: str
    command: tuple[str, ...]
    exit_code: int
    wall_s: float
    events: tuple[dict[str, Any], ...]
    other_output: tuple[str, ...]
    stderr: str

    @property
    def steps(self) -> tuple[StepTiming, ...]:
        return step_timings(self.events)

    @property
    def waited_s(self) -> float:
        return sum(step.waited_s for step in self.steps)

    @property
    def engine_s(self) -> float | None:
        """First event to the `finished` event (the wall time less Python's start-up)."""
        times = [float(e["time"]) for e in self.events if isinstance(e.get("time"), int | float)]
        return max(times) - min(times) if times else None

    @property
    def finished(self) -> dict[str, Any] | None:
        return next((e for e in reversed(self.events) if e.get("event") == "finished"), None)

    def describe(self) -> str:
        """For assertion messages: the exit code, the last events and stderr."""
        tail = [
            f"{e.get('event')} {e.get('step')}: {e.get('text')}"
            + (f" {e['figures']}" if e.get("figures") else "")
            for e in self.events[-8:]
        ]
        return (
            f"`{' '.join(self.command)}` exited {self.exit_code} after {self.wall_s:.1f} s\n"
            + "\n".join(tail + list(self.other_output[-5:]))
            + (f"\nstderr: {self.stderr[-2000:]}" if self.stderr.strip() else "")
        )

    def to_json(self) -> dict[str, Any]:
        finished = self.finished or {}
        return {
            "wizard": self.wizard,
            "node": self.node,
            "exit_code": self.exit_code,
            "status": finished.get("status"),
            "wall_s": round(self.wall_s, 3),
            "engine_s": None if self.engine_s is None else round(self.engine_s, 3),
            "waited_s": round(self.waited_s, 3),
            "steps": [step.to_json() for step in self.steps],
        }


def step_timings(events: Sequence[dict[str, Any]]) -> tuple[StepTiming, ...]:
    """Each step's duration (`started` to `done`/`skipped`/`failed`/...) and waiting time."""
    began: dict[int, float] = {}
    names: dict[int, str] = {}
    first_wait: dict[int, float] = {}
    timings: list[StepTiming] = []
    ends = {"done", "skipped", "failed", "refused", "cancelled"}
    for event in events:
        index, at, kind = event.get("index"), event.get("time"), event.get("event")
        if not isinstance(index, int) or index < 1 or not isinstance(at, int | float):
            continue
        if kind == "started":
            began[index], names[index] = float(at), str(event.get("step"))
        elif kind == "waiting":
            first_wait.setdefault(index, float(at))
        elif kind in ends and index in began:
            start = began.pop(index)
            waited = float(at) - first_wait.pop(index) if index in first_wait else 0.0
            timings.append(StepTiming(index, names[index], str(kind), float(at) - start, waited))
    return tuple(timings)


def wizard_command(
    wizard: str,
    node: str,
    inventory: Path,
    timeout: float,
    nodes: Sequence[str] | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The scripted run; `nodes` (a cluster wizard's --nodes) instead of --node when given;
    `extra` options (such as --answers FILE) at the end."""
    where = ["--nodes", ",".join(nodes)] if nodes is not None else ["--node", node]
    return [
        sys.executable,
        "-m",
        "console",
        "--wizard",
        wizard,
        *where,
        "--yes",
        "--json",
        "--timeout",
        f"{timeout:g}",
        "--config",
        str(inventory),
        *extra,
    ]


async def run_wizard(
    wizard: str,
    node: str,
    *,
    inventory: Path,
    audit_log: Path,
    timeout: float = WIZARD_TIMEOUT,
    nodes: Sequence[str] | None = None,
    extra: Sequence[str] = (),
) -> WizardRun:
    """Run one scripted wizard as a subprocess without blocking the event loop (the load runs
    on it); its `--json` lines are collected as they come."""
    command = wizard_command(wizard, node, inventory, timeout, nodes, extra)
    env = {**os.environ, AUDIT_ENV: str(audit_log)}
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    events: list[dict[str, Any]] = []
    other: list[str] = []

    async def read_stdout() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                parsed = json.loads(line)
            except ValueError:
                other.append(line)
                continue
            if isinstance(parsed, dict):
                events.append(parsed)
            else:
                other.append(line)

    try:
        _, stderr = await asyncio.wait_for(
            asyncio.gather(read_stdout(), process.stderr.read()), timeout + 60
        )
        code = await process.wait()
    except (TimeoutError, asyncio.CancelledError):
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return WizardRun(
        wizard=wizard,
        node=node,
        command=tuple(command[1:]),
        exit_code=code,
        wall_s=time.monotonic() - began,
        events=tuple(events),
        other_output=tuple(other),
        stderr=stderr.decode("utf-8", "replace"),
    )


@dataclass(frozen=True, slots=True)
class Cycle:
    """Drain then rejoin of one node under the load, with the load's figures around it."""

    node: str
    drain: WizardRun
    rejoin: WizardRun
    drain_window: LoadWindow
    rejoin_window: LoadWindow
    before: dict[int, ClientReport]
    """The clients whose session lived on the node just before the drain, as they were then."""
    after_drain: dict[int, ClientReport]
    """The same clients right after the drain finished."""

    def to_json(self) -> dict[str, Any]:
        moved = {
            index: self.after_drain[index].node
            for index in self.before
            if index in self.after_drain
        }
        return {
            "node": self.node,
            "clients_on_node_before_drain": len(self.before),
            "those_clients_after_drain_on": sorted(set(filter(None, moved.values()))),
            "drain": {**self.drain.to_json(), "load": self.drain_window.to_json()},
            "rejoin": {**self.rejoin.to_json(), "load": self.rejoin_window.to_json()},
        }


@dataclass(slots=True)
class LoadedWizardRun:
    """One scripted wizard run under the sticky load: the run, the load once warm, and at the end;
    what the add-node and rolling-restart proofs share."""

    run: WizardRun | None = None
    warm: LoadReport | None = None
    report: LoadReport | None = None

    @property
    def rate(self) -> float:
        """Requests per second from the end of the warm-up to the end (the proof's floor)."""
        assert self.report is not None and self.warm is not None
        return self.report.since(self.warm).rate

    def ok(self) -> bool:
        report = self.report
        return (
            self.run is not None
            and self.run.exit_code == 0
            and report is not None
            and report.failures == 0
            and report.breaks == 0
            and report.clients >= CLIENTS
            and self.rate >= MIN_RATE
        )

    def load_figures(self) -> dict[str, Any]:
        """The load's and the run's figures every proof reports."""
        assert self.report is not None and self.run is not None
        report = self.report
        return {
            "requests": report.requests,
            "rate": round(self.rate, 1),
            "failures": report.failures,
            "counter_breaks": report.breaks,
            "node_switches": report.switches,
            "latency_ms": report.to_json()["latency_ms"],
            "longest_gap_ms": report.to_json()["longest_gap_ms"],
            "exit_code": self.run.exit_code,
            "wall_s": round(self.run.wall_s, 1),
        }


@dataclass(slots=True)
class Scenario:
    """One load run with one or more drain/rejoin cycles in it."""

    nodes: tuple[str, ...]
    cycles: list[Cycle] = field(default_factory=list)
    warm: LoadReport | None = None
    report: LoadReport | None = None

    @property
    def measured(self) -> LoadWindow:
        """The load from the end of the warm-up to the end (the rate the proof needs)."""
        assert self.report is not None and self.warm is not None
        return self.report.since(self.warm)

    def to_json(self) -> dict[str, Any]:
        assert self.report is not None
        return {
            "nodes": list(self.nodes),
            "load": self.report.to_json(),
            "measured": self.measured.to_json(),
            "cycles": [cycle.to_json() for cycle in self.cycles],
        }


async def _wait_warm(load: LoadGenerator, timeout: float = 60.0) -> LoadReport:
    """Wait until every client has had WARM_REPLIES good replies."""
    deadline = time.monotonic() + timeout
    while True:
        snapshot = load.snapshot()
        if all(client.ok >= WARM_REPLIES for client in snapshot.per_client):
            return snapshot
        if time.monotonic() > deadline:
            raise AssertionError(f"the load did not warm up in {timeout:g} s: {snapshot}")
        await asyncio.sleep(0.1)


async def warm_nodes(layout: SandboxLayout, timeout: float = 120.0) -> None:
    """Hit each node's app directly once: the first hit compiles the JSP, which on a busy
    machine takes longer than the load's request timeout and is no part of the proof."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout)) as client:
        for node in layout.nodes:
            response = await client.get(f"{node.http_url}/app/")
            response.raise_for_status()


async def drain_rejoin_under_load(
    layout: SandboxLayout,
    nodes: Sequence[str],
    *,
    audit_log: Path,
    clients: int = CLIENTS,
    rate: float = RATE,
    stop_on_failure: bool = True,
) -> Scenario:
    """Start the load, then for each node: `--wizard drain`, `--wizard rejoin`; stop the load.

    Stops at the first wizard that does not exit 0 when `stop_on_failure` (the scenario is
    returned as far as it got, the load report included). The cluster is not restored here:
    callers use `restore()` in a finally.
    """
    routes = tuple(node.jvm_route for node in layout.nodes)
    scenario = Scenario(tuple(nodes))
    await warm_nodes(layout)
    load = LoadGenerator(layout.app_url, clients, rate, REQUEST_TIMEOUT, routes=routes)
    await load.start()
    try:
        scenario.warm = await _wait_warm(load)
        for node in nodes:
            route = next(n.jvm_route for n in layout.nodes if n.name == node)
            start = load.snapshot()
            before = {i: start.per_client[i] for i in start.clients_on(route)}
            drain = await run_wizard("drain", node, inventory=layout.inventory, audit_log=audit_log)
            drained = load.snapshot()
            after_drain = {i: drained.per_client[i] for i in before}
            if drain.exit_code != 0 and stop_on_failure:
                skipped = _not_run("rejoin", node)
                empty = drained.since(drained)
                cycle = Cycle(
                    node, drain, skipped, drained.since(start), empty, before, after_drain
                )
                scenario.cycles.append(cycle)
                break
            rejoin = await run_wizard(
                "rejoin", node, inventory=layout.inventory, audit_log=audit_log
            )
            rejoined = load.snapshot()
            scenario.cycles.append(
                Cycle(
                    node,
                    drain,
                    rejoin,
                    drained.since(start),
                    rejoined.since(drained),
                    before,
                    after_drain,
                )
            )
            if rejoin.exit_code != 0 and stop_on_failure:
                break
    finally:
        scenario.report = await load.stop()
    return scenario


def _not_run(wizard: str, node: str) -> WizardRun:
    return WizardRun(wizard, node, (), -1, 0.0, (), ("not run: the drain failed",), "")


async def restore(layout: SandboxLayout) -> list[str]:
    """Leave the sandbox fully up: start every stopped node, then enable every worker (drain
    off, disabled off). Returns what it had to do (empty when everything was already fine)."""
    done: list[str] = []
    for node in layout.nodes:
        if tomcat.running_pid(node) is None:
            await asyncio.to_thread(tomcat.start, node)
            done.append(f"started {node.name}")
    async with BalancerReader(layout.balancer_url) as reader:
        writer = BalancerWriter(reader)
        page = await reader.read()
        found = page.balancer("cluster")
        for worker in found.workers if found is not None else ():
            if worker.draining or worker.disabled:
                try:
                    await writer.apply(
                        "cluster", worker.url, WorkerChange(drain=False, disabled=False)
                    )
                except BalancerError as exc:
                    done.append(f"could not enable {worker.url}: {exc}")
                else:
                    done.append(f"enabled {worker.url} (was {worker.status!r})")
        # byrequests counts sticky requests too: after minutes of uneven sticky load one worker's
        # counter is far behind and gets no new session for a long while. Re-posting a worker's
        # own load factor makes httpd reset every worker's counter (recalc_factors).
        first = found.workers[0] if found is not None and found.workers else None
        if first is not None:
            try:
                await writer.apply("cluster", first.url, WorkerChange(factor=first.factor or 1))
            except BalancerError as exc:
                done.append(f"could not reset the balancer's counters: {exc}")
    return done


def audit_pairs(path: Path) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    """The audit log's changes by id ({"before": ..., "after": ...}), the ids that are not
    exactly one before and one after line, and the changes whose after line says not ok."""
    pairs: dict[str, dict[str, Any]] = {}
    unpaired: list[str] = []
    failed: list[str] = []
    for entry in read_entries(path):
        phase = str(entry.get("phase"))
        slot = pairs.setdefault(str(entry.get("id")), {})
        if phase in slot:
            unpaired.append(f"{entry.get('id')}: two {phase} lines")
        slot[phase] = entry
    for change_id, slot in pairs.items():
        if set(slot) != {"before", "after"}:
            unpaired.append(f"{change_id}: only {sorted(slot)} ({slot})")
            continue
        after = slot["after"]
        result = after.get("result") or {}
        if not result.get("ok"):
            failed.append(
                f"--wizard {after.get('wizard')} on {after.get('node')}, step "
                f"{after.get('step')} ({after.get('request')}): {result.get('error')}"
            )
    return pairs, unpaired, failed


def _figures(scenario: Scenario) -> dict[str, Any]:
    assert scenario.report is not None
    report = scenario.report
    return {
        "requests": report.requests,
        "rate": round(scenario.measured.rate, 1),
        "failures": report.failures,
        "counter_breaks": report.breaks,
        "skips": report.skips,
        "node_switches": report.switches,
        "latency_ms": report.to_json()["latency_ms"],
        "longest_gap_ms": report.to_json()["longest_gap_ms"],
        "wizards": [
            {
                "node": cycle.node,
                "drain_s": round(cycle.drain.wall_s, 2),
                "drain_waited_s": round(cycle.drain.waited_s, 2),
                "drain_waits_s": {
                    step.name: round(step.waited_s, 2)
                    for step in cycle.drain.steps
                    if step.waited_s > 0
                },
                "rejoin_s": round(cycle.rejoin.wall_s, 2),
                "exit_codes": [cycle.drain.exit_code, cycle.rejoin.exit_code],
            }
            for cycle in scenario.cycles
        ],
    }


def _scenario_ok(scenario: Scenario) -> bool:
    report = scenario.report
    return (
        report is not None
        and len(scenario.cycles) == len(scenario.nodes)
        and all(c.drain.exit_code == 0 and c.rejoin.exit_code == 0 for c in scenario.cycles)
        and report.failures == 0
        and report.breaks == 0
        and scenario.measured.rate >= MIN_RATE
        and report.clients >= CLIENTS
    )


def run(net: str = BENCH_NET) -> dict[str, Any]:
    """Bring up a sandbox on `net`, run node2's drain+rejoin, then a rolling restart of every
    node, each under its own load; always bring the sandbox down."""
    from console.sandbox import manager

    keys = ("CLUSTERCONSOLE_SANDBOX_DIR", "CLUSTERCONSOLE_SANDBOX_NET")
    saved = {key: os.environ.get(key) for key in keys}
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cc-bench-drain-") as root:
        os.environ["CLUSTERCONSOLE_SANDBOX_DIR"] = root
        os.environ["CLUSTERCONSOLE_SANDBOX_NET"] = net
        try:
            layout = manager.up(3, report=lines.append)
            audit = Path(root) / "audit.jsonl"

            async def both() -> tuple[Scenario, Scenario, list[str]]:
                try:
                    single = await drain_rejoin_under_load(layout, ["node2"], audit_log=audit)
                    rolling = await drain_rejoin_under_load(
                        layout, [node.name for node in layout.nodes], audit_log=audit
                    )
                finally:
                    restored = await restore(layout)
                return single, rolling, restored

            began = time.monotonic()
            single, rolling, restored = asyncio.run(both())
            total = time.monotonic() - began
            if audit.exists():
                pairs, unpaired, failed = audit_pairs(audit)
            else:
                pairs, unpaired, failed = {}, ["no audit log"], []
        finally:
            manager.down(report=lines.append)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    met = _scenario_ok(single) and _scenario_ok(rolling) and not unpaired and not failed
    return {
        "name": "drain_proof",
        "clients": CLIENTS,
        "target_rate": RATE,
        "node2": _figures(single),
        "rolling_restart": _figures(rolling),
        "audit": {"changes": len(pairs), "unpaired": unpaired, "not_ok": failed},
        "restored": restored,
        "total_s": round(total, 1),
        "details": {"node2": single.to_json(), "rolling_restart": rolling.to_json()},
        "target": (
            f"drain+rejoin of node2, then of every node in turn, under >= {CLIENTS} sticky "
            f"clients at >= {MIN_RATE:g} req/s: 0 failed requests, 0 counter breaks, every "
            "wizard exit 0, every change audited before/after"
        ),
        "met": met,
    }
