"""The wizard screen: one node wizard (drain, rejoin) run by the engine, step by step.

The same `Runner` as the scripted runner (`console.commands.wizard`) drives it, in an async worker:
each progress event updates the step list (a state word and a colour per step), the live figures
of the current step, the progress bar (steps through / total) and a bounded log. Every step that
changes something is confirmed first in a `ConfirmScreen` that shows the exact requests; "no"
ends the run as the engine decides. The end shows the outcome, the state the cluster was left in
and the audit log's path. The context reuses the app's monitor and worker actions. How steps,
log lines, figures and confirmations are drawn is in `screens.wizard_text`.

Watch mode (``read_only``) or a host without an audit log refuses at once and offers only Close:
no context is opened and the engine is never called.

Keys: Escape stops a running wizard after a confirmation (the engine cuts the step short and
says in which state it left the cluster) and closes a finished or refused one. ``q`` does not
quit while a wizard runs: it shows a notice (stop it first, so the state the cluster is left in is
known and shown); once the run is over ``q`` quits as usual. The app's priority ``ctrl+q`` still
exits: then the run is cancelled as the screen goes away, without an outcome on screen (the audit
log keeps every change made).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Header, ProgressBar, RichLog, Static

from console.operations import registry
from console.operations.engine import Change, Outcome, Progress, Runner, Step, Wizard
from console.operations.tracking import RunTracker
from console.textsafe import printable
from screens.confirm import ConfirmScreen, TextPrompt
from screens.widgets.common import clock, host_of, safe
from screens.widgets.keybar import KeyBar
from screens.wizard_run import definition_for, run_context
from screens.wizard_text import (
    OUTCOME_STYLES,
    after_label,
    confirm_body,
    figures_panel,
    for_screen,
    progress_line,
    steps_table,
)

LOG_LINES = 200
"""Progress lines kept in the log (older ones scroll away)."""
WAITING_EVERY = 1.0
"""Seconds between two logged `waiting` lines of one step (the figures panel shows every one)."""

T = TypeVar("T")

ContextOpener = Callable[[], AbstractAsyncContextManager[Any]]
"""Opens the wizard's context (tests pass their own; the default is `registry.node_context`)."""


