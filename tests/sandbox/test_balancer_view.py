"""The balancer view's worker actions on the real sandbox httpd, through the real app.

The interactive console (real monitor, real `WorkerActions`) is driven with the keys an operator
presses: `3` for the balancer view, the down arrow to node2's worker, `d` to drain, `y` (or `n`)
at the confirmation. What httpd shows is checked with a reader of the test's own, and every
change must be in the audit file as one before/after pair. Every worker is enabled again in a
`finally`, whatever happened.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest
from rich.text import Text
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from console.audit import AUDIT_ENV, read_entries
from console.config import load_inventory
from console.sandbox.layout import NodeLayout, SandboxLayout
from probes.balancer.httpd_client import BalancerReader, BalancerWriter, WorkerChange
from probes.balancer.model import BalancerPage, Worker
from screens.app import ClusterConsoleApp
from screens.balancer import BalancerScreen
from screens.confirm import ConfirmScreen

from .helpers import wait_until_async

pytestmark = [pytest.mark.sandbox]

POOL = "cluster"
BALANCER = "httpd"
"""The sandbox inventory's `[[balancers]]` name."""
READ_TIMEOUT = 60.0
"""The monitor's first reads (SSH sessions, the balancer) on a busy machine."""
CHANGE_TIMEOUT = 30.0

T = TypeVar("T")


# -- httpd, read by the test itself ---------------------------------------------------------------


async def read_page(sandbox: SandboxLayout) -> BalancerPage:
    """A fresh read of the balancer-manager (BalancerReader sends the Referer httpd wants)."""
    async with BalancerReader(sandbox.balancer_url) as reader:
        return await reader.read()


def member(page: BalancerPage, node: NodeLayout) -> Worker:
    cluster = page.balancer(POOL)
    assert cluster is not None, page
    found = cluster.worker(node.http_url)
    assert found is not None, cluster
    return found


def statuses(page: BalancerPage) -> list[tuple[str, str | None, float | None, int | None]]:
    cluster = page.balancer(POOL)
    assert cluster is not None, page
    return [(w.url, w.status, w.factor, w.lbset) for w in cluster.workers]


async def enable_every_worker(sandbox: SandboxLayout) -> None:
    """Drain, disabled and standby off on every worker that has one of them on."""
    async with BalancerReader(sandbox.balancer_url) as reader:
        writer = BalancerWriter(reader)
        page = await reader.read()
        for node in sandbox.nodes:
            seen = member(page, node)
            if seen.draining or seen.disabled or seen.standby:
                await writer.apply(
                    POOL, node.http_url, WorkerChange(drain=False, disabled=False, standby=False)
                )
        page = await reader.read()
    for node in sandbox.nodes:
        seen = member(page, node)
        assert not (seen.draining or seen.disabled or seen.standby), seen


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float, what: str) -> T:
    """Await `probe` until it returns something other than None; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.1)


def access_posts(sandbox: SandboxLayout) -> int:
    """POSTs in httpd's access logs (the monitor only ever GETs)."""
    logs = list(sandbox.root.rglob("access.log"))
    assert logs, "httpd's access log not found"
    return sum(log.read_text(errors="replace").count('"POST ') for log in logs)


# -- the app --------------------------------------------------------------------------------------


def notes(app: ClusterConsoleApp) -> list[str]:
    return [note.message for note in app._notifications]


def plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


async def open_balancer_view(app: ClusterConsoleApp, pilot: Pilot[Any]) -> BalancerScreen:
    """Wait for the monitor's first balancer read and the worker actions, then press `3`."""
    await wait_until_async(
        lambda: (
            bool(app.state.balancers)
            and all(view.page is not None for view in app.state.balancers)
            and app.worker_actions is not None
        ),
        READ_TIMEOUT,
        "the monitor's first balancer read and the worker actions",
    )
    await pilot.press("3")
    await wait_until_async(
        lambda: isinstance(app.screen, BalancerScreen) and len(app.screen.targets) == 3,
        CHANGE_TIMEOUT,
        "the balancer view with three workers",
    )
    screen = app.screen
    assert isinstance(screen, BalancerScreen)
    return screen


