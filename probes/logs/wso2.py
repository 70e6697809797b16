"""WSO2 Carbon cluster and lifecycle messages (Hazelcast-based clustering agents, Carbon kernel)."""

from __future__ import annotations

import re

from probes.logs.draft import Draft
from probes.logs.members import normalise_member
from probes.logs.model import EventKind

_JOINED_LEFT = re.compile(r"\bMember (?P<verb>joined|left) \[[^\]]*\]: (?P<addr>\S+)")
_K8S = re.compile(r"\bMember (?P<verb>joined|left): \[UUID\] [^,]*, \[Address\] (?P<addr>\S+)")
_WKA_LEFT = re.compile(r"\bWKA member (?P<member>.+?) left cluster\.")
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
    if "WSO2 Carbon started" in message and _STARTED.search(message):
        return Draft("server-started", "wso2")
    if "hutting down" in message and _STOPPING.match(message):
        return Draft("server-stopping", "wso2")
    return None
