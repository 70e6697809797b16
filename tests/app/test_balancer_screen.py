"""The balancer view: workers in words, rates from successive reads, confirmed changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input, Sparkline, Static

from console.audit import AuditError
from console.cluster.observations import BalancerObserved
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import (
    Balancer,
    BalancerChangeNotApplied,
    BalancerPage,
    Worker,
    make_worker,
)
from screens.balancer import ACTIONS, BalancerScreen
from screens.confirm import ConfirmScreen, DetailScreen, NumberPrompt
from screens.widgets.keybar import KeyBar
from tests.app.views_harness import INVENTORY, NASTY, HarnessApp, inventory, plain, wait_for

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
        # One point per read in both sparklines, so they line up in time (the first read has
        # no rate yet: a gap drawn as zero).
        spark = app.screen.query_one("#spark-elected", Sparkline)
        assert list(spark.data or []) == [0.0, 10.0, 20.0]
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
        for refused in ("101", "1.5x", "abc", "1.005", "0.5", "nan", ""):
            field.value = refused
            await pilot.press("enter")
            error = app.screen.query_one("#prompt-error")
            await wait_for(lambda error=error: "from 1 to 100" in plain(error))  # type: ignore[misc]
            assert isinstance(app.screen, NumberPrompt), refused
            app.screen.query_one("#prompt-error", Static).update("")
        field.value = "7"
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(lambda: "factor: asked 7, seen 1 [/" in notes(app))
        assert actions.calls[-1][1][2] == WorkerChange(factor=7.0)
        actions.fail = None
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, NumberPrompt))
        await pilot.press("ctrl+u", *"1.5", "enter")  # typed: the dot is kept (it became 15)
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
        assert "w_lf=1.5" in plain(app.screen.query_one("#confirm-body"))
        await pilot.press("y")
        await wait_for(lambda: actions.calls[-1][0] == "set")
        assert actions.calls[-1][1][2] == WorkerChange(factor=1.5)
        actions.fail = AuditError("the audit log cannot be written: disk full")
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(lambda: "the audit log cannot be written: disk full" in notes(app))


def two_pools(status: str = "Init Ok ") -> BalancerObserved:
    workers = tuple(
        make_worker(f"http://10.0.0.{i}:8080", route=f"node{i}", status=status, elected=i)
        for i in (1, 2)
    )
    page = BalancerPage(URL, (Balancer("cluster", "n", workers), Balancer("other", "n", workers)))
    return BalancerObserved("httpd", page, None, 1.0)


async def test_status_words_are_never_cut_and_columns_shrink_back(tmp_path: Path) -> None:
    app = HarnessApp(inventory(tmp_path), BalancerScreen, observations=[read(1, 1.0)])
    async with app.run_test(size=(200, 40)):
        await wait_for(lambda: len(rows(app)) == 2)
        table = app.screen.query_one(DataTable)
        narrow = table.columns["status"].get_render_width(table)  # type: ignore[index]
        app.observe(read(2, 2.0, status="Init Drn Dis "))
        await wait_for(lambda: rows(app)[0][5] == "DISABLED Init Drn Dis")
        need = len("DISABLED Init Drn Dis") + 2
        assert need > narrow
        await wait_for(
            lambda: table.columns["status"].get_render_width(table) >= need  # type: ignore[index]
        )
        app.observe(read(3, 3.0, status="Init Drn Ok "))
        await wait_for(lambda: rows(app)[0][5] == "DRAINING Init Drn Ok")
        app.observe(read(4, 4.0))
        await wait_for(lambda: rows(app)[0][5] == "serving Init Ok")
        await wait_for(
            lambda: table.columns["status"].get_render_width(table) == narrow  # type: ignore[index]
        )


async def test_home_and_end_move_the_cursor_that_actions_use(tmp_path: Path) -> None:
    actions = FakeActions()
    app = HarnessApp(
        inventory(tmp_path), BalancerScreen, worker_actions=actions, observations=[two_pools()]
    )
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for(lambda: len(rows(app)) == 4)
        screen = app.screen
        assert isinstance(screen, BalancerScreen)
        await pilot.press("end")
        target = screen.selected()
        assert target is not None and (target.pool, target.url) == ("other", "http://10.0.0.2:8080")
        await pilot.press("home")
        target = screen.selected()
        assert target is not None and (target.pool, target.url) == (
            "cluster",
            "http://10.0.0.1:8080",
        )
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
        assert actions.calls[0][1][1] == "http://10.0.0.1:8080"
        assert actions.calls[0][1][3] == "cluster"


async def test_stale_rows_while_the_balancer_cannot_be_read(tmp_path: Path) -> None:
    app = HarnessApp(
        inventory(tmp_path), BalancerScreen, observations=[read(100, 1000.0), read(120, 1002.0)]
    )
    async with app.run_test(size=(200, 40)):
        await wait_for(lambda: rows(app) and rows(app)[0][9].startswith("10.0"))
        app.observe(BalancerObserved("httpd", None, "timed out", 1030.0))
        await wait_for(lambda: rows(app)[0][5].startswith("stale"))
        first = rows(app)[0]
        assert "serving" not in first[5].split("(")[0]
        assert first[9] == "-" and first[10] == "-"  # no live-looking rates
        summary = plain(app.screen.query_one("#balancer-summary"))
        assert "UNREACHABLE timed out" in summary
        assert "STALE" in summary and "last successful read" in summary
        app.observe(read(130, 1032.0))
        await wait_for(lambda: rows(app)[0][5].startswith("serving"))


async def test_enter_opens_the_worker_detail(tmp_path: Path) -> None:
    nasty = "ajp://" + "".join(NASTY)
    app = HarnessApp(inventory(tmp_path), BalancerScreen, observations=[read(5, 1.0, extra=nasty)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: len(rows(app)) == 3)
        await pilot.press("end", "enter")
        await wait_for(lambda: isinstance(app.screen, DetailScreen))
        body = plain(app.screen.query_one("#detail-body"))
        assert "UNUSABLE" in body and "node:" in body and "not in inventory" in body
        assert "route:" in body and "elected:" in body
        assert nasty.replace("\x1b", "\\x1b") in plain(app.screen.query_one("#detail-title"))
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, BalancerScreen))


async def test_at_80x24_elected_per_second_and_busy_stay_in_sight(tmp_path: Path) -> None:
    app = HarnessApp(
        inventory(tmp_path), BalancerScreen, observations=[read(1, 1.0), read(21, 3.0, busy=4)]
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: len(rows(app)) == 2)
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        labels = [str(column.label) for column in table.columns.values()]
        assert labels == ["worker", "node", "status", "factor", "elected/s", "busy"]
        assert sum(column.get_render_width(table) for column in table.columns.values()) <= 80
        assert rows(app)[0][4].startswith("10.0") and rows(app)[0][5].startswith("4")
        selected = plain(app.screen.query_one("#balancer-selected"))
        assert "balancer httpd" in selected and "pool cluster" in selected


async def test_haproxy_weight_is_refused_before_any_prompt(tmp_path: Path) -> None:
    text = INVENTORY.replace('kind = "apache"', 'kind = "haproxy"').replace(
        "/balancer-manager", "/stats;csv"
    )
    actions = FakeActions()
    app = HarnessApp(
        inventory(tmp_path, text),
        BalancerScreen,
        worker_actions=actions,
        observations=[read(1, 1.0)],
    )
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for(lambda: len(rows(app)) == 2)
        await pilot.press("f")
        await wait_for(lambda: any("not the weight" in n for n in notes(app)))
        assert not isinstance(app.screen, NumberPrompt) and actions.calls == []


async def test_at_80x24_the_confirmation_shows_its_buttons_and_its_own_keys(
    tmp_path: Path,
) -> None:
    actions = FakeActions()
    app = HarnessApp(
        inventory(tmp_path), BalancerScreen, worker_actions=actions, observations=[read(1, 1.0)]
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: len(rows(app)) == 2)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.pause()
        dialog = app.screen
        screen_region = dialog.region
        for button in ("#confirm-yes", "#confirm-no"):
            region = dialog.query_one(button).region
            assert region.height and screen_region.contains_region(region), button
        bar = dialog.query_one(KeyBar)
        await wait_for(lambda: bar.keys)
        shown = {key.key for key in bar.keys}
        assert {"y", "n"} <= shown and "d" not in shown and "q" not in shown
        assert bar.region.bottom == 24
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, BalancerScreen))


async def test_after_a_counter_reset_the_sparklines_stay_aligned_with_a_gap(
    tmp_path: Path,
) -> None:
    """An httpd restart resets Elected: no rate for that read (a gap), never "-████████"."""
    app = HarnessApp(
        inventory(tmp_path),
        BalancerScreen,
        observations=[read(100, 10.0), read(120, 12.0, busy=2), read(140, 14.0, busy=1)],
    )
    async with app.run_test(size=(200, 40)):
        await wait_for(lambda: rows(app) and rows(app)[0][9].startswith("10.0"))
        app.observe(read(3, 16.0, busy=1))  # restarted: the counter went back
        await wait_for(lambda: rows(app)[0][9].startswith("-"))
        assert rows(app)[0][9].startswith("- ")  # like "10.0 ▁▂": a space before the spark
        screen = app.screen
        assert isinstance(screen, BalancerScreen)
        history = screen.history[("httpd", "cluster", "http://10.0.0.1:8080")]
        assert len(history.elected_rate) == len(history.busy) == 2  # one point per read each
        assert list(history.elected_rate)[-1] is None  # a gap, not a bar
        label = plain(app.screen.query_one("#spark-elected-label"))
        assert "now unknown (counters reset)" in label
