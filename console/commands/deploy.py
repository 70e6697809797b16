"""``clusterconsole deploy --check``: which nodes' deployed files differ from the deploy source.

One checksum dry run per target (see `console.deploy.drift`); nothing is changed. Exit 0 when
every target is in step, 1 when one differs or cannot be compared. With ``--json`` one document:
``{"source", "in_step", "error", "nodes": [{"node", "status", "files", "differences", "error"}]}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from console import exitcodes
from console.config.model import Inventory
from console.deploy.drift import DriftReport, check
from console.textsafe import printable


def print_report(report: DriftReport, out: TextIO) -> None:
    if report.error is not None:
        print(printable(f"deploy check: {report.error}"), file=out)
        return
    print(printable(f"deploy source {report.source}:"), file=out)
    for node in report.nodes:
        print(printable(f"  {node.describe()}"), file=out)
        if node.summary is not None and node.status == "differs":
            for kind, paths in (
                ("missing", node.summary.added),
                ("different", node.summary.changed),
                ("not in the source", node.summary.deleted),
            ):
                for path in paths[:10]:
                    print(printable(f"      {kind}: {path}"), file=out)


def run(inventory: Inventory, *, as_json: bool, out: TextIO, nodes: Sequence[str] = ()) -> int:
    names = [node.name for node in inventory.nodes]
    unknown = [name for name in nodes if name not in names]
    if unknown:
        print(
            printable(
                f"clusterconsole: there is no node {', '.join(unknown)} in the inventory; "
                f"nodes: {', '.join(names)}"
            ),
            file=sys.stderr,
        )
        return exitcodes.USAGE
    report = asyncio.run(check(inventory, nodes))
    if as_json:
        print(json.dumps(report.to_json()), file=out)
    else:
        print_report(report, out)
    return exitcodes.OK if report.in_step else exitcodes.PROBLEMS


__all__ = ["print_report", "run"]
