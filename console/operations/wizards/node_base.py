"""The new node's CATALINA_BASE, built from the reference node's (add-node, step 2): pure text
work, no I/O, so that every rule is unit-tested.

The reference's base arrives as a tar archive (its logs, temp and work left out). Its text files
(conf/, bin/) get the reference's CATALINA_BASE path replaced by the new one; server.xml gets the
new jvmRoute, the new address wherever the reference's address was an ``address`` attribute
(connectors, shutdown port, the Tribes receiver) and, with static membership, a LocalMember
uniqueId of its own and the reference itself added to its StaticMember list (the other peers are
already there: each node lists every other). setenv.sh gets its ``-D...=NAME`` properties
renamed and, for Joget, ``-Dwflow.name=NAME`` placed right before the wflow-cluster javaagent,
which is moved before every other ``-javaagent`` (docs/facts.md, Joget).
"""

from __future__ import annotations

import difflib
import io
import re
import tarfile
from dataclasses import dataclass

from console.config.model import Node

LEFT_OUT = ("logs", "temp", "work")
"""Directories of the reference's base that are not copied (created empty instead)."""
TEXT_DIRS = ("conf/", "bin/")
"""Where the files whose text is rewritten live (the web apps are copied as they are)."""
TEXT_LIMIT = 1_000_000
"""Bytes above which a file is copied as it is, never rewritten."""

_MEMBERSHIP = re.compile(r"<Membership\b[^>]*StaticMembershipService[^>]*>(.*?)</Membership>", re.S)
_LOCAL = re.compile(r'(<LocalMember\b[^>]*?uniqueId=")([^"]*)(")', re.S)
_MEMBER = re.compile(r"([ \t]*)<Member\b[^>]*?/>", re.S)
_RECEIVER_PORT = re.compile(r'<Receiver\b[^>]*?\bport="(\d+)"', re.S)
_ATTR = re.compile(r'\b(\w+)="([^"]*)"')
_JVM_ROUTE = re.compile(r'(<Engine\b[^>]*?\bjvmRoute=")([^"]*)(")', re.S)


class BaseError(ValueError):
    """The reference's base cannot be turned into the new node's; str() says what and where."""


@dataclass(frozen=True, slots=True)
class Member:
    """One static member as server.xml names it."""

    host: str
    port: str
    unique_id: str

    def element(self, indent: str = "            ") -> str:
        return (
            f'{indent}<Member className="org.apache.catalina.tribes.membership.StaticMember"'
            f' host="{self.host}" port="{self.port}" uniqueId="{self.unique_id}" />'
        )


@dataclass(frozen=True, slots=True)
class BuiltBase:
    """The new node's base: its files (path -> bytes, modes), what differs from the reference
    (path -> unified diff lines) and the new node's own static member (None: multicast)."""

    archive: bytes
    files: tuple[str, ...]
    diffs: dict[str, list[str]]
    member: Member | None


def static_membership(server_xml: str) -> bool:
    return _MEMBERSHIP.search(server_xml) is not None


def _id_bytes(unique_id: str) -> list[int]:
    text = unique_id.strip().strip("{}")
    try:
        return [int(part) for part in re.split(r"[\s,]+", text) if part]
    except ValueError:
        raise BaseError(f"server.xml: uniqueId {unique_id!r} is not a list of numbers") from None


def members(server_xml: str) -> tuple[str, list[Member]]:
    """(the LocalMember's uniqueId, the StaticMembers listed) of a static-membership server.xml."""
    block = _MEMBERSHIP.search(server_xml)
    if block is None:
        raise BaseError("server.xml has no StaticMembershipService")
    local = _LOCAL.search(block[1])
    if local is None:
        raise BaseError("server.xml: the static membership has no LocalMember with a uniqueId")
    found = []
    for element in _MEMBER.finditer(block[1]):
        attrs = dict(_ATTR.findall(element[0]))
        if "host" in attrs:
            found.append(Member(attrs["host"], attrs.get("port", ""), attrs.get("uniqueId", "")))
    return local[2], found


def receiver_port(server_xml: str) -> str:
    found = _RECEIVER_PORT.search(server_xml)
    return found[1] if found else "4000"


