"""`clusterconsole doctor` on the real sandbox: a healthy sandbox gives no finding, and each
misconfiguration the sandbox can host, injected, is found on the right node and file; then it is
restored and the doctor is clean again.

How the injections are made (the sandbox is one machine):
- configuration files (server.xml, web.xml) are edited and put back byte for byte with their
  modification time, so Tomcat has no reason to redeploy;
- the 127.0.1.1 host name goes through the node's own hosts file, which the node's sshd points
  the doctor's lookup at (the sandbox gives each node a host name and hosts file of its own);
- "read-only shared directory": `chattr +i` on it (root ignores permission bits);
- "unshared directory": node3's sshd is restarted in a mount namespace of its own where the
  shared path is another, empty directory (a node whose mount is missing), then restarted as usual;
- the grant is revoked with the MariaDB client as root and granted again;
- "unlicensed": one node's activation file is removed (the page then says not activated);
- unloadDelay with the frevvo profile: the same sandbox described with `profile = "frevvo"`
  (its app sets unloadDelay 3000 ms, node2's is edited to 2000; frevvo expects 40000).
- "wrong javaagent order": node3 restarted with two do-nothing agent jars (one named
  wflow-cluster.jar, written here byte by byte: no JDK needed) in the wrong order, the doctor run
  with the inventory's profile set to joget; then restarted as it was.
Not injected here (unit-tested on recorded configuration instead): clock skew (one clock), WSO2
and frevvo products (not tried for real).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import struct
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from console.config import load_inventory
from console.doctor.model import DoctorReport
from console.doctor.run import run_doctor
from console.sandbox import sshd
from console.sandbox.layout import DATABASE_NAME, DATABASE_USER, SSH_PORT, SandboxLayout
from console.sandbox.mariadb import CLIENT
from console.sandbox.procs import terminate
from console.sandbox.waits import port_open

from .helpers import HTTP_TIMEOUT, node_stopped, wait_for

pytestmark = pytest.mark.sandbox

_SYSTEM_KEY = re.compile(r'<span id="system-key">([^<]+)</span>')


def _license_key(system_key: str) -> str:
    digest = hashlib.sha256(f"clusterconsole-sandbox-license|{system_key}".encode()).hexdigest()
    hex25 = digest.upper()[:25]
    return "-".join(hex25[i : i + 5] for i in range(0, 25, 5))


@pytest.fixture
def licensed(sandbox: SandboxLayout) -> Iterator[SandboxLayout]:
    """Every node's license activated (a healthy per-node-licensed cluster); put back after."""
    saved = {}
    for node in sandbox.nodes:
        state = node.base / "license" / "license.key"
        saved[state] = state.read_bytes() if state.exists() else None
        url = f"{node.http_url}/license/"
        key = _SYSTEM_KEY.search(httpx.get(url, timeout=HTTP_TIMEOUT).text)
        assert key, url
        reply = httpx.post(url, data={"license": _license_key(key[1])}, timeout=HTTP_TIMEOUT)
        assert reply.status_code == 200, reply.text
    try:
        yield sandbox
    finally:
        for state, content in saved.items():
            if content is None:
                state.unlink(missing_ok=True)
            else:
                state.write_bytes(content)


def doctor(layout: SandboxLayout, tmp_path: Path, inventory: Path | None = None) -> DoctorReport:
    loaded = load_inventory(inventory or layout.inventory)
    return asyncio.run(run_doctor(loaded, memory=tmp_path / "licenses.json"))


def found(report: DoctorReport) -> set[tuple[str, str | None]]:
    return {(finding.check, finding.node) for finding in report.findings}


def describe(report: DoctorReport) -> str:
    return (
        "\n".join(f"{f.check} {f.node} {f.file}:{f.line} {f.text}" for f in report.findings)
        + "\n"
        + "\n".join(f"{r.check.id}: {r.outcome} {r.reason or ''}" for r in report.results)
    )


@contextlib.contextmanager
def edited(path: Path, change: Callable[[str], str]) -> Iterator[None]:
    """`path` changed for the block, then its bytes and modification time put back."""
    before = path.read_bytes()
    stat = path.stat()
    text = before.decode("utf-8")
    after = change(text)
    assert after != text, f"the edit changed nothing in {path}"
    path.write_text(after, encoding="utf-8")
    try:
        yield
    finally:
        path.write_bytes(before)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True, capture_output=True)


def _sql(layout: SandboxLayout, statement: str) -> None:
    subprocess.run(
        [CLIENT, f"--defaults-file={layout.mariadb_cnf}", "--batch"],
        input=statement,
        text=True,
        check=True,
        capture_output=True,
        timeout=30,
    )


@contextlib.contextmanager
def revoked(layout: SandboxLayout, privilege: str) -> Iterator[None]:
    account = f"'{DATABASE_USER}'@'127.%'"
    _sql(layout, f"REVOKE {privilege} ON `{DATABASE_NAME}`.* FROM {account}; FLUSH PRIVILEGES;")
    try:
        yield
    finally:
        _sql(layout, f"GRANT {privilege} ON `{DATABASE_NAME}`.* TO {account}; FLUSH PRIVILEGES;")


