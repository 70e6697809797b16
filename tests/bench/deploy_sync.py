"""The deploy sync's benchmark (issue 14): a 50 MB web application of 500 files to 3 and to 10
targets, against the guides' serial loop measured in the same run.

Nodes are the sandbox's sshds only (no Tomcat: the files go to `benchapp/`, which no Tomcat
deploys), on 127.0.8.x: node1 is the source, node2.. the targets. Figures per round:

- `serial_loop`: the guides' cron job, `rsync --delete -a -e ssh SRC NODE:DST` for each node in
  turn, run on the source node (here: this machine, which is node1), each node's time kept;
- `slowest_single_s`: the slowest of those single-node syncs (the floor for one target);
- `wizard`: what the deploy wizard does (console.deploy.sync): the source pulled into the
  console's staging copy, then every target pushed in parallel (8 at a time); the pull and the
  pushes timed apart;
- `direct_parallel`: the other transport considered, rsync run on the source node toward every
  target in parallel (no staging): what staging costs on top.

`serial_local_cpu_s` and the wizard's `local_cpu_s` are the CPU seconds of this machine's side
of every hop (rsync sender and ssh client; the receiving sshd and rsync, also on this machine
in the sandbox, are not counted): with both ends of every hop on the same two cores, N parallel
hops cannot take less wall time than their CPU seconds over the cores.

Rounds: `cold` (empty targets and staging copy) and `update` (50 of the 500 files changed: a
new version of the application, the usual deploy). Target: the wizard's total within 1.5x the
slowest single node.

Run alone: `.venv/bin/python -m tests.bench.run --only deploy_sync --out bench-results`.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_NET = "127.0.8"
FILES = 500
SIZE = 50 * 1024 * 1024
CHANGED = 50
TARGET_RATIO = 1.5


def _make_app(root: Path, version: int, only: int | None = None) -> None:
    """FILES files of SIZE/FILES random bytes in 10 directories (`only`: rewrite that many)."""
    each = SIZE // FILES
    for index in range(FILES if only is None else only):
        path = root / f"d{index % 10}" / f"f{index:03d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(each))
    (root / "version.txt").write_text(f"{version}\n")


def _inventory_text(layout: Any, nodes: int) -> str:
    from console.sandbox.layout import SSH_PORT

    lines = [
        '[cluster]\nname = "bench"\n',
        f'[ssh]\nport = {SSH_PORT}\nidentity_file = "{layout.client_key}"\n'
        f'known_hosts = "{layout.known_hosts}"\n',
    ]
    for node in layout.nodes[:nodes]:
        lines.append(
            f'[[nodes]]\nname = "{node.name}"\nhost = "{node.address}"\n'
            f'catalina_base = "{node.base}"\n'
        )
    lines.append('[deploy]\nsource = "node1:benchapp/"\ntarget = "benchapp/"\n')
    return "\n".join(lines)


def _serial_loop(inventory: Any, source: Path, targets: list[str]) -> dict[str, float]:
    """The guides' loop, one node after the other; each node's seconds."""
    from console.deploy.sync import endpoint

    times: dict[str, float] = {}
    for name in targets:
        node = inventory.node(name)
        at = endpoint(inventory, node)
        command = [
            "rsync",
            "--delete",
            "-a",
            "-e",
            at.rsh(),
            f"{source}/",
            at.remote(node.resolve("benchapp") + "/"),
        ]
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times[name] = time.perf_counter() - began
    return times


async def _direct_parallel(inventory: Any, source: Path, targets: list[str]) -> float:
    from console.deploy.sync import endpoint
    from probes import rsync

    async def one(name: str) -> None:
        node = inventory.node(name)
        spec = rsync.SyncSpec(
            str(source), node.resolve("benchapp"), target_at=endpoint(inventory, node)
        )
        await rsync.run_checked(spec.command(dry_run=False), name)

    began = time.perf_counter()
    await asyncio.gather(*(one(name) for name in targets))
    return time.perf_counter() - began


async def _wizard(inventory: Any, targets: list[str]) -> dict[str, Any]:
    from console.deploy import sync

    plan = sync.plan_for(inventory, targets)
    began = time.perf_counter()
    source = await sync.prepare_source(inventory, plan)
    pulled = time.perf_counter()
    results = await sync.sync_all(inventory, plan, source, targets)
    pushed = time.perf_counter()
    errors = [r.error for r in results if r.error]
    left = await asyncio.gather(*(sync.checksum_left(inventory, plan, source, t) for t in targets))
    return {
        "total_s": round(pushed - began, 3),
        "stage_pull_s": round(pulled - began, 3),
        "parallel_push_s": round(pushed - pulled, 3),
        "errors": errors,
        "in_step": all(summary.nothing for summary in left),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _clear(inventory: Any, targets: list[str]) -> None:
    for name in targets:
        shutil.rmtree(inventory.node(name).resolve("benchapp"), ignore_errors=True)


def _round(inventory: Any, source: Path, targets: list[str], kind: str) -> dict[str, Any]:
    from console.deploy import sync

    plan = sync.plan_for(inventory, targets)
    stage = sync.stage_dir(inventory, plan)
    previous = {name: inventory.node(name).resolve("benchapp") for name in targets}
    if kind == "cold":
        _clear(inventory, targets)
    snapshot = {n: Path(p + ".before") for n, p in previous.items()}
    if kind == "update":  # every target holds the previous version: keep it for each pass
        for name, path in previous.items():
            shutil.rmtree(snapshot[name], ignore_errors=True)
            shutil.copytree(path, snapshot[name])

    def reset() -> None:
        for name, path in previous.items():
            shutil.rmtree(path, ignore_errors=True)
            if kind == "update":
                shutil.copytree(snapshot[name], path)

    cpu = _children_cpu()
    serial = _serial_loop(inventory, source, targets)
    serial_cpu = _children_cpu() - cpu
    reset()
    direct = asyncio.run(_direct_parallel(inventory, source, targets))
    reset()
    if kind == "cold":
        shutil.rmtree(stage, ignore_errors=True)
    cpu = _children_cpu()
    wizard = asyncio.run(_wizard(inventory, targets))
    wizard["local_cpu_s"] = round(_children_cpu() - cpu, 3)
    slowest = max(serial.values())
    for path in snapshot.values():
        shutil.rmtree(path, ignore_errors=True)
    return {
        "round": kind,
        "targets": len(targets),
        "serial_loop_s": round(sum(serial.values()), 3),
        "serial_per_node_s": {k: round(v, 3) for k, v in serial.items()},
        "slowest_single_s": round(slowest, 3),
        "serial_local_cpu_s": round(serial_cpu, 3),
        "load_average": round(os.getloadavg()[0], 1),
        "direct_parallel_s": round(direct, 3),
        "wizard": wizard,
        "wizard_vs_slowest_single": round(wizard["total_s"] / slowest, 2),
        "wizard_vs_serial_loop": round(wizard["total_s"] / sum(serial.values()), 2),
        "met": wizard["total_s"] <= TARGET_RATIO * slowest and wizard["in_step"],
    }


def run(net: str = BENCH_NET, targets: tuple[int, ...] = (3, 10)) -> dict[str, Any]:
    """Start sshds for node1..node11 on `net`, run the rounds, always stop them."""
    from console.config import load_inventory
    from console.sandbox import sshd
    from console.sandbox.layout import SandboxLayout

    rounds: list[dict[str, Any]] = []
    nodes = max(targets) + 1
    saved = os.environ.get("XDG_STATE_HOME")
    with tempfile.TemporaryDirectory(prefix="cc-bench-deploy-") as root:
        os.environ["XDG_STATE_HOME"] = str(Path(root) / "state")
        layout = SandboxLayout(Path(root) / "sandbox", count=nodes, net=net)
        try:
            for node in layout.nodes:
                node.base.mkdir(parents=True, exist_ok=True)
                node.ssh_dir.mkdir(parents=True, exist_ok=True)
            layout.client_key.parent.mkdir(parents=True, exist_ok=True)
            layout.authorized_keys.parent.mkdir(parents=True, exist_ok=True)
            sshd.prepare(layout)
            for node in layout.nodes:
                sshd.start(node)
            path = Path(root) / "cluster.toml"
            path.write_text(_inventory_text(layout, nodes))
            inventory = load_inventory(path)
            source = Path(inventory.node("node1").resolve("benchapp"))
            _make_app(source, 1)
            for count in targets:
                names = [f"node{index}" for index in range(2, count + 2)]
                rounds.append(_round(inventory, source, names, "cold"))
                _make_app(source, 2, only=CHANGED)
                rounds.append(_round(inventory, source, names, "update"))
        finally:
            for node in layout.nodes:
                sshd.stop(node)
            if saved is None:
                os.environ.pop("XDG_STATE_HOME", None)
            else:
                os.environ["XDG_STATE_HOME"] = saved
    return {
        "name": "deploy_sync",
        "files": FILES,
        "bytes": SIZE,
        "changed_files_in_update": CHANGED,
        "rounds": rounds,
        "target": f"wizard <= {TARGET_RATIO}x the slowest single-node sync",
        "met": all(r["met"] for r in rounds),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