def new_unique_id(local: str, listed: list[Member]) -> str:
    """A uniqueId no member has: the reference's, its last byte one more than the highest."""
    ids = [_id_bytes(local)] + [_id_bytes(m.unique_id) for m in listed if m.unique_id]
    mine = ids[0]
    if not mine:
        raise BaseError("server.xml: the LocalMember's uniqueId is empty")
    highest = max(i[-1] for i in ids if i)
    if highest >= 255:
        raise BaseError("server.xml: the members' uniqueIds leave no room for a new one")
    return "{" + ",".join(str(b) for b in [*mine[:-1], highest + 1]) + "}"


def server_xml_for(text: str, reference: Node, node: Node) -> tuple[str, Member | None]:
    """The reference's server.xml made the new node's, and the new node's own static member."""
    route = node.jvm_route or node.name
    text, routes = _JVM_ROUTE.subn(lambda m: m[1] + route + m[3], text)
    if not routes:
        raise BaseError("server.xml has no Engine jvmRoute to set")
    text = text.replace(f'address="{reference.host}"', f'address="{node.host}"')
    if not static_membership(text):
        return text, None
    local, listed = members(text)
    port = receiver_port(text)
    own = Member(node.host, port, new_unique_id(local, listed))
    ref_member = Member(reference.host, port, local)
    block = _MEMBERSHIP.search(text)
    assert block is not None
    inner = block[1]
    inner = _LOCAL.sub(lambda m: m[1] + own.unique_id + m[3], inner, count=1)
    last = list(_MEMBER.finditer(inner))
    if last:
        indent = last[-1][1]
        end = last[-1].end()
        inner = inner[:end] + "\n" + ref_member.element(indent) + inner[end:]
    else:
        local_end = inner.find("/>", inner.find("<LocalMember")) + 2
        inner = inner[:local_end] + "\n" + ref_member.element() + inner[local_end:]
    start, stop = block.span(1)
    return text[:start] + inner + text[stop:], own


def with_member(text: str, member: Member) -> str:
    """A peer's server.xml with `member` added to its StaticMember list (unchanged when a member
    on that host and port is already there)."""
    block = _MEMBERSHIP.search(text)
    if block is None:
        raise BaseError("server.xml has no StaticMembershipService")
    _, listed = members(text)
    if any(m.host == member.host and m.port == member.port for m in listed):
        return text
    inner = block[1]
    last = list(_MEMBER.finditer(inner))
    if last:
        end, indent = last[-1].end(), last[-1][1]
    else:
        end, indent = inner.find("/>", inner.find("<LocalMember")) + 2, "            "
    inner = inner[:end] + "\n" + member.element(indent) + inner[end:]
    start, stop = block.span(1)
    return text[:start] + inner + text[stop:]


def without_member(text: str, host: str, port: str) -> str:
    """A peer's server.xml without the StaticMember on `host`:`port` (for remove-node)."""
    block = _MEMBERSHIP.search(text)
    if block is None:
        return text

    def keep(element: re.Match[str]) -> str:
        attrs = dict(_ATTR.findall(element[0]))
        return "" if (attrs.get("host"), attrs.get("port")) == (host, port) else element[0]

    inner = re.sub(r"\n?" + _MEMBER.pattern, keep, block[1], flags=re.S)
    start, stop = block.span(1)
    return text[:start] + inner + text[stop:]


def setenv_for(text: str, reference: Node, node: Node, *, joget: bool) -> str:
    """The reference's setenv.sh made the new node's: its ``-Dprop=REFNAME`` (or route)
    properties renamed; for Joget (or when the wflow-cluster agent is there) the agent first
    among the javaagents and ``-Dwflow.name=NAME`` right before it."""
    old = {reference.name, reference.jvm_route or reference.name}
    route = node.jvm_route or node.name
    for value in old:
        wanted = route if value == (reference.jvm_route or reference.name) else node.name
        text = re.sub(
            r"(-D[\w.\-]+=)" + re.escape(value) + r"(?=[\s\"']|$)",
            lambda m, w=wanted: m[1] + w,  # type: ignore[misc]
            text,
            flags=re.M,
        )
    if not joget and "wflow-cluster" not in text:
        return text
    lines = text.splitlines(keepends=True)
    target = next((i for i, line in enumerate(lines) if "wflow-cluster" in line), None)
    if target is None:
        target = next((i for i, line in enumerate(lines) if "JAVA_OPTS=" in line), None)
    if target is None:
        return text + f'JAVA_OPTS="$JAVA_OPTS -Dwflow.name={node.name}"\n'
    lines[target] = _joget_line(lines[target], node.name)
    return "".join(lines)


