"""The proof of issue 5: `--wizard drain` then `--wizard rejoin` under sticky load lose nothing.

20 sticky clients at a paced 130 requests/s (at least 100/s must be achieved, or the run proves
nothing) go through the sandbox balancer while the wizards run as subprocesses, exactly as a
runbook or CI would run them. Every request must succeed and every client's session counter must
keep counting (console.sandbox.load defines a counter break). The clients whose session lived on
the drained node must have moved to another node and kept counting there. Every change the
wizards made must be in the audit log as a before/after pair.

Whatever happens, the cluster is left fully up with every worker enabled.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.sandbox.layout import SandboxLayout
from tests.bench.drain_proof import (
    CLIENTS,
    MIN_RATE,
    Cycle,
    Scenario,
    audit_pairs,
    drain_rejoin_under_load,
    restore,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.disruptive]


def run_scenario(layout: SandboxLayout, nodes: list[str], audit_log: Path) -> Scenario:
    async def scenario() -> Scenario:
        try:
            return await drain_rejoin_under_load(layout, nodes, audit_log=audit_log)
        finally:
            await restore(layout)

    return asyncio.run(scenario())


def check_load(scenario: Scenario) -> None:
    """The load was the load the proof needs, and it lost nothing."""
    report = scenario.report
    assert report is not None
    figures = report.to_json()
    assert report.clients >= CLIENTS
    assert scenario.measured.rate >= MIN_RATE, (
        f"the load reached only {scenario.measured.rate:.1f} requests/s (it needs "
        f"{MIN_RATE:g}: a slower load would prove nothing; is the machine overloaded?): {figures}"
    )
    assert report.failures == 0, figures["failure_samples"]
    assert report.breaks == 0, figures["break_samples"]
    unanswered = [client.index for client in report.per_client if client.failures or not client.ok]
    assert not unanswered, unanswered


def check_cycle(cycle: Cycle) -> None:
    """Both wizards succeeded, the load kept running, and the node's clients moved."""
    assert cycle.drain.exit_code == 0, cycle.drain.describe()
    assert (cycle.drain.finished or {}).get("status") == "done", cycle.drain.describe()
    assert cycle.rejoin.exit_code == 0, cycle.rejoin.describe()
    assert (cycle.rejoin.finished or {}).get("status") == "done", cycle.rejoin.describe()
    # The load kept running through both (not a timing claim: a load that stalled for the
    # whole wizard would have proved nothing about it).
    for window in (cycle.drain_window, cycle.rejoin_window):
        assert window.requests > 0, window
        assert window.failures == 0 and window.breaks == 0, window
    # Every client whose session was on the node before the drain is elsewhere after it, and
    # its counter went on from where it was.
    assert cycle.before, f"no client had its session on {cycle.node} before the drain"
    for index, before in cycle.before.items():
        after = cycle.after_drain[index]
        assert after.node != cycle.node, (cycle.node, before, after)
        assert after.count is not None and before.count is not None
        assert after.count > before.count, (before, after)
        assert (after.breaks, after.failures) == (before.breaks, before.failures), (before, after)


def check_audit(audit_log: Path, scenario: Scenario) -> None:
    """Every change is a before/after pair that says ok; each wizard run changed something."""
    assert audit_log.exists(), "the wizards wrote no audit log"
    pairs, unpaired, failed = audit_pairs(audit_log)
    assert not unpaired, unpaired
    # Both wizards finished `done` (checked before), so every change they audited must say so.
    assert not failed, f"audited as not ok although the wizard finished done: {failed}"
    for cycle in scenario.cycles:
        for wizard in ("drain", "rejoin"):
            changes = [
                pair["before"]
                for pair in pairs.values()
                if pair["before"].get("wizard") == wizard
                and pair["before"].get("node") == cycle.node
            ]
            assert changes, f"no audited change by --wizard {wizard} on {cycle.node}"


def test_drain_and_rejoin_node2_under_load(sandbox: SandboxLayout, tmp_path: Path) -> None:
    audit_log = tmp_path / "audit.jsonl"
    scenario = run_scenario(sandbox, ["node2"], audit_log)
    assert len(scenario.cycles) == 1
    check_cycle(scenario.cycles[0])
    check_load(scenario)
    check_audit(audit_log, scenario)


def test_rolling_restart_under_load(sandbox: SandboxLayout, tmp_path: Path) -> None:
    audit_log = tmp_path / "audit.jsonl"
    nodes = [node.name for node in sandbox.nodes]
    scenario = run_scenario(sandbox, nodes, audit_log)
    assert [cycle.node for cycle in scenario.cycles] == nodes, [
        cycle.drain.describe() for cycle in scenario.cycles
    ]
    for cycle in scenario.cycles:
        check_cycle(cycle)
    check_load(scenario)
    check_audit(audit_log, scenario)
