"""The add-node wizard's first step, without the wizard: a node proposed from the answers (name
and host; the rest from a reference node), and the doctor's preflight against its host, with each
finding sorted into what refuses the addition and what the wizard's later steps will build.

A host that is to become a node has no CATALINA_BASE yet: its missing server.xml, web app,
balancer member and membership entries are the wizard's work, not reasons to refuse. Its SSH,
its host name (not 127.0.1.1), its clock, the shared directory and a name or route another node
already has are reasons to refuse.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from console.config.model import Inventory, LogSource, Node
from console.doctor.model import DoctorReport, Finding
from console.doctor.new_host import host_findings
from console.doctor.preflight import preflight

BUILT_BY_THE_WIZARD = frozenset(
    {
        "config-files",
        "jvm-route",
        "balancer-route",
        "cluster-element",
        "distributable",
        "membership",
        "datasource",
        "joget-javaagent",
        "license",
        "unload-delay",
        "wso2-task-server",
        "hazelcast-wka",
        "artifact-drift",
    }
)
"""Checks whose findings on the new node describe what the wizard builds (its CATALINA_BASE,
server.xml with route and membership, web apps, balancer member, license): expected before it
runs (a peer's static member list not naming the new host included: step 3 adds it). The
preflight keeps only findings that concern the new node, so the others' own problems are not
reported here (the doctor reports them)."""


@dataclass(frozen=True, slots=True)
class NodePreflight:
    """The preflight's answer: the node as proposed, the doctor's report restricted to it, the
    findings that refuse the addition, and those the wizard's later steps will make right."""

    node: Node
    report: DoctorReport | None
    """None when the answers alone refused (a duplicate name: the doctor was not run)."""
    refusals: tuple[Finding, ...]
    to_build: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.refusals


def _swap_host(url: str | None, old: str, new: str) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.hostname != old:
        return url
    netloc = new if parts.port is None else f"{new}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _swap_name(text: str, reference: Node, name: str) -> str:
    """`text` (a path or command) with the reference's name replaced by `name` where it is a
    path segment: /srv/nodes/node1/logs -> /srv/nodes/node4/logs."""
    parts = text.split("/")
    return "/".join(name if part == reference.name else part for part in parts)


def propose_node(
    inventory: Inventory,
    name: str,
    host: str,
    *,
    reference: str | None = None,
    jvm_route: str | None = None,
    catalina_base: str | None = None,
    ssh_port: int | None = None,
    ssh_user: str | None = None,
) -> Node:
    """The new node from the answers: what is not answered follows the reference node (the
    first node when none is named): jvm_route = the name, catalina_base, logs, start/stop and
    the http URL following the reference's pattern (its name and host swapped for the new)."""
    nodes = {n.name: n for n in inventory.nodes}
    if not inventory.nodes:
        raise ValueError("the inventory has no node to copy the configuration from")
    if reference is not None and reference not in nodes:
        raise ValueError(f"reference node {reference!r} is not in the inventory")
    ref = nodes[reference] if reference is not None else inventory.nodes[0]
    base = catalina_base or _swap_name(ref.catalina_base, ref, name)

    def moved(text: str) -> str:
        if text.startswith(ref.catalina_base):
            text = base + text[len(ref.catalina_base) :]
        return _swap_name(text, ref, name)

    return replace(
        ref,
        name=name,
        host=host,
        ssh_user=ssh_user if ssh_user is not None else ref.ssh_user,
        ssh_port=ssh_port if ssh_port is not None else ref.ssh_port,
        catalina_base=base,
        logs=tuple(
            source if source.kind != "file" else LogSource("file", moved(source.path))
            for source in ref.logs
        ),
        start=moved(ref.start),
        stop=moved(ref.stop),
        http=_swap_host(ref.http, ref.host, host),
        jvm_route=jvm_route or name,
        manager_url=_swap_host(ref.manager_url, ref.host, host),
    )


def _answer(check: str, node: Node, text: str, why: str, fix: str) -> Finding:
    return Finding(check, "critical", node.name, None, None, text, why, fix)


def answer_findings(inventory: Inventory, node: Node) -> list[Finding]:
    """What is wrong with the answers themselves, before any host is asked."""
    found = []
    route = node.jvm_route or node.name
    for other in inventory.nodes:
        if other.name == node.name:
            found.append(
                _answer(
                    "node-name",
                    node,
                    f"a node named {node.name} is already in the inventory",
                    "names must be unique: the console, the audit log and the balancer's "
                    "workers tell nodes apart by them",
                    "answer another name",
                )
            )
            continue  # its route and address are that node's: one reason is enough
        if (other.jvm_route or other.name) == route:
            found.append(
                _answer(
                    "jvm-route",
                    node,
                    f"the jvmRoute {route} is already {other.name}'s",
                    "two nodes with one route: the balancer sends both nodes' users to one of "
                    "them and sticky sessions break",
                    "answer a jvm_route of its own (default: the node's name)",
                )
            )
        if other.host == node.host and other.http is not None and other.http == node.http:
            found.append(
                _answer(
                    "node-host",
                    node,
                    f"{node.host} is already {other.name}'s host, with the same HTTP URL",
                    "two Tomcats cannot listen on one address and port",
                    "answer the new machine's host (or other ports)",
                )
            )
    return found


async def preflight_new_node(
    inventory: Inventory,
    node: Node,
    *,
    reference: str | None = None,
    timeout: float | None = None,
    memory: Path | None = None,
) -> NodePreflight:
    """Step 1 of add-node: the answers checked, then the doctor's checks with `node` added (only
    what concerns it kept), its findings sorted into refusals and what the wizard builds, and
    the new host against the reference node (first node by default): same Java and Tomcat,
    Tomcat's ports free, no files in the proposed CATALINA_BASE (console.doctor.new_host).

    Reads only: the doctor's shared-directory marker is the one thing written (and removed)."""
    answers = answer_findings(inventory, node)
    if any(f.check == "node-name" for f in answers):
        return NodePreflight(node, None, tuple(answers), ())
    ref = next((n for n in inventory.nodes if n.name == reference), inventory.nodes[0])
    report, on_host = await asyncio.gather(
        preflight(inventory, node, timeout=timeout, memory=memory),
        host_findings(inventory, node, ref, timeout=timeout or 20.0),
    )
    refusals = list(answers) + on_host
    to_build = []
    for finding in report.findings:
        if finding.check in BUILT_BY_THE_WIZARD:  # kept by restrict(): it names the new node
            to_build.append(finding)
        else:
            refusals.append(finding)
    return NodePreflight(node, report, tuple(refusals), tuple(to_build))
