"""The balancer view: workers in words, rates from successive reads, confirmed changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input, Sparkline

from console.audit import AuditError
from console.observations import BalancerObserved
from probes.balancer import Balancer, BalancerChangeNotApplied, BalancerPage, Worker, make_worker
from probes.balancer_client import WorkerChange
from screens.balancer import ACTIONS, BalancerScreen
from screens.confirm import ConfirmScreen, NumberPrompt
from tests.app.views_harness import NASTY, HarnessApp, inventory, plain, wait_for

URL = "http://10.0.0.100/balancer-manager"


def page(elected: int, *, busy: int = 0, status: str = "Init Ok ", extra: str = "") -> BalancerPage:
    workers = [
        make_worker(
            "http://10.0.0.1:8080",
            route="node1",
            status=status,
            elected=elected,
            busy=busy,
            factor=1.0,
        ),
        make_worker(
            "http://10.0.0.2:8080",
            route="node2",
            status="Init Ok ",
            elected=elected,
            busy=0,
            factor=1.0,
        ),
    ]
    if extra:
        workers.append(make_worker(extra, route=extra, status="Init Err ", elected=0))
    return BalancerPage(URL, (Balancer("cluster", "nonce", tuple(workers)),))


def read(elected: int, at: float, **kw: Any) -> BalancerObserved:
    return BalancerObserved("httpd", page(elected, **kw), None, at)


@dataclass
class Planned:
    balancer: str
    pool: str | None
    worker: str
    change: str
    request: dict[str, Any]


@dataclass
class FakeActions:
    """Records calls; answers like console.operations.workers.WorkerActions."""

    fail: Exception | None = None
    calls: list[tuple[str, Any]] = field(default_factory=list)

    async def plan(
        self, balancer: str, worker: str, change: WorkerChange, *, pool: str | None = None
    ) -> Planned:
        self.calls.append(("plan", (balancer, worker, change, pool)))
        return Planned(
            balancer,
            pool,
            worker,
            change.describe(),
            {
                "method": "POST",
                "url": URL,
                "headers": {"Referer": URL, "Authorization": "Basic c2VjcmV0"},
                "form": [["b", pool], ["w", worker], *[list(p) for p in change.form()]],
            },
        )

    async def set_worker(
        self,
        balancer: str,
        worker: str,
        change: WorkerChange,
        *,
        pool: str | None = None,
        node: str | None = None,
        wizard: str | None = None,
        step: str = "worker-change",
    ) -> Worker:
        self.calls.append(("set", (balancer, worker, change, pool, node, step)))
        if self.fail is not None:
            raise self.fail
        return make_worker(worker, status="Init Drn Ok ")


def rows(app: HarnessApp) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def notes(app: HarnessApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_workers_in_words_with_rates_and_literal_urls(tmp_path: Path) -> None:
    nasty = "ajp://" + "".join(NASTY)
    app = HarnessApp(
        inventory(tmp_path), BalancerScreen, observations=[read(100, 10.0, extra=nasty)]
    )
    async with app.run_test(size=(220, 40)):
        await wait_for(lambda: len(rows(app)) == 3)
        first = rows(app)[0]
        assert first[2] == "http://10.0.0.1:8080" and first[4] == "node1"
        assert first[5].startswith("serving")
        assert rows(app)[2][2] == "ajp://[bold][/[0][red]x[/red]\\x1b[31m"
        assert rows(app)[2][5].startswith("UNUSABLE")
        assert rows(app)[2][4] == "not in inventory"
        app.observe(read(120, 12.0, busy=3, status="Init Drn Ok "))
        await wait_for(lambda: rows(app)[0][9].startswith("10.0"))
        assert rows(app)[0][5].startswith("DRAINING")
        app.observe(read(160, 14.0, busy=5, status="Init Drn Ok "))
        await wait_for(lambda: rows(app)[0][9].startswith("20.0"))
        spark = app.screen.query_one("#spark-elected", Sparkline)
        assert list(spark.data or []) == [10.0, 20.0]
        assert list(app.screen.query_one("#spark-busy", Sparkline).data or []) == [0.0, 3.0, 5.0]
        app.observe(BalancerObserved("httpd", None, "connection refused [/red]", 16.0))
        summary = app.screen.query_one("#balancer-summary")
        await wait_for(lambda: "UNREACHABLE connection refused [/red]" in plain(summary))


async def test_watch_mode_has_no_actions(tmp_path: Path) -> None:
    actions = FakeActions()
    app = HarnessApp(
        inventory(tmp_path),
        BalancerScreen,
        read_only=True,
        worker_actions=actions,
        observations=[read(1, 1.0)],
    )
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for(lambda: len(rows(app)) == 2)
        bound = {b.action for bs in app.screen._bindings.key_to_bindings.values() for b in bs}
        assert not bound & ACTIONS
        active = {b.binding.action for b in app.screen.active_bindings.values()}
        assert not active & ACTIONS
        await pilot.press("d", "x", "s", "f")
        await pilot.pause()
        assert actions.calls == []
        assert not isinstance(app.screen, ConfirmScreen | NumberPrompt)


async def test_drain_is_planned_confirmed_applied_and_read_back(tmp_path: Path) -> None:
    actions = FakeActions()
    app = HarnessApp(
        inventory(tmp_path), BalancerScreen, worker_actions=actions, observations=[read(1, 1.0)]
    )
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for(lambda: len(rows(app)) == 2)
        active = {b.binding.id for b in app.screen.active_bindings.values()}
        assert {
            "balancer.drain",
            "balancer.disable",
            "balancer.standby",
            "balancer.factor",
        } <= active
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
        body = plain(app.screen.query_one("#confirm-body"))
        assert "w_status_N=1" in body and "http://10.0.0.1:8080" in body
        assert "Basic" not in body and "(hidden)" in body
        await pilot.press("y")
        await wait_for(lambda: any("read back: DRAINING" in n for n in notes(app)))
        assert actions.calls[1] == (
            "set",
            (
                "httpd",
                "http://10.0.0.1:8080",
                WorkerChange(drain=True),
                "cluster",
                "node1",
                "balancer-screen",
            ),
        )


async def test_cancel_changes_nothing(tmp_path: Path) -> None:
    actions = FakeActions()
    app = HarnessApp(
        inventory(tmp_path), BalancerScreen, worker_actions=actions, observations=[read(1, 1.0)]
    )
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for(lambda: len(rows(app)) == 2)
        await pilot.press("down", "x")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await wait_for(lambda: any(n.startswith("cancelled: disabled on") for n in notes(app)))
        assert [name for name, _ in actions.calls] == ["plan"]
        assert actions.calls[0][1][1] == "http://10.0.0.2:8080"


async def test_factor_prompt_and_errors_become_sentences(tmp_path: Path) -> None:
    actions = FakeActions(fail=BalancerChangeNotApplied("factor: asked 7, seen 1 [/"))
    app = HarnessApp(
        inventory(tmp_path), BalancerScreen, worker_actions=actions, observations=[read(1, 1.0)]
    )
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for(lambda: len(rows(app)) == 2)
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, NumberPrompt))
        field = app.screen.query_one(Input)
        assert field.value == "1", "the prompt starts at the current factor"
        field.value = "101"
        await pilot.press("enter")
        await wait_for(lambda: "from 1 to 100" in plain(app.screen.query_one("#prompt-error")))
        assert isinstance(app.screen, NumberPrompt), "101 is out of range"
        field.value = "7"
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(lambda: "factor: asked 7, seen 1 [/" in notes(app))
        assert actions.calls[-1][1][2] == WorkerChange(factor=7.0)
        actions.fail = AuditError("the audit log cannot be written: disk full")
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(lambda: "the audit log cannot be written: disk full" in notes(app))
