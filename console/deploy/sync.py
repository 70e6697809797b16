"""The deploy sync: what `[deploy]` asks, staged, previewed, synced in parallel and verified.

How a node-to-node sync travels: the source node's directory is pulled into a staging copy on
the console's machine (one rsync, incremental: the copy is kept between runs), then pushed from
there to every target in parallel. Every hop is rsync over SSH from this machine with the
inventory's identity, port, user and known_hosts, host keys verified. Running rsync on the
source node toward the targets would need the source node to log in to every target (a key
there, or the operator's agent forwarded to it, usable by anyone root on that node) and to hold
verified host keys for the targets; staging needs neither, and costs one local copy of the
source and one extra hop (tests/bench/deploy_sync.py, 50 MB in 500 files, loopback sandbox, two
loaded cores): the staging pull took 1.5-1.9 s cold and 0.7-1.0 s for a 50-file update, against
0.8-2.8 s for one direct node-to-node sync; the parallel pushes cost about what rsync run on the
source toward every target in parallel costs.

The staging pull compares checksums (a file edited in the second of the previous pull, with the
same size, is not missed); the pushes use rsync's quick check (size and time) and the
verification compares checksums afterwards.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import posixpath
import re
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from console.config_model import Inventory, Node
from console.paths import user_state_dir
from probes import rsync
from probes.rsync import Endpoint, FileChange, RsyncError, Summary, SyncSpec

PARALLEL = 8
"""Targets synced at the same time."""
REDEPLOY_WAIT = 40.0
"""Seconds to wait for Tomcat to log the redeploy of a changed application (its background
check runs every 10 s by default)."""


class DeployError(Exception):
    """The sync cannot go on; str() says why in one sentence."""


@dataclass(frozen=True, slots=True)
class DeployPlan:
    """What a sync copies, from where, to which nodes."""

    source_node: str | None
    source_path: str
    """Absolute: on the source node, or on this machine."""
    targets: tuple[tuple[str, str], ...]
    """(node, absolute target path) in the order given."""
    exclude: tuple[str, ...]
    lock_node: str
    """The node the cluster's deploy lock lives on."""

    @property
    def source_label(self) -> str:
        return f"{self.source_node}:{self.source_path}" if self.source_node else self.source_path


def endpoint(inventory: Inventory, node: Node) -> Endpoint:
    ssh = inventory.ssh
    return Endpoint(
        host=node.host,
        user=node.ssh_user,
        port=node.ssh_port,
        identity_file=ssh.identity_file,
        known_hosts=ssh.known_hosts,
        accept_new=ssh.accept_new,
        connect_timeout=ssh.connect_timeout,
    )


def plan_for(inventory: Inventory, nodes: Sequence[str] = ()) -> DeployPlan:
    """The plan for `nodes` (default every node but the source); DeployError without
    ``[deploy]``."""
    deploy = inventory.deploy
    if deploy is None:
        raise DeployError(
            "cluster.toml has no [deploy] table: say what to sync with "
            '[deploy] source = "node1:webapps/"'
        )
    source_node = deploy.source_node
    if source_node is not None:
        source_path = inventory.node(source_node).resolve(deploy.source_path)
    else:
        source_path = deploy.source_path
    chosen = list(nodes) or [node.name for node in inventory.nodes]
    targets = tuple(
        (name, deploy.target_on(inventory.node(name))) for name in chosen if name != source_node
    )
    lock_node = source_node or inventory.nodes[0].name
    return DeployPlan(source_node, source_path, targets, deploy.exclude, lock_node)


def stage_dir(inventory: Inventory, plan: DeployPlan) -> Path:
    """The staging copy of a remote source on this machine (kept between runs)."""
    key = hashlib.sha256(f"{inventory.path}\0{plan.source_label}".encode()).hexdigest()[:16]
    return user_state_dir() / "deploy" / key


@dataclass
class Source:
    """Where the pushes read from: the staging copy, or the local source itself."""

    path: Path
    staged: Summary | None = None
    """What the pull changed in the staging copy (None: a local source)."""
    files: int = 0
    """Regular files it holds after the excludes."""


def _count_files(root: Path, exclude: Sequence[str]) -> int:
    del exclude  # the staging pull already left excluded paths out; a local source: see check
    count = 0
    for _, _, files in os.walk(root):
        count += len(files)
    return count


