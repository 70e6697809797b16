"""Spare hosts (`sandbox up --spare N`): a bare host the add-node wizard can bring in, reached
over SSH with verified keys, with Java and Tomcat's binaries but no CATALINA_BASE; `down` stops
it. And the add-node preflight against it: a host with no Tomcat base yet is fine, a duplicate
name or route and a host name on 127.0.1.1 are refused with the reason."""

from __future__ import annotations

import getpass
import logging
import shutil
import socket
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import asyncssh
import httpx
import pytest

from console.config import load_inventory
from console.doctor.new_host import new_host_command, read_host, reference_command
from console.doctor.new_node import preflight_new_node, propose_node
from console.sandbox import manager, sshd
from console.sandbox.layout import (
    CATALINA_HOME,
    SSH_PORT,
    TRIBES_PORT,
    SandboxLayout,
    SpareLayout,
)
from console.sandbox.spares import spares_json
from console.sandbox.waits import port_open

from .helpers import HTTP_TIMEOUT, wait_for

pytestmark = pytest.mark.sandbox

log = logging.getLogger("sandbox-tests")


@pytest.fixture(scope="module")
def with_spare(sandbox: SandboxLayout) -> Iterator[SandboxLayout]:
    """The session's sandbox with one spare host, taken away again afterwards."""
    layout = manager.up(sandbox.count, report=log.info, spare_count=1)
    try:
        yield layout
    finally:
        manager.up(sandbox.count, report=log.info, spare_count=0)


def _connect(
    spare: SpareLayout, layout: SandboxLayout, **options: Any
) -> AbstractAsyncContextManager[asyncssh.SSHClientConnection]:
    settings: dict[str, Any] = {
        "client_keys": [str(layout.client_key)],
        "known_hosts": str(layout.known_hosts),
    }
    settings.update(options)
    return asyncssh.connect(
        spare.address,
        port=SSH_PORT,
        username=getpass.getuser(),
        config=None,
        agent_path=None,
        connect_timeout=15,
        **settings,
    )


async def test_a_spare_is_a_bare_host_reachable_with_verified_keys(
    with_spare: SandboxLayout,
) -> None:
    spare = with_spare.spare(1)
    listed = spares_json(with_spare)["spares"]
    assert [(r["name"], r["address"], r["ssh_port"], r["running"]) for r in listed] == [
        ("spare1", spare.address, SSH_PORT, True)
    ]
    async with _connect(spare, with_spare) as conn:
        where = await conn.run("echo $SSH_CONNECTION", check=True, timeout=20)
        java = await conn.run("java -version", check=True, timeout=30)
        tomcat = await conn.run(f"{CATALINA_HOME}/bin/catalina.sh version", check=True, timeout=60)
        base = await conn.run('echo "${CATALINA_BASE-unset}"', check=True, timeout=20)
        shared = await conn.run(
            f"test -d {with_spare.shared} && test -w {with_spare.shared} && echo ok",
            check=True,
            timeout=20,
        )
    assert str(where.stdout).split()[2:] == [spare.address, str(SSH_PORT)]  # its own sshd
    assert "version" in str(java.stderr)
    assert "Apache Tomcat/10" in str(tomcat.stdout), tomcat.stdout
    assert str(base.stdout).strip() == "unset"
    assert str(shared.stdout).strip() == "ok"
    # Nothing of a node: no base, not in the inventory, not a balancer member.
    assert not (with_spare.root / "nodes" / spare.name).exists()
    assert spare.address not in with_spare.inventory.read_text()
    page = httpx.get(with_spare.balancer_url, timeout=HTTP_TIMEOUT).text
    assert spare.address not in page
    assert f"{with_spare.net}.{11 + with_spare.count - 1}" in page  # the last node's, for sure


async def test_a_spare_with_another_host_key_is_refused(
    with_spare: SandboxLayout, tmp_path: Path
) -> None:
    spare = with_spare.spare(1)
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh")
    known = tmp_path / "known_hosts"
    known.write_text(f"[{spare.address}]:{SSH_PORT} {' '.join(impostor.decode().split()[:2])}\n")
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        async with _connect(spare, with_spare, known_hosts=str(known)):
            pass


