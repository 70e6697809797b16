"""Who is who: matching cluster members and balancer workers to inventory nodes.

Logs name members by address (``127.0.0.12:4000``), balancers name workers by URL
(``http://127.0.0.12:8080``, ``ajp://host:8009``); the inventory names nodes. Matching is exact on
host (and port where it decides), never by prefix: ``10.0.0.2`` is not ``10.0.0.20``.

A JGroups member that was given no name has the default logical name ``host-N``: the machine's
host name (2.12 and later cut it at its first dot unless it starts with a digit; older 2.x keep
it whole), a dash and a random number from 1 to 65534 (``Util.generateLocalName``). It names the
node whose host, as the inventory writes it or as it resolves, has that short name, when exactly
one node has it (several nodes on one machine share it: then no node is guessed). A name the
node's own log gave itself (JGroups' GMS banner, `NodeSpec.member_names`) names it exactly.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from console.config.model import Inventory, Node
from probes.balancer.model import Worker


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """What the state needs to know about a node to recognise it elsewhere."""

    name: str
    host: str
    addresses: frozenset[str]
    """The host as written plus every address it resolved to."""
    jvm_route: str | None = None
    http_port: int | None = None
    member_names: tuple[str, ...] = ()
    """Member names the node's own log gave itself (JGroups' GMS banner), lower case, the last
    MEMBER_NAMES_KEPT (a restarted channel draws a new default name)."""

    def with_member_name(self, name: str) -> NodeSpec:
        """This spec knowing `name` as its own member name (itself when already known)."""
        name = name.lower()
        if name in self.member_names:
            return self
        kept = (*self.member_names, name)[-MEMBER_NAMES_KEPT:]
        return replace(self, member_names=kept)


MEMBER_NAMES_KEPT = 8


def split_host_port(text: str) -> tuple[str, int | None]:
    """``10.0.0.1:4000`` -> (``10.0.0.1``, 4000); ``[::1]:5701`` -> (``::1``, 5701)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    return host.lower(), int(port) if port.isdigit() else None


_DEFAULT_NAME = re.compile(r"(?P<host>[^\s,:\[\]|/]+)-(?P<number>[1-9][0-9]{0,4})")
DEFAULT_NAME_MAX = 65534
"""The largest number JGroups' default logical name ends with (`Util.random(Short.MAX_VALUE*2)`)."""
_NO_MACHINE = frozenset({"localhost", "localhost.localdomain"})
"""What `generateLocalName` falls back to when the machine's own name does not resolve: it names
no machine in particular."""


def short_name(host: str) -> str:
    """JGroups' `Util.shortName`: up to the first dot, unless the name starts with a digit."""
    dot = host.find(".")
    return host[:dot] if dot > 0 and not host[0].isdigit() else host


def default_name_host(member: str) -> str | None:
    """The host name in a JGroups default logical name (`vm-5408` -> `vm`), lower case, or None
    when `member` is not of that form."""
    match = _DEFAULT_NAME.fullmatch(member)
    if match is None or int(match["number"]) > DEFAULT_NAME_MAX:
        return None
    host = match["host"].lower()
    return None if host in _NO_MACHINE else host


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def resolve(host: str, ssh_config: tuple[str, ...] | None = None) -> frozenset[str]:
    """The host, the HostName ~/.ssh/config gives it (an alias names no machine) and that
    name's addresses; a name that does not resolve is kept as written."""
    real = host
    try:  # an address is no alias, and asyncssh (0.25 s to load) is not needed for it
        ipaddress.ip_address(host)
    except ValueError:
        from probes.ssh.config import hostname

        real = hostname(host, ssh_config)
    found = {host.lower(), real.lower()}
    try:
        for info in socket.getaddrinfo(real, None, proto=socket.IPPROTO_TCP):
            found.add(str(info[4][0]).lower())
    except (OSError, UnicodeError):
        pass
    return frozenset(found)


