"""WSO2 Carbon checks on axis2.xml and carbon.xml.

Not tried on a real WSO2 product: tested on recorded files that follow WSO2's documented formats
(Carbon 4.x, ``repository/conf``).
"""

from __future__ import annotations

from console.doctor.checks_tomcat import _partial
from console.doctor.facts import ClusterFacts
from console.doctor.model import Finding, Verdict, check


def _applies(facts: ClusterFacts) -> bool:
    return facts.inventory.profile.name == "wso2" or any(n.wso2 for n in facts.nodes)


@check("wso2-task-server", "WSO2: taskServerMode is not AUTO in a cluster", "carbon.xml")
def task_server(facts: ClusterFacts) -> Verdict:
    if not _applies(facts):
        return Verdict(skipped="not a WSO2 cluster")
    findings = [
        Finding(
            "wso2-task-server",
            "warning",
            node.name,
            node.carbon_path,
            node.task_mode.line,
            f"{node.name}: taskServerMode is AUTO in a cluster",
            "in AUTO each node decides for itself whether it runs scheduled tasks: tasks run "
            "twice or not at all",
            "set <taskServerMode>CLUSTERED</taskServerMode> (with taskServerCount) on every node",
        )
        for node in facts.reachable
        if node.task_mode is not None
        and node.task_mode.value == "AUTO"
        and node.wso2 is not None
        and node.wso2.enabled
    ]
    return _partial(findings, facts)


@check("hazelcast-wka", "WSO2: the Hazelcast WKA member list names every node", "axis2.xml")
def hazelcast_wka(facts: ClusterFacts) -> Verdict:
    if not _applies(facts):
        return Verdict(skipped="not a WSO2 cluster")
    findings = []
    for node in facts.reachable:
        clustering = node.wso2
        if clustering is None or not clustering.enabled or clustering.scheme != "wka":
            continue
        listed = {host.lower() for host, _ in clustering.members}
        for peer in facts.nodes:
            if peer.name == node.name:
                continue
            if not (listed & ({a.lower() for a in peer.addresses} | {peer.host.lower()})):
                findings.append(
                    Finding(
                        "hazelcast-wka",
                        "critical",
                        node.name,
                        node.wso2_path,
                        clustering.members_line or clustering.line,
                        f"{node.name}'s WKA members do not name {peer.name} ({peer.host})",
                        "a node joins through the well-known members it lists; one left out "
                        "can form a cluster of its own",
                        f"add <member><hostName>{peer.host}</hostName><port>4000</port></member>",
                    )
                )
    return _partial(findings, facts)
