"""The wizards by name, their answers, and how a run's context is opened and closed."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, assert_never

from console.audit import AuditLog
from console.config.model import Inventory
from console.monitor.runner import Monitor, MonitorOptions, first_round_done
from console.operations.catalog import CATALOG, WizardEntry
from console.operations.compose import ClusterContext
from console.operations.context import NodeContext
from console.operations.engine import Wizard
from console.operations.spec import AnswerError, WizardSpec
from console.operations.wizards.add_node_context import add_node_context
from console.operations.workers import WorkerActions


def _spec(entry: WizardEntry) -> WizardSpec:
    module = importlib.import_module(entry.module)
    return WizardSpec(
        entry.name,
        entry.title,
        entry.scope,
        tuple(module.QUESTIONS),
        module.build,
        key=entry.key,
        summary=entry.summary,
    )


SPECS: Mapping[str, WizardSpec] = {entry.name: _spec(entry) for entry in CATALOG}
"""Every wizard of the catalog with its questions and steps: the CLI, its help, answers
validation and the wizard screen read these."""
WIZARDS: Mapping[str, Wizard[NodeContext]] = {
    name: spec.build(()) for name, spec in SPECS.items() if spec.scope == "node"
}
"""The node wizards (the wizard screen opens these on the selected node)."""
ANSWERS: Mapping[str, Mapping[str, str]] = {
    name: {answer.name: answer.describe() for answer in spec.answers}
    for name, spec in SPECS.items()
}
FIRST_ROUND_EXTRA = 45.0
"""Seconds beyond the SSH connect timeout to wait for every probe's first answer."""


class WizardUsageError(Exception):
    """A wizard name, node or answer that cannot be used; str() is one sentence."""


def spec_named(name: str) -> WizardSpec:
    found = SPECS.get(name)
    if found is None:
        raise WizardUsageError(
            f"there is no wizard {name!r}; available: {', '.join(sorted(SPECS))}"
        )
    return found


def check_answers(wizard: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers, validated against what the wizard asks (names and kinds)."""
    try:
        return spec_named(wizard).check_answers(answers)
    except AnswerError as exc:
        raise WizardUsageError(str(exc)) from None


def wizard_named(name: str) -> Wizard[NodeContext]:
    """A node wizard by name (the wizard screen's)."""
    found = WIZARDS.get(name)
    if found is None:
        raise WizardUsageError(
            f"there is no node wizard {name!r}; available: {', '.join(sorted(WIZARDS))}"
        )
    return found


def chosen_nodes(inventory: Inventory, wanted: Sequence[str]) -> tuple[str, ...]:
    """The nodes a cluster wizard acts on: those given, in that order, else every node in
    inventory order; WizardUsageError for a name that is not a node or given twice."""
    names = [node.name for node in inventory.nodes]
    if not wanted:
        return tuple(names)
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise WizardUsageError(
            f"there is no node {', '.join(map(repr, unknown))} in the inventory; "
            f"nodes: {', '.join(names)}"
        )
    twice = sorted({name for name in wanted if list(wanted).count(name) > 1})
    if twice:
        raise WizardUsageError(f"--nodes names {', '.join(twice)} more than once")
    return tuple(wanted)


async def _first_round(monitor: Monitor, inventory: Inventory) -> None:
    limit = inventory.ssh.connect_timeout + FIRST_ROUND_EXTRA
    # On timeout the steps check what they need themselves and say what is missing.
    with contextlib.suppress(TimeoutError):
        await monitor.wait_for(lambda state: first_round_done(state, inventory), limit)


def _own_monitor(inventory: Inventory) -> Monitor:
    options = MonitorOptions(read_only=True, balancer_interval=1.0, process_interval=2.0)
    return Monitor(inventory, options)


@asynccontextmanager
async def cluster_context(
    inventory: Inventory,
    nodes: Sequence[str],
    wizard: str,
    audit: AuditLog,
    answers: Mapping[str, Any],
    *,
    monitor: Monitor | None = None,
    actions: WorkerActions | None = None,
) -> AsyncIterator[ClusterContext]:
    """A ready context for a wizard over `nodes`: the monitor has answered once; everything
    opened here is closed."""
    chosen = chosen_nodes(inventory, nodes)
    own_monitor = monitor is None
    if monitor is None:
        monitor = _own_monitor(inventory)
        await monitor.start()
    ctx = ClusterContext(
        inventory=inventory,
        nodes=chosen,
        wizard=wizard,
        monitor=monitor,
        audit=audit,
        actions=actions or WorkerActions(inventory, audit),
        answers={**spec_named(wizard).defaults, **answers},
        close_actions=actions is None,
    )
    try:
        await _first_round(monitor, inventory)
        yield ctx
    finally:
        await asyncio.shield(_close(ctx, monitor if own_monitor else None))


@asynccontextmanager
async def node_context(
    inventory: Inventory,
    node: str,
    wizard: str,
    audit: AuditLog,
    answers: Mapping[str, Any],
    *,
    monitor: Monitor | None = None,
    actions: WorkerActions | None = None,
) -> AsyncIterator[NodeContext]:
    """A ready context: the monitor has answered once; everything opened here is closed."""
    try:
        target = inventory.node(node)
    except KeyError:
        names = ", ".join(n.name for n in inventory.nodes)
        raise WizardUsageError(
            f"there is no node {node!r} in the inventory; nodes: {names}"
        ) from None
    own_monitor = monitor is None
    if monitor is None:
        monitor = _own_monitor(inventory)
        await monitor.start()
    ctx = NodeContext(
        inventory=inventory,
        node=target,
        wizard=wizard,
        monitor=monitor,
        audit=audit,
        actions=actions or WorkerActions(inventory, audit),
        answers={**SPECS[wizard].defaults, **answers} if wizard in SPECS else dict(answers),
        close_actions=actions is None,
    )
    ctx.events()  # the journal follows the monitor from now on
    try:
        await _first_round(monitor, inventory)
        yield ctx
    finally:
        await asyncio.shield(_close(ctx, monitor if own_monitor else None))


def run_context(
    inventory: Inventory,
    wizard: str,
    nodes: Sequence[str],
    audit: AuditLog,
    answers: Mapping[str, Any],
    *,
    monitor: Monitor | None = None,
    actions: WorkerActions | None = None,
) -> AbstractAsyncContextManager[Any]:
    """The context a run of `wizard` opens, by the wizard's scope (the one place that says it,
    for the CLI and the wizard screen): a node wizard's on its one node, a cluster wizard's over
    `nodes` (every node when none are given), a new node's on the node its answers describe.

    `monitor` and `actions` are the session's, shared by node and cluster runs (None: the
    context opens and closes its own). A new node's run always has its own: the session's
    monitor does not follow a node the inventory lacks yet. Each context says what is wrong
    with its nodes or answers when it is entered."""
    scope = spec_named(wizard).scope
    match scope:
        case "node":
            node = ",".join(nodes)  # one name; anything else is no node of the inventory
            return node_context(
                inventory, node, wizard, audit, answers, monitor=monitor, actions=actions
            )
        case "cluster":
            return cluster_context(
                inventory, nodes, wizard, audit, answers, monitor=monitor, actions=actions
            )
        case "new-node":
            return add_node_context(inventory, wizard, audit, answers)
        case _:
            assert_never(scope)


async def _close(ctx: NodeContext | ClusterContext, monitor: Monitor | None) -> None:
    await ctx.aclose()
    if monitor is not None:
        await monitor.stop()
