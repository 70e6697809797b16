"""The rolling-restart wizard without a cluster: what it refuses, how composed steps run node by
node and stop at the first failure, and how the command line picks its nodes."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from console import exitcodes
from console.cluster.observations import BalancerObserved, ProcessObserved
from console.cluster.state import ClusterState, replay
from console.commands import cli
from console.commands import wizard as wizard_cli
from console.config.model import Inventory
from console.operations import registry
from console.operations.compose import steps_per_node
from console.operations.engine import (
    Outcome,
    Progress,
    Runner,
    Step,
    StepFailed,
    StepRun,
    Wizard,
)
from console.operations.wizards import rolling
from probes.process import TomcatProcess
from tests.unit.test_state import (
    HEALTHY_PAGE,
    healthy_nodes,
    initial,
    inventory,
    left,
    page,
    settled,
)

__all__ = ["inventory"]  # the fixture, used by name


def healthy(inventory: Inventory) -> ClusterState:
    observations = [*healthy_nodes(), BalancerObserved("httpd", HEALTHY_PAGE, None, 1.0)]
    return settled(replay(initial(inventory), observations))


def test_a_healthy_cluster_has_nothing_against_a_rolling_restart(inventory: Inventory) -> None:
    assert rolling.cluster_problems(healthy(inventory)) == ([], [])


def test_a_node_down_a_split_and_a_lone_server_are_each_refused(inventory: Inventory) -> None:
    down = healthy(inventory).apply(ProcessObserved("node3", TomcatProcess("stopped"), 9.0))
    assert "node3's Tomcat is stopped" in rolling.cluster_problems(down)[0]

    split = replay(
        healthy(inventory),
        [left("node1", "node3"), left("node2", "node3"), left("node3", "node1")],
    )
    split = split.apply(left("node3", "node2"))
    problems = rolling.cluster_problems(split)[0]
    assert any("split into 2 groups (node1, node2 | node3)" in p for p in problems), problems
    assert "node1 does not see node3" in problems

    alone = page(("node1", "node1", "Init Ok "), ("node2", "node2", "Init Dis "))
    lone = healthy(inventory).apply(BalancerObserved("httpd", alone, None, 9.0))
    problems = rolling.cluster_problems(lone)[0]
    assert any(p.startswith("fewer than two nodes are serving (node1)") for p in problems)


@dataclass
class FakeNode:
    name: str


@dataclass
class FakeNodeContext:
    node: FakeNode
    done: list[str]


@dataclass
class FakeCluster:
    """What `per_node` needs of a ClusterContext: a context per node."""

    log: list[str] = field(default_factory=list)
    contexts: dict[str, FakeNodeContext] = field(default_factory=dict)

    def node_context(self, name: str) -> FakeNodeContext:
        return self.contexts.setdefault(name, FakeNodeContext(FakeNode(name), self.log))


def node_step(name: str, *, fail_on: str | None = None) -> Step[Any]:
    async def action(run: StepRun[Any]) -> None:
        node = run.ctx.node.name
        if node == fail_on:
            raise StepFailed(f"{name} failed on {node}")
        run.ctx.done.append(f"{node} {name}")
        run.observed(f"{name} on {node}")

    return Step(name, f"{name} the node", action=action, left=lambda ctx: f"{ctx.node.name} {name}")


def test_composed_steps_run_node_by_node_and_stop_at_the_first_failure() -> None:
    steps = (node_step("stop"), node_step("start", fail_on="node2"))
    wizard: Wizard[Any] = Wizard(
        "demo",
        "demo",
        steps_per_node(["node1", "node2", "node3"], steps),  # type: ignore[arg-type]
    )
    assert [s.name for s in wizard.steps][:3] == ["node1/stop", "node1/start", "node2/stop"]
    ctx = FakeCluster()
    events: list[Progress] = []
    outcome: Outcome = asyncio.run(
        Runner(wizard, ctx, node="node1,node2,node3", on_progress=events.append).run()
    )
    assert ctx.log == ["node1 stop", "node1 start", "node2 stop"]  # node3 never touched
    assert outcome.status == "failed" and outcome.step == "node2/start"
    assert outcome.text == "start failed on node2"
    assert outcome.state == "node2 stop"  # the last step done says what it left
    observed = [(e.node, e.step, e.text) for e in events if e.kind == "observed"]
    assert observed[0] == ("node1", "node1/stop", "stop on node1")
    assert {e.node for e in events if e.step and e.step.startswith("node2/")} == {"node2"}


def test_the_declarations_give_scopes_keys_and_every_question() -> None:
    spec = registry.SPECS["rolling-restart"]
    assert spec.scope == "cluster" and registry.SPECS["drain"].scope == "node"
    assert (registry.SPECS["drain"].key, registry.SPECS["rejoin"].key) == ("d", "j")
    names = {answer.name for answer in spec.answers}
    assert {"drain_timeout", "start_timeout", "state_timeout"} <= names
    assert registry.check_answers("rolling-restart", {"state_timeout": 30}) == {"state_timeout": 30}
    with pytest.raises(registry.WizardUsageError, match="no question 'state_timeout'"):
        registry.check_answers("drain", {"state_timeout": 30})
    out = io.StringIO()
    assert wizard_cli.describe(out) == exitcodes.OK
    assert "rolling-restart [--nodes A,B]: restart every node" in out.getvalue()
    assert "state_timeout:" in out.getvalue()


def cli_run(tmp_path: Path, inventory: Inventory, *argv: str) -> tuple[int, str]:
    args = cli.build_parser().parse_args(list(argv))
    out, err = io.StringIO(), io.StringIO()
    code = wizard_cli.run(inventory, args, out, err)
    return code, err.getvalue()


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--wizard", "rolling-restart", "--node", "node2"], "not --node"),
        (["--wizard", "drain", "--nodes", "node1,node2"], "not --nodes"),
        (["--wizard", "rolling-restart", "--nodes", "node1,node9"], "no node 'node9'"),
        (["--wizard", "rolling-restart", "--nodes", "node1,node1"], "node1 more than once"),
        (["--wizard", "drain"], "needs --node NODE"),
    ],
)
def test_the_scope_decides_which_of_node_and_nodes_is_asked_for(
    tmp_path: Path,
    inventory: Inventory,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    says: str,
) -> None:
    monkeypatch.setenv("CLUSTERCONSOLE_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    code, err = cli_run(tmp_path, inventory, *argv, "--dry-run")
    assert code == exitcodes.USAGE and says in err, err


def test_nodes_are_taken_in_the_order_given_else_in_inventory_order(
    inventory: Inventory,
) -> None:
    assert registry.chosen_nodes(inventory, []) == ("node1", "node2", "node3")
    assert registry.chosen_nodes(inventory, ["node3", "node1"]) == ("node3", "node1")
    built = rolling.build(["node3", "node1"])
    assert [s.name for s in built.steps][:2] == ["check", "node3/check"]
    assert built.steps[-1].name == "node1/rebalance" and built.steps[-1].node == "node1"


def test_every_catalog_entry_is_a_wizard_with_its_title_keys_and_palette_words() -> None:
    from console.operations.catalog import CATALOG
    from screens.operator_dashboard import OperatorDashboardScreen

    for entry in CATALOG:
        spec = registry.SPECS[entry.name]
        nodes = ("node1",) if entry.scope != "cluster" else ("node1", "node2")
        assert spec.build(nodes).title == entry.title, entry.name
        assert spec.build(nodes).name == entry.name
    keys = {
        binding.key: binding.action
        for binding in OperatorDashboardScreen.BINDINGS
        if not isinstance(binding, tuple) and binding.action.startswith("wizard(")
    }
    assert keys == {"d": "wizard('drain')", "j": "wizard('rejoin')"}
