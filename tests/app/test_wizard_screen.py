"""The wizard screen with a fake wizard: step list, live figures, confirmations, cancellation,
the read-only refusal and hostile text. Every wait is on a predicate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, ProgressBar, RichLog

import screens.wizard as wizard_module
from console.audit import AuditLog
from console.operations.engine import Change, Progress, Refused, Step, StepFailed, StepRun, Wizard
from console.operations.tracking import RunTracker
from screens.confirm import ConfirmScreen
from screens.wizard import WizardScreen
from tests.app.views_harness import NASTY, HarnessApp, inventory, plain, wait_for


@dataclass
class Fake:
    """A fake cluster: what was done to it, and a gate the waiting steps wait on."""

    calls: list[str] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)


def change_step(name: str, *, left: str = "") -> Step[Fake]:
    async def plan(run: StepRun[Fake]) -> list[Change]:
        run.ctx.calls.append(f"plan {name}")
        return [Change(f"change {name}", {"command": f"do {name}", "worker": "node2"})]

    async def action(run: StepRun[Fake]) -> None:
        run.ctx.calls.append(f"act {name}")

    return Step(name, f"{name} the node", plan=plan, action=action, left=left)


def waiting_step(
    name: str, what: str = "the gate to open", figures: dict[str, Any] | None = None
) -> Step[Fake]:
    async def action(run: StepRun[Fake]) -> None:
        run.ctx.calls.append(f"wait {name}")
        run.waiting(what, figures if figures is not None else {"busy": 3, "elected_per_s": 1.5})
        await run.ctx.gate.wait()

    return Step(name, f"wait for {name}", action=action, interrupted="halfway", left="settled")


class Opener:
    """Opens the fake context; counts how often (the read-only screen must never open it)."""

    def __init__(self) -> None:
        self.fake = Fake()
        self.opened = 0

    def __call__(self) -> AbstractAsyncContextManager[Any]:
        @asynccontextmanager
        async def context() -> AsyncIterator[Fake]:
            self.opened += 1
            yield self.fake

        return context()


def make_app(
    tmp_path: Path,
    steps: tuple[Step[Fake], ...],
    *,
    read_only: bool = False,
    audit: bool = True,
    **options: Any,
) -> tuple[HarnessApp, Opener]:
    opener = Opener()
    definition = Wizard("demo", "Demo wizard", steps, initial="untouched")

    def screen() -> WizardScreen:
        return WizardScreen("demo", "node2", definition=definition, open_context=opener, **options)

    app = HarnessApp(inventory(tmp_path), screen, read_only=read_only)
    if audit:
        app.audit = AuditLog(tmp_path / "audit.jsonl", "interactive", "views")  # type: ignore[assignment]
    return app, opener


def shown(app: HarnessApp, selector: str) -> str:
    screen = app.view
    assert screen is not None
    return plain(screen.query_one(selector))


def log_text(app: HarnessApp) -> str:
    assert app.view is not None
    return "\n".join(strip.text for strip in app.view.query_one(RichLog).lines)


def wizard(app: HarnessApp) -> WizardScreen:
    assert isinstance(app.view, WizardScreen)
    return app.view


def prompt_ready(app: HarnessApp) -> Callable[[], bool]:
    """A confirmation is up and mounted (its default, Cancel, has the focus): keys reach it."""

    def ready() -> bool:
        screen = app.screen
        if not isinstance(screen, ConfirmScreen):
            return False
        buttons = screen.query("#confirm-no")
        return bool(buttons) and buttons.first().has_focus

    return ready


def finished(app: HarnessApp) -> Callable[[], bool]:
    return lambda: wizard(app).outcome is not None


async def test_step_list_figures_and_a_confirmed_change(tmp_path: Path) -> None:
    app, opener = make_app(tmp_path, (waiting_step("settle"), change_step("stop", left="stopped")))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: "WAITING" in shown(app, "#wizard-steps"))
        steps = shown(app, "#wizard-steps")
        assert "settle" in steps and "wait for settle" in steps
        assert "stop" in steps and "stop the node" in steps and "pending" in steps
        await wait_for(lambda: "busy" in shown(app, "#wizard-figures"))
        figures = shown(app, "#wizard-figures")
        assert "the gate to open" in figures and "3" in figures and "elected per s" in figures
        assert "Demo wizard" in shown(app, "#wizard-title")

        opener.fake.gate.set()
        await wait_for(prompt_ready(app))
        body = plain(app.screen.query_one("#confirm-body"))
        assert "change stop" in body and "command: do stop" in body
        assert "act stop" not in opener.fake.calls
        await pilot.press("y")
        await wait_for(finished(app))
        assert opener.fake.calls == ["wait settle", "plan stop", "act stop"]
        outcome = shown(app, "#wizard-outcome")
        assert "DONE" in outcome and "state: stopped" in outcome
        assert str(tmp_path / "audit.jsonl") in outcome
        assert shown(app, "#wizard-steps").count("done") == 2
        bar = wizard(app).query_one(ProgressBar)
        assert bar.progress == 2 and bar.total == 2
        assert opener.opened == 1


async def test_no_to_the_confirmation_changes_nothing(tmp_path: Path) -> None:
    app, opener = make_app(tmp_path, (change_step("drain", left="drained"),))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(prompt_ready(app))
        await pilot.press("n")
        await wait_for(finished(app))
        assert "act drain" not in opener.fake.calls
        outcome = wizard(app).outcome
        assert outcome is not None and outcome.status == "declined"
        text = shown(app, "#wizard-outcome")
        assert "DECLINED" in text and "not confirmed" in text and "state: untouched" in text
        assert "declined" in shown(app, "#wizard-steps")


async def test_escape_mid_run_cancels_and_shows_the_state(tmp_path: Path) -> None:
    app, opener = make_app(tmp_path, (waiting_step("settle"), change_step("stop")))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: "WAITING" in shown(app, "#wizard-steps"))
        await pilot.press("escape")
        await wait_for(prompt_ready(app))
        assert wizard(app).outcome is None, "the run goes on while the operator is asked"
        await pilot.press("y")
        await wait_for(finished(app))
        outcome = wizard(app).outcome
        assert outcome is not None and outcome.status == "cancelled"
        text = shown(app, "#wizard-outcome")
        assert "cancelled by the operator during settle" in text and "state: halfway" in text
        assert "cancelled" in shown(app, "#wizard-steps")
        assert "state: halfway" in log_text(app)
        assert not any(call.startswith(("plan stop", "act")) for call in opener.fake.calls)
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, WizardScreen))


async def test_escape_then_no_keeps_the_run_going(tmp_path: Path) -> None:
    app, opener = make_app(tmp_path, (waiting_step("settle"),))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: "WAITING" in shown(app, "#wizard-steps"))
        await pilot.press("escape")
        await wait_for(prompt_ready(app))
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, WizardScreen))
        opener.fake.gate.set()
        await wait_for(finished(app))
        outcome = wizard(app).outcome
        assert outcome is not None and outcome.status == "done"


async def test_q_does_not_quit_while_a_wizard_runs(tmp_path: Path) -> None:
    app, opener = make_app(tmp_path, (waiting_step("settle"),))
    exits: list[object] = []
    async with app.run_test(size=(160, 50)) as pilot:
        app.exit = lambda *args, **kwargs: exits.append(args)  # type: ignore[method-assign]
        await wait_for(lambda: "WAITING" in shown(app, "#wizard-steps"))
        await pilot.press("q")
        await wait_for(lambda: any("press Escape" in n.message for n in app._notifications))
        assert exits == [] and wizard(app).running
        opener.fake.gate.set()
        await wait_for(finished(app))
        await pilot.press("q")
        await wait_for(lambda: exits != [])


@pytest.mark.parametrize("read_only, audit", [(True, True), (False, False)])
async def test_read_only_host_refuses_and_never_calls_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_only: bool, audit: bool
) -> None:
    def no_runner(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine must not be called")

    monkeypatch.setattr(wizard_module, "Runner", no_runner)
    app, opener = make_app(tmp_path, (change_step("drain"),), read_only=read_only, audit=audit)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: wizard(app).refusal is not None)
        screen = wizard(app)
        refusal = shown(app, "#wizard-refusal")
        assert "REFUSED" in refusal
        assert ("read-only" in refusal) if read_only else ("audit log" in refusal)
        assert [button.id for button in screen.query(Button)] == ["wizard-close"]
        assert not screen.query("#wizard-steps") and not screen.running
        assert opener.opened == 0 and opener.fake.calls == []
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, WizardScreen))
    assert opener.opened == 0


async def test_dry_run_plans_every_step_and_changes_nothing(tmp_path: Path) -> None:
    app, opener = make_app(
        tmp_path, (change_step("drain"), waiting_step("settle")), dry_run=True, force=True
    )
    async with app.run_test(size=(160, 50)):
        await wait_for(finished(app))
        title = shown(app, "#wizard-title")
        assert "DRY RUN" in title and "FORCE" in title
        assert shown(app, "#wizard-steps").count("planned") == 2
        assert "would change drain" in log_text(app)
        assert opener.fake.calls == ["plan drain"]
        outcome = wizard(app).outcome
        assert outcome is not None and outcome.status == "planned"


async def test_hostile_text_in_progress_and_figures_shows_literally(tmp_path: Path) -> None:
    bad = " ".join(NASTY)

    def hostile_step() -> Step[Fake]:
        async def action(run: StepRun[Fake]) -> None:
            run.waiting(f"host {bad}", {"host": bad, "[bold]key": 1})
            run.warn(f"warning {bad}")
            await run.ctx.gate.wait()
            raise StepFailed(f"failure {bad}")

        return Step("hostile", "hostile [bold] step [/", action=action, interrupted=f"left {bad}")

    app, opener = make_app(tmp_path, (hostile_step(),))
    async with app.run_test(size=(200, 50)):
        await wait_for(lambda: "WAITING" in shown(app, "#wizard-steps"))
        await wait_for(lambda: "warning" in log_text(app))
        figures = shown(app, "#wizard-figures")
        opener.fake.gate.set()
        await wait_for(finished(app))
        outcome = shown(app, "#wizard-outcome")
        log = log_text(app)
        assert "hostile [bold] step [/" in shown(app, "#wizard-steps")
        assert "[bold]key" in figures
        for where in (figures, outcome, log):
            for literal in NASTY[:-1]:
                assert literal in where
            assert "\\x1b[31m" in where and "\x1b" not in where
        assert "FAILED" in outcome and "failure" in outcome and "state: left" in outcome


async def test_a_step_timing_out_while_asking_closes_the_prompt(tmp_path: Path) -> None:
    async def plan(run: StepRun[Fake]) -> list[Change]:
        return [Change("change slow", {"command": "do slow"})]

    async def action(run: StepRun[Fake]) -> None:
        run.ctx.calls.append("act slow")

    slow = Step("slow", "slow the node", plan=plan, action=action, timeout=2.0)
    app, opener = make_app(tmp_path, (slow,))
    async with app.run_test(size=(160, 50)):
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen))
        await wait_for(finished(app))
        await wait_for(lambda: isinstance(app.screen, WizardScreen))
        outcome = wizard(app).outcome
        assert outcome is not None and outcome.status == "timed-out"
        assert opener.fake.calls == []
        assert "FAILED" in shown(app, "#wizard-steps")


async def test_a_context_that_cannot_open_is_a_failure_that_changed_nothing(
    tmp_path: Path,
) -> None:
    app, _ = make_app(tmp_path, (change_step("drain"),))

    @asynccontextmanager
    async def broken() -> AsyncIterator[Fake]:
        raise RuntimeError("there is no node 'node9' in the inventory [bold]")
        yield Fake()

    assert app._make_screen is not None
    screen = app._make_screen()
    assert isinstance(screen, WizardScreen)
    screen._open_context = broken
    app._make_screen = lambda: screen
    async with app.run_test(size=(160, 50)):
        await wait_for(finished(app))
        text = shown(app, "#wizard-outcome")
        assert "FAILED" in text and "node9" in text and "[bold]" in text
        assert "state: nothing was changed" in text


async def test_escape_while_connecting_stops_before_the_first_step(tmp_path: Path) -> None:
    ready = asyncio.Event()
    entered = asyncio.Event()
    closed: list[bool] = []

    @asynccontextmanager
    async def slow_monitor() -> AsyncIterator[Fake]:
        entered.set()
        try:
            await ready.wait()  # like the monitor's first round
            yield Fake()
        finally:
            closed.append(True)

    app, _ = make_app(tmp_path, (change_step("drain"),))
    screen = app._make_screen()
    assert isinstance(screen, WizardScreen)
    screen._open_context = slow_monitor
    app._make_screen = lambda: screen
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(entered.is_set)
        await pilot.press("escape")
        await wait_for(prompt_ready(app))
        await pilot.press("y")
        await wait_for(finished(app))
        outcome = screen.outcome
        assert outcome is not None and outcome.status == "cancelled"
        assert "before the first step" in outcome.text and outcome.state == "nothing was changed"
        assert closed == [True] and screen.runner is None


async def test_closing_the_screen_mid_run_cancels_the_run(tmp_path: Path) -> None:
    app, opener = make_app(tmp_path, (waiting_step("settle"), change_step("stop")))
    async with app.run_test(size=(160, 50)):
        await wait_for(lambda: "WAITING" in shown(app, "#wizard-steps"))
        screen = wizard(app)
        runner = screen.runner
        app.pop_screen()
        await wait_for(lambda: runner is not None and runner._cancel_reason is not None)
        await wait_for(lambda: not screen.running)
        assert "plan stop" not in opener.fake.calls


async def test_the_real_context_gets_the_apps_monitor_and_worker_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.operations import registry

    seen: dict[str, Any] = {}
    fake = Fake()
    definition = Wizard("drain", "Drain node", (change_step("drain"),), initial="untouched")

    @asynccontextmanager
    async def node_context(*args: Any, **kwargs: Any) -> AsyncIterator[Fake]:
        seen["args"], seen["kwargs"] = args, kwargs
        yield fake

    monkeypatch.setattr(registry, "node_context", node_context)
    monkeypatch.setattr(registry, "wizard_named", lambda name: definition)
    monitor, actions = object(), object()
    app = HarnessApp(
        inventory(tmp_path),
        lambda: WizardScreen("drain", "node2"),
        monitor=monitor,
        worker_actions=actions,
    )
    app.audit = AuditLog(tmp_path / "audit.jsonl", "interactive", "views")  # type: ignore[assignment]
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(prompt_ready(app))
        await pilot.press("y")
        await wait_for(finished(app))
    assert seen["kwargs"] == {"monitor": monitor, "actions": actions}
    assert seen["args"][1:4] == ("node2", "drain", app.audit)
    assert fake.calls == ["plan drain", "act drain"]


def test_the_tracker_keeps_a_dry_run_refusal_and_gives_running_steps_the_ending() -> None:
    def event(kind: str, step: str | None, **extra: Any) -> Progress:
        return Progress(kind, "demo", "node2", step, 1, 2, "text", **extra)  # type: ignore[arg-type]

    tracker = RunTracker()
    for item in (event("refused", "drain"), event("plan", "drain"), event("started", "stop")):
        tracker.apply(item)
    assert tracker.state_of("drain") == "REFUSED" and tracker.gone_through == 1
    assert tracker.current is not None and tracker.current.step == "stop"
    tracker.apply(event("finished", None, status="declined", state="untouched"))
    assert tracker.state_of("stop") == "declined" and tracker.state_of("other") == "pending"


async def test_at_80x24_the_log_follows_its_end_and_changes_read_as_fields(
    tmp_path: Path,
) -> None:
    steps = tuple(change_step(f"step{i}") for i in range(12))
    app, _opener = make_app(tmp_path, steps, dry_run=True)
    async with app.run_test(size=(80, 24)):
        await wait_for(finished(app))
        log = wizard(app).query_one(RichLog)
        await wait_for(lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y)
        text = log_text(app)
        assert "command: do step11" in text and "worker:  node2" in text
        assert '"command"' not in text and "{" not in text


async def test_confirmation_shows_the_request_as_aligned_fields(tmp_path: Path) -> None:
    app, _opener = make_app(tmp_path, (change_step("stop", left="stopped"),))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(prompt_ready(app))
        body = plain(app.screen.query_one("#confirm-body"))
        assert "command: do stop" in body and "worker:  node2" in body
        assert "{" not in body and '"' not in body
        await pilot.press("n")
        await wait_for(finished(app))


async def test_a_refusal_says_refused_once_and_names_keys_not_command_lines(
    tmp_path: Path,
) -> None:
    async def check(run: StepRun[Fake]) -> None:
        raise Refused("node2 cannot be reached: bring it back with --wizard rejoin")

    step = Step("check", "check the node", check=check)
    app, _opener = make_app(tmp_path, (step,))
    async with app.run_test(size=(80, 24)):
        await wait_for(finished(app))
        outcome = shown(app, "#wizard-outcome")
        log = log_text(app)
        for text in (outcome, log):
            assert "refused: refused" not in text.lower(), text
            assert "--wizard" not in text and "key j on the dashboard" in text
        assert "REFUSED: node2 cannot be reached" in outcome


async def test_the_log_follows_its_end_across_confirmations(tmp_path: Path) -> None:
    steps = tuple(change_step(f"step{i}") for i in range(8))
    app, _opener = make_app(tmp_path, steps)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in steps:
            await wait_for(prompt_ready(app))
            await pilot.press("y")
        await wait_for(finished(app))
        log = wizard(app).query_one(RichLog)
        await wait_for(lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y)


def test_a_change_made_is_shown_as_sent_and_only_a_plan_says_would() -> None:
    from screens.wizard_text import progress_line

    change = Change("set drain on for node2 on httpd", {"command": "x"})

    def event(kind: str) -> Progress:
        return Progress(
            kind=kind,  # type: ignore[arg-type]
            wizard="drain",
            node="node2",
            step="drain",
            index=2,
            total=8,
            text="drained",
            changes=(change,),
        )

    made = progress_line(event("change")).plain
    assert "would" not in made and "sent: set drain on for node2 on httpd" in made
    assert "would set drain on for node2 on httpd" in progress_line(event("plan")).plain


async def test_an_interactive_run_is_itself_audited_before_and_after(tmp_path: Path) -> None:
    from console.audit import read_entries

    app, _ = make_app(tmp_path, (change_step("stop", left="stopped"),))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(prompt_ready(app))
        await pilot.press("y")
        await wait_for(finished(app))
    runs = [e for e in read_entries(tmp_path / "audit.jsonl") if e["step"] == "run"]
    assert [e["phase"] for e in runs] == ["before", "after"]
    assert runs[0]["mode"] == "interactive" and runs[1]["result"]["state"] == "stopped"


async def test_a_cluster_wizard_opens_on_the_nodes_named_with_its_composed_steps(
    tmp_path: Path,
) -> None:
    opener = Opener()

    def screen() -> WizardScreen:
        return WizardScreen("rolling-restart", "node2,node1", open_context=opener, dry_run=True)

    app = HarnessApp(inventory(tmp_path), screen)
    app.audit = AuditLog(tmp_path / "audit.jsonl", "interactive", "views")  # type: ignore[assignment]
    async with app.run_test(size=(160, 50)):
        await wait_for(lambda: "node2/drain" in shown(app, "#wizard-steps"))
        steps = shown(app, "#wizard-steps")
        assert steps.index("node2/drain") < steps.index("node1/drain")
        assert "restart every node, one at a time" in shown(app, "#wizard-title")
        await wait_for(finished(app))  # the fake context cannot answer: an outcome, no crash
    assert opener.opened == 1


async def test_a_step_that_needs_a_value_asks_for_it_in_a_prompt(tmp_path: Path) -> None:
    from screens.confirm import TextPrompt

    got: list[str] = []

    async def action(run: StepRun[Fake]) -> None:
        got.append(await run.ask("license_key", "the license key for system key ABC-123", "node2"))

    app, _ = make_app(tmp_path, (Step("license", "license the node", action=action),))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: isinstance(app.screen, TextPrompt))
        assert "system key ABC-123" in plain(app.screen.query_one(".title"))
        await pilot.press(*"LIC-9", "enter")
        await wait_for(finished(app))
        assert got == ["LIC-9"]
        assert "DONE" in shown(app, "#wizard-outcome")


async def test_add_node_asks_for_the_new_nodes_name_and_host_then_shows_its_steps(
    tmp_path: Path,
) -> None:
    from screens.confirm import TextPrompt

    opener = Opener()

    def screen() -> WizardScreen:
        return WizardScreen("add-node", "", open_context=opener, dry_run=True)

    app = HarnessApp(inventory(tmp_path), screen)
    app.audit = AuditLog(tmp_path / "audit.jsonl", "interactive", "views")  # type: ignore[assignment]
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: "preflight" in shown(app, "#wizard-steps"))
        for words, value in (("name", "node4"), ("host", "10.0.0.14")):

            def asking(words: str = words) -> bool:
                screen = app.screen
                return isinstance(screen, TextPrompt) and words in plain(screen.query_one(".title"))

            await wait_for(asking)
            await pilot.press(*value, "enter")
        await wait_for(finished(app))  # the fake context cannot answer: an outcome, no crash
        steps = shown(app, "#wizard-steps")
        for step in ("preflight", "base", "peers", "balancers", "verify", "inventory"):
            assert step in steps
    assert wizard(app).node == "node4"
    assert opener.opened == 1
