"""`clusterconsole status` as a person reads it: aligned columns, the dashboard's peer counts,
every problem with its code, and nothing unknown passed off as healthy."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cluster.observations import (
    BacklogScanned,
    BalancerObserved,
    EventObserved,
    HttpObserved,
    Observation,
    ProcessObserved,
    SshObserved,
)
from console.cluster.peers import expected_peers, peers_text
from console.cluster.state import ClusterState, replay
from console.cluster.topology import specs_for
from console.commands.status import evaluate, render_table
from console.config import load_inventory_text
from console.config.model import Inventory
from probes.balancer.model import Balancer, BalancerPage, make_worker
from probes.http import HttpCheck
from probes.logs.model import LogEvent
from probes.process import TomcatProcess

NAMES = ("node1", "a-rather-long-node-name-02", "node3")
ADDRESS = dict(zip(NAMES, ("10.0.0.1", "10.0.0.2", "10.0.0.3"), strict=True))
LOG = "/opt/t/logs/catalina.out"


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    text = '[cluster]\nname = "prod"\n'
    for name in NAMES:
        text += (
            f'[[nodes]]\nname = "{name}"\nhost = "{ADDRESS[name]}"\ncatalina_base = "/opt/t"\n'
            f'http = "http://{ADDRESS[name]}:8080/app/"\n'
        )
    text += '[[balancers]]\nname = "httpd"\nkind = "apache"\nurl = "http://10.0.0.9/bm"\n'
    return load_inventory_text(text, tmp_path / "cluster.toml")


def _joined(observer: str, member: str) -> EventObserved:
    event = LogEvent(
        kind="member-joined",
        source="tomcat",
        line=1,
        offset=0,
        time="2026-12-06T07:16:49.000",
        member=f"{ADDRESS[member]}:4000",
    )
    return EventObserved(observer, LOG, event, 1.0)


def _state(inventory: Inventory, *, stopped: str | None = None) -> ClusterState:
    """Every node up and seeing the others, except `stopped` (Tomcat down, its URL refused)."""
    seen: list[Observation] = []
    for name in NAMES:
        url = f"http://{ADDRESS[name]}:8080/app/"
        running = name != stopped
        seen += [
            SshObserved(name, "up", None, 1.0),
            ProcessObserved(name, TomcatProcess("running" if running else "stopped"), 1.0),
            HttpObserved(
                name,
                HttpCheck(url, 200, 3.7) if running else HttpCheck(url, None, None, "refused"),
                1.0,
            ),
            BacklogScanned(name, LOG, True, 1.0),
        ]
        if running:
            seen += [_joined(name, other) for other in NAMES if other not in (name, stopped)]
    workers = tuple(
        make_worker(f"http://{ADDRESS[name]}:8080", route=name, status="Init Ok", elected=5, busy=0)
        for name in NAMES
    )
    page = BalancerPage("http://10.0.0.9/bm", (Balancer("cluster", "n", workers),))
    seen.append(BalancerObserved("httpd", page, None, 1.0))
    return replay(ClusterState.initial(inventory, specs_for(inventory, resolve_names=False)), seen)


def _columns(header: str, names: tuple[str, ...]) -> list[int]:
    return [header.index(name) for name in names]


def test_the_header_sits_over_its_columns_whatever_the_content(inventory: Inventory) -> None:
    state = _state(inventory, stopped="node3")
    text = render_table(state, evaluate(state, inventory, 25.0))
    lines = text.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("NODE"))
    starts = _columns(header, ("NODE", "SSH", "TOMCAT", "HTTP", "PEERS", "LAST EVENT"))
    rows = [line for line in lines if line.lstrip().startswith(NAMES)]
    assert len(rows) == 3
    for row in rows:
        for start in starts[1:]:
            assert row[start - 2 : start] == "  " and row[start] != " ", (header, row)
    long_row = next(row for row in rows if "a-rather-long" in row)
    assert long_row[starts[1] :].startswith("up ")
    stopped_row = next(row for row in rows if row.lstrip().startswith("node3"))
    assert stopped_row[starts[3] :].startswith("refused")
    worker_header = next(line for line in lines if line.lstrip().startswith("WORKER"))
    worker_rows = [line for line in lines if line.lstrip().startswith("http://10.0.0.")]
    for name in ("ROUTE", "STATUS", "ELECTED", "BUSY"):
        start = worker_header.index(name)
        assert all(row[start - 2 : start] == "  " and row[start] != " " for row in worker_rows)


def test_peers_count_like_the_dashboard_a_stopped_node_is_not_expected(
    inventory: Inventory,
) -> None:
    """With node3 stopped the console shows 1/1; `status` used to say 1/2."""
    state = _state(inventory, stopped="node3")
    text = render_table(state, evaluate(state, inventory, 25.0))
    lines = text.splitlines()
    start, end = lines[1].index("PEERS"), lines[1].index("LAST EVENT")
    peers = {line.split()[0]: line[start:end].strip() for line in lines[2:5]}
    assert peers == {"node1": "1/1", "a-rather-long-node-name-02": "1/1", "node3": "-"}
    expected = expected_peers(state)
    assert {v.name: peers_text(v, expected[v.name], state.specs) for v in state.nodes} == peers


def test_every_problem_line_shows_its_code(inventory: Inventory) -> None:
    state = _state(inventory, stopped="node3")
    found = evaluate(state, inventory, 25.0)
    assert {problem.code for problem in found} >= {"tomcat-stopped", "worker-to-stopped-node"}
    text = render_table(state, found)
    for problem in found:
        line = next(line for line in text.splitlines() if problem.text in line)
        assert line.split()[:2] == [problem.severity.upper(), problem.code]


def test_a_healthy_cluster_says_so_and_shows_the_request_time(inventory: Inventory) -> None:
    state = _state(inventory)
    found = evaluate(state, inventory, 25.0)
    assert found == ()
    text = render_table(state, found)
    assert text.endswith("no problems found\n")
    assert "200 4ms" in text and "2/2" in text and "07:16:49 member-joined 10.0.0." in text


def test_a_fact_still_unknown_is_a_problem_never_a_healthy_exit(inventory: Inventory) -> None:
    """SSH up but `ps` and the log history never answered: `no-answer`, so status exits 1."""
    state = _state(inventory)
    state = replay(
        ClusterState.initial(inventory, specs_for(inventory, resolve_names=False)),
        [
            observation
            for observation in _observations(state)
            if not (
                getattr(observation, "node", None) == "node1"
                and isinstance(observation, ProcessObserved | BacklogScanned)
            )
        ],
    )
    found = evaluate(state, inventory, 25.0)
    unknown = [problem for problem in found if problem.code == "no-answer"]
    assert [problem.node for problem in unknown] == ["node1", "node1"]
    assert "whether Tomcat runs on node1 is unknown" in unknown[0].text + unknown[1].text
    assert all("within 25 s" in problem.text for problem in unknown)


def _observations(state: ClusterState) -> list[Observation]:
    """Observations rebuilding `state` (the fixture's healthy cluster)."""
    out: list[Observation] = []
    for view in state.nodes:
        assert view.http is not None
        out += [
            SshObserved(view.name, "up", None, 1.0),
            ProcessObserved(view.name, TomcatProcess("running"), 1.0),
            HttpObserved(view.name, view.http, 1.0),
            BacklogScanned(view.name, LOG, True, 1.0),
        ]
        out += [_joined(view.name, other) for other in NAMES if other != view.name]
    for balancer in state.balancers:
        out.append(BalancerObserved(balancer.name, balancer.page, None, 1.0))
    return out
