"""A truncated catalina.out (what logrotate's copytruncate does) is not every member leaving:
`status` on the real sandbox reports that node's membership as unknown, with the reason, and no
false "not replicated" or "split brain" alarm (issue 11 item 7)."""

from __future__ import annotations

import pytest

from console.cluster.crosschecks import findings
from console.cluster.state import ClusterState
from console.commands.status import snapshot
from console.config import load_inventory
from console.monitor.runner import Monitor, MonitorOptions, first_round_done
from console.sandbox.layout import SandboxLayout

pytestmark = [pytest.mark.sandbox, pytest.mark.disruptive]


async def test_status_after_a_truncation_says_unknown_not_absent(sandbox: SandboxLayout) -> None:
    node = sandbox.nodes[0]
    log = node.catalina_out
    history = log.read_bytes()
    with log.open("r+b") as handle:  # `: > catalina.out`; Tomcat keeps appending (O_APPEND)
        handle.truncate(0)
    try:
        state = await snapshot(load_inventory(sandbox.inventory), timeout=90)
        found = findings(state)
        codes = [(problem.code, problem.node) for problem in found.alarms]
        assert not [code for code in codes if code[0] in ("not-replicated", "split-brain")], codes
        view = state.node(node.name)
        assert not view.membership_known
        assert view.membership_unknown_reason is not None
        assert ("membership-unknown", node.name) in [(p.code, p.node) for p in found.notices]
        others = [state.node(other.name) for other in sandbox.nodes[1:]]
        assert all(other.membership_known and node.name in other.sees(state.specs)
                   for other in others)  # fmt: skip
    finally:
        written = log.read_bytes()
        log.write_bytes(history + written)  # the history back, for the tests that follow


async def test_a_live_console_sees_the_truncation_as_unknown_membership(
    sandbox: SandboxLayout,
) -> None:
    inventory = load_inventory(sandbox.inventory)
    node = sandbox.nodes[0]
    log = node.catalina_out
    async with Monitor(inventory, MonitorOptions(read_only=True)) as monitor:
        await monitor.wait_for(lambda state: first_round_done(state, inventory), 90)
        assert monitor.state.node(node.name).membership_known
        history = log.read_bytes()
        with log.open("r+b") as handle:
            handle.truncate(0)
        try:

            def lost(state: ClusterState) -> bool:
                return "truncated" in (state.node(node.name).membership_unknown_reason or "")

            state = await monitor.wait_for(lost, 30)
            reason = state.node(node.name).membership_unknown_reason or ""
            assert reason.startswith(f"{log} was truncated at "), reason
            codes = [problem.code for problem in findings(state).alarms]
            assert "not-replicated" not in codes and "split-brain" not in codes, codes
        finally:
            log.write_bytes(history + log.read_bytes())
