"""JGroups views (Infinispan ISPN000094/93, Liferay, WildFly) and GMS coordinator creation.

A view is printed as `[coordinator|id] (size) [member, member, ...]`; member names are kept as
logged (they may contain `:` or a `(v=...)` suffix).
"""

from __future__ import annotations

import re

from probes.logs.draft import Draft
from probes.logs.model import EventKind

_VIEW = re.compile(
    r"(?:MergeView::)?\[(?P<coord>[^\[\]|\s]+)\|(?P<id>\d+)\] "
    r"\((?P<size>\d+)\) \[(?P<members>[^\]]*)\]"
)
_CONTEXT = re.compile(
    r"ISPN00009[34]|[Aa]ccepted (?:new )?view|[Nn]ew (?:cluster )?view|[Ii]nstall(?:ing|ed) view"
    r"|viewAccepted|[Rr]eceived new,? (?:MERGED )?cluster view|[Vv]iew changed"
)
_GMS = re.compile(
    r"(?:^|[\s(])(?P<name>\S+): no (?:initial )?members discovered\b.*?"
    r"creating (?:cluster|group) as (?:coordinator|first member)"
)


_NODE = re.compile(r"\bISPN10000(?P<code>[01]): Node (?P<name>\S+) (?:joined|left) the cluster")
"""Infinispan 9+ (`org.infinispan.CLUSTER`): ISPN100000 a node joined, ISPN100001 one left."""


def node(message: str) -> Draft | None:
    """Infinispan's `ISPN100000: Node x joined the cluster` / `ISPN100001: ... left ...`."""
    match = _NODE.search(message) if "ISPN10000" in message else None
    if not match:
        return None
    kind: EventKind = "member-joined" if match["code"] == "0" else "member-left"
    return Draft(kind, "jgroups", member=match["name"].rstrip(".,"))


def view(message: str) -> Draft | None:
    """A membership view announced by a line that says it is the new view."""
    if "|" not in message or not _CONTEXT.search(message):  # no `[coord|id]`, no view
        return None
    match = _VIEW.search(message)
    if not match:
        return None
    members = tuple(name.strip() for name in match["members"].split(",") if name.strip())
    detail = f"{match['coord']}|{match['id']}"
    return Draft("membership", "jgroups", members=members, detail=detail)


def coordinator(message: str) -> Draft | None:
    """`name: no members discovered ...: creating cluster as coordinator` (a view of one)."""
    match = _GMS.search(message) if "members discovered" in message else None
    if not match:
        return None
    name = match["name"].strip()
    return Draft("membership", "jgroups", members=(name,), observer=name)
