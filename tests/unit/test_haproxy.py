"""HAProxy `show stat` parsing by header name, the mapping to workers, the runtime API client."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from probes.balancer.haproxy import HaproxyRow, parse_show_stat, server_state, to_page
from probes.balancer.haproxy_client import (
    HaproxyReader,
    HaproxySocket,
    HaproxyWriter,
    RemoteHaproxySocket,
)
from probes.balancer.model import BalancerChangeNotApplied, BalancerError

DATA = Path(__file__).parent / "data" / "haproxy"
DIAMOND = "h03_haproxy15_stats_csv_diamond_fixture.csv"
DATADOG = "h05_haproxy_csv_statuses_up12_maint_noCheck_downAgent_ddtest.csv"


def rows(name: str) -> list[HaproxyRow]:
    return parse_show_stat((DATA / name).read_text(encoding="utf-8"))


def server(found: list[HaproxyRow], pxname: str, svname: str) -> HaproxyRow:
    (row,) = [r for r in found if (r.pxname, r.svname) == (pxname, svname)]
    return row


def test_haproxy_15_csv_from_diamond() -> None:
    found = rows(DIAMOND)
    assert len(found) == 16
    assert sum(r.svname == "FRONTEND" for r in found) == 3
    servers = [r for r in found if r.is_server]
    assert len(servers) == 10
    assert {(r.status, r.check_status, r.check_code) for r in servers} == {("UP", "L7OK", 200)}
    app1 = server(found, "app-domain-com", "app1")
    assert (app1.weight, app1.scur, app1.smax, app1.lbtot, app1.stot) == (1, 0, 6, 461572, 461726)
    assert (app1.bin, app1.bout, app1.addr, app1.agent_status) == (
        255007214,
        1390689182,
        None,
        None,
    )
    page = to_page(found, "stats")
    assert [(b.name, len(b.workers)) for b in page.balancers] == [
        ("admin", 0),
        ("app-domain-com", 8),
        ("Trans-Service", 2),
    ]
    worker = page.balancers[1].workers[7]
    assert (worker.url, worker.route, worker.status, worker.usable) == ("app8", "app8", "UP", True)
    assert (worker.factor, worker.busy, worker.elected, worker.standby) == (1.0, 1, 461905, False)
    assert (worker.to_bytes, worker.from_bytes, worker.load, worker.lbset) == (
        255318449,
        1364393176,
        None,
        None,
    )
    assert page.balancers[1].nonce is None


def test_haproxy_statuses_from_datadog() -> None:
    found = rows(DATADOG)
    page = to_page(found, "stats")
    assert [b.name for b in page.balancers] == ["a", "b", "c"]
    b = {w.route: w for w in page.balancers[1].workers}
    c = {w.route: w for w in page.balancers[2].workers}
    assert (b["i-1"].status, b["i-1"].usable, b["i-1"].flags) == ("UP 1/2", True, ("UP", "1/2"))
    assert (b["i-3"].usable, b["i-4"].usable) == (True, False)
    assert (b["i-5"].status, b["i-5"].disabled, b["i-5"].usable) == ("MAINT", True, False)
    assert (c["i-2"].status, c["i-2"].usable) == ("DOWN (agent)", False)
    assert (c["i-3"].status, c["i-3"].usable, c["i-3"].draining) == ("NO CHECK", True, False)


def test_real_haproxy_26_with_addresses_and_states() -> None:
    found = rows("real_26_show_stat.csv")
    page = to_page(found, "socket")
    assert [b.name for b in page.balancers] == ["app"]
    node1, node2, node3 = page.balancers[0].workers
    assert (node1.url, node1.route, node1.status, node1.usable) == (
        "127.0.5.11:8080",
        "node1",
        "no check",
        True,
    )
    assert (node2.factor, node3.standby, node1.standby) == (2.0, True, False)
    changed = to_page(rows("real_26_show_stat_states.csv"), "socket").balancers[0].workers
    assert (changed[1].status, changed[1].draining, changed[1].usable) == ("DRAIN", True, True)
    assert (changed[2].status, changed[2].disabled, changed[2].usable) == ("MAINT", True, False)


def _reorder(text: str, seed: int, drop: int = 0) -> str:
    """The same CSV with columns shuffled, two unknown columns added and the last `drop` cut."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = lines[0][2:].rstrip(",").split(",")
    width = len(header) - drop
    order = list(range(width))
    random.Random(seed).shuffle(order)
    out = ["# " + ",".join([header[i] for i in order] + ["zz_new", "yy_new"]) + ","]
    for line in lines[1:]:
        cells = line.split(",")
        cells += [""] * (len(header) - len(cells))
        out.append(",".join([cells[i] for i in order] + ["7", "x"]) + ",")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", [DIAMOND, DATADOG, "real_26_show_stat_states.csv"])
