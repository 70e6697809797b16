"""The NGINX writer (probes/balancer/nginx_client.py) on a real nginx 1.22 started for the test: the
owned
include file edited, `nginx -t`, reload, read back; a failed `nginx -t` restores the file."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from probes.balancer.model import BalancerChangeNotApplied, BalancerError
from probes.balancer.nginx_client import NginxHost, NginxReader, stub_totals
from probes.balancer.nginx_writer import NginxWriter

NGINX = "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx is not installed")

CONF = """pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 32; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    upstream cluster {{
        hash $cookie_JSESSIONID consistent;
        include {dir}/servers.conf;
    }}
    upstream other {{
        server 10.0.0.9:8080;
    }}
    include {dir}/conf.d/*.conf;
    server {{
        listen unix:{dir}/front.sock;
        location / {{ proxy_pass http://cluster; }}
    }}
}}
"""
SERVERS = "# owned by clusterconsole\nserver 10.0.0.1:8080;\n  server 10.0.0.2:8080 weight=2;\n"


async def local(command: str, *, input: bytes, timeout: float) -> bytes:
    """The CommandRunner of this machine (sh), as the SSH layer's is of a node."""
    process = await asyncio.create_subprocess_shell(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(input), timeout)
    return out


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "tmp").mkdir()
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "servers.conf").write_text(SERVERS)
    conf = tmp_path / "nginx.conf"
    conf.write_text(CONF.format(dir=tmp_path))
    subprocess.run([NGINX, "-e", str(tmp_path / "error.log"), "-c", str(conf)], check=True)
    try:
        yield tmp_path
    finally:
        pid = int((tmp_path / "nginx.pid").read_text())
        os.kill(pid, signal.SIGTERM)  # not `nginx -s stop`: it reads the (maybe broken) conf
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # wait for the master to exit (a condition, not a fixed sleep)


def writer(where: Path) -> NginxWriter:
    host = NginxHost(local, node="here", conf=str(where / "nginx.conf"))
    return NginxWriter(NginxReader(host), str(where / "servers.conf"))


async def test_down_and_back_edit_one_line_test_reload_and_read_back(running: Path) -> None:
    edit = writer(running)
    steps: list[str] = []
    conf = await edit.host.dump()
    change = edit.plan_down(conf, "cluster", "10.0.0.2:8080", True)
    assert (change.line, change.before, change.after) == (
        3,
        "  server 10.0.0.2:8080 weight=2;",
        "  server 10.0.0.2:8080 weight=2 down;",
    )
    after = await edit.commit(change, SERVERS, steps.append)
    assert steps == [f"wrote {running}/servers.conf", "nginx -t: ok", "nginx -s reload: sent"]
    upstream = after.upstream("cluster")
    assert upstream is not None
    assert [s.down for s in upstream.servers] == [False, True]
    # a down server has no request in flight once the old workers are gone: busy 0
    assert edit.host.pid_file == f"{running}/nginx.pid" and edit.host.old_workers is not None
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        page = await edit.reader.read()
        cluster = page.balancer("cluster")
        assert cluster is not None
        served, drained = cluster.workers
        assert served.busy is None and drained.disabled and not drained.usable
        if drained.busy == 0 or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    assert drained.busy == 0, "the old workers never went"
    back = edit.plan_down(after, "cluster", "10.0.0.2:8080", False)
    final = await edit.commit(back, after.files[edit.include])
    assert (running / "servers.conf").read_text() == SERVERS
    assert final.upstream("cluster") == conf.upstream("cluster")


async def test_a_failed_nginx_t_restores_the_include_and_says_why(running: Path) -> None:
    edit = writer(running)
    conf = await edit.host.dump()
    change = edit.plan_down(conf, "cluster", "10.0.0.1:8080", True)
    (running / "conf.d" / "broken.conf").write_text("upstream broken { server; }\n")
    steps: list[str] = []
    with pytest.raises(BalancerChangeNotApplied) as caught:
        await edit.commit(change, SERVERS, steps.append)
    message = str(caught.value)
    assert "`nginx -t` refused the configuration" in message
    assert "broken.conf:1" in message and "nothing changed" in message
    assert (running / "servers.conf").read_text() == SERVERS
    assert steps == [
        f"wrote {running}/servers.conf",
        f"nginx -t failed; {running}/servers.conf restored",
    ]


async def test_a_line_changed_since_the_plan_is_not_overwritten(running: Path) -> None:
    edit = writer(running)
    change = edit.plan_down(await edit.host.dump(), "cluster", "10.0.0.1:8080", True)
    (running / "servers.conf").write_text(SERVERS.replace("10.0.0.1", "10.0.0.7"))
    with pytest.raises(BalancerChangeNotApplied, match="changed since it was read"):
        await edit.commit(change, SERVERS)
    assert "10.0.0.7" in (running / "servers.conf").read_text()


async def test_servers_outside_the_owned_file_and_unknown_ones_are_refused(running: Path) -> None:
    edit = writer(running)
    conf = await edit.host.dump()
    with pytest.raises(BalancerError, match=r"nginx\.conf:16, not in the include file"):
        edit.plan_down(conf, "other", "10.0.0.9:8080", True)
    with pytest.raises(
        BalancerError, match=r"has no server '10\.0\.0\.5:8080'; it has: 10\.0\.0\.1"
    ):
        edit.plan_down(conf, "cluster", "10.0.0.5:8080", True)
    with pytest.raises(BalancerError, match="has no upstream 'nope'; it has: cluster, other"):
        edit.plan_down(conf, "nope", "10.0.0.1:8080", True)


async def test_a_server_added_then_removed(running: Path) -> None:
    edit = writer(running)
    first = await edit.host.dump()
    conf = await edit.commit(edit.plan_add(first, "cluster", "http://10.0.0.3:8080"), SERVERS)
    upstream = conf.upstream("cluster")
    assert upstream is not None and upstream.server("10.0.0.3:8080") is not None
    conf = await edit.commit(
        edit.plan_remove(conf, "cluster", "10.0.0.3:8080"), conf.files[edit.include]
    )
    assert (running / "servers.conf").read_text() == SERVERS
    with pytest.raises(BalancerError, match="not an address:port"):
        edit.plan_add(conf, "cluster", "10.0.0.3:8080; include /etc/passwd")


async def test_output_that_does_not_end_says_so() -> None:
    async def cut(command: str, *, input: bytes, timeout: float) -> bytes:
        return b"# configuration file /x:\nhttp {"

    with pytest.raises(BalancerError, match="did not run to its end"):
        await NginxHost(cut, node="node1").dump()


def test_stub_status_totals() -> None:
    page = (
        "Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \n"
        "Reading: 6 Writing: 179 Waiting: 106 \n"
    )
    assert stub_totals(page) == {
        "active": 291,
        "accepts": 16630948,
        "handled": 16630948,
        "requests": 31070465,
        "reading": 6,
        "writing": 179,
        "waiting": 106,
    }
    assert stub_totals("<html>404</html>") is None
