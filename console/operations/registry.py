"""The wizards by name, their answers, and how a run's context is opened and closed."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from console.audit import AuditLog
from console.config_model import Inventory
from console.monitor import Monitor, MonitorOptions, first_round_done
from console.operations import drain, rejoin
from console.operations.context import NodeContext
from console.operations.engine import Wizard
from console.operations.workers import WorkerActions

WIZARDS: Mapping[str, Wizard[NodeContext]] = {
    "drain": drain.WIZARD,
    "rejoin": rejoin.WIZARD,
}
ANSWERS: Mapping[str, Mapping[str, str]] = {
    "drain": drain.ANSWERS,
    "rejoin": rejoin.ANSWERS,
}
FIRST_ROUND_EXTRA = 45.0
"""Seconds beyond the SSH connect timeout to wait for every probe's first answer."""


class WizardUsageError(Exception):
    """A wizard name, node or answer that cannot be used; str() is one sentence."""


def check_answers(wizard: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers, validated against what the wizard asks (names and numbers)."""
    known = ANSWERS[wizard]
    checked: dict[str, Any] = {}
    for key, value in answers.items():
        if key not in known:
            names = ", ".join(sorted(known))
            raise WizardUsageError(f"the {wizard} wizard has no question {key!r}; it asks: {names}")
        if key == "context":
            if not isinstance(value, str) or not value.startswith("/"):
                raise WizardUsageError(f'{key} must be a context path such as "/app"')
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise WizardUsageError(f"{key} must be a number of seconds (0 or more)")
        elif not math.isfinite(value) or value < 0 or (key.endswith("_timeout") and value == 0):
            least = "more than 0" if key.endswith("_timeout") else "0 or more"
            raise WizardUsageError(f"{key} must be a finite number of seconds ({least}): {value}")
        checked[key] = value
    return checked


def wizard_named(name: str) -> Wizard[NodeContext]:
    found = WIZARDS.get(name)
    if found is None:
        raise WizardUsageError(
            f"there is no wizard {name!r}; available: {', '.join(sorted(WIZARDS))}"
        )
    return found


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
        options = MonitorOptions(read_only=True, balancer_interval=1.0, process_interval=2.0)
        monitor = Monitor(inventory, options)
        await monitor.start()
    ctx = NodeContext(
        inventory=inventory,
        node=target,
        wizard=wizard,
        monitor=monitor,
        audit=audit,
        actions=actions or WorkerActions(inventory, audit),
        answers=dict(answers),
        close_actions=actions is None,
    )
    try:
        limit = inventory.ssh.connect_timeout + FIRST_ROUND_EXTRA
        # On timeout the steps check what they need themselves and say what is missing.
        with contextlib.suppress(TimeoutError):
            await monitor.wait_for(lambda state: first_round_done(state, inventory), limit)
        yield ctx
    finally:
        await asyncio.shield(_close(ctx, monitor if own_monitor else None))


async def _close(ctx: NodeContext, monitor: Monitor | None) -> None:
    await ctx.aclose()
    if monitor is not None:
        await monitor.stop()
