"""Peers a node sees out of those it should see: one rule for the dashboard and `status`.

A node should see every other node whose Tomcat is not known to be stopped (running or not yet
known); a node whose own Tomcat is not running sees nobody, which is not a problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from console.cluster.state import ClusterState, NodeView
from console.cluster.topology import NodeSpec


@dataclass(frozen=True, slots=True)
class Peers:
    """What one running node's log says it sees."""

    seen: int | None
    """Inventory nodes it sees; None while its log has not told the whole membership."""
    expected: int

    @property
    def text(self) -> str:
        """`2/2`, or `?/2` when the membership is not known."""
        return f"{'?' if self.seen is None else self.seen}/{self.expected}"

    @property
    def complete(self) -> bool:
        return self.seen is not None and self.seen >= self.expected


def expected_peers(state: ClusterState) -> dict[str, int]:
    """For each node, how many peers it should see: the other nodes not known to be stopped."""
    candidates = sum(1 for view in state.nodes if view.tomcat != "stopped")
    return {view.name: candidates - (1 if view.tomcat != "stopped" else 0) for view in state.nodes}


def peers_of(view: NodeView, expected: int, specs: Sequence[NodeSpec]) -> Peers | None:
    """The node's peers out of `expected`; None when its Tomcat is not running."""
    if view.tomcat != "running":
        return None
    if not view.membership_known:
        return Peers(None, expected)
    return Peers(len(view.sees(specs)), expected)


def peers_text(view: NodeView, expected: int, specs: Sequence[NodeSpec]) -> str:
    """The PEERS cell as text: `-` (not running), `?/2` (not known yet) or `1/2`."""
    peers = peers_of(view, expected, specs)
    return "-" if peers is None else peers.text
