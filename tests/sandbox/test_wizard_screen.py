"""The wizard screen on the real sandbox, through the real app: the run's context is the one
`registry.run_context` opens for the wizard's scope (a node wizard, a cluster wizard), sharing
the session's monitor and worker actions. Dry runs: each plans against the real nodes and
balancer, and nothing changes (the balancer's workers read the same before and after).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import RichLog

from console.audit import AUDIT_ENV
from console.config import load_inventory
from console.operations.compose import ClusterContext
from console.operations.context import NodeContext
from console.sandbox.layout import SandboxLayout
from screens.app import ClusterConsoleApp
from screens.wizard import WizardScreen

from .helpers import wait_until_async
from .test_balancer_view import READ_TIMEOUT, read_page, statuses

pytestmark = [pytest.mark.sandbox]

RUN_TIMEOUT = 120.0
"""A dry run's plan reads every node it acts on (SSH, the balancer) on a busy machine."""


def ended(screen: WizardScreen) -> Callable[[], bool]:
    return lambda: screen.outcome is not None


def log_text(screen: WizardScreen) -> str:
    return "\n".join(strip.text for strip in screen.query_one(RichLog).lines)


async def test_dry_runs_from_the_screen_share_the_sessions_monitor_and_change_nothing(
    sandbox: SandboxLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUDIT_ENV, str(tmp_path / "audit.jsonl"))
    before = statuses(await read_page(sandbox))
    app = ClusterConsoleApp(load_inventory(sandbox.inventory))
    async with app.run_test(size=(160, 50)):
        await wait_until_async(
            lambda: app.monitor is not None and app.worker_actions is not None,
            READ_TIMEOUT,
            "the session's monitor and worker actions",
        )
        node1, node2 = sandbox.node(1), sandbox.node(2)
        cases = (
            (
                "drain",
                "node2",
                NodeContext,
                f"would set drain on for node2 on httpd (balancer://cluster, {node2.http_url})",
            ),
            (
                "rolling-restart",
                "node1,node2",
                ClusterContext,
                f"would set drain on for node1 on httpd (balancer://cluster, {node1.http_url})",
            ),
        )
        for wizard, nodes, kind, planned in cases:
            screen = WizardScreen(wizard, nodes, dry_run=True)
            await app.push_screen(screen)
            await wait_until_async(ended(screen), RUN_TIMEOUT, f"the {wizard} dry run's outcome")
            assert screen.refusal is None
            assert screen.outcome is not None and screen.outcome.status == "planned", (
                wizard,
                screen.outcome,
            )
            assert planned in log_text(screen), wizard
            runner = screen.runner
            assert runner is not None
            ctx = runner.ctx
            assert isinstance(ctx, kind), (wizard, type(ctx))
            assert ctx.monitor is app.monitor and ctx.actions is app.worker_actions, wizard
            if isinstance(ctx, ClusterContext):
                assert ctx.nodes == ("node1", "node2")
            else:
                assert ctx.node.name == "node2"
            app.pop_screen()
    assert statuses(await read_page(sandbox)) == before
