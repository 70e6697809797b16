"""Tribes membership as the nodes' own catalina.out files tell it."""

from __future__ import annotations

import re

import pytest

from console.sandbox.layout import SandboxLayout

from .helpers import log_since, member_events, peers

pytestmark = pytest.mark.sandbox

STATE_RECEIVED = re.compile(
    r"DeltaManager\.waitForSendAllSessions Manager \[localhost#/app\]; "
    r"session state sent at \[[^\]]*\] received in \[\d+\] ms"
)


def test_every_node_logs_every_peer_joining(sandbox: SandboxLayout) -> None:
    # Seen in the sandbox: node1 logs node2 and node3 joining after it; node2 logs node1 (already
    # up when it starts) and node3; node3 logs both. So the strong claim holds for every pair in
    # both directions, not just "each pair once".
    for node in sandbox.nodes:
        added = member_events(log_since(node.catalina_out), "memberAdded")
        expected = {peer.address for peer in peers(sandbox, node)}
        assert expected <= added, f"{node.name} logged memberAdded for {sorted(added)}"
        assert node.address not in added, f"{node.name} logged itself joining"


def test_later_nodes_receive_session_state_without_timeout(sandbox: SandboxLayout) -> None:
    for node in sandbox.nodes:
        text = log_since(node.catalina_out)
        assert "timing out after" not in text, f"{node.name} waited for session state"
    for node in sandbox.nodes[1:]:  # started after node1, so they ask a peer for the sessions
        text = log_since(node.catalina_out)
        assert STATE_RECEIVED.search(text), f"{node.name} got no session state from a peer"


def test_logs_use_the_one_line_format(sandbox: SandboxLayout) -> None:
    for node in sandbox.nodes:
        lines = [
            line
            for line in log_since(node.catalina_out).splitlines()
            if "SimpleTcpCluster.memberAdded" in line
        ]
        assert lines, node.name
        for line in lines:
            # 22-Nov-2026 11:59:01.358 INFO [StaticMembership-memberAdded] org.apache...
            head = line.split(" ", 4)
            assert head[2] == "INFO", line
            assert head[3] == "[StaticMembership-memberAdded]", line
            assert head[4].startswith("org.apache.catalina.ha.tcp.SimpleTcpCluster.memberAdded")
