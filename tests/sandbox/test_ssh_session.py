"""NodeSession against the sandbox's real sshd: every node up, each failure named precisely."""

from __future__ import annotations

import asyncio
import getpass
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from console.sandbox.layout import SSH_PORT, NodeLayout, SandboxLayout
from console.sandbox.procs import cmdline
from probes.ssh.connection import Backoff, NodeSession, SshCommandError, SshStatus, SshTarget

from .helpers import wait_until_async as wait_until

pytestmark = [pytest.mark.sandbox]

QUICK = Backoff(initial=0.2, cap=1.0)


def target(layout: SandboxLayout, node: NodeLayout, **changes: Any) -> SshTarget:
    fields: dict[str, Any] = {
        "node": node.name,
        "host": node.address,
        "port": SSH_PORT,
        "username": getpass.getuser(),
        "client_keys": (str(layout.client_key),),
        "known_hosts": str(layout.known_hosts),
        "connect_timeout": 10.0,
    }
    fields.update(changes)
    return SshTarget(**fields)


@asynccontextmanager
async def running(*sessions: NodeSession) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(session.run()) for session in sessions]
    try:
        yield
    finally:
        await asyncio.gather(*(session.close() for session in sessions))
        await asyncio.wait_for(asyncio.gather(*tasks), 10)


def recorder() -> tuple[list[SshStatus], Callable[[SshStatus], None]]:
    seen: list[SshStatus] = []
    return seen, seen.append


async def test_every_node_connects_and_runs_commands(sandbox: SandboxLayout) -> None:
    limit = asyncio.Semaphore(2)
    seen, on_status = recorder()
    sessions = [
        NodeSession(target(sandbox, node), on_status=on_status, connect_limit=limit)
        for node in sandbox.nodes
    ]
    async with running(*sessions):
        results = await asyncio.gather(
            *(session.exec("echo $SSH_CONNECTION", timeout=20) for session in sessions)
        )
        for node, result in zip(sandbox.nodes, results, strict=True):
            assert result.exit_status == 0, result
            assert result.stdout.split()[2:] == [node.address.encode(), str(SSH_PORT).encode()]
        echoed = await sessions[0].exec("cat", input=b"hello\x00world\n", timeout=10)
        assert echoed.stdout == b"hello\x00world\n"
        failed = await sessions[1].exec("echo oops >&2; exit 3", timeout=10)
        assert (failed.exit_status, failed.stdout, failed.stderr) == (3, b"", b"oops\n")
        no_input = await sessions[2].exec("cat", timeout=10)  # stdin gets EOF: no hang
        assert no_input.stdout == b""
        assert all(session.status.state == "up" for session in sessions)
    assert {s.node for s in seen if s.state == "up"} == {node.name for node in sandbox.nodes}
    assert all(session.status.reason == "session closed" for session in sessions)


def _impostor_known_hosts(path: Path, node: NodeLayout) -> Path:
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    public = impostor.export_public_key("openssh").decode().split()[:2]
    path.write_text(f"[{node.address}]:{SSH_PORT} {' '.join(public)}\n")
    return path


