"""NodeSession against real OpenSSH sshd processes, configured the way operators configure ssh:
an alias with `Port 2222` in an ssh_config, a UserKnownHostsFile elsewhere, unknown and changed
host keys, and a ProxyJump through another sshd, shared by the nodes behind it.

The sshds are this module's own (three loopback addresses of the test net, port 2222), so it does
not need or disturb the sandbox cluster.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shlex
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from console.sandbox.waits import port_open, wait_until
from probes.ssh.connection import Backoff, Bastions, NodeSession, SshTarget

from .conftest import TEST_NET
from .helpers import wait_until_async

pytestmark = [pytest.mark.sandbox]

SSHD = "/usr/sbin/sshd"
PORT = 2222
QUICK = Backoff(initial=0.2, cap=0.5)
ADDRESSES = tuple(f"{TEST_NET}.{n}" for n in (31, 32, 33))


@dataclass(frozen=True)
class Sshds:
    root: Path
    client_key: Path
    host_keys: dict[str, asyncssh.SSHKey]
    procs: dict[str, subprocess.Popen[bytes]]
    """Each address's sshd (its listener); teardown stops every one, restarted ones too."""

    def start(self, address: str) -> None:
        log = (self.root / address / "sshd.log").open("ab")
        config = str(self.root / address / "sshd_config")
        self.procs[address] = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", config], stderr=log, stdout=log
        )

    def known_line(self, address: str) -> str:
        key = self.host_keys[address].export_public_key("openssh").decode().split()[:2]
        return f"[{address}]:{PORT} {' '.join(key)}"

    def fingerprint(self, address: str) -> str:
        return self.host_keys[address].get_fingerprint()


def _sshd_config(root: Path, address: str, user: str) -> str:
    return "\n".join(
        [
            f"ListenAddress {address}:{PORT}",
            f"HostKey {root / address / 'host_key'}",
            f"PidFile {root / address / 'sshd.pid'}",
            f"AuthorizedKeysFile {root / 'authorized_keys'}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            f"AllowUsers {user}",
            "UsePAM no",
            "StrictModes no",
            "AllowTcpForwarding yes",
            "LogLevel DEBUG1",  # logs each direct-tcpip request: the jump proof
            "",
        ]
    )


@pytest.fixture(scope="module")
def sshds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshds]:
    if not Path(SSHD).exists():
        pytest.skip("OpenSSH server is not installed (make demo installs it)")
    busy = [address for address in ADDRESSES if port_open(address, PORT, 0.2)]
    if busy:
        pytest.fail(f"{', '.join(busy)} port {PORT} already taken (a crashed run left sshd?)")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    root = tmp_path_factory.mktemp("sshds")
    user = (
        os.environ.get("USER")
        or subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    )
    client = asyncssh.generate_private_key("ssh-ed25519")
    client_key = root / "client_key"
    client.write_private_key(str(client_key))
    client_key.chmod(0o600)
    (root / "authorized_keys").write_bytes(client.export_public_key("openssh"))
    host_keys: dict[str, asyncssh.SSHKey] = {}
    found = Sshds(root, client_key, host_keys, {})
    try:
        for address in ADDRESSES:
            (root / address).mkdir()
            key = host_keys[address] = asyncssh.generate_private_key("ssh-ed25519")
            key.write_private_key(str(root / address / "host_key"))
            (root / address / "host_key").chmod(0o600)
            config = root / address / "sshd_config"
            config.write_text(_sshd_config(root, address, user))
            found.start(address)
        for address in ADDRESSES:
            if not wait_until(functools.partial(port_open, address, PORT, 0.2), 20):
                pytest.fail(f"sshd on {address} did not start: see {root / address}/sshd.log")
        yield found
    finally:
        for proc in found.procs.values():
            proc.terminate()
        for proc in found.procs.values():
            proc.wait(10)


