"""Live reload: editing cluster.toml adds and removes nodes; a broken edit keeps the last good."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from console.config import load_inventory_text
from screens.app import ClusterConsoleApp
from screens.dashboard import DashboardScreen
from tests.app import recorded
from tests.app.waiting import wait_for


async def test_edits_add_and_remove_nodes_and_a_broken_edit_is_shown(tmp_path: Path) -> None:
    inventory = recorded.inventory(tmp_path, 3)
    path = inventory.path
    app = ClusterConsoleApp(inventory, monitor=False, reload=True)
    async with app.run_test(size=(160, 40)):
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await wait_for(lambda: screen.shown == ("node1", "node2", "node3"))
        await wait_for(lambda: any(w.name == "reload" for w in app.workers))

        path.write_text(recorded.inventory_text(4))
        await wait_for(lambda: screen.shown == ("node1", "node2", "node3", "node4"))
        assert len(app.inventory.nodes) == 4

        path.write_text(recorded.inventory_text(4).replace('host = "127.0.9.12"', "host = "))
        await wait_for(lambda: app.config_error is not None)
        assert "cluster.toml" in (app.config_error or "")
        banner = screen.query_one("#config-error", Static)
        await wait_for(lambda: banner.has_class("shown"))
        assert "last good inventory" in str(banner.render())
        assert screen.shown == ("node1", "node2", "node3", "node4")

        path.write_text(recorded.inventory_text(2))
        await wait_for(lambda: screen.shown == ("node1", "node2"))
        assert app.config_error is None and not banner.has_class("shown")


async def test_balancer_actions_follow_a_reloaded_inventory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker changes made after an edit use the edited balancers, not the ones at start."""
    monkeypatch.setenv("CLUSTERCONSOLE_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    app = ClusterConsoleApp(recorded.inventory(tmp_path, 3), monitor=False)
    async with app.run_test(size=(120, 40)):
        await wait_for(lambda: app.worker_actions is not None)
        first = app.worker_actions
        edited = load_inventory_text(recorded.inventory_text(4), tmp_path / "cluster.toml")
        await app.replace_inventory(edited)
        assert app.worker_actions is not first
        assert app.worker_actions is not None and app.worker_actions.inventory is edited
    assert app.worker_actions is None  # closed with the app
