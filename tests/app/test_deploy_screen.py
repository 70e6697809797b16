"""The deploy wizard from the screen: the per-node preview is shown, the sync waits for the
operator's yes, then every target is in step (local directories, a fake ssh: see
tests/unit/test_deploy.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from console.audit import AuditLog
from screens.wizard import WizardScreen
from tests.app.test_wizard_screen import finished, log_text, prompt_ready, shown
from tests.app.views_harness import HarnessApp, wait_for
from tests.unit.test_deploy import Ctx, _inventory, _write, fake_ssh  # noqa: F401


async def test_the_deploy_wizard_previews_then_syncs_after_the_operators_yes(
    fake_ssh: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    inventory = _inventory(tmp_path, {"node1": "node1", "node2": "node2"})
    _write(tmp_path / "node1" / "webapps", {"app/new.jsp": "new"})
    _write(tmp_path / "node2" / "webapps", {"app/gone.jsp": "gone"})
    audit = AuditLog(tmp_path / "audit.jsonl", "interactive", "t")
    ctx = Ctx(inventory, ("node1", "node2"), audit)

    def opener() -> AbstractAsyncContextManager[Any]:
        @asynccontextmanager
        async def context() -> AsyncIterator[Ctx]:
            yield ctx

        return context()

    def screen() -> WizardScreen:
        return WizardScreen("deploy", "node1,node2", open_context=opener)

    app = HarnessApp(inventory, screen)
    app.audit = audit  # type: ignore[assignment]
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(prompt_ready(app))
        assert "node2: 1 added, 0 changed, 1 deleted (-app/gone.jsp), 3 bytes" in log_text(app)
        assert not (tmp_path / "node2" / "webapps" / "app" / "new.jsp").exists()
        await pilot.press("y")
        await wait_for(finished(app))
        assert "in step: node2" in shown(app, "#wizard-outcome")
    assert (tmp_path / "node2" / "webapps" / "app" / "new.jsp").read_text() == "new"
    assert not (tmp_path / "node2" / "webapps" / "app" / "gone.jsp").exists()