async def test_changed_host_key_is_a_mismatch_and_never_connects(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    node = sandbox.nodes[0]
    known = _impostor_known_hosts(tmp_path / "known_hosts", node)
    seen, on_status = recorder()
    session = NodeSession(target(sandbox, node, known_hosts=str(known)), on_status=on_status)
    async with running(session):
        await wait_until(lambda: session.status.state != "connecting", 15, "a verdict")
        with pytest.raises(SshCommandError, match="not run: no connection within 1 s"):
            await session.exec("true", timeout=1)
    mismatch = [s for s in seen if s.state == "host-key-mismatch"]
    assert mismatch, seen
    reason = mismatch[0].reason or ""
    assert f"host key for [{node.address}]:{SSH_PORT} does not match {known}" in reason
    assert "SHA256:" in reason  # the key the node offered, to compare with what the admin expects
    assert "up" not in {s.state for s in seen}


async def test_unknown_host_key_says_it_is_unknown(sandbox: SandboxLayout, tmp_path: Path) -> None:
    node = sandbox.nodes[1]
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    seen, on_status = recorder()
    session = NodeSession(target(sandbox, node, known_hosts=str(empty)), on_status=on_status)
    async with running(session):
        await wait_until(lambda: len(seen) > 0, 15, "a verdict")
    # Not a man-in-the-middle warning: unknown, with the fingerprint and the line to accept it.
    assert seen[0].state == "host-key-unknown"
    reason = seen[0].reason or ""
    assert f"unknown host key for [{node.address}]:{SSH_PORT}: not in {empty}" in reason
    assert "SHA256:" in reason and f">> {empty}" in reason


async def test_unknown_client_key_is_auth_failed(sandbox: SandboxLayout, tmp_path: Path) -> None:
    stranger = tmp_path / "id_stranger"
    stranger.write_bytes(asyncssh.generate_private_key("ssh-ed25519").export_private_key())
    stranger.chmod(0o600)
    seen, on_status = recorder()
    session = NodeSession(
        target(sandbox, sandbox.nodes[0], client_keys=(str(stranger),)), on_status=on_status
    )
    async with running(session):
        await wait_until(lambda: len(seen) > 0, 15, "a verdict")
    assert (seen[0].state, seen[0].reason) == ("auth-failed", "permission denied (publickey)")


async def test_closed_port_is_down_with_the_os_reason_and_retried(
    sandbox: SandboxLayout,
) -> None:
    seen, on_status = recorder()
    session = NodeSession(
        target(sandbox, sandbox.nodes[0], port=SSH_PORT + 77), on_status=on_status, backoff=QUICK
    )
    began = time.monotonic()
    async with running(session):
        await wait_until(lambda: len(seen) > 0, 15, "a verdict")
        assert (seen[0].state, seen[0].reason) == ("down", "connection refused")
        with pytest.raises(SshCommandError, match=r"no connection within 0\.5 s \(down"):
            await session.exec("true", timeout=0.5)
    assert time.monotonic() - began < 5  # close() does not wait for the backoff to run out


def _running_commands(text: str) -> list[int]:
    return [pid for pid in _all_pids() if cmdline(pid) == text]


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


async def test_command_timeout_kills_the_command_and_keeps_the_session(
    sandbox: SandboxLayout,
) -> None:
    session = NodeSession(target(sandbox, sandbox.nodes[2]))
    marker = "sleep 31.731"
    async with running(session):
        await session.connection()
        began = time.monotonic()
        killed = r"`sleep \.\.\.` timed out after 1 s and was killed"
        with pytest.raises(SshCommandError, match=killed):
            await session.exec(marker, timeout=1)
        assert time.monotonic() - began < 3
        await wait_until(lambda: not _running_commands(marker), 10, "the remote sleep to die")
        after = await session.exec("echo still here", timeout=10)
        assert after.stdout == b"still here\n"


async def test_a_silent_node_never_holds_up_the_others(sandbox: SandboxLayout) -> None:
    # A node that accepts TCP and then says nothing (a hung sshd) takes the only connect slot
    # first; a healthy node must still connect long before the silent one times out.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, sandbox.nodes[0].address, 0)
    port = server.sockets[0].getsockname()[1]
    limit = asyncio.Semaphore(1)
    seen, on_status = recorder()
    hung = NodeSession(
        target(sandbox, sandbox.nodes[0], port=port, connect_timeout=6),
        on_status=on_status,
        connect_limit=limit,
    )
    healthy = NodeSession(target(sandbox, sandbox.nodes[1]), connect_limit=limit)
    async with server, running(hung):
        await wait_until(limit.locked, 5, "the hung node to take the slot")
        began = time.monotonic()
        async with running(healthy):
            await asyncio.wait_for(healthy.connection(), 10)
            assert time.monotonic() - began < 4
            assert hung.status.state == "connecting"
            await wait_until(lambda: seen, 10, "the hung node's verdict")
    assert (seen[0].state, seen[0].reason) == ("timeout", "no SSH answer within 6 s")
