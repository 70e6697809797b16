"""Hazelcast's multi-line membership blocks, in both syntaxes.

3.x: `Members [2] {` / `\tMember [10.0.0.1]:5701 - <uuid> this` / `}` (no uuid before 3.6);
3.9+: `Members {size:2, ver:2} [` / `\tMember [127.0.0.1]:5701 - <uuid> this` / `]`. The block
follows a header line ending in Hazelcast's `[ip]:port [group] [version] ` prefix and, usually,
a blank line.
"""

from __future__ import annotations

import re

from probes.logs.draft import Draft
from probes.logs.members import normalise_member

_START = re.compile(
    r"^\s*Members\s*(?:\[(?P<count>\d+)\]\s*\{|\{size:\s*(?P<size>\d+),\s*ver:\s*(?P<ver>\d+)\}\s*\[)\s*$"
)
_MEMBER = re.compile(
    r"^\s*Member\s+\[(?P<host>[^\]]+)\]:(?P<port>\d{1,5})(?:\s+-\s+(?P<uuid>[\w-]+))?"
    r"(?P<this>\s+this)?\s*$"
)
_END = re.compile(r"^\s*[}\]]\s*$")
_HEADER = re.compile(r"\[\d+(?:\.\d+)+(?:-[\w.]+)?\]\s*$")
_PREFIX = re.compile(r"\[(?P<host>[0-9A-Fa-f.:%\w-]+)\]:(?P<port>\d{1,5}) \[[^\]]*\] \[\d")

MAX_LINES = 1024
"""Member lines after which an unclosed block is given up."""

_ADDRESS = r"(?:Member |Address)?\[(?P<host>[^\]\s]+)\]:(?P<port>\d{1,5})(?: - [\w-]+)?(?: this)?"
"""A member as each version prints it: `Member [10.0.0.1]:5701 - <uuid>` (3.6+), `Member
[10.0.0.1]:5701` (older), `Address[10.0.0.1]:5701` (3.x addresses), `[10.0.0.1]:5701` (4.0+)."""
_SUSPECTED = re.compile(_ADDRESS + r" is suspected to be dead\b")
_SUSPECTING = re.compile(r"\bSuspecting " + _ADDRESS + r" because it has not sent any heartbeats")
_REMOVING = re.compile(
    r"\bRemoving " + _ADDRESS + r"(?P<why> because it has not sent any (?:heartbeats|master "
    r"confirmation)|\s*$)"
)


def block_start(text: str) -> tuple[int | None, str | None] | None:
    """(declared size, view version) when the line opens a membership block, else None."""
    match = _START.match(text) if "Members" in text else None
    if not match:
        return None
    size = match["count"] or match["size"]
    return (int(size) if size else None), match["ver"]


def is_header(text: str) -> bool:
    """A line ending in Hazelcast's `[group] [version] ` prefix, which the block belongs to."""
    return bool(_HEADER.search(text))


def header_observer(text: str) -> str | None:
    """The member that wrote a header line, from its `[ip]:port [group] [version]` prefix."""
    match = _PREFIX.search(text)
    return normalise_member(f"[{match['host']}]:{match['port']}") if match else None


def member_line(text: str) -> tuple[str, bool] | None:
    """(normalised member, is it `this` one) for a block's member line."""
    match = _MEMBER.match(text)
    if not match:
        return None
    member = normalise_member(f"[{match['host']}]:{match['port']}") or match["host"]
    return member, bool(match["this"])


def is_end(text: str) -> bool:
    """The block's closing `}` or `]`."""
    return bool(_END.match(text))


def classify(message: str) -> Draft | None:
    """A member suspected, removed after missed heartbeats, or removed from the member list.

    Each is a departure (`member-left`): `detail` says how it was decided (`suspect`,
    `heartbeat`: suspected or removed for missed heartbeats, `removed`). A line that only
    mentions a member (a heartbeat received or ignored, a connection closed,
    `MemberLeftException` in a stack trace) is no event.
    """
    if "uspect" not in message and "Removing " not in message:
        return None
    detail = "heartbeat" if "not sent any heartbeats" in message else "suspect"
    match = _SUSPECTED.search(message) if "suspected to be dead" in message else None
    if match is None and "Suspecting " in message:
        match, detail = _SUSPECTING.search(message), "heartbeat"
    if match is None and "Removing " in message:
        match = _REMOVING.search(message)
        detail = "heartbeat" if match and match["why"].strip() else "removed"
    if match is None:
        return None
    member = normalise_member(f"[{match['host']}]:{match['port']}")
    observer = header_observer(message[: match.start()])
    return Draft("member-left", "hazelcast", member=member, detail=detail, observer=observer)
