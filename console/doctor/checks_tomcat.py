"""Checks on Tomcat's own configuration: files readable, jvmRoute, the balancer's routes, the
Cluster element, distributable and the session manager, membership, unloadDelay, artifacts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TypeVar

from console.cluster.topology import specs_for, worker_node
from console.doctor.facts import ClusterFacts, NodeFacts
from console.doctor.model import Finding, Verdict, check, verdict
from console.operations.wizards.unload import TOMCAT_DEFAULT_MS
from probes.doctor.parse import ServerFacts, is_cluster_manager

T = TypeVar("T")


def unreachable_note(facts: ClusterFacts) -> str | None:
    down = [node.name for node in facts.nodes if not node.reachable]
    return f"{', '.join(down)} could not be read over SSH" if down else None


def _servers(facts: ClusterFacts) -> Iterator[tuple[NodeFacts, ServerFacts]]:
    for node in facts.reachable:
        if node.server is not None and node.server.error is None:
            yield node, node.server


def _partial(findings: list[Finding], facts: ClusterFacts) -> Verdict:
    """Findings, or `unknown` when nothing was found but some node could not be read."""
    note = unreachable_note(facts)
    if not findings and note:
        return Verdict(unknown=note)
    return verdict(findings)


@check("nodes-read", "every node could be read over SSH", "an SSH session to each node")
def nodes_read(facts: ClusterFacts) -> Verdict:
    return verdict(
        Finding(
            "nodes-read",
            "critical",
            node.name,
            None,
            None,
            f"{node.name} could not be read: {node.error}",
            "none of the other checks could look at this node",
            "check the node's SSH (clusterconsole status says why it fails)",
        )
        for node in facts.nodes
        if not node.reachable
    )


@check("config-files", "the files the doctor reads exist and parse", "server.xml, web.xml over SSH")
def config_files(facts: ClusterFacts) -> Verdict:
    findings = []
    for node in facts.reachable:
        if node.server is None:
            findings.append(
                Finding(
                    "config-files",
                    "warning",
                    node.name,
                    node.server_path,
                    None,
                    f"{node.name}: {node.server_path} cannot be read",
                    "without server.xml the doctor cannot check routes, Cluster and membership",
                    "check catalina_base in cluster.toml and that the SSH user may read the file",
                )
            )
        elif node.server.error:
            findings.append(
                Finding(
                    "config-files",
                    "warning",
                    node.name,
                    node.server_path,
                    None,
                    f"{node.name}: server.xml is not usable XML ({node.server.error})",
                    "Tomcat refuses to start on a broken server.xml",
                    "fix the XML (a DOCTYPE is refused on purpose: Tomcat's own has none)",
                )
            )
        if node.web is None:
            findings.append(
                Finding(
                    "config-files",
                    "warning",
                    node.name,
                    node.web_path,
                    None,
                    f"{node.name}: the application's {node.web_path} cannot be read",
                    "without web.xml the doctor cannot tell whether sessions are replicated",
                    "check the node's http URL in cluster.toml (its first path segment names the "
                    "application) and that the application is deployed unpacked",
                )
            )
    return _partial(findings, facts)


@check("jvm-route", "every node has its own jvmRoute", "server.xml <Engine jvmRoute>")
def jvm_route(facts: ClusterFacts) -> Verdict:
    findings = []
    first: dict[str, str] = {}
    for node, server in _servers(facts):
        if server.jvm_route is None:
            findings.append(
                Finding(
                    "jvm-route",
                    "critical",
                    node.name,
                    node.server_path,
                    server.engine_line,
                    f"{node.name} has no jvmRoute on its <Engine>",
                    "without a route in the session id, sticky sessions cannot stick and the "
                    "balancer sends users to nodes that do not hold their session",
                    f'set <Engine ... jvmRoute="{node.name}"> (unique per node, equal to the '
                    "balancer member's route=) and restart Tomcat",
                )
            )
            continue
        route = server.jvm_route.value
        if route in first:
            findings.append(
                Finding(
                    "jvm-route",
                    "critical",
                    node.name,
                    node.server_path,
                    server.jvm_route.line,
                    f"{node.name}'s jvmRoute '{route}' is already {first[route]}'s",
                    "two nodes with one route: the balancer sends both nodes' users to one of them",
                    f"give {node.name} a jvmRoute of its own (and the balancer member the same "
                    "route=), then restart Tomcat",
                )
            )
        else:
            first[route] = node.name
        declared = facts.inventory.node(node.name).jvm_route
        if declared and declared != route:
            findings.append(
                Finding(
                    "jvm-route",
                    "warning",
                    node.name,
                    node.server_path,
                    server.jvm_route.line,
                    f"{node.name}: server.xml has jvmRoute '{route}', cluster.toml says "
                    f"'{declared}'",
                    "the console matches balancer workers to nodes with the inventory's route",
                    "make cluster.toml's jvm_route equal to server.xml's jvmRoute",
                )
            )
    return _partial(findings, facts)


@check(
    "balancer-route",
    "each balancer member's route equals its node's jvmRoute",
    "balancer-manager or HAProxy, server.xml",
)
def balancer_route(facts: ClusterFacts) -> Verdict:
    if not facts.inventory.balancers:
        return Verdict(skipped="no balancer in cluster.toml")
    servers = dict((node.name, server) for node, server in _servers(facts))
    paths = {node.name: node.server_path for node in facts.nodes}
    specs = specs_for(facts.inventory)
    findings, unread = [], []
    for lb in facts.balancers:
        if lb.page is None:
            unread.append(f"{lb.name}: {lb.error or 'no answer'}")
            continue
        for pool in lb.page.balancers:
            for worker in pool.workers:
                name = worker_node(worker, specs)
                server = servers.get(name or "")
                if name is None or server is None or server.jvm_route is None:
                    continue
                route = server.jvm_route.value
                if worker.route is not None and worker.route != route:
                    findings.append(
                        Finding(
                            "balancer-route",
                            "critical",
                            name,
                            paths[name],
                            server.jvm_route.line,
                            f"{lb.name} (balancer://{pool.name}) gives {name}'s member "
                            f"{worker.url} route '{worker.route}', but {name}'s jvmRoute is "
                            f"'{route}'",
                            "sessions created on the node carry its jvmRoute; a balancer that "
                            "knows another route cannot send the user back: sessions do not stick",
                            f"make the member's route= '{route}' (or the Engine's jvmRoute "
                            f"'{worker.route}'), on every balancer",
                        )
                    )
    if not findings and unread:
        return Verdict(unknown="balancer not read: " + "; ".join(unread))
    return _partial(findings, facts)


@check("cluster-element", "server.xml has a <Cluster> (session replication)", "server.xml")
def cluster_element(facts: ClusterFacts) -> Verdict:
    if len(facts.inventory.nodes) < 2:
        return Verdict(skipped="one node: nothing to replicate to")
    findings = [
        Finding(
            "cluster-element",
            "critical",
            node.name,
            node.server_path,
            server.engine_line,
            f"{node.name}: no <Cluster> in server.xml (missing or commented out)",
            "without it the node replicates no session: its users lose their session when it "
            "stops or when the balancer moves them",
            'add the <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster"> '
            "element inside <Engine> as on the other nodes, then restart Tomcat",
        )
        for node, server in _servers(facts)
        if server.cluster_line is None
    ]
    return _partial(findings, facts)


@check(
    "distributable",
    "the application is <distributable/> with a cluster session manager",
    "web.xml, context files, server.xml",
)
def distributable(facts: ClusterFacts) -> Verdict:
    if len(facts.inventory.nodes) < 2:
        return Verdict(skipped="one node: nothing to replicate to")
    findings = []
    for node in facts.reachable:
        if node.web is not None and node.web.error is None and not node.web.distributable:
            findings.append(
                Finding(
                    "distributable",
                    "critical",
                    node.name,
                    node.web_path,
                    node.web.line,
                    f"{node.name}: the application's web.xml has no <distributable/>",
                    "Tomcat replicates the sessions of distributable applications only",
                    "add <distributable/> inside <web-app> (on every node) and redeploy",
                )
            )
        manager = next(
            ((path, c.manager) for path, c in reversed(node.contexts) if c.manager), None
        )
        if manager is None and node.server and node.server.cluster_manager:
            manager = (node.server_path, node.server.cluster_manager)
        if manager is not None and not is_cluster_manager(manager[1].value):
            path, located = manager
            findings.append(
                Finding(
                    "distributable",
                    "critical",
                    node.name,
                    path,
                    located.line,
                    f"{node.name}: the session manager is {located.value or '(no className)'}, "
                    "not DeltaManager or BackupManager",
                    "only a cluster manager sends sessions to the other nodes",
                    "use org.apache.catalina.ha.session.DeltaManager (or BackupManager), or "
                    "remove the <Manager> so the Cluster's applies",
                )
            )
    return _partial(findings, facts)


def _majority(values: Mapping[str, T]) -> T | None:
    counts = Counter(values.values())
    return counts.most_common(1)[0][0] if counts else None


@check(
    "membership",
    "membership settings agree and static lists name every peer",
    "server.xml <Membership>, <Member>, <Receiver>",
)
def membership(facts: ClusterFacts) -> Verdict:
    servers = [(n, s) for n, s in _servers(facts) if s.membership is not None]
    if len(servers) < 2:
        return _partial([], facts) if servers else Verdict(skipped="no node has a <Cluster>")
    findings = []
    receivers = {n.name: s.receiver for n, s in servers if s.receiver}
    kinds = {n.name: s.membership.kind for n, s in servers if s.membership}
    usual_kind = _majority(kinds)
    mcasts = {n.name: s.membership.mcast for n, s in servers if s.membership and s.membership.mcast}
    usual_mcast = _majority(mcasts)
    for node, server in servers:
        assert server.membership is not None
        line = server.membership.line
        if kinds[node.name] != usual_kind:
            findings.append(
                Finding(
                    "membership",
                    "critical",
                    node.name,
                    node.server_path,
                    line,
                    f"{node.name} uses {kinds[node.name]} membership, the others {usual_kind}",
                    "nodes that look for each other differently never form one cluster",
                    "use the same <Membership> on every node",
                )
            )
        mcast = mcasts.get(node.name)
        if mcast is not None and usual_mcast is not None and mcast != usual_mcast:
            findings.append(
                Finding(
                    "membership",
                    "critical",
                    node.name,
                    node.server_path,
                    line,
                    f"{node.name} multicasts on {mcast[0]}:{mcast[1]}, the others on "
                    f"{usual_mcast[0]}:{usual_mcast[1]}",
                    "nodes on another multicast group never see each other: two clusters",
                    "use the same McastService address and port on every node",
                )
            )
        if "static" in server.membership.kind:
            listed = set(server.membership.members)
            for peer, peer_server in servers:
                if peer is node or peer_server.receiver is None:
                    continue
                address, port, _ = peer_server.receiver
                hosts = set(peer.addresses) | {peer.host.lower()}
                if address not in ("auto", ""):
                    hosts.add(address.lower())
                if not any(h.lower() in hosts and p == port for h, p in listed):
                    findings.append(
                        Finding(
                            "membership",
                            "critical",
                            node.name,
                            node.server_path,
                            server.membership.members_line or line,
                            f"{node.name}'s static member list does not name {peer.name} "
                            f"({peer.host}:{port})",
                            "a static member list is the whole cluster as this node knows it: "
                            "it never replicates to a peer it does not list",
                            f'add <Member className="org.apache.catalina.tribes.membership.'
                            f'StaticMember" host="{peer.host}" port="{port}" uniqueId="..."/> '
                            "and restart Tomcat",
                        )
                    )
    hosts = {n.host for n, _ in servers}
    ports = {name: r[1] for name, r in receivers.items()}
    if len(hosts) == len(servers) and len(set(ports.values())) > 1:
        usual = _majority(ports)
        for node, server in servers:
            if server.receiver and server.receiver[1] != usual:
                findings.append(
                    Finding(
                        "membership",
                        "warning",
                        node.name,
                        node.server_path,
                        server.receiver[2],
                        f"{node.name}'s Receiver listens on port {server.receiver[1]}, the "
                        f"others on {usual}",
                        "peers configured with the usual port (static lists, firewalls) do not "
                        "reach it",
                        "use the same Receiver port on every node (nodes on separate hosts)",
                    )
                )
    return _partial(findings, facts)


_UNLOAD = re.compile(r"\bunloadDelay\s*=")


def _line_of(text: str, pattern: re.Pattern[str]) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.search(line):
            return number
    return None


@check("unload-delay", "unloadDelay is what the profile expects", "context files")
def unload_delay(facts: ClusterFacts) -> Verdict:
    expected = facts.inventory.profile.expected_unload_delay_ms
    if expected <= TOMCAT_DEFAULT_MS:
        return Verdict(skipped=f"profile {facts.inventory.profile.name} expects Tomcat's default")
    findings = []
    for node in facts.reachable:
        delay = node.unload
        if delay is None or delay.ms >= expected:
            continue
        source = delay.source
        line = _line_of(node.files.get(source, ""), _UNLOAD) if source else None
        where = f"set in {source}" if source else "Tomcat's default: no context file sets it"
        findings.append(
            Finding(
                "unload-delay",
                "warning",
                node.name,
                source or (node.contexts[0][0] if node.contexts else None),
                line,
                f"{node.name}: unloadDelay is {delay.ms} ms ({where}); profile "
                f"{facts.inventory.profile.name} expects {expected} ms",
                "a shorter unloadDelay cuts requests in flight when the application stops",
                f'set <Context unloadDelay="{expected}"> in the application\'s context file',
            )
        )
    return _partial(findings, facts)


@check("artifact-drift", "every node deploys the same artifacts", "webapps/ over SSH")
def artifact_drift(facts: ClusterFacts) -> Verdict:
    nodes = [n for n in facts.reachable if n.artifacts or n.server is not None]
    if len(nodes) < 2:
        return _partial([], facts)
    findings = []
    names = sorted({name for node in nodes for name in node.artifacts})
    for name in names:
        prints = {node.name: node.artifacts.get(name) for node in nodes}
        usual = _majority(prints)
        for node in nodes:
            if prints[node.name] == usual:
                continue
            base = facts.inventory.node(node.name).catalina_base.rstrip("/")
            text = (
                f"{node.name} does not deploy {name}"
                if prints[node.name] is None
                else f"{node.name}'s {name} differs from the other nodes'"
            )
            if usual is None:
                text = f"only some nodes deploy {name}: {node.name} does"
            findings.append(
                Finding(
                    "artifact-drift",
                    "warning",
                    node.name,
                    f"{base}/webapps/{name}",
                    None,
                    text,
                    "users moved to another node (failover, drain) get another version",
                    "deploy the same artifacts on every node (the deploy wizard syncs them)",
                )
            )
    return _partial(findings, facts)