class WizardScreen(Screen[None]):
    """Runs one wizard on one node, confirming every change; shows where the cluster was left."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel_or_close", "Cancel/close", id="wizard.cancel-close"),
        Binding("q", "quit_guard", "Quit (not while running)", id="wizard.quit"),
    ]
    DEFAULT_CSS = """
    WizardScreen #wizard-title { height: auto; padding: 0 1; }
    WizardScreen #wizard-refusal { height: auto; padding: 1 1; }
    WizardScreen #wizard-body { height: auto; max-height: 60%; }
    WizardScreen #wizard-steps {
        width: 3fr; height: auto; border: round $primary; padding: 0 1;
    }
    WizardScreen #wizard-figures {
        width: 2fr; height: auto; min-height: 5; border: round $secondary; padding: 0 1;
    }
    WizardScreen #wizard-progress { height: 1; margin: 0 1; }
    WizardScreen #wizard-outcome { height: auto; padding: 0 1; }
    WizardScreen #wizard-log { height: 1fr; min-height: 5; border: round $panel; }
    WizardScreen #wizard-close { margin: 0 1; }
    WizardScreen #wizard-close.hidden { display: none; }
    """

    def __init__(
        self,
        wizard: str,
        node: str,
        *,
        dry_run: bool = False,
        force: bool = False,
        definition: Wizard[Any] | None = None,
        open_context: ContextOpener | None = None,
    ) -> None:
        """`definition` and `open_context` replace the registry's wizard and context (tests)."""
        super().__init__()
        self.wizard_name = wizard
        self.node = node
        self.dry_run = dry_run
        self.force = force
        self.definition = definition
        self._open_context = open_context
        self._answers: dict[str, Any] = {}
        """A new-node wizard's answers (name, host), prompted when it starts."""
        self.refusal: str | None = None
        """Why this wizard cannot run here (set when mounted), or None."""
        self.runner: Runner[Any] | None = None
        self.outcome: Outcome | None = None
        self.running = False
        self.tracker = RunTracker()
        self._last_wait: dict[str | None, tuple[float, str | None]] = {}
        self._drive_task: asyncio.Task[Outcome] | None = None
        self._cancel_before_start: str | None = None
        self._cancel_prompt: ConfirmScreen | None = None
        self._gone = False
        """Set once the screen goes away: nothing more is rendered."""

    # -- layout ---------------------------------------------------------------------------------

    def _why_not(self) -> str | None:
        host = host_of(self.app)
        if host.read_only:
            return "watch mode is read-only: no wizard can run here"
        if host.audit is None:
            return "there is no audit log to record changes in: no wizard can run here"
        if self.definition is None:
            try:
                self.definition = definition_for(host.inventory, self.wizard_name, self.node)
            except registry.WizardUsageError as exc:
                return str(exc)
        return None

    def _title_text(self) -> Text:
        title = self.definition.title if self.definition is not None else self.wizard_name
        text = Text(printable(title), style="bold")
        text.append(" · node ").append(safe(self.node, "bold"))
        if self.dry_run:
            text.append(" ").append(" DRY RUN ", style="reverse cyan")
        if self.force:
            text.append(" ").append(" FORCE ", style="reverse red")
        return text

    def compose(self) -> ComposeResult:
        self.refusal = self._why_not()
        yield Header()
        yield Static(self._title_text(), id="wizard-title")
        if self.refusal is not None:
            refusal = Text("REFUSED: ", style="bold red").append(safe(self.refusal))
            yield Static(refusal, id="wizard-refusal")
            yield Button("Close", variant="primary", id="wizard-close")
        else:
            with Horizontal(id="wizard-body"):
                yield Static(id="wizard-steps")
                yield Static(id="wizard-figures")
            yield ProgressBar(show_eta=False, id="wizard-progress")
            yield Static(id="wizard-outcome")
            yield Button("Close", variant="primary", id="wizard-close", classes="hidden")
            yield RichLog(max_lines=LOG_LINES, wrap=True, id="wizard-log")
        yield KeyBar()

    def on_mount(self) -> None:
        if self.refusal is not None or self.definition is None:
            self.query_one("#wizard-close", Button).focus()
            return
        self.query_one(ProgressBar).update(total=len(self.definition.steps), progress=0)
        self._show_steps()
        self._status(Text("connecting: waiting for the monitor's first answers ...", "dim"))
        self.running = True
        self.run_worker(
            self._run_wizard(),
            name=f"wizard {self.wizard_name} {self.node}",
            group="wizard",
            exit_on_error=False,
        )

    def on_unmount(self) -> None:
        self._gone = True
        if self.runner is not None:
            self.runner.cancel("the wizard screen was closed")
        elif self._drive_task is not None:
            self._drive_task.cancel()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "wizard-close":
            event.stop()
            self.dismiss()

    # -- the run --------------------------------------------------------------------------------

    def _open_run_context(self) -> AbstractAsyncContextManager[Any]:
        if self._open_context is not None:
            return self._open_context()
        return run_context(host_of(self.app), self.wizard_name, self.node, self._answers)

    async def _drive(self) -> Outcome:
        wizard, audit = self.definition, host_of(self.app).audit
        assert wizard is not None and audit is not None
        if not self.dry_run:
            audit.check_writable()
        if self._scope() == "new-node" and not self._answers:
            for name, words in (("name", "the new node's name"), ("host", "its host or address")):
                value = await self._prompt(f"{words} (the rest follows the first node)")
                if not value:
                    return Outcome("declined", "no new node named", "nothing was changed", None)
                self._answers[name] = value.strip()
            self.node = self._answers["name"]
        async with self._open_run_context() as ctx:
            self.runner = Runner(
                wizard,
                ctx,
                node=self.node,
                on_progress=self._on_progress,
                confirm=self._confirm,
                dry_run=self.dry_run,
                force=self.force,
                audit=audit,
                ask=self._ask,
            )
            self._status(Text("running · Escape stops the wizard", "dim"))
            return await self.runner.run()

    async def _run_wizard(self) -> None:
        """The worker: the outcome is always shown, whatever ends the run."""
        self._drive_task = asyncio.ensure_future(self._drive())
        try:
            outcome = await self._drive_task
        except asyncio.CancelledError:
            if self._cancel_before_start is None:
                raise  # the screen or the app is going away
            outcome = Outcome(
                "cancelled",
                f"{self._cancel_before_start} before the first step",
                "nothing was changed",
            )
        except Exception as exc:  # a usage or audit error, a broken context: shown, not raised
            why = str(exc) or type(exc).__name__
            finished = self.tracker.finished
            status = finished.status if finished is not None else None
            if self.runner is None:
                outcome = Outcome("failed", why, "nothing was changed")
            elif finished is not None and status is not None:  # the context failed to close
                outcome = Outcome(status, f"{finished.text}; then: {why}", str(finished.state))
            else:
                outcome = Outcome("failed", why, "unknown: check the node and the audit log")
        finally:
            self.running = False
            self._drive_task = None
            if self._cancel_prompt is not None and self._cancel_prompt.is_active:
                self._cancel_prompt.dismiss(False)
        if not self._gone:
            self._show_outcome(outcome)

    def cancel_run(self, reason: str) -> None:
        """Stop the run: the engine cuts the step short (before it starts: nothing changes)."""
        if not self.running:
            return
        self._note(f"stopping: {reason}", "bold yellow")
        if self.runner is not None:
            self.runner.cancel(reason)
        elif self._drive_task is not None:
            self._cancel_before_start = reason
            self._drive_task.cancel()

    def _secret(self, question: str) -> bool:
        """Whether the wizard declares `question` a secret (its prompt is masked)."""
        try:
            return registry.spec_named(self.wizard_name).answer(question).secret
        except (registry.WizardUsageError, KeyError):
            return False

    def _scope(self) -> str | None:
        """The registered wizard's scope; None for a definition given directly (tests)."""
        try:
            return registry.spec_named(self.wizard_name).scope
        except registry.WizardUsageError:
            return None

    async def _answer(self, screen: Screen[T], gone: T) -> T | None:
        """Show `screen` and wait for its dismissal; a run cancelled while it is shown (the step
        timed out or was stopped) dismisses it with `gone`."""
        answer: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()

        def answered(result: T | None) -> None:
            if not answer.done():
                answer.set_result(result)

        self.app.push_screen(screen, answered)
        try:
            return await answer
        except asyncio.CancelledError:
            if screen.is_active:
                screen.dismiss(gone)
            raise

    async def _prompt(self, words: str) -> str | None:
        """One value asked before the run (add-node's name and host); None: not answered."""
        return await self._answer(TextPrompt(Text(printable(words), style="bold")), None)

    async def _ask(
        self, step: Step[Any], question: str, prompt: str, key: str | None
    ) -> str | None:
        """A value a step needs from the operator (a prompt); None stops the run."""
        secret = self._secret(question)
        screen = TextPrompt(
            Text(f"{step.name}: {printable(prompt)}", style="bold"),
            note="a secret: what you type is hidden and never shown in full" if secret else "",
            password=secret,
        )
        self._note(f"asking for {question} ...")
        value = await self._answer(screen, None)
        self._note(f"{step.name}: {'answered' if value else 'not answered'}")
        return value

    async def _confirm(self, step: Step[Any], changes: list[Change]) -> bool:
        """Ask before the step's changes (the prompt's dismissal answers)."""
        prompt = ConfirmScreen(
            self._confirm_title(step), confirm_body(step, changes), action="Apply"
        )
        self._note(f"asking to confirm {step.name} ...")
        yes = await self._answer(prompt, False) is True
        verdict = "confirmed" if yes else "not confirmed"
        self._note(f"{step.name}: {verdict}", "green" if yes else "yellow")
        return yes

    def _confirm_title(self, step: Step[Any]) -> Text:
        assert self.definition is not None
        steps = self.definition.steps
        index = steps.index(step) + 1 if step in steps else 0
        text = f"{self.definition.title} · {self.node} · step {index}/{len(steps)}: {step.name}"
        return Text(printable(text))

    # -- progress -------------------------------------------------------------------------------

    def _on_progress(self, event: Progress) -> None:
        self.tracker.apply(event)
        if self._gone:
            return
        self._show_steps()
        line = self._progress_line(event)
        if line is not None:
            self._log_line(line)

    def _progress_line(self, event: Progress) -> Text | None:
        if event.kind == "waiting":
            now = time.monotonic()
            last = self._last_wait.get(event.step)
            if last is not None and now - last[0] < WAITING_EVERY and last[1] == event.waiting_for:
                return None
            self._last_wait[event.step] = (now, event.waiting_for)
        return progress_line(event)

    def _log_line(self, line: Text) -> None:
        log = self.query_one("#wizard-log", RichLog)
        width = log.scrollable_content_region.width  # else the app console's width wraps lines
        log.write(line, width=width if width > 0 else None)

    def _note(self, text: str, style: str = "dim") -> None:
        """A line of the screen's own (not from the engine) in the log."""
        self._log_line(Text(clock(time.time()) + " ", style="dim").append(printable(text), style))

    def _status(self, text: Text) -> None:
        self.query_one("#wizard-outcome", Static).update(text)

    def _show_steps(self) -> None:
        assert self.definition is not None
        self.query_one("#wizard-steps", Static).update(steps_table(self.definition, self.tracker))
        self.query_one("#wizard-figures", Static).update(figures_panel(self.tracker))
        self.query_one(ProgressBar).update(progress=self.tracker.gone_through)

    def _show_outcome(self, outcome: Outcome) -> None:
        self.outcome = outcome
        text = Text(
            f"{outcome.status.upper()}: ", style=OUTCOME_STYLES.get(outcome.status, "bold red")
        )
        text.append(after_label(outcome.status, for_screen(outcome.text)))
        text.append("\nstate: ", style="bold").append(for_screen(outcome.state))
        audit = host_of(self.app).audit
        if audit is not None:
            text.append("\naudit log: ", style="bold").append(printable(str(audit.path)))
        text.append("\nEscape closes this screen", style="dim")
        self._status(text)
        close = self.query_one("#wizard-close", Button)
        close.remove_class("hidden")
        close.focus()
        self.refresh_bindings()
        # The outcome and the Close button take rows from the log: keep its end in sight.
        log = self.query_one("#wizard-log", RichLog)
        self.call_after_refresh(log.scroll_end, animate=False, immediate=True, x_axis=False)

    # -- keys -----------------------------------------------------------------------------------

    def action_cancel_or_close(self) -> None:
        """Escape: while running, ask and then stop the run; otherwise close the screen."""
        if not self.running:
            self.dismiss()
            return
        if self._cancel_prompt is not None:
            return
        assert self.definition is not None
        title = Text(printable(f"Stop {self.definition.title} on {self.node}?"))
        body = Text(
            "The step in progress is cut short and nothing more is changed. The screen then "
            "shows the state the cluster was left in."
        )
        self._cancel_prompt = ConfirmScreen(title, body, action="Stop the wizard")
        self.app.push_screen(self._cancel_prompt, self._cancel_answered)

    def _cancel_answered(self, stop: bool | None) -> None:
        self._cancel_prompt = None
        if stop is True:
            self.cancel_run("cancelled by the operator")

    async def action_quit_guard(self) -> None:
        """q: never quits in the middle of a run (the cluster's state would not be shown)."""
        if self.running:
            self.notify(
                "a wizard is running: press Escape to stop it first",
                title="not quitting",
                severity="warning",
            )
            return
        await self.app.run_action("quit")


__all__ = ["WizardScreen"]
