"""Member identities as logs spell them, reduced to one comparable form (`host:port`).

Tomcat prints addresses as Java byte arrays (`{127, 0, 0, 12}`, signed bytes), WSO2 as
`InetSocketAddress` (`name/10.0.0.1:4001`), Hazelcast as `[10.0.0.1]:5701`; the reducer can only
match a member across nodes and logs once they are written the same way.
"""

from __future__ import annotations

import ipaddress
import re

_BYTES = re.compile(r"\{\s*(-?\d{1,3}(?:\s*,\s*-?\d{1,3})*)\s*,?\s*\}")
_TCP = re.compile(r"tcp://(\{[-\d,\s]*\}|\[[0-9A-Fa-f:.]+\]|[^\s,:\[\]{}/]+):(\d{1,5})")
_BRACKETED = re.compile(r"^\[([^\]]+)\]:(\d{1,5})$")
_SLASHED = re.compile(r"^(?:[^\s/]*)/(\[?[0-9A-Fa-f:.]+\]?|[^\s/:]+):(\d{1,5})$")
_SLASHED_V6 = re.compile(r"^[^\s/]*/([0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)(?:%[\w.-]+)?:(\d{1,5})$")
"""`name/fe80:0:0:0:0:0:0:1%eth0:4000`: an IPv6 socket address as Java before 14 prints it
(the port after the last colon, the scope dropped)."""
_HOST_PORT = re.compile(r"^([^\s\[\]{}:/,]+):(\d{1,5})$")
_AXIS2 = re.compile(r"Host:\s*([^\s,]+),.*?\bPort:\s*(\d{1,5})")
_MEMBER_WORD = re.compile(r"^Member\s+(?=\[)")

GRACEFUL_PAYLOAD = "66 65 66 89"
"""The first bytes of Tribes' shutdown command (`BABY-ALEX...`) in a member's `command={...}`."""


def _from_bytes(text: str) -> str | None:
    """`{127, 0, 0, 12}` or `{-64, -88, 1, 2}` (signed Java bytes) as an IP address."""
    match = _BYTES.fullmatch(text.strip())
    if not match:
        return None
    values = [int(part) % 256 for part in match.group(1).split(",")]
    if len(values) == 4:
        return str(ipaddress.IPv4Address(bytes(values)))
    if len(values) == 16:
        return f"[{ipaddress.IPv6Address(bytes(values)).compressed}]"
    return None


def _join(host: str, port: str) -> str:
    """`host:port`, keeping IPv6 addresses in brackets so the port stays unambiguous."""
    host = host.strip()
    if host.startswith("{"):
        host = _from_bytes(host) or host
    bare = host.strip("[]")
    if ":" in bare:
        try:
            return f"[{ipaddress.IPv6Address(bare).compressed}]:{int(port)}"
        except ValueError:
            return f"[{bare}]:{int(port)}"
    return f"{bare}:{int(port)}"


def normalise_member(text: str) -> str | None:
    """One member's identity as `host:port` (IPv6 as `[addr]:port`); JGroups names unchanged.

    Accepts Tomcat member strings (`tcp://{127, 0, 0, 12}:4000`, `MemberImpl[tcp://host:4000,...`),
    socket addresses (`/10.0.0.1:4001`, `name/10.0.0.1:4001`), Hazelcast (`Member [10.0.0.1]:5701`,
    `[::1]:5701`) and axis2 members (`Host:10.0.0.1, ..., Port: 4000`). Anything else is taken
    as a name (JGroups) and returned stripped; an empty text gives None.
    """
    text = text.strip()
    if not text:
        return None
    if match := _TCP.search(text):
        return _join(match.group(1), match.group(2))
    candidate = _MEMBER_WORD.sub("", text)
    candidate = candidate.split(" - ", 1)[0].strip()
    if candidate.endswith(" this"):
        candidate = candidate[: -len(" this")].strip()
    for pattern in (_BRACKETED, _SLASHED, _HOST_PORT):
        if match := pattern.match(candidate):
            return _join(match.group(1), match.group(2))
    if match := _SLASHED_V6.match(candidate):  # Java 8-13 InetSocketAddress: no brackets
        return _join(match.group(1), match.group(2))
    if match := _AXIS2.search(text):
        return _join(match.group(1), match.group(2))
    if address := _from_bytes(text):
        return address
    return text


def tomcat_member(message: str) -> str | None:
    """The first Tribes member (`tcp://...:port`) named in a Tomcat message, normalised."""
    match = _TCP.search(message)
    return _join(match.group(1), match.group(2)) if match else None


def is_graceful(message: str) -> bool:
    """Whether a Tribes member string carries the shutdown command (a graceful stop)."""
    start = message.find("command={")
    return start >= 0 and message.startswith(GRACEFUL_PAYLOAD, start + len("command={"))
