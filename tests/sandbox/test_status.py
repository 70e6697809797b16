"""`clusterconsole status` and the monitor against the real sandbox cluster."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console import exitcodes
from console.cluster.crosschecks import problems
from console.cluster.state import ClusterState
from console.commands.status import snapshot
from console.config import load_inventory, load_inventory_text
from console.monitor.polls import database_target
from console.monitor.runner import Monitor, MonitorOptions, first_round_done
from console.sandbox import tomcat
from console.sandbox.layout import SandboxLayout
from probes import database as database_probe

from .helpers import peers, routes_new_sessions_to

pytestmark = pytest.mark.sandbox


def status(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "status", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env=os.environ.copy(),
    )


def test_status_of_a_healthy_cluster(sandbox: SandboxLayout) -> None:
    result = status("--sandbox", "--json")
    assert result.returncode == exitcodes.OK, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["cluster"] == "sandbox"
    assert report["problems"] == []
    assert [node["name"] for node in report["nodes"]] == [n.name for n in sandbox.nodes]
    for node, layout in zip(report["nodes"], sandbox.nodes, strict=True):
        assert node["host"] == layout.address
        assert node["ssh"] == "up"
        assert node["tomcat"] == "running"
        assert node["http"]["status"] == 200 and node["http"]["ms"] > 0
        expected = sorted(f"{peer.address}:4000" for peer in peers(sandbox, layout))
        assert node["members_seen"] == expected
    (balancer,) = report["balancers"]
    assert balancer["reachable"] is True
    workers = balancer["balancers"][0]["workers"]
    assert sorted(w["route"] for w in workers) == [n.jvm_route for n in sandbox.nodes]
    assert all(w["status"] == "Init Ok" and w["usable"] for w in workers)
    database = report["database"]
    assert database["reachable"] is True and database["grants_ok"] is True
    assert database["ms"] > 0
    shared = report["shared_dir"]
    assert all(entry["ok"] and entry["written"] for entry in shared["nodes"].values())


def test_status_table_and_a_node_that_cannot_be_reached(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    text = sandbox.inventory.read_text()
    ghost = sandbox.nodes[-1]
    extra = (
        '\n[[nodes]]\nname = "ghost"\nhost = "127.0.9.254"\n'
        f'catalina_base = "{ghost.base}"\nhttp = "http://127.0.9.254:8080/app/"\n'
    )
    copy = sandbox.inventory.parent / "with-ghost.toml"
    copy.write_text(text.replace("[[balancers]]", extra + "\n[[balancers]]", 1))
    result = status("--config", str(copy))
    assert result.returncode == exitcodes.PROBLEMS, result.stdout + result.stderr
    assert "ghost" in result.stdout
    assert "cannot reach ghost over SSH" in result.stdout
    assert "connection refused" in result.stdout
    assert "Traceback" not in result.stderr


def test_database_probe_reads_grants_and_connections_per_host(sandbox: SandboxLayout) -> None:
    inventory = load_inventory(sandbox.inventory)
    assert inventory.database is not None
    health = database_probe.check(database_target(inventory.database))
    assert health.reachable and health.grants_ok, health
    assert health.version and "MariaDB" in health.version
    assert health.missing_grants == frozenset()
    wrong = load_inventory_text(
        sandbox.inventory.read_text().replace(
            'password_file = "secrets/db_password"', 'password_env = "CC_TEST_WRONG_PASSWORD"'
        ),
        sandbox.inventory,
    )
    assert wrong.database is not None
    os.environ["CC_TEST_WRONG_PASSWORD"] = "not-the-password"
    try:
        denied = database_probe.check(database_target(wrong.database))
    finally:
        del os.environ["CC_TEST_WRONG_PASSWORD"]
    assert not denied.reachable
    assert "Access denied" in (denied.error or "")
    assert "not-the-password" not in (denied.error or "")


def _member_left_seen(state: ClusterState, observer: str, member: str) -> bool:
    return any(
        record.node == observer
        and record.event.kind == "member-left"
        and record.event.member == member
        and not record.backlog
        for record in state.events
    )


@pytest.mark.disruptive
async def test_monitor_sees_a_stopped_node_leave_and_come_back(sandbox: SandboxLayout) -> None:
    inventory = load_inventory(sandbox.inventory)
    node = sandbox.nodes[-1]
    member = f"{node.address}:4000"
    others = peers(sandbox, node)
    options = MonitorOptions(read_only=True, process_interval=1.0, balancer_interval=1.0)
    async with Monitor(inventory, options) as monitor:
        await monitor.wait_for(lambda s: first_round_done(s, inventory), 60)
        assert problems(monitor.state) == ()
        await asyncio.to_thread(tomcat.stop, node)
        try:
            state = await monitor.wait_for(
                lambda s: (
                    all(_member_left_seen(s, peer.name, member) for peer in others)
                    and s.node(node.name).tomcat == "stopped"
                ),
                30,
            )
            found = {(p.code, p.node) for p in problems(state)}
            assert ("tomcat-stopped", node.name) in found
            for peer in others:
                assert member not in state.node(peer.name).members_seen
        finally:
            await asyncio.to_thread(tomcat.start, node)
        state = await monitor.wait_for(
            lambda s: (
                all(member in s.node(p.name).members_seen for p in others)
                and s.node(node.name).tomcat == "running"
            ),
            60,
        )
        joined = [
            r for r in state.events if r.event.kind == "member-joined" and r.event.member == member
        ]
        assert {r.node for r in joined if not r.backlog} == {p.name for p in others}
        await asyncio.to_thread(routes_new_sessions_to, sandbox, node, 30)
        await monitor.wait_for(lambda s: not problems(s), 30)


async def test_a_journal_log_without_journald_does_not_hold_up_status(
    sandbox: SandboxLayout,
) -> None:
    """The sandbox has no journald: `journal:tomcat10` yields nothing, yet every probe still
    completes its first round (status does not sit out its deadline) and catalina.out still
    tells the membership."""
    copy = sandbox.inventory.parent / "with-journal.toml"
    copy.write_text(
        sandbox.inventory.read_text().replace(
            'logs = ["logs/catalina.out"]', 'logs = ["logs/catalina.out", "journal:tomcat10"]', 1
        )
    )
    inventory = load_inventory(copy)
    state = await snapshot(inventory, timeout=60)
    assert first_round_done(state, inventory)
    node = state.nodes[0]
    assert sorted(node.backlogs_read) == sorted(str(log) for log in inventory.nodes[0].logs)
    assert node.membership_known and node.members_seen
