"""``clusterconsole status``: one snapshot of the whole fleet, as a table or as JSON.

The JSON shape is a contract for scripts and monitoring (see the README); fields are added,
never renamed. The exit code says whether anything is wrong: 0 healthy, 1 problems found.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import replace
from datetime import datetime
from typing import Any, TextIO

from console import exitcodes
from console.cluster.crosschecks import SEVERITY_ORDER, Problem, findings, problems
from console.cluster.metrics import metrics_json
from console.cluster.observations import (
    BalancerObserved,
    DatabaseObserved,
    HttpObserved,
    SshObserved,
)
from console.cluster.peers import expected_peers, peers_text
from console.cluster.state import ClusterState, NodeEvent, NodeView
from console.commands import login_tty
from console.config.model import Inventory
from console.monitor.runner import Monitor, MonitorOptions, first_round_done
from console.textsafe import printable
from probes.database import DatabaseHealth
from probes.http import HttpCheck, no_answer
from probes.http import check as http_check
from probes.ssh.prompt import asking, working_clock, working_seconds

EXTRA_WAIT = 15.0
"""Seconds allowed beyond the SSH connect timeout for every probe to answer once."""


def deadline_for(inventory: Inventory, timeout: float | None = None) -> float:
    """How long `status` waits for every probe: `timeout`, else SSH connect timeout + 15 s."""
    return timeout if timeout is not None else inventory.ssh.connect_timeout + EXTRA_WAIT


async def snapshot(
    inventory: Inventory, *, timeout: float | None = None, probe_deadline: float | None = None
) -> ClusterState:
    """Start every probe, wait until each has answered once (or the deadline), stop them.

    Whatever has not answered by the deadline is recorded as not answering ("no answer within
    N s"): an SSH connection as a timeout, a node's URL, a balancer or the database as failed.
    `probe_deadline` bounds each HTTP read and balancer read (MonitorOptions.probe_deadline)."""
    limit = deadline_for(inventory, timeout)
    options = MonitorOptions(read_only=False)
    if probe_deadline is not None:
        options = replace(options, probe_deadline=probe_deadline)
    monitor = Monitor(inventory, options)
    await monitor.start()
    try:
        await _wait_first_round(monitor, inventory, limit)
        state = monitor.state
    except TimeoutError:
        _no_answer_by_deadline(monitor, inventory, limit)
        state = monitor.state  # taken before stop(): closing the sessions is not news
    finally:
        await monitor.stop()
    return await _http_latency(state, inventory, options.probe_deadline)


async def _http_latency(state: ClusterState, inventory: Inventory, deadline: float) -> ClusterState:
    """The nodes that answered, asked once more now that nothing else runs: their first answer
    waited behind the SSH handshakes and log scans sharing this process (80-160 ms shown for
    a 4 ms answer); the console, polling all along, shows the steady figure."""
    import httpx

    answered = [
        (view.name, view.http.url)
        for view, node in zip(state.nodes, inventory.nodes, strict=True)
        if node.http and view.http is not None and view.http.status is not None
    ]
    if not answered:
        return state
    # One at a time (answers handled together delay each other's timing), all within
    # `deadline`: a node not asked again in time keeps its first figure.
    with contextlib.suppress(TimeoutError):
        async with (
            asyncio.timeout(deadline),
            httpx.AsyncClient(
                timeout=httpx.Timeout(5.0, connect=3.0), follow_redirects=False, verify=True
            ) as client,
        ):
            for name, url in answered:
                result = await http_check(client, url, deadline=deadline)
                if result.status is not None:  # a failure now is for the next run to report
                    state = state.apply(HttpObserved(name, result, time.time()))
    return state


def _no_answer_by_deadline(monitor: Monitor, inventory: Inventory, limit: float) -> None:
    """Record every probe still silent at the deadline as a probe that did not answer."""
    now = time.time()
    reason = no_answer(limit)
    for view, node in zip(monitor.state.nodes, inventory.nodes, strict=True):
        if view.ssh == "connecting":
            ssh_reason = f"no SSH answer within {limit:.0f} s"
            monitor.observe(SshObserved(view.name, "timeout", ssh_reason, now))
        if node.http and view.http is None:
            monitor.observe(HttpObserved(view.name, HttpCheck(node.http, None, None, reason), now))
    for balancer in monitor.state.balancers:
        if balancer.reachable is None:
            monitor.observe(BalancerObserved(balancer.name, None, reason, now))
    database = monitor.state.database
    if database is not None and database.health is None:
        health = DatabaseHealth(reachable=False, error=reason, at=now)
        monitor.observe(DatabaseObserved(health, now))


def unknowns(state: ClusterState, inventory: Inventory, limit: float) -> tuple[Problem, ...]:
    """A problem (code `no-answer`) for every fact still unknown about a node whose SSH is up.

    `status` never reports a cluster healthy while part of it was not seen: a process check,
    log history, shared-directory or database-reach check that did not answer is a problem.
    (A node whose SSH is down already has its own problem, which says all of these are unknown.)
    """
    found: list[Problem] = []
    within = f"within {limit:g} s"
    for view, node in zip(state.nodes, inventory.nodes, strict=True):
        if view.ssh != "up":
            continue
        name = view.name
        if view.tomcat == "unknown":
            text = f"whether Tomcat runs on {name} is unknown: `ps` gave no answer {within}."
            found.append(Problem("warning", NO_ANSWER, name, text))
        unread = [str(log) for log in node.logs if str(log) not in view.backlogs_read]
        if unread:
            text = (
                f"{name}'s log history ({', '.join(unread)}) was not read {within}: "
                "which members it sees is unknown."
            )
            found.append(Problem("warning", NO_ANSWER, name, text))
        if state.shared_dir is not None and view.shared_dir is None:
            text = f"{name}: the shared directory check gave no answer {within}."
            found.append(Problem("warning", NO_ANSWER, name, text))
        if state.database is not None and view.database_reach is None:
            text = f"{name}: the check of its reach to the database gave no answer {within}."
            found.append(Problem("warning", NO_ANSWER, name, text))
    return tuple(found)


NO_ANSWER = "no-answer"
"""The code of a problem for a fact `status` could not learn in time."""
SCHEMA_VERSION = 1
"""`status --json`'s schema_version: raised only if a field ever had to change meaning."""


def _ssh(view: NodeView) -> str:
    return "timeout" if view.ssh == "connecting" else view.ssh


def _event(record: NodeEvent | None) -> dict[str, Any] | None:
    if record is None:
        return None
    event = record.event
    return {
        "kind": event.kind,
        "time": event.time,
        "member": event.member,
        "detail": event.detail,
        "text": event.text,
    }


def _node(view: NodeView) -> dict[str, Any]:
    http = view.http
    return {
        "name": view.name,
        "host": view.spec.host,
        "ssh": _ssh(view),
        "ssh_reason": view.ssh_reason,
        "tomcat": view.tomcat,
        "http": None
        if http is None
        else {
            "status": http.status,
            "ms": None if http.ms is None else round(http.ms, 1),
            "error": http.error,
        },
        "members_seen": sorted(view.members_seen),
        "log_trouble": view.log_trouble,
        "membership_known": view.membership_known,
        "membership_unknown_reason": view.membership_unknown_reason,
        "maintenance": None if view.maintenance is None else view.maintenance.to_json(),
        "last_event": _event(view.last_event),
        "metrics": metrics_json(view.metrics),
    }


def to_json(state: ClusterState, found: tuple[Problem, ...]) -> dict[str, Any]:
    everything = findings(state)
    """The documented ``status --json`` document."""
    database: dict[str, Any] | None = None
    if state.database is not None:
        health = state.database.health
        database = {
            "url": state.database.url,
            "reachable": None if health is None else health.reachable,
            "ms": None if health is None or health.ms is None else round(health.ms, 1),
            "version": None if health is None else health.version,
            "grants_ok": None if health is None else health.grants_ok,
            "missing_grants": [] if health is None else sorted(health.missing_grants),
            "connections": {} if health is None else dict(health.connections),
            "error": None if health is None else health.error,
        }
    shared: dict[str, Any] | None = None
    if state.shared_dir is not None:
        shared = {
            "path": state.shared_dir,
            "nodes": {
                view.name: None
                if view.shared_dir is None
                else {
                    "ok": view.shared_dir.ok,
                    "fstype": view.shared_dir.fstype,
                    "written": view.shared_dir.written,
                    "reason": view.shared_dir.reason,
                }
                for view in state.nodes
            },
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cluster": state.cluster,
        "nodes": [_node(view) for view in state.nodes],
        "balancers": [
            {
                "name": view.name,
                "kind": view.kind,
                "reachable": bool(view.reachable),
                "error": view.error,
                "balancers": [] if view.page is None else view.page.to_json()["balancers"],
                **({"totals": view.page.totals} if view.page and view.page.totals else {}),
            }
            for view in state.balancers
        ],
        "database": database,
        "shared_dir": shared,
        "problems": [problem.to_json() for problem in found],
        "notices": [problem.to_json() for problem in everything.notices],
        "acknowledged": [
            {**item.problem.to_json(), "acknowledgement": item.acknowledgement.to_json()}
            for item in everything.acknowledged
        ],
    }


def _columns(rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    """Rows aligned in columns as wide as their widest cell (two spaces between)."""
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]


def _http_text(view: NodeView) -> str:
    http = view.http
    if http is None:
        return "-"
    if http.status is None:
        return http.error or "no answer"
    return f"{http.status} {http.ms or 0:.0f}ms"


def _event_text(view: NodeView) -> str:
    """`13:59:01 member-joined 127.0.0.13:4000`, like the dashboard's last-event cell."""
    record = view.last_event
    if record is None:
        return "-"
    event = record.event
    when = event.time[11:19] if event.time and len(event.time) >= 19 else (event.time or "")
    target = event.member or event.detail
    return " ".join(part for part in (when, event.kind, target) if part)


def render_table(state: ClusterState, found: tuple[Problem, ...]) -> str:
    """The same facts for a person: one line per node, worker, check and problem (with its code).

    Columns are as wide as their content; untrusted text is shown with control characters
    escaped. PEERS uses the dashboard's rule (`console.cluster.peers`)."""
    lines = [f"cluster {printable(state.cluster)}"]
    expected = expected_peers(state)
    specs = state.specs
    rows: list[tuple[str, ...]] = [("NODE", "SSH", "TOMCAT", "HTTP", "PEERS", "LAST EVENT")]
    for view in state.nodes:
        rows.append(
            (
                printable(view.name),
                _ssh(view),
                view.tomcat,
                printable(_http_text(view))[:40],
                peers_text(view, expected[view.name], specs),
                printable(_event_text(view))[:80],
            )
        )
    lines.extend(line.rstrip() for line in _columns(rows))
    for lb in state.balancers:
        if lb.page is None:
            lines.append(f"balancer {printable(lb.name)}: {printable(lb.error or 'no answer')}")
            continue
        for balancer in lb.page.balancers:
            lines.append(f"balancer {printable(lb.name)} ({printable(balancer.name)})")
            workers: list[tuple[str, ...]] = [("WORKER", "ROUTE", "STATUS", "ELECTED", "BUSY")]
            for worker in balancer.workers:
                workers.append(
                    (
                        printable(worker.url),
                        printable(worker.route or "-"),
                        printable(worker.status or "-"),
                        "-" if worker.elected is None else str(worker.elected),
                        "-" if worker.busy is None else str(worker.busy),
                    )
                )
            if len(workers) > 1:
                lines.extend(line.rstrip() for line in _columns(workers))
    if state.database is not None and state.database.health is not None:
        health = state.database.health
        if health.reachable and health.ms is not None:
            grants = "grants ok" if health.grants_ok else "grants MISSING"
            text = f"reachable {health.ms:.1f}ms, {grants}"
        else:
            text = f"UNREACHABLE: {health.error}"
        lines.append(f"database {printable(state.database.url)}: {printable(text)}")
    if not found:
        lines.append("no problems found")
    else:
        lines.append("problems:")
        rows = [
            (problem.severity.upper(), problem.code, printable(problem.text)) for problem in found
        ]
        lines.extend(line.rstrip() for line in _columns(rows))
    everything = findings(state)
    if everything.notices:
        lines.append("notices:")
        rows = [("INFO", notice.code, printable(notice.text)) for notice in everything.notices]
        lines.extend(line.rstrip() for line in _columns(rows))
    if everything.acknowledged:
        lines.append("acknowledged:")
        rows = [
            (
                item.problem.severity.upper(),
                item.problem.code,
                printable(item.problem.text),
                f"until {item.acknowledgement.until:%Y-%m-%d %H:%M} "
                f"by {printable(item.acknowledgement.operator)}",
            )
            for item in everything.acknowledged
        ]
        lines.extend(line.rstrip() for line in _columns(rows))
    return "\n".join(lines) + "\n"


async def _wait_first_round(monitor: Monitor, inventory: Inventory, limit: float) -> None:
    """Wait until every probe has answered once: ``limit`` seconds of the command's own time,
    not counting time spent waiting on the operator to type a one-time code."""
    start = working_clock()
    while True:
        left = limit - working_seconds(start)
        try:
            await monitor.wait_for(
                lambda state: first_round_done(state, inventory),
                limit if asking() else max(left, 0.0),
            )
            return
        except TimeoutError:
            if not asking() and working_seconds(start) >= limit:
                raise


def evaluate(state: ClusterState, inventory: Inventory, limit: float) -> tuple[Problem, ...]:
    """Every problem of the snapshot: the cross-checks' and one per fact still unknown."""
    found = (*problems(state), *unknowns(state, inventory, limit))
    return tuple(sorted(found, key=lambda p: (SEVERITY_ORDER[p.severity], p.node or "", p.code)))


def run(
    inventory: Inventory,
    *,
    as_json: bool,
    out: TextIO,
    timeout: float | None = None,
    probe_deadline: float | None = None,
    nagios: bool = False,
) -> int:
    """Print the fleet's status; exit 0 when healthy, 1 when any problem was found (and a
    fact that could not be learned in time is a problem). With ``nagios``: one plugin line
    and Nagios's exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)."""
    login_tty.install()  # one-time codes asked on a terminal; refused with a reason elsewhere
    state = asyncio.run(snapshot(inventory, timeout=timeout, probe_deadline=probe_deadline))
    found = evaluate(state, inventory, deadline_for(inventory, timeout))
    if nagios:
        from console.commands.tools import nagios as nagios_answer

        code, line = nagios_answer(found, frozenset({NO_ANSWER}), printable(state.cluster))
        print(printable(line), file=out)
        return code
    if as_json:
        print(json.dumps(to_json(state, found)), file=out)
    else:
        out.write(render_table(state, found))
    return exitcodes.PROBLEMS if found else exitcodes.OK
