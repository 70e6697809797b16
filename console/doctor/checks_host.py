"""Checks on the node's host: its name's address, its clock, the shared directory, and the
running JVM's arguments (Joget's cluster agent)."""

from __future__ import annotations

import ipaddress
import statistics
from collections import Counter

from console.doctor.checks_tomcat import _partial
from console.doctor.facts import ClusterFacts
from console.doctor.model import Finding, Verdict, check
from probes.doctor.parse import jvm_options

MAX_SKEW = 2.0
"""Seconds two nodes' clocks may differ before it is a finding."""


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


@check(
    "hostname-loopback",
    "the node's own host name does not resolve to a loopback address",
    "hostname, getent ahosts (or the node's hosts file)",
)
def hostname_loopback(facts: ClusterFacts) -> Verdict:
    findings = []
    for node in facts.reachable:
        if not node.hostname:
            continue
        hosts_file = node.hosts_file or "/etc/hosts"
        own = {a.lower() for a in node.addresses} | {node.host.lower()}
        if not node.resolves:
            findings.append(
                Finding(
                    "hostname-loopback",
                    "warning",
                    node.name,
                    hosts_file,
                    None,
                    f"{node.name}: its host name '{node.hostname}' does not resolve",
                    "cluster libraries (Tribes with address=auto, Hazelcast, JGroups) advertise "
                    "the address the host name resolves to",
                    f"add '{node.host} {node.hostname}' to {hosts_file} (or DNS)",
                )
            )
            continue
        wrong = [a for a in node.resolves if _loopback(a) and a.lower() not in own]
        if wrong:
            findings.append(
                Finding(
                    "hostname-loopback",
                    "critical",
                    node.name,
                    hosts_file,
                    None,
                    f"{node.name}: its host name '{node.hostname}' resolves to {', '.join(wrong)}",
                    "the node then advertises a loopback address to its peers, which cannot "
                    "reach it (Debian's default 127.0.1.1 line; the Joget guide's warning)",
                    f"in {hosts_file}, map '{node.hostname}' to the address its peers use "
                    f"({node.host}), not to {wrong[0]}",
                )
            )
    return _partial(findings, facts)


@check("clock-skew", f"the nodes' clocks agree within {MAX_SKEW:g} s", "date +%s.%N over SSH")
def clock_skew(facts: ClusterFacts) -> Verdict:
    timed = [node for node in facts.reachable if node.clock_offset is not None]
    if len(timed) < 2:
        return _partial([], facts)
    median = statistics.median(node.clock_offset or 0.0 for node in timed)
    spread = max(n.clock_offset or 0.0 for n in timed) - min(n.clock_offset or 0.0 for n in timed)
    slack = 2 * max(node.clock_error for node in timed)
    findings = []
    if spread - slack > MAX_SKEW:
        for node in timed:
            off = (node.clock_offset or 0.0) - median
            if abs(off) - node.clock_error > MAX_SKEW / 2:
                findings.append(
                    Finding(
                        "clock-skew",
                        "warning",
                        node.name,
                        None,
                        None,
                        f"{node.name}'s clock is {abs(off):.1f} s "
                        f"{'ahead of' if off > 0 else 'behind'} the other nodes'",
                        "session expiry, cluster heartbeats and log timelines go wrong when "
                        "clocks differ",
                        "run NTP (systemd-timesyncd or chrony) on every node",
                    )
                )
    return _partial(findings, facts)


@check(
    "shared-dir",
    "the shared directory is one writable filesystem on every node",
    "a file written on one node, read on the others",
)
def shared_dir(facts: ClusterFacts) -> Verdict:
    config = facts.inventory.shared_dir
    if config is None:
        return Verdict(skipped="no [shared_dir] in cluster.toml")
    findings = []
    for node in facts.reachable:
        health = node.shared
        if health is not None and not health.ok:
            findings.append(
                Finding(
                    "shared-dir",
                    "critical",
                    node.name,
                    config.path,
                    None,
                    f"{node.name}: {config.path}: {health.reason}",
                    "the application keeps uploads and cluster files there: a node that cannot "
                    "write it fails its users",
                    "mount the shared filesystem read-write on the node (check /etc/fstab)",
                )
            )
    findings += _not_shared(facts, config.path)
    return _partial(findings, facts)


