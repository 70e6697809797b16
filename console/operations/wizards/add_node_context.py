"""The add-node wizard's context: a node context for the new node (its inventory already holds
it, so the monitor follows its log and the balancers' workers map to it), plus the inventory as
it was, the reference node, the peers' own SSH sessions and what the run has created so far."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from console.audit import AuditLog
from console.cluster.state import ClusterState
from console.config.model import Inventory, Node
from console.doctor.new_node import propose_node
from console.monitor.runner import Monitor, MonitorOptions
from console.operations.context import NodeContext
from console.operations.workers import WorkerActions

NODE_FIELDS = ("name", "host", "ssh_port", "ssh_user", "jvm_route", "catalina_base", "http")
"""The answers that are fields of the new node's [[nodes]] table (the rest follow the
reference)."""
FIRST_ROUND = 60.0


class AddNodeUsageError(ValueError):
    """Answers that do not name a node to add; str() is one sentence."""


@dataclass
class AddNodeContext(NodeContext):
    before: Inventory | None = None
    """The inventory as it was (without the new node)."""
    reference: Node | None = None
    created: list[str] = field(default_factory=list)
    """What the run created, in order (for the operator, and for remove-node to undo)."""
    _peers: dict[str, NodeContext] = field(default_factory=dict)

    @property
    def old(self) -> Inventory:
        return self.before if self.before is not None else self.inventory

    @property
    def ref(self) -> Node:
        return self.reference if self.reference is not None else self.old.nodes[0]

    def peer(self, name: str) -> NodeContext:
        """An existing node's context (its own operator session), made on first use."""
        found = self._peers.get(name)
        if found is None:
            found = NodeContext(
                inventory=self.inventory,
                node=self.inventory.node(name),
                wizard=self.wizard,
                monitor=self.monitor,
                audit=self.audit,
                actions=self.actions,
                answers=self.answers,
                close_actions=False,
                journal=self.journal,
            )
            self._peers[name] = found
        return found

    async def aclose(self) -> None:
        peers, self._peers = list(self._peers.values()), {}
        await asyncio.gather(*(peer.aclose() for peer in peers), return_exceptions=True)
        await super().aclose()


def new_node(inventory: Inventory, answers: Mapping[str, Any]) -> tuple[Node, Node]:
    """(the node the answers describe, the reference node); AddNodeUsageError when the
    answers do not name one."""
    name, host = answers.get("name"), answers.get("host")
    if not name or not host:
        missing = " and ".join(k for k in ("name", "host") if not answers.get(k))
        raise AddNodeUsageError(
            f"the add-node wizard needs the new node's {missing} (in the answers file, "
            "or --node for the name)"
        )
    reference = answers.get("reference")
    try:
        node = propose_node(
            inventory,
            str(name),
            str(host),
            reference=reference,
            jvm_route=answers.get("jvm_route"),
            catalina_base=answers.get("catalina_base"),
            ssh_port=answers.get("ssh_port"),
            ssh_user=answers.get("ssh_user"),
        )
    except ValueError as exc:
        raise AddNodeUsageError(str(exc)) from None
    if answers.get("http"):
        node = replace(node, http=str(answers["http"]))
    ref = inventory.node(reference) if reference else inventory.nodes[0]
    return node, ref


def _peers_read(state: ClusterState, inventory: Inventory) -> bool:
    """Every existing node answered once (SSH and its Tomcat): the new one cannot yet."""
    names = {node.name for node in inventory.nodes}
    return all(
        view.ssh != "connecting" and (view.ssh != "up" or view.tomcat != "unknown")
        for view in state.nodes
        if view.name in names
    )


def with_new_node(inventory: Inventory, node: Node) -> Inventory:
    """The inventory the run's monitor follows: with the new node, unless its name is taken
    (the preflight then refuses it; two nodes of one name would confuse the monitor first)."""
    if any(other.name == node.name for other in inventory.nodes):
        return inventory
    return replace(inventory, nodes=(*inventory.nodes, node))


@asynccontextmanager
async def add_node_context(
    inventory: Inventory,
    wizard: str,
    audit: AuditLog,
    answers: Mapping[str, Any],
    *,
    monitor: Monitor | None = None,
    actions: WorkerActions | None = None,
) -> AsyncIterator[AddNodeContext]:
    """A ready context: the monitor (over the inventory with the new node) answered once."""
    node, ref = new_node(inventory, answers)
    wider = with_new_node(inventory, node)
    own_monitor = monitor is None
    if monitor is None:
        options = MonitorOptions(read_only=True, balancer_interval=1.0, process_interval=2.0)
        monitor = Monitor(wider, options)
        await monitor.start()
    ctx = AddNodeContext(
        inventory=wider,
        node=node,
        wizard=wizard,
        monitor=monitor,
        audit=audit,
        actions=actions or WorkerActions(wider, audit),
        answers=answers,
        close_actions=actions is None,
        before=inventory,
        reference=ref,
    )
    ctx.events()
    try:
        with contextlib.suppress(TimeoutError):
            await monitor.wait_for(lambda state: _peers_read(state, inventory), FIRST_ROUND)
        yield ctx
    finally:
        await asyncio.shield(ctx.aclose())
        if own_monitor:
            await asyncio.shield(monitor.stop())


__all__ = [
    "NODE_FIELDS",
    "AddNodeContext",
    "AddNodeUsageError",
    "add_node_context",
    "new_node",
    "with_new_node",
]