@pytest.mark.parametrize("seed", [1, 2])
def test_columns_are_found_by_header_name(name: str, seed: int) -> None:
    text = (DATA / name).read_text(encoding="utf-8")
    assert parse_show_stat(_reorder(text, seed)) == parse_show_stat(text)


def test_an_old_36_column_layout_leaves_newer_fields_empty() -> None:
    text = (DATA / DIAMOND).read_text(encoding="utf-8")
    header = text.splitlines()[0][2:].split(",")
    cut = _reorder(text, 3, drop=len(header) - 1 - 33)
    found = parse_show_stat(cut)
    app1 = server(found, "app-domain-com", "app1")
    assert (app1.status, app1.weight, app1.lbtot) == ("UP", 1, 461572)
    assert (app1.check_status, app1.check_code) == (None, None)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "it is empty"),
        ("Permission denied\n\n", "Permission denied"),
        ("Unknown command. Please enter one of the following commands only :\n", "Unknown"),
        ("pxname,svname\na,b\n", "no '# pxname' header"),
    ],
)
def test_answers_that_are_not_show_stat(text: str, words: str) -> None:
    with pytest.raises(BalancerError, match=words):
        parse_show_stat(text)


def test_a_field_over_the_csv_limit_is_an_error_not_a_crash() -> None:
    with pytest.raises(BalancerError, match="show stat"):
        parse_show_stat("# pxname,svname,status\na,b," + "x" * 200_000 + "\n")


@pytest.mark.parametrize(
    ("status", "usable", "draining", "disabled"),
    [
        ("UP", True, False, False),
        ("UP 1/2", True, False, False),
        ("DOWN", False, False, False),
        ("DOWN 1/2", False, False, False),
        ("DOWN (agent)", False, False, False),
        ("NOLB", True, True, False),
        ("NOLB 1/2", True, True, False),
        ("DRAIN", True, True, False),
        ("DRAIN (agent)", True, True, False),
        ("MAINT", False, False, True),
        ("MAINT (via app/node1)", False, False, True),
        ("MAINT (resolution)", False, False, True),
        ("no check", True, False, False),
        ("NO CHECK", True, False, False),
        ("OPEN", None, None, None),
        (None, None, None, None),
    ],
)
def test_status_meanings(
    status: str | None, usable: bool | None, draining: bool | None, disabled: bool | None
) -> None:
    state = server_state(status)
    assert (state.usable, state.draining, state.disabled) == (usable, draining, disabled)


class FakeHaproxy:
    """An in-memory runtime API over the real 2.6 `show stat`, applying `set server` or not."""

    description = "fake HAProxy"

    def __init__(self, *, obey: bool = True, down: bool = False) -> None:
        self.obey = obey
        self.down = down
        self.sent: list[str] = []
        self.states = {"node1": "no check", "node2": "no check", "node3": "no check"}
        self.admin = {"node1": 0, "node2": 0, "node3": 0}

    async def send(self, command: str) -> str:
        self.sent.append(command)
        if command == "show stat":
            text = (DATA / "real_26_show_stat.csv").read_text(encoding="utf-8")
            for name, status in self.states.items():
                shown = "DOWN" if self.down and not status.startswith("MAINT") else status
                text = _set_status(text, name, shown)
            return text
        if command.startswith("show servers state"):
            lines = ["1", "# be_id be_name srv_id srv_name srv_admin_state"]
            lines += [f"3 app {i} {n} {a}" for i, (n, a) in enumerate(self.admin.items(), 1)]
            return "\n".join(lines) + "\n\n"
        if command.startswith("set server app/"):
            name, state = command.split()[2].split("/")[1], command.split()[-1]
            if name not in self.states:
                return "No such server.\n\n"
            if self.obey:
                self.states[name] = {"ready": "no check", "drain": "DRAIN", "maint": "MAINT"}[state]
                self.admin[name] = {"ready": 0, "drain": 8, "maint": 1}[state]
            return "\n"
        return "Unknown command.\n"


def _set_status(text: str, name: str, status: str) -> str:
    lines = text.splitlines()
    header = lines[0][2:].split(",")
    index = header.index("status")
    for number, line in enumerate(lines):
        if line.startswith(f"app,{name},"):
            cells = line.split(",")
            cells[index] = status
            lines[number] = ",".join(cells)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("state", "shown"), [("drain", "DRAIN"), ("maint", "MAINT")])
async def test_set_state_sends_the_command_and_reads_back(state: str, shown: str) -> None:
    fake = FakeHaproxy()
    row = await HaproxyWriter(HaproxyReader(fake)).set_state("app", "node2", state)  # type: ignore[arg-type]
    assert row.status == shown
    assert fake.sent == ["show stat", f"set server app/node2 state {state}", "show stat"]
    ready = await HaproxyWriter(HaproxyReader(fake)).set_state("app", "node2", "ready")
    assert ready.status == "no check"


