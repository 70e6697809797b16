"""WSO2 Carbon cluster and lifecycle messages (Hazelcast-based clustering agents, Carbon kernel)."""

from __future__ import annotations

import re

from probes.logs.draft import Draft
from probes.logs.members import normalise_member
from probes.logs.model import EventKind

_JOINED_LEFT = re.compile(r"\bMember (?P<verb>joined|left) \[[^\]]*\]: (?P<addr>\S+)")
_K8S = re.compile(r"\bMember (?P<verb>joined|left): \[UUID\] [^,]*, \[Address\] (?P<addr>\S+)")
_WKA_LEFT = re.compile(r"\bWKA member (?P<member>.+?) left cluster\.")
_AXIS2_JOINED = re.compile(r"\bNew member (?P<addr>\S+) joined cluster\.")
_AXIS2_LEFT = re.compile(r"\bMember (?P<addr>[^\s\[\]]+) left cluster\b")
"""Carbon 3.x-4.1 (axis2 Tribes clustering): `host:port(domain)`."""
_APPLICATION = re.compile(r"\bApplication member (?P<member>.+?) joined application cluster\b")
"""Carbon's group management agent (WKA and load-balancer setups): an axis2 member string."""
_STARTED = re.compile(r"\bWSO2 Carbon started in \S+ sec")
_STOPPING = re.compile(r"^\s*(?:Gracefully shutting|Shutting) down (?!OSGi\b)\S")


def classify(message: str) -> Draft | None:
    """The event a Carbon message stands for, if any."""
    if "ember" in message:
        if m := _JOINED_LEFT.search(message) or _K8S.search(message):
            kind: EventKind = "member-joined" if m["verb"] == "joined" else "member-left"
            member = normalise_member(m["addr"].rstrip(".,"))
            return Draft(kind, "wso2", member=member)
        if m := _WKA_LEFT.search(message):
            return Draft("member-left", "wso2", member=normalise_member(m["member"]))
        if m := _APPLICATION.search(message):
            return Draft("member-joined", "wso2", member=normalise_member(m["member"]))
        if m := _AXIS2_JOINED.search(message) or _AXIS2_LEFT.search(message):
            address = m["addr"].split("(", 1)[0]  # `10.0.0.5:4000(wso2.carbon.domain)`
            joined = "joined cluster" in m.group()
            return Draft(
                "member-joined" if joined else "member-left",
                "wso2",
                member=normalise_member(address),
            )
    if "WSO2 Carbon started" in message and _STARTED.search(message):
        return Draft("server-started", "wso2")
    if "hutting down" in message and _STOPPING.match(message):
        return Draft("server-stopping", "wso2")
    return None
