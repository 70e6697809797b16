"""The add-node wizard's preflight: the doctor's own checks, run with the new host added to the
inventory, keeping what concerns the new node (one implementation, not a second set of checks).

What concerns it: findings on it, and findings on the other nodes that name it (a static member
list or a WKA list that does not name the new host, a route it would duplicate).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from console.config.model import Inventory, Node
from console.doctor.model import CheckResult, DoctorReport, Finding
from console.doctor.run import run_doctor


def with_node(inventory: Inventory, node: Node) -> Inventory:
    """The inventory with `node` added (replacing a node of the same name)."""
    others = tuple(n for n in inventory.nodes if n.name != node.name)
    return replace(inventory, nodes=(*others, node))


def concerns(finding: Finding, node: str) -> bool:
    if finding.node == node:
        return True
    return re.search(rf"(?<![\w.-]){re.escape(node)}(?![\w.-])", finding.text) is not None


def restrict(report: DoctorReport, node: str) -> DoctorReport:
    """The report with only the findings that concern `node` (each check's outcome follows)."""
    results = []
    for result in report.results:
        kept = tuple(f for f in result.findings if concerns(f, node))
        outcome = result.outcome
        if result.outcome == "fail" and not kept:
            outcome = "pass"
        results.append(CheckResult(result.check, outcome, kept, result.reason))
    return DoctorReport(report.cluster, tuple(results), report.seconds, report.notes)


async def preflight(
    inventory: Inventory, node: Node, *, timeout: float | None = None, memory: Path | None = None
) -> DoctorReport:
    """Every check with `node` in the cluster; only what concerns it is reported."""
    report = await run_doctor(with_node(inventory, node), timeout=timeout, memory=memory)
    return restrict(report, node.name)
