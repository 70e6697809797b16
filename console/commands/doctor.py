"""``clusterconsole doctor``: the misconfigurations the clustering guides warn about.

Prints the findings, most severe first, each with its node, file and line, why it matters and
how to fix it; then every check with its outcome, so what was checked is visible too. With
``--json`` one document (a contract, see the README). Exit 0 when nothing was found, 1 when
anything was (a node that could not be read is a finding too).
"""

from __future__ import annotations

import asyncio
import json
from typing import TextIO

from console import exitcodes
from console.config.model import Inventory
from console.doctor.model import DoctorReport
from console.doctor.run import memory_file, run_doctor
from console.textsafe import printable

_MARK = {"pass": "ok", "fail": "FAIL", "skipped": "skip", "unknown": "?"}


def print_report(report: DoctorReport, out: TextIO) -> None:
    findings = report.findings
    print(f"cluster {printable(report.cluster)}: doctor ran in {report.seconds:.1f} s", file=out)
    for finding in findings:
        where = finding.node or "cluster"
        if finding.file:
            where += f" {finding.file}" + (f":{finding.line}" if finding.line else "")
        print(f"{finding.severity.upper():<8} {printable(where)}", file=out)
        print(f"         {printable(finding.text)}", file=out)
        print(f"         why: {printable(finding.why)}", file=out)
        print(f"         fix: {printable(finding.fix)}", file=out)
    print("checks:", file=out)
    for result in report.results:
        detail = f" ({len(result.findings)})" if result.findings else ""
        reason = f": {printable(result.reason)}" if result.reason else ""
        print(
            f"  {_MARK[result.outcome]:<5} {result.check.id:<18} {result.check.title}"
            f"{detail}{reason}",
            file=out,
        )
    if not findings:
        print("no findings", file=out)
    else:
        critical = sum(1 for f in findings if f.severity == "critical")
        print(f"{len(findings)} finding(s), {critical} critical", file=out)


SCHEMA_VERSION = 1
"""`doctor --json`'s schema_version (console/schemas/doctor.schema.json)."""


def run(inventory: Inventory, *, as_json: bool, out: TextIO, timeout: float | None = None) -> int:
    """Run every check once; exit 0 with no finding, 1 with any."""
    report = asyncio.run(run_doctor(inventory, timeout=timeout, memory=memory_file()))
    if as_json:
        print(json.dumps({"schema_version": SCHEMA_VERSION, **report.to_json()}), file=out)
    else:
        print_report(report, out)
    return exitcodes.PROBLEMS if report.findings else exitcodes.OK
