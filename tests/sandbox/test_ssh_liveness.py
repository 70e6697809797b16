"""A node's sshd killed under a live connection: the console says so, and sees it come back.

Killing sshd's listener leaves the per-connection sshd (and with it the console's session and
its keepalives) alive: only a new connection shows that nothing can reach the node any more.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import time

import pytest

from console.sandbox import sshd
from console.sandbox.layout import SSH_PORT, NodeLayout, SandboxLayout
from probes.ssh.connection import NodeSession, SshStatus, SshTarget

from .helpers import wait_until_async as wait_until

pytestmark = [pytest.mark.sandbox]


def target(layout: SandboxLayout, node: NodeLayout) -> SshTarget:
    # The console's own defaults for keepalives and the listener check.
    return SshTarget(
        node=node.name,
        host=node.address,
        port=SSH_PORT,
        username=getpass.getuser(),
        client_keys=(str(layout.client_key),),
        known_hosts=str(layout.known_hosts),
    )


@pytest.mark.disruptive
async def test_a_killed_sshd_listener_makes_the_node_down_while_its_session_lives(
    sandbox: SandboxLayout,
) -> None:
    node = sandbox.nodes[2]
    statuses: list[SshStatus] = []
    session = NodeSession(target(sandbox, node), on_status=statuses.append)
    task = asyncio.create_task(session.run())
    try:
        await wait_until(lambda: session.status.state == "up", 30, "the session to come up")
        listener = sshd.running_pid(node)
        assert listener is not None
        os.kill(listener, signal.SIGKILL)  # the listener only: its sessions live on
        node.sshd_pid_file.unlink(missing_ok=True)
        killed = time.monotonic()
        try:
            await wait_until(lambda: session.status.state == "down", 20, "the dead listener")
            noticed = time.monotonic() - killed
            assert session.status.reason == "connection refused (the open session still works)"
            result = await session.exec("echo still here", timeout=10)
            assert result.stdout == b"still here\n"  # the old session still carries commands
        finally:
            sshd.start(node)
        started = time.monotonic()
        await wait_until(lambda: session.status.state == "up", 20, "the listener back")
        back = time.monotonic() - started
        print(f"\nlistener killed: down after {noticed:.1f} s; restarted: up after {back:.1f} s")
    finally:
        await session.close()
        await asyncio.wait_for(task, 10)
    assert [s.state for s in statuses][:3] == ["up", "down", "up"]