def write_config(sshds: Sshds, text: str, known: str = "") -> tuple[str, Path]:
    """An ssh_config and a UserKnownHostsFile in a directory of their own (not ~/.ssh)."""
    directory = sshds.root / f"client{len(list(sshds.root.glob('client*')))}"
    directory.mkdir()
    known_hosts = directory / "elsewhere" / "known"
    known_hosts.parent.mkdir()
    known_hosts.write_text(known)
    config = directory / "ssh_config"
    config.write_text(
        text
        + f"\nHost *\n  User {os.environ.get('USER', 'root')}\n"
        + f"  IdentityFile {sshds.client_key}\n  UserKnownHostsFile {known_hosts}\n"
        + "  GlobalKnownHostsFile /dev/null\n"
    )
    return str(config), known_hosts


@asynccontextmanager
async def running(*sessions: NodeSession) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(session.run()) for session in sessions]
    try:
        yield
    finally:
        await asyncio.gather(*(session.close() for session in sessions))
        await asyncio.wait_for(asyncio.gather(*tasks), 10)


async def test_an_alias_with_its_port_user_key_and_known_hosts_from_ssh_config(
    sshds: Sshds,
) -> None:
    node = ADDRESSES[0]
    config, _ = write_config(
        sshds, f"Host app_node1\n  HostName {node}\n  Port {PORT}\n", sshds.known_line(node)
    )
    # Only the alias, as an inventory with `host = "app_node1"` and no ssh settings gives it.
    session = NodeSession(SshTarget("node1", "app_node1", ssh_config=(config,)), backoff=QUICK)
    async with running(session):
        result = await session.exec("echo $SSH_CONNECTION", timeout=20)
        assert result.stdout.split()[2:] == [node.encode(), str(PORT).encode()]
        assert (session.status.state, session.status.peer) == ("up", node)  # what logs name


async def test_an_unknown_host_key_names_its_fingerprint_and_the_accepting_command(
    sshds: Sshds,
) -> None:
    node = ADDRESSES[0]
    config, known = write_config(sshds, f"Host n1\n  HostName {node}\n  Port {PORT}\n")
    session = NodeSession(SshTarget("n1", "n1", ssh_config=(config,)), backoff=QUICK)
    async with running(session):
        await wait_until_async(lambda: session.status.state == "host-key-unknown", 20, "unknown")
        reason = session.status.reason or ""
        assert f"unknown host key for [{node}]:{PORT}" in reason
        assert sshds.fingerprint(node) in reason
        command = reason.split("accept it with: ", 1)[1].split(" (or run with", 1)[0]
        assert command.startswith("echo ") and command.endswith(shlex.quote(str(known)))
        subprocess.run(["sh", "-c", command], check=True)  # what the operator runs
        session.retry_now()
        await wait_until_async(lambda: session.status.state == "up", 20, "up")
    assert known.read_text().strip() == sshds.known_line(node)


async def test_accept_new_records_a_new_host_but_a_changed_key_stays_refused(
    sshds: Sshds,
) -> None:
    node = ADDRESSES[1]
    config, known = write_config(sshds, f"Host n2\n  HostName {node}\n  Port {PORT}\n")
    target = SshTarget("n2", "n2", ssh_config=(config,), accept_new=True)
    session = NodeSession(target, backoff=QUICK)
    async with running(session):
        await wait_until_async(lambda: session.status.state == "up", 20, "up")
    assert known.read_text().strip() == sshds.known_line(node)

    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    changed = f"[{node}]:{PORT} {' '.join(other.split()[:2])}\n"
    known.write_text(changed)
    session = NodeSession(target, backoff=QUICK)
    async with running(session):
        await wait_until_async(lambda: session.status.state == "host-key-mismatch", 20, "mismatch")
        assert "does not match" in (session.status.reason or "")
    assert known.read_text() == changed  # accept-new never replaces a key