async def prepare_source(inventory: Inventory, plan: DeployPlan) -> Source:
    """The source, readable and holding files: a local directory checked, a node's pulled
    into the staging copy. DeployError says why not."""
    if plan.source_node is None:
        path = Path(plan.source_path)
        if not path.is_dir():
            raise DeployError(f"the source {plan.source_path} does not exist or is not a directory")
        if not os.access(path, os.R_OK | os.X_OK):
            raise DeployError(f"the source {plan.source_path} cannot be read")
        return Source(path, None, _count_files(path, plan.exclude))
    stage = stage_dir(inventory, plan)
    stage.mkdir(parents=True, exist_ok=True, mode=0o700)
    node = inventory.node(plan.source_node)
    spec = SyncSpec(
        plan.source_path, str(stage), source_at=endpoint(inventory, node), exclude=plan.exclude
    )
    try:
        changes = await rsync.run_checked(
            # checksums: a file edited in the second of the last pull, same size, is not missed
            spec.command(dry_run=False, checksum=True),
            f"source {plan.source_label}",
        )
    except RsyncError as error:
        raise DeployError(str(error)) from None
    return Source(stage, rsync.summarize(changes), _count_files(stage, plan.exclude))


def push_spec(inventory: Inventory, plan: DeployPlan, source: Source, node: str) -> SyncSpec:
    target = dict(plan.targets)[node]
    return SyncSpec(
        str(source.path),
        target,
        target_at=endpoint(inventory, inventory.node(node)),
        exclude=plan.exclude,
    )


@dataclass
class NodeResult:
    """One target's part of a sync."""

    node: str
    summary: Summary | None = None
    error: str | None = None
    done: int = 0
    """Paths handled so far (the progress figure)."""
    changes: list[FileChange] = field(default_factory=list)


async def preview(inventory: Inventory, plan: DeployPlan, source: Source, node: str) -> Summary:
    """What a sync would do to `node` (dry run, unchanged paths counted); RsyncError."""
    spec = push_spec(inventory, plan, source, node)
    changes = await rsync.run_checked(spec.command(dry_run=True, unchanged=True), node)
    return rsync.summarize(changes)


def would_empty(summary: Summary) -> bool:
    """The sync would delete everything the target holds and keep nothing of it."""
    return bool(summary.deleted) and summary.unchanged == 0 and not summary.changed


async def preview_all(
    inventory: Inventory, plan: DeployPlan, source: Source
) -> dict[str, Summary | str]:
    """Every target's preview (or the reason it cannot be had), in parallel."""
    limit = asyncio.Semaphore(PARALLEL)

    async def one(node: str) -> Summary | str:
        async with limit:
            try:
                return await preview(inventory, plan, source, node)
            except RsyncError as error:
                return str(error)

    names = [name for name, _ in plan.targets]
    found = await asyncio.gather(*(one(name) for name in names))
    return dict(zip(names, found, strict=True))


async def sync_all(
    inventory: Inventory,
    plan: DeployPlan,
    source: Source,
    nodes: Sequence[str],
    on_progress: Callable[[NodeResult], None] | None = None,
    parallel: int = PARALLEL,
) -> list[NodeResult]:
    """Every node synced, `parallel` at a time; a failure on one never stops the others."""
    limit = asyncio.Semaphore(parallel)

    async def one(node: str) -> NodeResult:
        result = NodeResult(node)

        def seen(change: FileChange) -> None:
            result.done += 1
            result.changes.append(change)
            if on_progress is not None:
                on_progress(result)

        async with limit:
            spec = push_spec(inventory, plan, source, node)
            try:
                await rsync.run_checked(spec.command(dry_run=False), node, seen)
            except RsyncError as error:
                result.error = str(error)
            result.summary = rsync.summarize(result.changes)
        return result

    return list(await asyncio.gather(*(one(node) for node in nodes)))


async def checksum_left(
    inventory: Inventory, plan: DeployPlan, source: Source, node: str
) -> Summary:
    """What a checksum dry run would still change on `node`; RsyncError."""
    spec = push_spec(inventory, plan, source, node)
    changes = await rsync.run_checked(spec.command(dry_run=True, checksum=True), node)
    return rsync.summarize(changes)


# --- the redeploy, seen in the node's log and over its own HTTP --------------------------------

_DEPLOYED = re.compile(
    r"Deployment of web application (?:directory|archive) \[(?P<path>[^\]]+)\] has finished"
    r"|Reloading Context with name \[(?P<ctx>[^\]]*)\] is completed"
)
_SEVERE = re.compile(r"\bSEVERE\b|\bERROR\b")


def app_of(path: str) -> str | None:
    """The web application a changed path belongs to (its first component; a .war's stem)."""
    head = path.strip("/").split("/", 1)[0]
    if not head or head == ".":
        return None
    return head[:-4] if head.endswith(".war") else head


