"""The proof of issue 13: `clusterconsole --wizard add-node --answers F --yes --json` brings a
spare host in as node4 under the sandbox's sticky load, losing nothing; and how long each of
its steps takes.

The sandbox's sticky load (console.sandbox.load: 20 clients, each with its own cookie jar, one
request in flight each, asked for 130 requests/s) runs through the balancer while the wizard
runs as a subprocess, exactly as a runbook would run it. Figures: the requests, the achieved
rate, failures and session-counter breaks, and each step's duration and waiting time (from the
wizard's own progress events).

The scenario and the clean-up are shared with tests/sandbox/test_add_node.py, which asserts on
them.

Run alone: `.venv/bin/python -m tests.bench.run --only add_node --out bench-results`
(starts its own sandbox with one spare on 127.0.8.x and always stops it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.sandbox import httpd, tomcat
from console.sandbox.layout import NodeLayout, SandboxLayout
from console.sandbox.load import LoadGenerator
from tests.bench.drain_proof import (
    CLIENTS,
    RATE,
    REQUEST_TIMEOUT,
    LoadedWizardRun,
    _wait_warm,
    audit_pairs,
    run_wizard,
    warm_nodes,
)

BENCH_NET = "127.0.8"
WIZARD = "add-node"
NEW = "node4"
WIZARD_TIMEOUT = 600.0


def new_node_layout(layout: SandboxLayout, name: str = NEW) -> NodeLayout:
    """Where the wizard puts the new node on the sandbox's first spare (the reference's base
    pattern: the nodes' directory, the node's name)."""
    spare = layout.spare(1)
    base = layout.nodes[0].base.parent / name
    return NodeLayout(len(layout.nodes) + 1, name, spare.address, base, spare.ssh_dir)


def answers_file(layout: SandboxLayout, directory: Path, name: str = NEW, **extra: Any) -> Path:
    """An answers file naming the spare: only name and host, the rest proposed."""
    fields = {"name": name, "host": layout.spare(1).address, **extra}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    lines = [
        f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value}"
        for key, value in fields.items()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass(slots=True)
class AddNodeRun(LoadedWizardRun):
    def figures(self) -> dict[str, Any]:
        assert self.run is not None
        return {**self.load_figures(), "steps": [step.to_json() for step in self.run.steps]}


async def add_node_under_load(
    layout: SandboxLayout, answers: Path, *, audit_log: Path, name: str = NEW
) -> AddNodeRun:
    """Start the load, run the wizard, stop the load. Callers clean up with `undo()`."""
    routes = tuple(node.jvm_route for node in layout.nodes)
    result = AddNodeRun()
    await warm_nodes(layout)
    load = LoadGenerator(layout.app_url, CLIENTS, RATE, REQUEST_TIMEOUT, routes=routes)
    await load.start()
    try:
        result.warm = await _wait_warm(load)
        result.run = await run_wizard(
            WIZARD,
            name,
            inventory=layout.inventory,
            audit_log=audit_log,
            timeout=WIZARD_TIMEOUT,
            extra=("--answers", str(answers)),
        )
    finally:
        result.report = await load.stop()
    return result


def saved_files(layout: SandboxLayout) -> dict[Path, str]:
    """The files the wizard edits outside the new node (cluster.toml, the balancer's
    configuration), as they are now: `undo` puts them back."""
    paths = [layout.inventory, layout.httpd_conf, layout.haproxy_cfg]
    return {path: path.read_text() for path in paths if path.exists()}


def undo(layout: SandboxLayout, saved: dict[Path, str], name: str = NEW) -> list[str]:
    """Take the added node away again: stop it, delete its base, give the peers their server.xml
    back, restore cluster.toml and the balancer's configuration and restart httpd (a worker
    added at runtime lives until then)."""
    done: list[str] = []
    node = new_node_layout(layout, name)
    if tomcat.running_pid(node) is not None:
        tomcat.stop(node)
        done.append(f"stopped {name}")
    if node.base.exists():
        shutil.rmtree(node.base, ignore_errors=True)
        done.append(f"removed {node.base}")
    for peer in layout.nodes:
        backup = peer.base / "conf" / f"server.xml.before-{name}"
        if backup.exists():
            backup.replace(peer.base / "conf" / "server.xml")
            done.append(f"restored {peer.name}'s server.xml")
    for path, text in saved.items():
        if path.read_text() != text:
            path.write_text(text)
            done.append(f"restored {path.name}")
    if httpd.running_pid(layout) is not None:
        httpd.stop(layout)
        httpd.start(layout)
        done.append("restarted httpd")
    return done


def run(net: str = BENCH_NET) -> dict[str, Any]:
    """Bring up a 3-node sandbox with one spare on `net`, add node4 under load; always bring
    it down."""
    from console.sandbox import manager

    keys = ("CLUSTERCONSOLE_SANDBOX_DIR", "CLUSTERCONSOLE_SANDBOX_NET")
    saved = {key: os.environ.get(key) for key in keys}
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cc-bench-add-node-") as root:
        os.environ["CLUSTERCONSOLE_SANDBOX_DIR"] = root
        os.environ["CLUSTERCONSOLE_SANDBOX_NET"] = net
        try:
            layout = manager.up(3, report=lines.append, spare_count=1)
            audit = Path(root) / "audit.jsonl"
            answers = answers_file(layout, Path(root))
            began = time.monotonic()
            result = asyncio.run(add_node_under_load(layout, answers, audit_log=audit))
            total = time.monotonic() - began
            pairs, unpaired, failed = (
                audit_pairs(audit) if audit.exists() else ({}, ["no audit log"], [])
            )
        finally:
            manager.down(report=lines.append)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    figures = result.figures() if result.run is not None and result.report else {}
    return {
        "name": "add_node",
        "ok": result.ok(),
        "net": net,
        "clients": CLIENTS,
        "asked_rate": RATE,
        "total_s": round(total, 1),
        "audit_pairs": len(pairs),
        "audit_unpaired": len(unpaired),
        "audit_failed": len(failed),
        **figures,
    }


__all__ = [
    "AddNodeRun",
    "add_node_under_load",
    "answers_file",
    "new_node_layout",
    "run",
    "saved_files",
    "undo",
]
