"""Composition: a wizard that runs other wizards' steps node by node (a rolling restart is drain,
stop, start and rejoin on each node in turn).

`ClusterContext` is the context of a wizard whose scope is the cluster or a subset of it: it
holds one `NodeContext` per node (sharing the monitor, the audit log and the worker actions,
each with its own operator SSH session), and `per_node` turns a node wizard's step into a step
of the composed wizard that runs on one node's context. The composed step is named
``NODE/STEP`` and its progress events carry the node, so the operator always sees which node
and which step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from console.audit import AuditLog
from console.config.model import Inventory
from console.monitor.runner import Monitor
from console.operations.context import NodeContext
from console.operations.engine import Change, Step, StepRun
from console.operations.journal import EventJournal
from console.operations.workers import WorkerActions

R = TypeVar("R")


@dataclass
class ClusterContext:
    """The shared, per-run context of a wizard over several nodes."""

    inventory: Inventory
    nodes: tuple[str, ...]
    """The nodes it acts on, in the order it acts on them."""
    wizard: str
    monitor: Monitor
    audit: AuditLog
    actions: WorkerActions
    answers: Mapping[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    close_actions: bool = True
    journal: EventJournal | None = None
    """Every event since the run began, shared by the node contexts (opened here when None)."""
    _contexts: dict[str, NodeContext] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.journal is None:
            self.journal = EventJournal(self.monitor)

    def answer(self, name: str, default: Any) -> Any:
        return self.answers.get(name, default)

    def node_context(self, name: str) -> NodeContext:
        """The context the composed node steps of `name` run in (made on first use)."""
        found = self._contexts.get(name)
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
            self._contexts[name] = found
        return found

    async def aclose(self) -> None:
        contexts, self._contexts = list(self._contexts.values()), {}
        await asyncio.gather(*(ctx.aclose() for ctx in contexts), return_exceptions=True)
        if self.journal is not None:
            self.journal.close()
        if self.close_actions:
            await self.actions.aclose()


class NodeRun(StepRun[NodeContext]):
    """A composed step's run, as the node wizard's step functions see it: the node's context,
    while progress, deadline and force stay the composed run's."""

    def __init__(self, outer: StepRun[ClusterContext], ctx: NodeContext) -> None:
        super().__init__(cast(Any, outer.runner), cast(Any, outer.step), outer.index)
        self.deadline = outer.deadline
        self._node_ctx = ctx

    @property
    def ctx(self) -> NodeContext:
        return self._node_ctx


def _on_node(
    fn: Callable[[StepRun[NodeContext]], Awaitable[R]] | None, node: str
) -> Callable[[StepRun[ClusterContext]], Awaitable[R]] | None:
    if fn is None:
        return None
    inner = fn

    async def call(run: StepRun[ClusterContext]) -> R:
        return await inner(NodeRun(run, run.ctx.node_context(node)))

    return call


def _state_on_node(
    text: Callable[[NodeContext], str] | str, node: str
) -> Callable[[ClusterContext], str] | str:
    if not callable(text):
        return text
    describe = text
    return lambda ctx: describe(ctx.node_context(node))


def per_node(step: Step[NodeContext], node: str) -> Step[ClusterContext]:
    """`step` of a node wizard as a step of a composed wizard, acting on `node`."""
    timeout = step.timeout
    plan = cast(
        "Callable[[StepRun[ClusterContext]], Awaitable[list[Change]]] | None",
        _on_node(step.plan, node),
    )
    return Step(
        f"{node}/{step.name}",
        f"{node}: {step.description}",
        check=_on_node(step.check, node),
        plan=plan,
        action=_on_node(step.action, node),
        verify=_on_node(step.verify, node),
        timeout=((lambda ctx: timeout(ctx.node_context(node))) if callable(timeout) else timeout),
        left=_state_on_node(step.left, node),
        interrupted=_state_on_node(step.interrupted, node),
        node=node,
    )


def steps_per_node(
    nodes: Sequence[str], steps: Sequence[Step[NodeContext]]
) -> tuple[Step[ClusterContext], ...]:
    """Every step for the first node, then every step for the next, and so on."""
    return tuple(per_node(step, node) for node in nodes for step in steps)


__all__ = ["ClusterContext", "NodeRun", "per_node", "steps_per_node"]