def node_spec(node: Node, addresses: frozenset[str] | None = None) -> NodeSpec:
    port = None
    if node.http:
        parts = urlsplit(node.http)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    return NodeSpec(
        name=node.name,
        host=node.host,
        addresses=addresses if addresses is not None else frozenset({node.host.lower()}),
        jvm_route=node.jvm_route,
        http_port=port,
    )


def specs_for(inventory: Inventory, *, resolve_names: bool = True) -> tuple[NodeSpec, ...]:
    """A NodeSpec for every inventory node; host names are resolved once, here."""
    return tuple(
        node_spec(node, resolve(node.host) if resolve_names else None) for node in inventory.nodes
    )


class SpecIndex:
    """The nodes of one specs tuple by address and by route, for lookups in O(1)."""

    def __init__(self, specs: Sequence[NodeSpec]) -> None:
        self.specs = tuple(specs)
        self.by_host: dict[str, list[NodeSpec]] = {}
        self.by_route: dict[str, list[NodeSpec]] = {}
        self.by_short_name: dict[str, set[str]] = {}
        """Host names cut as JGroups cuts them (`short_name`) -> the nodes with that name."""
        for spec in self.specs:
            for name in spec.member_names:
                if spec not in self.by_host.get(name, ()):
                    self.by_host.setdefault(name, []).append(spec)
            for address in spec.addresses:
                if spec not in self.by_host.get(address, ()):
                    self.by_host.setdefault(address, []).append(spec)
                if not _is_address(address):
                    self.by_short_name.setdefault(short_name(address), set()).add(spec.name)
            if spec.jvm_route:
                self.by_route.setdefault(spec.jvm_route, []).append(spec)
        self._workers: dict[tuple[str, str | None], str | None] = {}

    def member_node(self, member: str) -> str | None:
        host, _ = split_host_port(member)
        matches = self.by_host.get(host, ())
        if len(matches) == 1:
            return matches[0].name
        if matches:
            return None
        named = default_name_host(member)
        if named is None:
            return None
        if _is_address(named):
            found = self.by_host.get(named, ())
            return found[0].name if len(found) == 1 else None
        nodes = self.by_short_name.get(short_name(named), set())
        return next(iter(nodes)) if len(nodes) == 1 else None

    def worker_node(self, worker: Worker) -> str | None:
        key = (worker.url, worker.route)
        if key not in self._workers:
            if len(self._workers) > 4 * len(self.specs) + 64:
                self._workers.clear()  # bounded: worker URLs come from outside
            self._workers[key] = self._find_worker(worker)
        return self._workers[key]

    def _find_worker(self, worker: Worker) -> str | None:
        try:
            parts = urlsplit(worker.url if "://" in worker.url else f"//{worker.url}")
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            host, port = "", None
        matches = list(self.by_host.get(host, ())) if host else []
        if len(matches) > 1 and port is not None:
            matches = [spec for spec in matches if spec.http_port == port] or matches
        if len(matches) == 1:
            return matches[0].name
        if worker.route:
            routed = self.by_route.get(worker.route, ())
            if len(routed) == 1:
                return routed[0].name
        return None


_INDEXES: list[SpecIndex] = []
_INDEXES_KEPT = 4


def index_for(specs: Sequence[NodeSpec]) -> SpecIndex:
    """The index of ``specs``, built once per specs object (a snapshot's `specs` is one
    tuple for the life of an inventory)."""
    for index in _INDEXES:
        if index.specs is specs:
            return index
    index = SpecIndex(specs)
    if isinstance(specs, tuple):
        index.specs = specs
        _INDEXES.insert(0, index)
        del _INDEXES[_INDEXES_KEPT:]
    return index


def member_node(member: str, specs: Sequence[NodeSpec]) -> str | None:
    """The node a member identity names, when exactly one node has that address (or, for a
    JGroups default name `host-N`, that host name: see the module's docstring)."""
    return index_for(specs).member_node(member)


def worker_node(worker: Worker, specs: Sequence[NodeSpec]) -> str | None:
    """The node a balancer worker sends to: by host and port, else by host, else by route."""
    return index_for(specs).worker_node(worker)
