"""JGroups views (Infinispan ISPN000094/93, Liferay, WildFly), GMS coordinator creation and
suspicions.

A view is printed as `[coordinator|id] (size) [member, member, ...]` by JGroups 3.x and later,
`[coordinator|id] [member, member, ...]` (no size) by 2.x; member names are kept as logged (they
may contain `:` or a `(v=...)` suffix). A suspicion that failure detection raised or that
VERIFY_SUSPECT confirmed is a departure (`member-left`, detail `suspect`, or `heartbeat` when
FD_ALL missed its heartbeats). GMS's banner, printed when a channel connects
(`print_local_addr`, on by default in 2.x to 5.x), tells the logging node's own member name
(`member-name`, detail its physical address): the name a view gives that node, a default name
`host-N` included.
"""

from __future__ import annotations

import re

from probes.logs.draft import Draft
from probes.logs.model import EventKind

_VIEW = re.compile(
    r"(?:MergeView::)?\[(?P<coord>[^\[\]|\s]+)\|(?P<id>\d+)\] "
    r"(?:\((?P<size>\d+)\) )?\[(?P<members>[^\]]*)\]"
)
_CONTEXT = re.compile(
    r"ISPN00009[34]|[Aa]ccepted (?:new )?view|[Nn]ew (?:cluster )?view|[Ii]nstall(?:ing|ed) view"
    r"|viewAccepted|[Rr]eceived new,? (?:MERGED )?cluster view|[Vv]iew changed|^\*\* ?view: "
)
"""`** view: ` is how JGroups' own tutorial (SimpleChat) and demos print each view accepted."""
_WHO = r"(?P<who>\[[^\[\]]*\]|[^\s\[\]]+)"
_SUSPECTS = (
    re.compile(r"(?:\bmbr )?" + _WHO + r" (?:is|are) dead \(passing up SUSPECT event\)"),
    re.compile(r"\bsending up SUSPECT\(" + _WHO + r"\)"),
    re.compile(r"(?:^|: )suspecting " + _WHO + r"(?: \(own address is [^\s()]+\))?$"),
)
"""VERIFY_SUSPECT 2.x `diff=1500, mbr X is dead (passing up SUSPECT event)`, 3.x/4.x `X is
dead (...)`, 5.x `[X, Y] are dead (...)`; VERIFY_SUSPECT2 `me: sending up SUSPECT([X])`; FD_SOCK
2.x `suspecting X (own address is me)`, FD_ALL/GMS `me: suspecting [X]`."""
_NO_HEARTBEAT = re.compile(
    r"haven't received a heartbeat from (?P<who>[^\s\[\]]+) "
    r"(?:for \d+ ms|in timeout period \(\d+ ms\)), adding it to suspect list"
)
"""FD_ALL/FD_ALL2/FD_ALL3 3.x-5.x (debug level)."""
_GMS = re.compile(
    r"(?:^|[\s(])(?P<name>\S+): no (?:initial )?members discovered\b.*?"
    r"creating (?:cluster|group) as (?:coordinator|first member)"
)


_BANNER = re.compile(
    r"\bGMS: address=(?P<name>[^,\n]*?[^,\s])(?: \(\d+ bytes\))?, cluster=[^,\n]*"
    r"(?:, physical address=(?P<physical>[^\s,]+))?"
)
"""`GMS: address=vm-5408, cluster=demo, physical address=127.0.14.61:7850` (JGroups 2.12.2,
printed to stdout between two lines of dashes; 3.x-5.x print the same). A name may hold spaces
(`Kylo - host-918-31345`); some 3.x releases add the address's size (`name (240 bytes)`); the
physical address is left out when the transport has none."""

_NODE = re.compile(r"\bISPN10000(?P<code>[01]): Node (?P<name>\S+) (?:joined|left) the cluster")
"""Infinispan 9+ (`org.infinispan.CLUSTER`): ISPN100000 a node joined, ISPN100001 one left."""


def node(message: str) -> Draft | None:
    """Infinispan's `ISPN100000: Node x joined the cluster` / `ISPN100001: ... left ...`."""
    match = _NODE.search(message) if "ISPN10000" in message else None
    if not match:
        return None
    kind: EventKind = "member-joined" if match["code"] == "0" else "member-left"
    return Draft(kind, "jgroups", member=match["name"].rstrip(".,"))


def own_name(message: str) -> Draft | None:
    """GMS's banner: the logging node's member name in the channel it just joined."""
    match = _BANNER.search(message) if "GMS: address=" in message else None
    if not match:
        return None
    return Draft("member-name", "jgroups", member=match["name"], detail=match["physical"])


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


def suspect(message: str) -> Draft | None:
    """A member suspected by failure detection or declared dead by VERIFY_SUSPECT."""
    if "uspect" not in message and "USPECT" not in message:
        return None
    detail = "suspect"
    match = _NO_HEARTBEAT.search(message) if "heartbeat" in message else None
    if match is not None:
        detail = "heartbeat"
    else:
        match = next((m for pattern in _SUSPECTS if (m := pattern.search(message))), None)
    if match is None:
        return None
    names = tuple(name.strip() for name in match["who"].strip("[]").split(",") if name.strip())
    if not names:
        return None
    members = names if len(names) > 1 else ()
    return Draft("member-left", "jgroups", member=names[0], members=members, detail=detail)
