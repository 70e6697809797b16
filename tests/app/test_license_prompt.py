"""The license wizard's question in the screen: a prompt that shows the node and its system key
and masks the key typed (a secret), which never shows on the screen."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.widgets import Input

from console.audit import AuditLog
from console.operations.engine import Step as WizardStep
from console.operations.engine import StepRun, Wizard
from screens.confirm import TextPrompt
from screens.wizard import WizardScreen
from tests.app.test_wizard_screen import Fake, Opener, finished, shown
from tests.app.views_harness import HarnessApp, inventory, plain, wait_for

KEY = "CB4E9-B55B0-E1FE1-732AB-8376F"


async def test_the_license_key_prompt_shows_node_and_system_key_and_masks_the_key(
    tmp_path: Path,
) -> None:
    got: list[str] = []

    async def action(run: StepRun[Fake]) -> None:
        got.append(await run.ask("keys", "license key for node2 (system key 1A2B-3C4D)", "node2"))

    definition = Wizard("license", "license", (WizardStep("keys", "take keys", action=action),))
    opener = Opener()

    def screen() -> WizardScreen:
        return WizardScreen("license", "node2", definition=definition, open_context=opener)

    app = HarnessApp(inventory(tmp_path), screen)
    app.audit = AuditLog(tmp_path / "audit.jsonl", "interactive", "views")  # type: ignore[assignment]
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: isinstance(app.screen, TextPrompt))
        prompt = app.screen
        title = plain(prompt.query_one(".title"))
        assert "node2" in title and "system key 1A2B-3C4D" in title
        assert prompt.query_one(Input).password
        await pilot.press(*KEY)
        await pilot.pause()
        assert KEY[-5:] not in app.export_screenshot(), "the typed key is on the screen"
        await pilot.press("enter")
        await wait_for(finished(app))
        assert got == [KEY]
        assert KEY not in app.export_screenshot()
        assert "DONE" in shown(app, "#wizard-outcome")


async def test_a_question_that_is_no_secret_is_not_masked() -> None:
    app: App[None] = App()
    async with app.run_test(size=(100, 30)):
        app.push_screen(TextPrompt("name?"))
        await wait_for(lambda: isinstance(app.screen, TextPrompt) and bool(app.screen.query(Input)))
        assert not app.screen.query_one(Input).password
