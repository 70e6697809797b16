"""What the wizard screen runs: the wizard for its scope (one node, the nodes named, or a new
node) and the context it runs in (the session's monitor and worker actions, or for a new node a
monitor of its own)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from console.config.model import Inventory
from console.operations import registry
from console.operations.engine import Wizard
from screens.host import ConsoleHost


def wizard_nodes(inventory: Inventory, node: str) -> tuple[str, ...]:
    """The nodes of a cluster wizard, in order (every node when none are named)."""
    names = [name for name in node.split(",") if name]
    return registry.chosen_nodes(inventory, names)


def definition_for(inventory: Inventory, wizard: str, node: str) -> Wizard[Any]:
    """The wizard `wizard` for `node` (a cluster wizard: "node1,node2"; a new node's is named
    by prompts when it starts). WizardUsageError when it cannot be built."""
    spec = registry.spec_named(wizard)
    built: Wizard[Any]
    if spec.scope == "cluster":
        built = spec.build(wizard_nodes(inventory, node))
    elif spec.scope == "new-node":
        built = spec.build(())
    else:
        built = registry.wizard_named(wizard)
    return built


def run_context(
    host: ConsoleHost, wizard: str, node: str, answers: dict[str, Any]
) -> AbstractAsyncContextManager[Any]:
    """The context the wizard runs in (by its scope, `registry.run_context`), opened with the
    app's audit log, monitor and worker actions."""
    assert host.audit is not None
    return registry.run_context(
        host.inventory,
        wizard,
        [name for name in node.split(",") if name],
        host.audit,
        answers,
        monitor=host.monitor,
        actions=host.worker_actions,
    )
