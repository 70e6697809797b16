"""Drift: whether each node's deployed files still match the deploy source.

One cheap pass, run when asked (never on every poll): the source pulled into the staging copy,
then a checksum dry run toward every target in parallel, under the cluster's deploy lock (taken
for the pass and given back), so that a sync in progress is never read half-done. Per node:
in step, differs (with the paths a sync would change), or unknown (and why).
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from console.config.model import Inventory
from console.deploy.lock import LOCK_NAME, DeployLock, LockError, LockHeld, owner_record
from console.deploy.sync import (
    PARALLEL,
    DeployError,
    DeployPlan,
    checksum_left,
    endpoint,
    plan_for,
    prepare_source,
)
from probes.rsync import RsyncError, Summary

DriftStatus = Literal["in-step", "differs", "unknown"]


@dataclass(frozen=True, slots=True)
class NodeDrift:
    node: str
    status: DriftStatus
    summary: Summary | None = None
    error: str | None = None

    def describe(self) -> str:
        if self.status == "in-step":
            return f"{self.node}: in step"
        if self.status == "differs" and self.summary is not None:
            s = self.summary
            return (
                f"{self.node}: differs ({s.files} file(s): {len(s.added)} missing, "
                f"{len(s.changed)} different, {len(s.deleted)} not in the source)"
            )
        return f"{self.node}: unknown ({self.error})"

    def to_json(self) -> dict[str, Any]:
        summary = self.summary.to_json() if self.summary is not None else None
        return {
            "node": self.node,
            "status": self.status,
            "files": self.summary.files if self.summary is not None else None,
            "differences": summary,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class DriftReport:
    source: str
    nodes: tuple[NodeDrift, ...]
    error: str | None = None
    """Why nothing could be compared (no [deploy], source unreadable, a sync running)."""

    @property
    def in_step(self) -> bool:
        return self.error is None and all(n.status == "in-step" for n in self.nodes)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "in_step": self.in_step,
            "error": self.error,
            "nodes": [node.to_json() for node in self.nodes],
        }


def lock_for(inventory: Inventory, plan: DeployPlan) -> DeployLock:
    node = inventory.node(plan.lock_node)
    return DeployLock(
        plan.lock_node, endpoint(inventory, node), node.catalina_base.rstrip("/") + "/" + LOCK_NAME
    )


async def check(inventory: Inventory, nodes: Sequence[str] = ()) -> DriftReport:
    """Every target compared with the source (never raises for what the nodes answer)."""
    try:
        plan = plan_for(inventory, nodes)
    except DeployError as error:
        return DriftReport("", (), str(error))
    lock = lock_for(inventory, plan)
    try:
        await lock.acquire(owner_record(getpass.getuser()))
    except (LockHeld, LockError) as error:
        return DriftReport(plan.source_label, (), str(error))
    try:
        try:
            source = await prepare_source(inventory, plan)
        except DeployError as error:
            return DriftReport(plan.source_label, (), str(error))
        limit = asyncio.Semaphore(PARALLEL)

        async def one(name: str) -> NodeDrift:
            async with limit:
                try:
                    left = await checksum_left(inventory, plan, source, name)
                except RsyncError as error:
                    return NodeDrift(name, "unknown", error=str(error))
            return NodeDrift(name, "in-step" if left.nothing else "differs", left)

        found = await asyncio.gather(*(one(name) for name, _ in plan.targets))
        return DriftReport(plan.source_label, tuple(found))
    finally:
        await lock.release()


__all__ = ["DriftReport", "NodeDrift", "check"]