def _joget_line(line: str, name: str) -> str:
    ending = line[len(line.rstrip("\n")) :]
    body = line.rstrip("\n")
    head, quote, rest = body.partition('"')
    if not quote:
        head, rest, quote = "", body, ""
    inner, closing, tail = rest.rpartition('"') if quote else (rest, "", "")
    tokens = [t for t in inner.split(" ") if t and not t.startswith("-Dwflow.name=")]
    agents = [i for i, t in enumerate(tokens) if t.startswith("-javaagent:")]
    ours = next((i for i in agents if "wflow-cluster" in tokens[i]), None)
    wanted = f"-Dwflow.name={name}"
    if ours is not None:
        agent = tokens.pop(ours)
        first = next((i for i, t in enumerate(tokens) if t.startswith("-javaagent:")), len(tokens))
        tokens[first:first] = [wanted, agent]
    else:
        tokens.append(wanted)
    return head + quote + " ".join(tokens) + closing + tail + ending


def _rewrite(path: str, data: bytes, reference: Node, node: Node, joget: bool) -> bytes:
    if not path.startswith(TEXT_DIRS) or len(data) > TEXT_LIMIT or b"\0" in data:
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    text = text.replace(reference.catalina_base, node.catalina_base)
    if path == "conf/server.xml":
        text, _ = server_xml_for(text, reference, node)
    elif path == "bin/setenv.sh":
        text = setenv_for(text, reference, node, joget=joget)
    return text.encode("utf-8")


def build_base(archive: bytes, reference: Node, node: Node, *, joget: bool) -> BuiltBase:
    """The new base as a tar archive, from the reference's archive; BaseError when the
    reference's base lacks conf/server.xml or cannot be read."""
    try:
        source = tarfile.open(fileobj=io.BytesIO(archive), mode="r:")  # noqa: SIM115
    except tarfile.TarError as exc:
        raise BaseError(f"the reference's base could not be read as an archive: {exc}") from None
    out = io.BytesIO()
    diffs: dict[str, list[str]] = {}
    files: list[str] = []
    member: Member | None = None
    with source, tarfile.open(fileobj=out, mode="w:") as target:
        names = set()
        for info in source.getmembers():
            path = info.name.removeprefix("./")
            if not path or path.split("/")[0] in LEFT_OUT:
                continue
            names.add(path)
            info.name = path
            if not info.isfile():
                target.addfile(info)
                continue
            handle = source.extractfile(info)
            data = handle.read() if handle is not None else b""
            new = _rewrite(path, data, reference, node, joget)
            if path == "conf/server.xml":
                _, member = server_xml_for(
                    data.decode("utf-8", "replace").replace(
                        reference.catalina_base, node.catalina_base
                    ),
                    reference,
                    node,
                )
            if new != data:
                diffs[path] = list(
                    difflib.unified_diff(
                        data.decode("utf-8", "replace").splitlines(),
                        new.decode("utf-8", "replace").splitlines(),
                        f"{reference.name}:{path}",
                        f"{node.name}:{path}",
                        lineterm="",
                        n=1,
                    )
                )
            info.size = len(new)
            target.addfile(info, io.BytesIO(new))
            files.append(path)
        if "conf/server.xml" not in names:
            raise BaseError(
                f"{reference.name}'s base {reference.catalina_base} has no conf/server.xml"
            )
        for directory in LEFT_OUT:
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o750
            target.addfile(info)
    return BuiltBase(out.getvalue(), tuple(files), diffs, member)


__all__ = [
    "BaseError",
    "BuiltBase",
    "Member",
    "build_base",
    "members",
    "receiver_port",
    "server_xml_for",
    "setenv_for",
    "static_membership",
    "with_member",
    "without_member",
]
