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
- `wizard_single_s`: the same wizard syncing the slowest node of the serial loop alone (the
  staging copy in the same state as before the round): the time of the slowest single node with
  the same tool, so `wizard_vs_wizard_single` is what syncing N nodes costs over syncing one;
- `direct_parallel`: the other transport considered, rsync run on the source node toward every
  target in parallel (no staging): what staging costs on top.

`serial_local_cpu_s` and the wizard's `local_cpu_s` are the CPU seconds of this machine's side
of every hop (rsync sender and ssh client; the receiving sshd and rsync, also on this machine
in the sandbox, are not counted): with both ends of every hop on the same two cores, N parallel
hops cannot take less wall time than their CPU seconds over the cores.

Rounds: `cold` (empty targets and staging copy) and `update` (50 of the 500 files changed: a
new version of the application, the usual deploy). Target: the wizard's total within 1.5x the
slowest single node synced by the wizard alone (`met`); the ratio to the guides' single-node
rsync (no staging hop) is reported beside it (`wizard_vs_slowest_single`).

`machine_cpu_s` is the whole machine's busy CPU during the wizard's run (both ends of every hop,
and whatever else runs), `cpu_floor_s` that over the cores: N hops cannot finish sooner here.

Where the nodes' directories live: on tmpfs (/dev/shm) by default. Every "node" here shares this
machine's one ext4 file system, and a round deletes and recreates 500 files per target in
seconds: perf showed a third of each rsync's time in ext4's inode allocator skipping recently
deleted inodes (`recently_deleted`, `find_inode_bit`), contention that nodes with their own disks
do not have. `run(disk=True)` (or `CLUSTERCONSOLE_BENCH_DISK=1`) keeps them on the disk.

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


def _tree_copy(source: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    if source.exists():
        shutil.copytree(source, target)


async def _wizard(inventory: Any, targets: list[str]) -> dict[str, Any]:
    from console.deploy import sync

    plan = sync.plan_for(inventory, targets)
    busy = _machine_cpu()
    began = time.perf_counter()
    source = await sync.prepare_source(inventory, plan)
    pulled = time.perf_counter()
    results = await sync.sync_all(inventory, plan, source, targets)
    pushed = time.perf_counter()
    busy = _machine_cpu() - busy
    errors = [r.error for r in results if r.error]
    left = await asyncio.gather(*(sync.checksum_left(inventory, plan, source, t) for t in targets))
    return {
        "total_s": round(pushed - began, 3),
        "stage_pull_s": round(pulled - began, 3),
        "parallel_push_s": round(pushed - pulled, 3),
        "machine_cpu_s": round(busy, 2),
        "cpu_floor_s": round(busy / (os.cpu_count() or 1), 3),
        "errors": errors,
        "in_step": all(summary.nothing for summary in left),
    }


def _machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy since boot (every process: both ends of
    every hop run here), from /proc/stat; 0.0 where there is none."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


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
    previous = {name: Path(inventory.node(name).resolve("benchapp")) for name in targets}
    if kind == "cold":
        _clear(inventory, targets)
        shutil.rmtree(stage, ignore_errors=True)
    # Each pass starts from the same state: the targets' and the staging copy's trees as they
    # are now (the previous version for an update, nothing for a cold round).
    kept = {path: Path(str(path) + ".before") for path in [*previous.values(), stage]}
    for path, copy in kept.items():
        _tree_copy(path, copy)

    def reset() -> None:
        for path, copy in kept.items():
            _tree_copy(copy, path)

    cpu = _children_cpu()
    serial = _serial_loop(inventory, source, targets)
    serial_cpu = _children_cpu() - cpu
    slowest_node = max(serial, key=lambda name: serial[name])
    slowest = serial[slowest_node]
    reset()
    direct = asyncio.run(_direct_parallel(inventory, source, targets))
    reset()
    single = asyncio.run(_wizard(inventory, [slowest_node]))
    reset()
    cpu = _children_cpu()
    wizard = asyncio.run(_wizard(inventory, targets))
    wizard["local_cpu_s"] = round(_children_cpu() - cpu, 3)
    for copy in kept.values():
        shutil.rmtree(copy, ignore_errors=True)
    return {
        "round": kind,
        "targets": len(targets),
        "serial_loop_s": round(sum(serial.values()), 3),
        "serial_per_node_s": {k: round(v, 3) for k, v in serial.items()},
        "slowest_single_s": round(slowest, 3),
        "serial_local_cpu_s": round(serial_cpu, 3),
        "load_average": round(os.getloadavg()[0], 1),
        "direct_parallel_s": round(direct, 3),
        "wizard_single_s": single["total_s"],
        "wizard_single": single,
        "wizard_single_node": slowest_node,
        "wizard": wizard,
        "wizard_vs_wizard_single": round(wizard["total_s"] / single["total_s"], 2),
        "wizard_vs_slowest_single": round(wizard["total_s"] / slowest, 2),
        "wizard_vs_serial_loop": round(wizard["total_s"] / sum(serial.values()), 2),
        "met": wizard["total_s"] <= TARGET_RATIO * single["total_s"] and wizard["in_step"],
    }


def _bench_root(disk: bool) -> str | None:
    """Where the nodes' directories go: tmpfs unless `disk` (None: the default temp dir)."""
    if disk or os.environ.get("CLUSTERCONSOLE_BENCH_DISK") == "1":
        return None
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def run(
    net: str = BENCH_NET, targets: tuple[int, ...] = (3, 10), disk: bool = False
) -> dict[str, Any]:
    """Start sshds for node1..node11 on `net`, run the rounds, always stop them."""
    from console.config import load_inventory
    from console.sandbox import sshd
    from console.sandbox.layout import SandboxLayout

    rounds: list[dict[str, Any]] = []
    nodes = max(targets) + 1
    saved = os.environ.get("XDG_STATE_HOME")
    where = _bench_root(disk)
    with tempfile.TemporaryDirectory(prefix="cc-bench-deploy-", dir=where) as root:
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
        "nodes_on": "tmpfs" if where else "disk",
        "target": f"wizard <= {TARGET_RATIO}x the slowest single-node sync (the wizard's own)",
        "met": all(r["met"] for r in rounds),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