def selected_node(screen: BalancerScreen) -> str:
    """The node column of the row under the cursor (what the operator sees)."""
    table = screen.query_one(DataTable)
    return str(table.get_row_at(table.cursor_row)[4])


async def select(screen: BalancerScreen, pilot: Pilot[Any], node: NodeLayout) -> None:
    """Down arrows from the top row to `node`'s worker; assert it is the one selected."""
    table = screen.query_one(DataTable)
    assert screen.app.focused is table, "the worker table has the keyboard"
    assert table.cursor_row == 0
    rows = [str(table.get_row_at(index)[4]) for index in range(table.row_count)]
    assert node.name in rows, rows
    for _ in range(rows.index(node.name)):
        await pilot.press("down")
    await wait_until_async(
        lambda: selected_node(screen) == node.name, CHANGE_TIMEOUT, f"the cursor on {node.name}"
    )
    target = screen.selected()
    assert target is not None
    assert (target.url, target.node, target.pool) == (node.http_url, node.name, POOL)


def shown_draining(screen: BalancerScreen) -> bool | None:
    """Whether the view shows the selected worker draining (as of the monitor's last read)."""
    target = screen.selected()
    return None if target is None else target.worker.draining


def expected_request(sandbox: SandboxLayout, node: NodeLayout, nonce: str, drain: str) -> str:
    """The request part of the confirmation, written out independently of the screen."""
    form = [("b", POOL), ("w", node.http_url), ("nonce", nonce), ("w_status_N", drain)]
    url = sandbox.balancer_url
    return "\n".join(
        [
            "request",
            "method: POST",
            f"url: {url}",
            "headers:",
            f"  Referer: {url}",
            "  Content-Type: application/x-www-form-urlencoded",
            "form:",
            *(f"  {name}={value}" for name, value in form),
            f"body: {urlencode(form)}",
        ]
    )


async def confirm_shows(
    app: ClusterConsoleApp, sandbox: SandboxLayout, node: NodeLayout, drain: str
) -> None:
    """The confirmation is up and shows, in full and literally, the request it will send."""
    await wait_until_async(
        lambda: isinstance(app.screen, ConfirmScreen), CHANGE_TIMEOUT, "the confirmation"
    )
    nonce = (await read_page(sandbox)).balancer(POOL)
    assert nonce is not None and nonce.nonce
    confirm = app.screen
    assert isinstance(confirm, ConfirmScreen)
    title = plain(confirm.query_one("#confirm-title", Static))
    word = "on" if drain == "1" else "off"
    assert title == f"drain {word}? {node.http_url} on {BALANCER}"
    body = plain(confirm.query_one("#confirm-body", Static))
    head = f"balancer {BALANCER}  pool {POOL}\nworker {node.http_url}\nchange drain {word}\n\n"
    assert body == head + expected_request(sandbox, node, nonce.nonce, drain)
    await wait_until_async(
        lambda: (
            confirm.query_one(VerticalScroll).max_scroll_y == 0
            and confirm.query_one("#confirm-body", Static).size.height >= body.count("\n") + 1
        ),
        CHANGE_TIMEOUT,
        "the whole request on the confirmation, nothing scrolled out of sight",
    )