async def test_preflight_of_a_spare_as_a_new_node(with_spare: SandboxLayout) -> None:
    spare = with_spare.spare(1)
    inventory = load_inventory(with_spare.inventory)
    node = propose_node(inventory, "node4", spare.address)
    assert node.jvm_route == "node4"
    assert node.catalina_base == str(with_spare.root / "nodes" / "node4")
    assert node.http == f"http://{spare.address}:8080/app/"
    assert node.ssh_port == SSH_PORT
    # The reference's Java and Tomcat, read from its running JVM, are the spare's too.
    command = reference_command(inventory.nodes[0].catalina_base)
    ref = await read_host(inventory, inventory.nodes[0], command, timeout=30)
    assert ref is not None and ref.home == str(CATALINA_HOME)
    assert (ref.java or "").startswith("17.") and (ref.tomcat or "").startswith("10.1.")
    on_spare = new_host_command(ref.home, node.catalina_base)
    new = await read_host(inventory, node, on_spare, timeout=30)
    assert new is not None and (new.java, new.tomcat) == (ref.java, ref.tomcat)
    assert new.base_entries is None  # no CATALINA_BASE
    result = await preflight_new_node(inventory, node, timeout=30)
    assert result.ok, [f.text for f in result.refusals]
    assert result.report is not None
    outcomes = {r.check.id: r.outcome for r in result.report.results}
    assert outcomes["nodes-read"] == "pass"
    assert outcomes["hostname-loopback"] == "pass"
    assert outcomes["shared-dir"] == "pass"
    # No CATALINA_BASE yet: the wizard's work, not a refusal.
    built = {(f.check, f.node) for f in result.to_build}
    assert ("config-files", "node4") in built
    assert {f.node for f in result.to_build} == {"node4"}, result.to_build


async def test_preflight_refuses_a_duplicate_name_or_route(with_spare: SandboxLayout) -> None:
    spare = with_spare.spare(1)
    inventory = load_inventory(with_spare.inventory)
    same_name = await preflight_new_node(inventory, propose_node(inventory, "node2", spare.address))
    assert not same_name.ok
    assert any("already in the inventory" in f.text for f in same_name.refusals)
    same_route = await preflight_new_node(
        inventory, propose_node(inventory, "node4", spare.address, jvm_route="node2"), timeout=30
    )
    assert [f.text for f in same_route.refusals] == ["the jvmRoute node2 is already node2's"]


async def test_preflight_refuses_a_host_name_on_127_0_1_1(with_spare: SandboxLayout) -> None:
    spare = with_spare.spare(1)
    hosts = sshd.hosts_file(spare)
    inventory = load_inventory(with_spare.inventory)
    node = propose_node(inventory, "node4", spare.address)
    hosts.write_text(f"127.0.0.1 localhost\n127.0.1.1 {spare.name}\n")
    try:
        result = await preflight_new_node(inventory, node, timeout=30)
    finally:
        hosts.write_text(sshd.hosts_text(spare))
    refused = [f for f in result.refusals if f.check == "hostname-loopback"]
    assert len(refused) == 1 and refused[0].node == "node4", result.refusals
    assert "127.0.1.1" in refused[0].text and refused[0].severity == "critical"
    assert refused[0].file == str(hosts)


@pytest.mark.disruptive
def test_down_stops_the_spare_and_up_keeps_it(sandbox: SandboxLayout) -> None:
    layout = manager.up(sandbox.count, report=log.info, spare_count=1)
    spare = layout.spare(1)
    try:
        manager.down(report=log.info)
        assert sshd.running_pid(spare) is None
        assert not port_open(spare.address, SSH_PORT, 0.5)
        again = manager.up(sandbox.count, report=log.info)  # no --spare: keeps the spare
        assert again.spares == 1
        wait_for(lambda: sshd.running_pid(spare), 15, "the spare's sshd started again")
    finally:
        manager.up(sandbox.count, report=log.info, spare_count=0)
    assert sshd.running_pid(spare) is None


async def test_preflight_refuses_a_taken_port_and_a_base_with_files(
    with_spare: SandboxLayout,
) -> None:
    spare = with_spare.spare(1)
    inventory = load_inventory(with_spare.inventory)
    node = propose_node(inventory, "node4", spare.address)
    base = Path(node.catalina_base)
    listener = socket.create_server((spare.address, TRIBES_PORT))  # as a stray process would
    base.mkdir(parents=True)
    (base / "someones-notes.txt").write_text("keep me\n")
    try:
        result = await preflight_new_node(inventory, node, timeout=30)
    finally:
        listener.close()
        shutil.rmtree(base)
    refused = {f.check: f.text for f in result.refusals}
    # The Tribes port is read from the reference node's server.xml (not the http URL).
    assert refused["port-free"] == f"node4: port {TRIBES_PORT} is already taken on {spare.address}"
    assert "someones-notes.txt" in refused["catalina-base-empty"]
    assert "java-version" not in refused and "tomcat-version" not in refused
