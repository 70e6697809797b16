"""The redeploy after a deploy sync, seen in the node's log and over its own HTTP: which
applications Tomcat must redeploy for the changes, its deploy/reload lines after the sync, the
SEVERE/ERROR lines naming them, and each changed context answering on the node's own URL.
"""

from __future__ import annotations

import asyncio
import posixpath
import re
import shlex
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from console.config.model import Inventory, Node
from console.deploy.sync import DeployError, endpoint
from probes import rsync
from probes.rsync import Summary

REDEPLOY_WAIT = 40.0
"""Seconds to wait for Tomcat to log the redeploy of a changed application (its background
check runs every 10 s by default)."""

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
    "REDEPLOY_WAIT",
    "app_of",
    "context_path",
    "log_size",
    "needs_redeploy",
    "redeploy_errors",
    "redeployed_apps",
    "verify_redeploy",
]
