"""WorkerActions: planned requests, audited changes read back, a balancer that ignores a change,
HAProxy's one admin state, and no password in the audit log."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from console.audit import AuditLog, read_entries
from console.config import load_inventory
from console.config.model import Inventory
from console.operations.workers import WorkerActions, haproxy_state
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import BalancerChangeNotApplied, BalancerError

DATA = Path(__file__).parent / "data" / "balancer"
PAGE = (DATA / "real_2471_page.html").read_text(encoding="latin-1")
URL = "http://127.0.5.1:8000/balancer-manager"
ROW = '<a href="/balancer-manager?b=cluster&amp;w=http://127.0.5.12:8080'


def inventory(tmp_path: Path, *, auth: bool = False) -> Inventory:
    extra = 'username = "admin"\npassword_env = "CC_TEST_LB_PASSWORD"\n' if auth else ""
    text = (
        '[cluster]\nname = "t"\n'
        '[[nodes]]\nname = "node2"\nhost = "127.0.5.12"\ncatalina_base = "/opt/t"\n'
        f'[[balancers]]\nname = "httpd"\nkind = "apache"\nurl = "{URL}"\n{extra}'
    )
    path = tmp_path / "cluster.toml"
    path.write_text(text, encoding="utf-8")
    return load_inventory(path)


class FakeManager:
    """A balancer-manager that applies (or, when `ignore`, ignores) drain/disable on node2."""

    def __init__(self, *, ignore: bool = False) -> None:
        self.ignore = ignore
        self.status = "Init Ok "
        self.posts: list[httpx.Request] = []

    def page(self) -> str:
        head, _, tail = PAGE.partition(ROW)
        return head + ROW + tail.replace("Init Ok ", self.status, 1)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts.append(request)
            form = dict(parse_qsl(request.content.decode()))
            if not self.ignore and request.headers.get("referer") == URL:
                flags = ["Init"]
                if form.get("w_status_N") == "1":
                    flags.append("Drn")
                if form.get("w_status_D") == "1":
                    flags.append("Dis")
                else:
                    flags.append("Ok")
                self.status = " ".join(flags) + " "
        return httpx.Response(200, text=self.page(), headers={"content-type": "text/html"})


def actions(tmp_path: Path, manager: FakeManager, **options: bool) -> WorkerActions:
    audit = AuditLog(tmp_path / "audit.jsonl", "scripted", "t")
    return WorkerActions(
        inventory(tmp_path, **options), audit, http_transport=httpx.MockTransport(manager)
    )


def test_plan_is_the_exact_request_and_sends_nothing(tmp_path: Path) -> None:
    manager = FakeManager()
    wa = actions(tmp_path, manager)
    planned = asyncio.run(wa.plan("httpd", "node2", WorkerChange(drain=True)))
    assert manager.posts == []
    assert planned.pool == "cluster" and planned.worker == "http://127.0.5.12:8080"
    assert planned.change == "drain on"
    assert planned.request["headers"]["Referer"] == URL
    assert ["w_status_N", "1"] in planned.request["form"]
    assert not (tmp_path / "audit.jsonl").exists()


def test_set_worker_audits_before_and_after_and_reads_back(tmp_path: Path) -> None:
    manager = FakeManager()
    wa = actions(tmp_path, manager)
    worker = asyncio.run(
        wa.set_worker("httpd", "node2", WorkerChange(drain=True), node="node2", wizard="drain")
    )
    assert worker.draining is True and worker.status == "Init Drn Ok"
    assert len(manager.posts) == 1
    before, after = read_entries(tmp_path / "audit.jsonl")
    assert (before["phase"], after["phase"]) == ("before", "after")
    assert before["request"]["body"].endswith("w_status_N=1")
    assert before["wizard"] == "drain" and before["node"] == "node2"
    assert before["state_before"]["worker"]["status"] == "Init Ok"  # as read before the POST
    assert after["result"]["ok"] is True
    assert after["result"]["worker"]["status"] == "Init Drn Ok"


def test_a_balancer_that_ignores_the_change_is_detected_and_audited(tmp_path: Path) -> None:
    manager = FakeManager(ignore=True)
    wa = actions(tmp_path, manager)
    with pytest.raises(BalancerChangeNotApplied, match="did not apply drain on"):
        asyncio.run(wa.set_worker("httpd", "node2", WorkerChange(drain=True)))
    after = read_entries(tmp_path / "audit.jsonl")[-1]
    assert after["result"]["ok"] is False and "did not apply" in after["result"]["error"]


def test_the_password_never_reaches_the_audit_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CC_TEST_LB_PASSWORD", "hunter2-secret")
    manager = FakeManager()
    wa = actions(tmp_path, manager, auth=True)
    asyncio.run(wa.set_worker("httpd", "node2", WorkerChange(disabled=True)))
    assert manager.posts[0].headers["authorization"].startswith("Basic ")
    text = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert "hunter2" not in text and "authorization" not in text.lower()


def test_unknown_balancer_and_worker_are_sentences(tmp_path: Path) -> None:
    wa = actions(tmp_path, FakeManager())
    with pytest.raises(BalancerError, match="no balancer 'nope'; it has: httpd"):
        asyncio.run(wa.plan("nope", "node2", WorkerChange(drain=True)))
    with pytest.raises(BalancerError, match="no balancer 'cluster2'; it has: cluster"):
        asyncio.run(wa.plan("httpd", "node2", WorkerChange(drain=True), pool="cluster2"))
    with pytest.raises(BalancerError, match="exactly 'node9'"):
        asyncio.run(wa.plan("httpd", "node9", WorkerChange(drain=True)))


def test_haproxy_states() -> None:
    assert haproxy_state(WorkerChange(drain=True)) == "drain"
    assert haproxy_state(WorkerChange(disabled=True)) == "maint"
    assert haproxy_state(WorkerChange(drain=False, disabled=False)) == "ready"
    with pytest.raises(BalancerError, match="ready, drain or maint"):
        haproxy_state(WorkerChange(factor=2))
    with pytest.raises(BalancerError, match="together"):
        haproxy_state(WorkerChange(drain=False))
