"""One sshd per node: the sandbox key gets in, a wrong host key or client key does not."""

from __future__ import annotations

import getpass
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from console.sandbox.layout import SSH_PORT, NodeLayout, SandboxLayout

pytestmark = pytest.mark.sandbox


def _connect(
    node: NodeLayout, **options: Any
) -> AbstractAsyncContextManager[asyncssh.SSHClientConnection]:
    return asyncssh.connect(
        node.address,
        port=SSH_PORT,
        username=getpass.getuser(),
        config=None,  # no ~/.ssh/config, no agent: only what the test passes
        agent_path=None,
        connect_timeout=15,
        **options,
    )


async def test_sandbox_key_logs_in_to_every_node(sandbox: SandboxLayout) -> None:
    for node in sandbox.nodes:
        async with _connect(
            node, client_keys=[str(sandbox.client_key)], known_hosts=str(sandbox.known_hosts)
        ) as conn:
            where = await conn.run("echo $SSH_CONNECTION", check=True, timeout=20)
            config = await conn.run(f"cat {node.base}/conf/server.xml", check=True, timeout=20)
        # SSH_CONNECTION is "client_ip client_port server_ip server_port": this node's own sshd.
        assert str(where.stdout).split()[2:] == [node.address, str(SSH_PORT)], where.stdout
        assert f'jvmRoute="{node.jvm_route}"' in str(config.stdout)


async def test_node_commands_skip_the_developers_bashrc(sandbox: SandboxLayout) -> None:
    """A sandbox node is not the developer's shell: a command run there does not source
    ~/.bashrc (whose `pyenv init` cost every command ~0.15 CPU-s here, and could wait 60 s on
    pyenv's rehash lock). bash sources it only as the first shell (SHLVL unset, or 0 before its
    own increment): the sshd's SetEnv SHLVL=1 makes the command's shell the second."""
    node = sandbox.nodes[0]
    async with _connect(
        node, client_keys=[str(sandbox.client_key)], known_hosts=str(sandbox.known_hosts)
    ) as conn:
        shell = await conn.run('echo "$SHLVL"', check=True, timeout=20)
    assert str(shell.stdout).strip() == "2", shell.stdout


def _known_hosts_with_other_key(path: Path, node: NodeLayout) -> Path:
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    public = impostor.export_public_key("openssh").decode().split()[:2]
    path.write_text(f"[{node.address}]:{SSH_PORT} {' '.join(public)}\n")
    return path


async def test_wrong_host_key_is_refused(sandbox: SandboxLayout, tmp_path: Path) -> None:
    node = sandbox.nodes[0]
    known_hosts = _known_hosts_with_other_key(tmp_path / "known_hosts", node)
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        async with _connect(
            node, client_keys=[str(sandbox.client_key)], known_hosts=str(known_hosts)
        ):
            pass


async def test_another_nodes_host_key_is_refused(sandbox: SandboxLayout, tmp_path: Path) -> None:
    # node2's real host key listed for node1's address: keys are per node, not shared.
    node1, node2 = sandbox.nodes[:2]
    public = node2.host_key.with_suffix(".pub").read_text().split()[:2]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[{node1.address}]:{SSH_PORT} {' '.join(public)}\n")
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        async with _connect(
            node1, client_keys=[str(sandbox.client_key)], known_hosts=str(known_hosts)
        ):
            pass


async def test_unknown_client_key_is_refused(sandbox: SandboxLayout) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    with pytest.raises(asyncssh.PermissionDenied):
        async with _connect(
            sandbox.nodes[0], client_keys=[stranger], known_hosts=str(sandbox.known_hosts)
        ):
            pass