def needs_redeploy(summary: Summary) -> list[str]:
    """Applications Tomcat redeploys or reloads for these changes: new ones, and those whose
    WEB-INF (web.xml, classes, lib) or META-INF/context.xml changed. A JSP or static file is
    picked up without a redeploy."""
    apps: dict[str, None] = {}
    for path in summary.added:
        parts = path.strip("/").split("/")
        if len(parts) == 1:
            name = app_of(path)
            if name:
                apps.setdefault(name, None)
    for path in (*summary.added, *summary.changed, *summary.deleted):
        parts = path.strip("/").split("/")
        if len(parts) > 2 and parts[1] in ("WEB-INF", "META-INF") and parts[2] != "":
            apps.setdefault(parts[0], None)
        if len(parts) == 1 and path.endswith(".war"):
            apps.setdefault(app_of(path) or parts[0], None)
    return list(apps)


def context_path(app: str) -> str:
    return "/" if app == "ROOT" else "/" + app.replace("#", "/") + "/"


def redeployed_apps(text: str) -> set[str]:
    """Applications the log text says were deployed or reloaded."""
    found: set[str] = set()
    for match in _DEPLOYED.finditer(text):
        if match["path"]:
            found.add(app_of(posixpath.basename(match["path"].rstrip("/"))) or "")
        elif match["ctx"] is not None:
            found.add(match["ctx"].strip("/").replace("/", "#") or "ROOT")
    return found


def redeploy_errors(text: str, app: str) -> list[str]:
    """SEVERE/ERROR lines that name the application's context."""
    needle = context_path(app).rstrip("/") or "/"
    return [
        line.strip()[:300]
        for line in text.splitlines()
        if _SEVERE.search(line) and (f"[{needle}]" in line or f"/{app}]" in line)
    ]


def node_log(node: Node) -> str | None:
    for log in node.logs:
        if log.kind == "file":
            return log.path
    return None


async def remote_output(inventory: Inventory, node: Node, command: str) -> str:
    """stdout of a short command on the node (the same SSH as rsync); DeployError."""
    ssh = endpoint(inventory, node).ssh_command()
    process = await asyncio.create_subprocess_exec(
        *ssh,
        "--",
        node.host,
        command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=rsync.die_with_parent,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        last = err.decode("utf-8", "replace").strip().splitlines()
        raise DeployError(f"{node.name}: {last[-1] if last else 'command failed'}")
    return out.decode("utf-8", "replace")


async def log_size(inventory: Inventory, node: Node) -> int | None:
    path = node_log(node)
    if path is None:
        return None
    try:
        text = await remote_output(inventory, node, f"wc -c < {shlex.quote(path)}")
    except DeployError:
        return None
    return int(text.strip()) if text.strip().isdigit() else None


async def log_since(inventory: Inventory, node: Node, offset: int) -> str:
    path = node_log(node)
    if path is None:
        return ""
    command = f"tail -c +{offset + 1} {shlex.quote(path)} | head -c 4000000"
    try:
        return await remote_output(inventory, node, command)
    except DeployError:
        return ""


async def context_answers(node: Node, app: str, client: httpx.AsyncClient) -> str | None:
    """None when the application's context answers on the node's own HTTP, else why not."""
    if node.http is None:
        return None
    parts = urlsplit(node.http)
    url = f"{parts.scheme}://{parts.netloc}{context_path(app)}"
    try:
        response = await client.get(url)
    except httpx.HTTPError as error:
        return f"{url} does not answer ({type(error).__name__})"
    if response.status_code == 404 or response.status_code >= 500:
        return f"{url} answers HTTP {response.status_code}"
    return None


async def verify_redeploy(
    inventory: Inventory,
    node: Node,
    apps: Sequence[str],
    offset: int | None,
    answering: Sequence[str],
    wait: float = REDEPLOY_WAIT,
) -> list[str]:
    """Problems with the redeploy of `apps` (their deploy/reload lines, their errors) and with
    the contexts `answering` (each must answer over the node's own HTTP); empty when fine."""
    problems: list[str] = []
    text = ""
    if apps and offset is not None:
        deadline = time.monotonic() + wait
        while True:
            text = await log_since(inventory, node, offset)
            missing = [app for app in apps if app not in redeployed_apps(text)]
            if not missing or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
        problems += [
            f"{node.name}: Tomcat logged no redeploy of {app} within {wait:g} s" for app in missing
        ]
        for app in apps:
            problems += [f"{node.name}: {app}: {line}" for line in redeploy_errors(text, app)]
    async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as client:
        for app in answering:
            why = await context_answers(node, app, client)
            if why is not None:
                problems.append(f"{node.name}: {why}")
    return problems


__all__ = [
    "PARALLEL",
    "DeployError",
    "DeployPlan",
    "NodeResult",
    "Source",
    "checksum_left",
    "endpoint",
    "needs_redeploy",
    "plan_for",
    "prepare_source",
    "preview",
    "preview_all",
    "stage_dir",
    "sync_all",
    "verify_redeploy",
    "would_empty",
]
