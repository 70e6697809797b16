"""`:context NAME` in the console (the k9s habit): the palette lists the inventories of the
contexts directory and switches the whole console to another cluster, with its accent colour."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config import load_inventory
from screens.app import ClusterConsoleApp
from screens.widgets.node_table import NodeTable
from tests.app import recorded
from tests.app.waiting import wait_for


async def test_palette_switches_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    clusters = tmp_path / "config" / "clusterconsole" / "clusters"
    clusters.mkdir(parents=True)
    (clusters / "prod.toml").write_text(recorded.inventory_text(3, name="prod", color="#aa0000"))
    (clusters / "test.toml").write_text(recorded.inventory_text(2, name="test", color="#00aa00"))
    (clusters / "broken.toml").write_text("[cluster\n")
    app = ClusterConsoleApp(load_inventory(clusters / "prod.toml"), monitor=False)
    async with app.run_test(size=(160, 40)):
        await wait_for(lambda: app.screen.query_one(NodeTable).row_count == 3)
        prod_theme = app.theme
        commands = {command.title: command for command in app.console_commands()}
        assert {"Context: prod (current)", "Context: test", "Context: broken"} <= set(commands)
        commands["Context: test"].run()
        await wait_for(lambda: app.inventory.cluster.name == "test")
        assert "test" in app.title
        assert app.theme != prod_theme  # the test cluster's accent colour
        assert app.audit is not None and app.audit.cluster == "test"
        await wait_for(lambda: app.screen.query_one(NodeTable).row_count == 2)
        # a broken inventory is refused with the reason; the console stays on its cluster
        assert not await app.switch_context("broken")
        assert app.inventory.cluster.name == "test"
        await wait_for(lambda: any("context broken" in str(n.message) for n in app._notifications))