def _not_shared(facts: ClusterFacts, path: str) -> list[Finding]:
    """Nodes that do not see the markers the others left: they have another filesystem there.

    Each node sees a set of the markers (its own included when it wrote one); the set most
    nodes see is the shared filesystem, and a node seeing another set is not on it."""
    looked = [n for n in facts.reachable if n.shared_seen is not None]
    writers = {n.name for n in facts.reachable if n.shared_wrote}
    if len(looked) < 2 or not writers:
        return []
    views = {
        n.name: frozenset((n.shared_seen or frozenset()) | ({n.name} & writers)) for n in looked
    }
    usual = Counter(views.values()).most_common(1)[0][0]
    found = []
    for node in looked:
        if views[node.name] == usual:
            continue
        missing = sorted(usual - views[node.name] - {node.name})
        if missing:
            text = (
                f"{node.name} does not see the files {', '.join(missing)} wrote in {path}: "
                "not the same filesystem"
            )
        else:
            text = f"the other nodes do not see the file {node.name} wrote in {path}"
        found.append(
            Finding(
                "shared-dir",
                "critical",
                node.name,
                path,
                None,
                text,
                "files written through one node are missing on the others (not mounted, or a "
                "local directory of the same name)",
                f"mount the shared filesystem at {path} on {node.name}",
            )
        )
    return found


@check(
    "joget-javaagent",
    "Joget's cluster agent is the first javaagent, after -Dwflow.name",
    "the running JVM's arguments (/proc/PID/cmdline)",
)
def joget_javaagent(facts: ClusterFacts) -> Verdict:
    running = [n for n in facts.reachable if n.jvm_args is not None]
    uses_agent = any("wflow-cluster" in a for n in running for a in n.jvm_args or ())
    if facts.inventory.profile.name != "joget" and not uses_agent:
        return Verdict(skipped="not a Joget cluster")
    findings = []
    shared_hosts = {
        n.host
        for n in facts.inventory.nodes
        if sum(1 for m in facts.inventory.nodes if m.host == n.host) > 1
    }
    for node in running:
        options = jvm_options(node.jvm_args or ())
        agents = [i for i, a in enumerate(options) if a.startswith("-javaagent:")]
        ours = [i for i in agents if "wflow-cluster" in options[i]]
        names = [i for i, a in enumerate(options) if a.startswith("-Dwflow.name=")]
        where = f"/proc/{node.name} JVM arguments"
        fix_order = "in setenv.sh (JAVA_OPTS), put -Dwflow.name=NAME, then "
        fix_order += "-javaagent:.../wflow-cluster.jar before any other -javaagent; restart"
        if ours and agents[0] != ours[0]:
            findings.append(
                Finding(
                    "joget-javaagent",
                    "critical",
                    node.name,
                    where,
                    None,
                    f"{node.name}: wflow-cluster.jar is not the first javaagent "
                    f"({options[agents[0]]} comes before it)",
                    "Joget's cluster agent must instrument classes before any other agent",
                    fix_order,
                )
            )
        if ours and names and names[-1] > ours[0]:
            findings.append(
                Finding(
                    "joget-javaagent",
                    "critical",
                    node.name,
                    where,
                    None,
                    f"{node.name}: -Dwflow.name comes after the wflow-cluster javaagent",
                    "the agent reads the node's name when it starts",
                    fix_order,
                )
            )
        if node.host in shared_hosts and not names:
            findings.append(
                Finding(
                    "joget-javaagent",
                    "critical",
                    node.name,
                    where,
                    None,
                    f"{node.name} shares its host with other nodes but has no -Dwflow.name",
                    "nodes on one host need a name each, or they take each other's cluster files",
                    fix_order,
                )
            )
    not_running = [n.name for n in facts.reachable if n.jvm_args is None]
    if not findings and not_running:
        return Verdict(unknown=f"no running JVM to read on {', '.join(not_running)}")
    return _partial(findings, facts)