async def test_a_change_haproxy_does_not_show_is_reported() -> None:
    fake = FakeHaproxy(obey=False)
    with pytest.raises(BalancerChangeNotApplied, match="state asked drain, status seen 'no check'"):
        await HaproxyWriter(HaproxyReader(fake)).set_state("app", "node1", "drain")


async def test_a_down_server_is_checked_through_its_admin_state() -> None:
    fake = FakeHaproxy(down=True)
    row = await HaproxyWriter(HaproxyReader(fake)).set_state("app", "node1", "drain")
    assert row.status == "DOWN"
    assert fake.sent[-1] == "show servers state app"


async def test_server_matching_is_exact_and_names_what_exists() -> None:
    fake = FakeHaproxy()
    writer = HaproxyWriter(HaproxyReader(fake))
    with pytest.raises(BalancerError, match=r"no server named exactly 'node'; it has: node1"):
        await writer.set_state("app", "node", "drain")
    with pytest.raises(BalancerError, match=r"no backend 'ap'; it has: app"):
        await writer.set_state("ap", "node1", "drain")
    assert not any(command.startswith("set ") for command in fake.sent)


@pytest.mark.parametrize(
    ("backend", "server", "state"),
    [
        ("app", "node1", "up"),
        ("app", "node1;shutdown sessions", "drain"),
        ("app", "node1\nshow stat", "drain"),
        ("app x", "node1", "drain"),
        ("app", "", "drain"),
    ],
)
def test_commands_are_validated(backend: str, server: str, state: str) -> None:
    with pytest.raises(BalancerError):
        HaproxyWriter(HaproxyReader(FakeHaproxy())).command_for(backend, server, state)


def test_the_command_for_a_dry_run() -> None:
    writer = HaproxyWriter(HaproxyReader(FakeHaproxy()))
    assert writer.command_for("app", "node1", "maint") == "set server app/node1 state maint"


async def test_remote_socket_runs_socat_through_the_runner() -> None:
    calls: list[tuple[str, bytes, float]] = []
    answer = (DATA / "real_26_show_stat.csv").read_bytes()

    async def runner(command: str, *, input: bytes, timeout: float) -> bytes:
        calls.append((command, input, timeout))
        return answer

    transport = RemoteHaproxySocket(runner, "/run/haproxy/admin.sock", node="lb1", timeout=3)
    found = await HaproxyReader(transport).read()
    assert len(found) == 5
    assert calls == [("socat stdio UNIX-CONNECT:/run/haproxy/admin.sock", b"show stat\n", 3)]


async def test_remote_failures_become_sentences() -> None:
    async def runner(command: str, *, input: bytes, timeout: float) -> bytes:
        raise OSError("ssh: connection closed")

    transport = RemoteHaproxySocket(runner, "/run/haproxy/admin.sock", node="lb1")
    with pytest.raises(BalancerError, match=r"admin\.sock on lb1: ssh: connection closed"):
        await HaproxyReader(transport).read()


@pytest.mark.parametrize("path", ["relative.sock", "/run/x;rm -rf /", "/run/$(id)", "/a/../b"])
def test_remote_socket_paths_are_plain(path: str) -> None:
    async def runner(command: str, *, input: bytes, timeout: float) -> bytes:
        raise AssertionError("never run")

    with pytest.raises(BalancerError, match="plain absolute path"):
        RemoteHaproxySocket(runner, path)


async def test_local_socket_round_trip(tmp_path: Path) -> None:
    received: list[bytes] = []
    answer = (DATA / "real_26_show_stat.csv").read_bytes()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readline())
        writer.write(answer)
        await writer.drain()
        writer.close()

    path = tmp_path / "admin.sock"
    server_ = await asyncio.start_unix_server(serve, path=str(path))
    async with server_:
        found = await HaproxyReader(HaproxySocket(path, timeout=5)).read()
    assert received == [b"show stat\n"]
    assert [r.svname for r in found] == ["FRONTEND", "node1", "node2", "node3", "BACKEND"]


async def test_local_socket_failures(tmp_path: Path) -> None:
    missing = HaproxySocket(tmp_path / "nope.sock")
    with pytest.raises(BalancerError, match=r"nope\.sock does not exist"):
        await missing.send("show stat")
    (tmp_path / "plain").write_text("x")
    with pytest.raises(BalancerError, match="plain: connection refused"):
        await HaproxySocket(tmp_path / "plain").send("show stat")

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    path = tmp_path / "slow.sock"
    server_ = await asyncio.start_unix_server(silent, path=str(path))
    async with server_:
        with pytest.raises(BalancerError, match=r"did not answer 'show stat' within 0\.2 s"):
            await HaproxySocket(path, timeout=0.2).send("show stat")
    with pytest.raises(BalancerError, match="not one plain command"):
        await HaproxySocket(path).send("show stat; shutdown frontend web")