async def test_nodes_behind_a_proxyjump_share_one_verified_bastion_connection(
    sshds: Sshds,
) -> None:
    bastion, node2, node3 = ADDRESSES
    text = (
        f"Host jump_host\n  HostName {bastion}\n  Port {PORT}\n"
        f"Host app2\n  HostName {node2}\n  Port {PORT}\n  ProxyJump jump_host\n"
        f"Host app3\n  HostName {node3}\n  Port {PORT}\n  ProxyJump jump_host\n"
    )
    lines = "\n".join(sshds.known_line(address) for address in ADDRESSES)
    config, known = write_config(sshds, text, lines)
    bastion_log = sshds.root / bastion / "sshd.log"
    logins_before = bastion_log.read_text().count("Accepted publickey")
    pool = Bastions()
    sessions = [
        NodeSession(SshTarget(name, name, ssh_config=(config,)), backoff=QUICK, jump_hosts=pool)
        for name in ("app2", "app3")
    ]
    async with running(*sessions):
        results = await asyncio.gather(
            *(session.exec("echo $SSH_CONNECTION", timeout=20) for session in sessions)
        )
        assert [r.stdout.split()[2] for r in results] == [node2.encode(), node3.encode()]
        assert pool.connects == 1  # one bastion connection for both nodes
    seen = bastion_log.read_text()
    assert seen.count("Accepted publickey") == logins_before + 1  # the bastion saw one login
    for node in (node2, node3):  # ... and forwarded to each node through it
        assert f"target {node} port {PORT}" in seen

    # The bastion's own key is verified: unknown to known_hosts, nothing goes through it.
    known.write_text("\n".join(sshds.known_line(address) for address in (node2, node3)))
    session = NodeSession(
        SshTarget("app2", "app2", ssh_config=(config,)), backoff=QUICK, jump_hosts=Bastions()
    )
    async with running(session):
        await wait_until_async(lambda: session.status.state == "host-key-unknown", 20, "unknown")
        reason = session.status.reason or ""
        assert reason.startswith("jump host jump_host: unknown host key")
        assert sshds.fingerprint(bastion) in reason


async def test_a_node_behind_a_proxyjump_has_its_listener_checked_from_the_jump_host(
    sshds: Sshds,
) -> None:
    """The node's SSH port is not reachable from here: the banner check goes through the jump
    connection (direct-tcpip, in the bastion's log), and a node whose sshd stopped listening
    turns down with the reason while its open session still runs commands."""
    bastion, _, node3 = ADDRESSES
    text = (
        f"Host jump_host\n  HostName {bastion}\n  Port {PORT}\n"
        f"Host app3\n  HostName {node3}\n  Port {PORT}\n  ProxyJump jump_host\n"
    )
    lines = "\n".join(sshds.known_line(address) for address in ADDRESSES)
    config, _ = write_config(sshds, text, lines)
    bastion_log = sshds.root / bastion / "sshd.log"
    asked = f"target {node3} port {PORT}"
    before = bastion_log.read_text().count(asked)
    target = SshTarget("app3", "app3", ssh_config=(config,), listener_interval=0.5)
    session = NodeSession(target, backoff=QUICK, jump_hosts=Bastions())
    async with running(session):
        await wait_until_async(lambda: session.status.state == "up", 20, "up")
        # the session's own channel, then banner checks through the same jump connection
        await wait_until_async(
            lambda: bastion_log.read_text().count(asked) >= before + 3, 20, "checks via jump"
        )
        assert session.status.state == "up"
        listener = sshds.procs[node3]
        listener.terminate()  # sshd's listener only: the session's own process lives on
        listener.wait(10)
        try:
            await wait_until_async(lambda: session.status.state == "down", 20, "down")
            reason = session.status.reason or ""
            assert "connection refused" in reason.lower(), reason
            assert "seen from jump host jump_host" in reason
            assert "the open session still works" in reason
            # (90 s: a login shell here may wait 60 s on pyenv's rehash lock in ~/.bashrc)
            still = await session.exec("echo still here", timeout=90)
            assert still.stdout.strip() == b"still here"
        finally:
            sshds.start(node3)
        await wait_until_async(lambda: session.status.state == "up", 20, "up again")
        assert session.status.reason is None