def audit_pairs(path: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(before, after) per change, in order; fails unless every id has exactly those two lines."""
    entries = read_entries(path)
    ids = list(dict.fromkeys(entry["id"] for entry in entries))
    pairs = []
    for change in ids:
        lines = [entry for entry in entries if entry["id"] == change]
        assert [line["phase"] for line in lines] == ["before", "after"], lines
        pairs.append((lines[0], lines[1]))
    return pairs


def assert_audited(
    pair: tuple[dict[str, Any], dict[str, Any]], sandbox: SandboxLayout, node: NodeLayout, on: bool
) -> None:
    before, after = pair
    for line in (before, after):
        assert line["mode"] == "interactive"
        assert line["node"] == node.name and line["step"] == "balancer-screen"
        assert line["wizard"] is None
        request = line["request"]
        assert request["method"] == "POST" and request["url"] == sandbox.balancer_url
        assert request["balancer"] == BALANCER and request["pool"] == POOL
        assert request["worker"] == node.http_url
        assert request["change"] == f"drain {'on' if on else 'off'}"
        assert ["w_status_N", "1" if on else "0"] in request["form"]
    assert before["result"] is None
    assert after["result"]["ok"] is True, after
    assert after["result"]["worker"]["url"] == node.http_url
    assert after["result"]["worker"]["draining"] is on


# -- tests ----------------------------------------------------------------------------------------


async def test_drain_and_undrain_a_worker_from_the_balancer_view(
    sandbox: SandboxLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = tmp_path / "audit.jsonl"
    monkeypatch.setenv(AUDIT_ENV, str(audit))
    node2 = sandbox.node(2)
    others = [node for node in sandbox.nodes if node != node2]
    await enable_every_worker(sandbox)
    try:
        before = await read_page(sandbox)
        app = ClusterConsoleApp(load_inventory(sandbox.inventory))
        async with app.run_test(size=(200, 55)) as pilot:
            screen = await open_balancer_view(app, pilot)
            await select(screen, pilot, node2)

            # drain
            await pilot.press("d")
            await confirm_shows(app, sandbox, node2, "1")
            await pilot.press("y")

            async def node2_draining() -> BalancerPage | None:
                page = await read_page(sandbox)
                return page if member(page, node2).draining else None

            page = await eventually(node2_draining, CHANGE_TIMEOUT, "httpd to show node2 draining")
            await wait_until_async(
                lambda: any(
                    note == f"{node2.http_url} on {BALANCER}: drain on done; read back: DRAINING"
                    f" {member(page, node2).status}"
                    for note in notes(app)
                ),
                CHANGE_TIMEOUT,
                "the notification of the drain",
            )
            for node in others:
                assert member(page, node).status == member(before, node).status, node.name
            pairs = audit_pairs(audit)
            assert len(pairs) == 1, pairs
            assert_audited(pairs[0], sandbox, node2, on=True)

            # the view shows it too (the monitor's next read); then undrain, same row
            await wait_until_async(
                lambda: shown_draining(screen) is True,
                CHANGE_TIMEOUT,
                "the balancer view to show node2 draining",
            )
            assert app.screen is screen and selected_node(screen) == node2.name
            await pilot.press("d")
            await confirm_shows(app, sandbox, node2, "0")
            await pilot.press("y")

            async def node2_serving() -> BalancerPage | None:
                page = await read_page(sandbox)
                return None if member(page, node2).draining else page

            page = await eventually(node2_serving, CHANGE_TIMEOUT, "httpd to show node2 back")
            await wait_until_async(
                lambda: any(
                    note.startswith(f"{node2.http_url} on {BALANCER}: drain off done; read back:")
                    for note in notes(app)
                ),
                CHANGE_TIMEOUT,
                "the notification of the undrain",
            )
            assert statuses(page) == statuses(before)
            pairs = audit_pairs(audit)
            assert len(pairs) == 2, pairs
            assert_audited(pairs[1], sandbox, node2, on=False)
    finally:
        await enable_every_worker(sandbox)


@pytest.mark.parametrize("key", ["n", "escape"])
async def test_cancel_at_the_confirmation_changes_nothing(
    sandbox: SandboxLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    audit = tmp_path / "audit.jsonl"
    monkeypatch.setenv(AUDIT_ENV, str(audit))
    node2 = sandbox.node(2)
    await enable_every_worker(sandbox)
    try:
        before = statuses(await read_page(sandbox))
        posts = access_posts(sandbox)
        app = ClusterConsoleApp(load_inventory(sandbox.inventory))
        async with app.run_test(size=(200, 55)) as pilot:
            screen = await open_balancer_view(app, pilot)
            await select(screen, pilot, node2)
            await pilot.press("d")
            await confirm_shows(app, sandbox, node2, "1")
            await pilot.press(key)
            await wait_until_async(
                lambda: f"cancelled: drain on for {node2.http_url} on {BALANCER}" in notes(app),
                CHANGE_TIMEOUT,
                "the cancellation",
            )
            assert app.screen is screen, "back on the balancer view"
            assert statuses(await read_page(sandbox)) == before
        assert statuses(await read_page(sandbox)) == before
        assert access_posts(sandbox) == posts, "no POST reached httpd"
        assert not audit.exists(), read_entries(audit)
    finally:
        await enable_every_worker(sandbox)
