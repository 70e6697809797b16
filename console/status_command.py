"""``clusterconsole status``: one snapshot of the whole fleet, as a table or as JSON.

The JSON shape is a contract for scripts and monitoring (see the README); fields are added,
never renamed. The exit code says whether anything is wrong: 0 healthy, 1 problems found.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, TextIO

from console import exitcodes
from console.config_model import Inventory
from console.crosschecks import Problem, problems
from console.monitor import Monitor, MonitorOptions, first_round_done
from console.observations import SshObserved
from console.state import ClusterState, NodeEvent, NodeView
from console.textsafe import printable

EXTRA_WAIT = 15.0
"""Seconds allowed beyond the SSH connect timeout for every probe to answer once."""


async def snapshot(inventory: Inventory, *, timeout: float | None = None) -> ClusterState:
    """Start every probe, wait until each has answered once (or the deadline), stop them."""
    limit = timeout if timeout is not None else inventory.ssh.connect_timeout + EXTRA_WAIT
    monitor = Monitor(inventory, MonitorOptions(read_only=False))
    await monitor.start()
    try:
        await monitor.wait_for(lambda state: first_round_done(state, inventory), limit)
        return monitor.state
    except TimeoutError:
        for view in monitor.state.nodes:
            if view.ssh == "connecting":
                reason = f"no SSH answer within {limit:.0f} s"
                monitor.observe(SshObserved(view.name, "timeout", reason, time.time()))
        return monitor.state  # taken before stop(): closing the sessions is not news
    finally:
        await monitor.stop()


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
        "last_event": _event(view.last_event),
    }


def to_json(state: ClusterState, found: tuple[Problem, ...]) -> dict[str, Any]:
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
        "cluster": state.cluster,
        "nodes": [_node(view) for view in state.nodes],
        "balancers": [
            {
                "name": view.name,
                "kind": view.kind,
                "reachable": bool(view.reachable),
                "error": view.error,
                "balancers": [] if view.page is None else view.page.to_json()["balancers"],
            }
            for view in state.balancers
        ],
        "database": database,
        "shared_dir": shared,
        "problems": [problem.to_json() for problem in found],
    }


def _table(state: ClusterState, found: tuple[Problem, ...], out: TextIO) -> None:
    """The same facts for a person: one line per node, worker, check and problem."""
    print(f"cluster {printable(state.cluster)}", file=out)
    print(
        f"  {'NODE':<12} {'SSH':<18} {'TOMCAT':<8} {'HTTP':<14} {'PEERS':<6} LAST EVENT", file=out
    )
    peers = len(state.nodes) - 1
    for view in state.nodes:
        http = view.http
        if http is None:
            http_text = "-"
        elif http.status is None:
            http_text = http.error or "no answer"
        else:
            http_text = f"{http.status} {http.ms or 0:.0f}ms"
        seen = str(len(view.sees(state.specs))) if view.membership_known else "?"
        last = view.last_event.event.kind if view.last_event else "-"
        print(
            f"  {printable(view.name):<12} {_ssh(view):<18} {view.tomcat:<8} "
            f"{printable(http_text)[:20]:<20} {seen + '/' + str(peers):<6} {last}",
            file=out,
        )
    for lb in state.balancers:
        if lb.page is None:
            print(f"balancer {printable(lb.name)}: {printable(lb.error or 'no answer')}", file=out)
            continue
        for balancer in lb.page.balancers:
            print(f"balancer {printable(lb.name)} ({printable(balancer.name)})", file=out)
            for worker in balancer.workers:
                print(
                    f"  {printable(worker.url):<32} {printable(worker.route or '-'):<10} "
                    f"{printable(worker.status or '-'):<16} elected {worker.elected} "
                    f"busy {worker.busy}",
                    file=out,
                )
    if state.database is not None and state.database.health is not None:
        health = state.database.health
        if health.reachable and health.ms is not None:
            grants = "grants ok" if health.grants_ok else "grants MISSING"
            text = f"reachable {health.ms:.1f}ms, {grants}"
        else:
            text = f"UNREACHABLE: {health.error}"
        print(f"database {printable(state.database.url)}: {printable(text)}", file=out)
    if not found:
        print("no problems found", file=out)
    for problem in found:
        print(f"{problem.severity.upper():<8} {printable(problem.text)}", file=out)


def run(inventory: Inventory, *, as_json: bool, out: TextIO, timeout: float | None = None) -> int:
    """Print the fleet's status; exit 0 when healthy, 1 when any problem was found."""
    state = asyncio.run(snapshot(inventory, timeout=timeout))
    found = problems(state)
    if as_json:
        print(json.dumps(to_json(state, found)), file=out)
    else:
        _table(state, found, out)
    return exitcodes.PROBLEMS if found else exitcodes.OK
