"""What the doctor does not read and add-node must know about the new host before it builds a
node there: the same Java and Tomcat as the reference node, Tomcat's ports free on it, and no
CATALINA_BASE with files in it already (the wizard would overwrite someone's work).

The reference node's running JVM says which Java and which CATALINA_HOME it uses; the new host
is asked for `java -version` and that home's `version.sh`, its listening sockets and the base.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from console.cluster.topology import resolve
from console.config.model import Inventory, Node
from console.doctor.model import Finding
from console.monitor.node_watch import ssh_target
from probes.ssh.connection import NodeSession, SshCommandError

_JAVA_VERSION = re.compile(r'version "([^"]+)"')
_WILDCARDS = {"0.0.0.0", "*", "[::]", "::"}


@dataclass(slots=True)
class HostFacts:
    java: str | None = None
    tomcat: str | None = None
    home: str | None = None
    ports: set[int] = field(default_factory=set)
    listening: list[tuple[str, int]] = field(default_factory=list)
    base_entries: list[str] | None = None
    """What the proposed CATALINA_BASE holds (None: it does not exist)."""


def reference_command(base: str) -> str:
    """The reference node's Java and Tomcat versions, from its running JVM, and its ports."""
    pattern = shlex.quote("[-]Dcatalina.base=" + re.escape(base) + "( |$)")
    server = shlex.quote(f"{base}/conf/server.xml")
    return (
        f"pid=$(pgrep -f -- {pattern} | head -n1); "
        'if [ -n "$pid" ]; then '
        "home=$(tr '\\0' '\\n' < /proc/$pid/cmdline | sed -n 's/^-Dcatalina.home=//p' | head -n1); "
        'echo "home=$home"; '
        'echo "java=$($(readlink -f /proc/$pid/exe) -version 2>&1 | head -n1)"; '
        'echo "tomcat=$(sh "$home/bin/version.sh" 2>/dev/null | sed -n "s/^Server number: *//p")"; '
        "fi; "
        f"grep -o 'port=\"[0-9]*\"' {server} 2>/dev/null | sed 's/[^0-9]//g; s/^/port=/'"
    )


def new_host_command(home: str | None, base: str) -> str:
    """The new host's Java (on PATH), the reference's Tomcat home's version, listeners, base."""
    quoted = shlex.quote(base)
    lines = ['echo "java=$(java -version 2>&1 | head -n1)"']
    if home:
        script = shlex.quote(f"{home}/bin/version.sh")
        lines.append(f'echo "tomcat=$(sh {script} 2>/dev/null | sed -n "s/^Server number: *//p")"')
    lines.append("ss -Hltn 2>/dev/null | awk '{print \"listen=\" $4}'")
    lines.append(
        f"if [ -e {quoted} ]; then echo base=; ls -A {quoted} | head -n 20 | sed 's/^/entry=/'; fi"
    )
    return "; ".join(lines)


def parse(out: bytes) -> HostFacts:
    facts = HostFacts()
    for raw in out.decode("utf-8", "replace").splitlines():
        key, _, value = raw.partition("=")
        value = value.strip()
        if key == "java" and (found := _JAVA_VERSION.search(value)):
            facts.java = found[1]
        elif key == "tomcat" and value:
            facts.tomcat = value
        elif key == "home" and value:
            facts.home = value
        elif key == "port" and value.isdigit():
            facts.ports.add(int(value))
        elif key == "listen" and ":" in value:
            address, _, port = value.rpartition(":")
            if port.isdigit():
                facts.listening.append((address.strip("[]") or "*", int(port)))
        elif key == "base":
            facts.base_entries = []
        elif key == "entry" and facts.base_entries is not None:
            facts.base_entries.append(value)
    return facts


def compare(
    node: Node, reference: Node, ref: HostFacts, new: HostFacts, own: set[str]
) -> list[Finding]:
    """Findings on the new host against the reference node's facts."""
    found = []

    def finding(check: str, text: str, why: str, fix: str) -> None:
        found.append(Finding(check, "critical", node.name, None, None, text, why, fix))

    if ref.java and new.java != ref.java:
        finding(
            "java-version",
            f"{node.name}: Java {new.java or 'is not installed (java not on PATH)'}"
            + ("" if new.java is None else f", {reference.name} runs Java {ref.java}"),
            "session replication serialises objects between JVMs: peers on other Java "
            "versions can fail to read each other's sessions",
            f"install Java {ref.java} on {node.host}",
        )
    if ref.tomcat and new.tomcat != ref.tomcat:
        finding(
            "tomcat-version",
            f"{node.name}: Tomcat {new.tomcat or f'is not installed at {ref.home}'}"
            + ("" if new.tomcat is None else f", {reference.name} runs Tomcat {ref.tomcat}"),
            "cluster messages and the session manager must be the same version on every node",
            f"install Tomcat {ref.tomcat} at {ref.home} on {node.host}",
        )
    wanted = set(ref.ports)
    if node.http and (port := urlsplit(node.http).port):
        wanted.add(port)
    for address, port in new.listening:
        if port in wanted and (address in _WILDCARDS or address.lower() in own):
            finding(
                "port-free",
                f"{node.name}: port {port} is already taken on {address}",
                f"the node's Tomcat needs port {port} (as {reference.name}'s does): it would "
                "not start",
                f"stop what listens on {address}:{port} on {node.host}, or answer other ports",
            )
    if new.base_entries:
        finding(
            "catalina-base-empty",
            f"{node.name}: {node.catalina_base} already holds files "
            f"({', '.join(new.base_entries[:5])})",
            "the wizard writes the node's CATALINA_BASE there and must not overwrite anything",
            "answer another catalina_base, or move that directory away",
        )
    return found


async def read_host(
    inventory: Inventory, node: Node, command: str, *, timeout: float
) -> HostFacts | None:
    """`command` run on `node` over its own SSH session, parsed; None when it cannot be read."""
    session = NodeSession(ssh_target(inventory, node))
    task = asyncio.create_task(session.run())
    try:
        result = await session.exec(command, timeout=timeout)
        return parse(result.stdout)
    except SshCommandError:
        return None
    finally:
        with contextlib.suppress(Exception):
            await session.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def host_findings(
    inventory: Inventory, node: Node, reference: Node, *, timeout: float = 20.0
) -> list[Finding]:
    """Ask the reference node, then the new host; an unreachable new host adds nothing here
    (the doctor's nodes-read says so), an unreachable reference leaves versions unchecked."""
    command = reference_command(reference.catalina_base)
    ref = await read_host(inventory, reference, command, timeout=timeout) or HostFacts()
    new_command = new_host_command(ref.home, node.catalina_base)
    new = await read_host(inventory, node, new_command, timeout=timeout)
    if new is None:
        return []
    own = {a.lower() for a in await asyncio.to_thread(resolve, node.host)} | {node.host.lower()}
    return compare(node, reference, ref, new, own)