@contextlib.contextmanager
def unshared(layout: SandboxLayout, index: int, tmp_path: Path) -> Iterator[None]:
    """The node's sshd (so every command the doctor runs there) sees another directory at the
    shared path: a mount namespace of its own with an empty directory bound over it."""
    node = layout.node(index)
    empty = tmp_path / "not-shared"
    empty.mkdir()
    sshd.stop(node)
    log = node.ssh_dir / "sshd.log"
    command = (
        f"mount --bind '{empty}' '{layout.shared}' && "
        f"exec {sshd.SSHD} -f '{node.sshd_config}' -E '{log}'"
    )
    subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", command],
        check=True,
        capture_output=True,
        timeout=30,
    )
    wait_for(lambda: port_open(node.address, SSH_PORT, 0.5), 15, f"{node.name}'s sshd")
    try:
        yield
    finally:
        pid = sshd.running_pid(node)
        if pid is not None:
            terminate(pid, 10.0)
        node.sshd_pid_file.unlink(missing_ok=True)
        sshd.start(node)


def _without_member(address: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        return (
            "\n".join(line for line in text.splitlines() if f'host="{address}"' not in line) + "\n"
        )

    return change


def _without_cluster(text: str) -> str:
    start, end = text.index("<Cluster "), text.index("</Cluster>") + len("</Cluster>")
    return text[:start] + text[end:]


def test_a_node_without_ssh_is_a_finding_not_silence(
    licensed: SandboxLayout, tmp_path: Path
) -> None:
    node = licensed.nodes[1]
    sshd.stop(node)
    try:
        report = doctor(licensed, tmp_path)
    finally:
        sshd.start(node)
    assert found(report) == {("nodes-read", node.name)}, describe(report)
    outcomes = {r.check.id: r.outcome for r in report.results}
    assert outcomes["jvm-route"] == "unknown", "not a pass: node2 was not looked at"


def test_a_healthy_sandbox_has_no_finding(licensed: SandboxLayout, tmp_path: Path) -> None:
    report = doctor(licensed, tmp_path)
    assert report.findings == (), describe(report)
    outcomes = {r.check.id: r.outcome for r in report.results}
    assert "unknown" not in outcomes.values(), describe(report)
    assert "fail" not in outcomes.values(), describe(report)
    print(f"doctor on the healthy {len(licensed.nodes)}-node sandbox: {report.seconds:.2f} s")


@pytest.mark.skipif(os.geteuid() != 0, reason="chattr and mount namespaces need root")
def test_injected_misconfigurations_are_found_where_they_are(
    licensed: SandboxLayout, tmp_path: Path
) -> None:
    node1, node2, _node3 = licensed.nodes
    conf = {node.name: node.base / "conf" / "server.xml" for node in licensed.nodes}
    web1 = node1.base / "webapps" / "app" / "WEB-INF" / "web.xml"
    hosts1 = sshd.hosts_file(node1)

    with contextlib.ExitStack() as stack:
        stack.enter_context(
            edited(conf["node2"], lambda t: t.replace('jvmRoute="node2"', 'jvmRoute="node1"'))
        )
        stack.enter_context(
            edited(
                conf["node3"],
                lambda t: _without_member(node1.address)(t).replace(
                    f"/{DATABASE_NAME}?", f"/{DATABASE_NAME}_old?"
                ),
            )
        )
        stack.enter_context(edited(web1, lambda t: t.replace("<distributable/>", "")))
        stack.enter_context(edited(hosts1, lambda t: t.replace(node1.address, "127.0.1.1")))
        stack.enter_context(revoked(licensed, "INDEX"))
        stack.enter_context(immutable(licensed.shared))
        license2 = node2.base / "license" / "license.key"
        saved_license = license2.read_bytes()
        license2.unlink()
        stack.callback(license2.write_bytes, saved_license)
        report = doctor(licensed, tmp_path)

    expected = {
        ("jvm-route", "node2"),
        ("balancer-route", "node2"),
        ("membership", "node3"),
        ("datasource", "node3"),
        ("distributable", "node1"),
        ("artifact-drift", "node1"),  # its edited web.xml: the deployed app differs, truly
        ("hostname-loopback", "node1"),
        ("database-grants", None),
        ("license", "node2"),
        ("shared-dir", "node1"),
        ("shared-dir", "node2"),
        ("shared-dir", "node3"),
    }
    assert found(report) == expected, describe(report)
    files = {(f.check, f.node): (f.file, f.line) for f in report.findings}
    assert files[("jvm-route", "node2")][0] == str(conf["node2"])
    assert files[("balancer-route", "node2")][0] == str(conf["node2"])
    assert files[("membership", "node3")][0] == str(conf["node3"])
    assert files[("datasource", "node3")][0] == str(conf["node3"])
    assert files[("distributable", "node1")][0] == str(web1)
    assert files[("hostname-loopback", "node1")][0] == str(hosts1)
    texts = "\n".join(f.text for f in report.findings)
    assert "INDEX" in texts and "127.0.1.1" in texts and "does not name node1" in texts

    frevvo = licensed.root / "cluster-frevvo.toml"
    frevvo.write_text(
        licensed.inventory.read_text().replace('profile = "tomcat"', 'profile = "frevvo"')
    )
    with contextlib.ExitStack() as stack:
        stack.enter_context(edited(conf["node3"], _without_cluster))
        stack.enter_context(
            edited(conf["node1"], lambda t: t.replace('jvmRoute="node1"', 'jvmRoute="nodeX"'))
        )
        stack.enter_context(unshared(licensed, 3, tmp_path))
        context2 = node2.base / "webapps" / "app" / "META-INF" / "context.xml"
        stack.enter_context(edited(context2, lambda t: t.replace('"3000"', '"2000"')))
        report = doctor(licensed, tmp_path, frevvo)
    frevvo.unlink()

    expected = {
        ("cluster-element", "node3"),
        ("balancer-route", "node1"),
        ("jvm-route", "node1"),  # the inventory says node1: a warning, with the route mismatch
        ("shared-dir", "node3"),
        ("unload-delay", "node1"),  # 3000 ms, the sandbox app's own
        ("unload-delay", "node2"),  # 2000 ms, injected
        ("unload-delay", "node3"),
        ("artifact-drift", "node2"),  # its edited context.xml: the deployed app differs
    }
    assert found(report) == expected, describe(report)
    shared = next(f for f in report.findings if f.check == "shared-dir")
    assert "node3 does not see the files node1, node2 wrote" in shared.text
    delays = {f.node: f for f in report.findings if f.check == "unload-delay"}
    assert delays["node2"].file == str(context2)
    assert "2000 ms" in delays["node2"].text and "40000" in delays["node2"].text
    assert "3000 ms" in delays["node1"].text

    restored = doctor(licensed, tmp_path)
    assert restored.findings == (), describe(restored)


def _agent_class() -> bytes:
    """A class `Agent` with `public static void premain(String, Instrumentation) {}` (Java 8
    class file format): what -javaagent needs, without a JDK to compile it."""

    def utf8(text: str) -> bytes:
        data = text.encode()
        return b"\x01" + struct.pack(">H", len(data)) + data

    pool = [
        utf8("Agent"),
        b"\x07" + struct.pack(">H", 1),
        utf8("java/lang/Object"),
        b"\x07" + struct.pack(">H", 3),
        utf8("premain"),
        utf8("(Ljava/lang/String;Ljava/lang/instrument/Instrumentation;)V"),
        utf8("Code"),
    ]
    code = struct.pack(">HHI", 0, 2, 1) + b"\xb1" + struct.pack(">HH", 0, 0)  # return
    method = struct.pack(">HHHH", 0x0009, 5, 6, 1) + struct.pack(">HI", 7, len(code)) + code
    return (
        struct.pack(">IHHH", 0xCAFEBABE, 0, 52, len(pool) + 1)
        + b"".join(pool)
        + struct.pack(">HHHHHH", 0x0021, 2, 4, 0, 0, 1)
        + method
        + struct.pack(">H", 0)
    )


def _agent_jar(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as jar:
        jar.writestr(
            "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nPremain-Class: Agent\r\n\r\n"
        )
        jar.writestr("Agent.class", _agent_class())
    return path


@pytest.mark.disruptive
def test_a_wrong_javaagent_order_is_read_from_the_running_jvm(
    licensed: SandboxLayout, tmp_path: Path
) -> None:
    node = licensed.nodes[2]
    agents = licensed.root / "agents"
    agents.mkdir(exist_ok=True)
    cluster_jar = _agent_jar(agents / "wflow-cluster.jar")
    other_jar = _agent_jar(agents / "other-agent.jar")
    setenv = node.base / "bin" / "setenv.sh"
    joget = licensed.root / "cluster-joget.toml"
    joget.write_text(
        licensed.inventory.read_text().replace('profile = "tomcat"', 'profile = "joget"')
    )
    wrong = (
        f'JAVA_OPTS="$JAVA_OPTS -javaagent:{other_jar} -javaagent:{cluster_jar} '
        f'-Dwflow.name={node.name}"\n'
    )
    try:
        healthy = doctor(licensed, tmp_path, joget)
        assert healthy.findings == (), describe(healthy)
        with edited(setenv, lambda text: text + wrong):
            with node_stopped(licensed, node):
                pass  # started again with the agents
            report = doctor(licensed, tmp_path, joget)
        with node_stopped(licensed, node):
            pass  # and again without them
    finally:
        joget.unlink()
    assert found(report) == {("joget-javaagent", node.name)}, describe(report)
    texts = sorted(f.text for f in report.findings)
    assert any("wflow-cluster.jar is not the first javaagent" in t for t in texts), texts
    assert any("-Dwflow.name comes after" in t for t in texts), texts
