"""The wizard engine: a wizard is a list of named, checked steps run in order, reporting progress.

Each step has a plain-language description, an optional precondition check, a plan (the exact
changes it would make), an action, a verification and its own timeout. The runner drives a
wizard for the scripted CLI and the wizard screen alike: dry run (checks and plans only),
confirmation before every step that changes something, cancellation, an overall deadline and
``force`` for the checks that allow it. Whatever ends a run, its outcome says in which state the
cluster was left. The events and the outcome it reports are in `console.operations.progress`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from console.audit import AuditEntry, AuditError, AuditLog
from console.operations.progress import Change, Outcome, Progress, ProgressKind, Status

__all__ = [
    "Ask",
    "Change",
    "Confirm",
    "Outcome",
    "PlanFn",
    "Progress",
    "ProgressKind",
    "Refused",
    "Runner",
    "Skip",
    "StateFn",
    "Status",
    "Step",
    "StepFailed",
    "StepFn",
    "StepRun",
    "Wizard",
]

C = TypeVar("C")


class Refused(Exception):
    """A safety check says no. `forceable` ones are overridden by ``force`` (with a warning)."""

    def __init__(self, reason: str, *, forceable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.forceable = forceable


class StepFailed(Exception):
    """A step could not do or verify what it is for; str() says why in one sentence."""


class Skip(Exception):
    """Raised by a check: the step has nothing to do (e.g. Tomcat is already stopped)."""


class StepRun(Generic[C]):
    """What a step's functions receive: the wizard's context and ways to report."""

    def __init__(self, runner: Runner[C], step: Step[C], index: int) -> None:
        self.runner = runner
        self.step = step
        self.index = index
        self.deadline: float | None = None
        """Loop time at which the step times out (None: no limit)."""

    @property
    def ctx(self) -> C:
        return self.runner.ctx

    @property
    def force(self) -> bool:
        return self.runner.force

    @property
    def dry_run(self) -> bool:
        return self.runner.dry_run

    def seconds_left(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    def waiting(self, what: str, figures: Mapping[str, Any] | None = None) -> None:
        """Report that the step waits for `what`, with the current figures."""
        shown = {key: value for key, value in (figures or {}).items() if value is not None}
        left = self.seconds_left()
        if left is not None:
            shown.setdefault("seconds_left", round(left, 1))
        self.runner.emit("waiting", self.step, self.index, f"waiting for {what}", what, shown)

    def warn(self, text: str) -> None:
        self.runner.emit("warning", self.step, self.index, text)

    def changed(self, text: str, changes: Sequence[Change]) -> None:
        """Report a change that was made and read back, with what was sent."""
        self.runner.emit("change", self.step, self.index, text, changes=tuple(changes))

    def observed(self, text: str) -> None:
        """Report something read back or learned that changes nothing (a reading, a check)."""
        self.runner.emit("observed", self.step, self.index, text)

    async def ask(self, question: str, prompt: str, key: str | None = None) -> str:
        """A value only the operator has (a license key for a node's system key ...), through
        the runner's `ask` hook: a scripted run takes it from the answers file (`question`, or
        `question.key` for a per-node value; a missing one was refused before anything
        changed); a screen passes a hook that prompts. Refused when nobody can answer."""
        if self.runner.ask is None:
            raise Refused(f"{prompt}: nobody to ask (no answers file, no screen)")
        self.runner.emit("waiting", self.step, self.index, f"waiting for {prompt}", prompt)
        answer = await self.runner.ask(self.step, question, prompt, key)
        if answer is None:
            raise _Declined()
        return answer


StepFn = Callable[[StepRun[C]], Awaitable[None]]
PlanFn = Callable[[StepRun[C]], Awaitable[list[Change]]]
StateFn = Callable[[C], str]
ConcludeFn = Callable[[C, Status], Awaitable[str]]
READ_BACK_TIMEOUT = 25.0
"""Seconds the final read-back of a run that changed something may take."""


@dataclass(frozen=True, slots=True)
class Step(Generic[C]):
    """One named step of a wizard."""

    name: str
    description: str
    """What it does and why, in plain language (shown before it runs and in dry runs)."""
    check: StepFn[C] | None = None
    """Precondition: raise Refused, StepFailed or Skip; warn through the StepRun."""
    plan: PlanFn[C] | None = None
    """The exact changes the action would make; a step with changes is confirmed first."""
    action: StepFn[C] | None = None
    verify: StepFn[C] | None = None
    timeout: float | Callable[[C], float] = 60.0
    """Seconds the check, action and verification together may take."""
    left: StateFn[C] | str = ""
    """The cluster's state once this step is done (what a stop right after it leaves)."""
    interrupted: StateFn[C] | str = ""
    """The cluster's state if the step is cut short (cancelled, failed, timed out) midway;
    empty means the same as after the previous step."""
    node: str | None = None
    """The node a composed wizard's step acts on (its progress events name it); None: the
    run's own node(s)."""

    def timeout_for(self, ctx: C) -> float:
        return self.timeout(ctx) if callable(self.timeout) else self.timeout


@dataclass(frozen=True, slots=True)
class Wizard(Generic[C]):
    """A named sequence of steps, with the state the cluster is in before any of them."""

    name: str
    title: str
    steps: tuple[Step[C], ...]
    initial: StateFn[C] | str = "nothing was changed"
    conclude: ConcludeFn[C] | None = None
    """Once a run that changed something ends (however it ends): read the cluster back,
    record what must be recorded, and return the state it was left in, described from that
    read. When it fails, the steps' `left`/`interrupted` sentences are used, marked as not
    read back."""


Confirm = Callable[[Step[Any], list[Change]], Awaitable[bool]]
"""Asked before each step that changes something; False stops the run (nothing more changes)."""
Ask = Callable[[Step[Any], str, str, str | None], Awaitable[str | None]]
"""Asked for a value during a step: (step, question, prompt, key); None stops the run."""


def _describe(text: StateFn[C] | str, ctx: C) -> str:
    return text(ctx) if callable(text) else text


class Runner(Generic[C]):
    """Runs one wizard once; `run()` never raises for anything a step does."""

    def __init__(
        self,
        wizard: Wizard[C],
        ctx: C,
        *,
        node: str,
        on_progress: Callable[[Progress], None],
        confirm: Confirm | None = None,
        dry_run: bool = False,
        force: bool = False,
        timeout: float | None = None,
        audit: AuditLog | None = None,
        ask: Ask | None = None,
    ) -> None:
        self.wizard = wizard
        self.ask = ask
        """Answers a step's question (`StepRun.ask`); None: nobody can."""
        self.ctx = ctx
        self.node = node
        self.on_progress = on_progress
        self.confirm = confirm
        self.dry_run = dry_run
        self.force = force
        self.timeout = timeout
        self.audit = audit
        """When given, a run that changes something is itself audited: a ``before`` line
        (wizard, node, options) ahead of its first change, an ``after`` line with how it
        ended and the state it left (however it ends: done, failed, cancelled)."""
        self._run_entry: AuditEntry | None = None
        self._task: asyncio.Task[None] | None = None
        self._cancel_reason: str | None = None
        self._left: str = ""
        self._acted = False
        """Whether an action began: then the state left is read back at the end."""
        self._held: list[Progress] | None = None
        """A dry run's check reports, held until the step's own line is out (so a refusal
        never comes ahead of the step it belongs to)."""

    def emit(
        self,
        kind: ProgressKind,
        step: Step[C] | None,
        index: int,
        text: str,
        waiting_for: str | None = None,
        figures: Mapping[str, Any] | None = None,
        *,
        changes: tuple[Change, ...] = (),
        state: str | None = None,
        status: Status | None = None,
    ) -> None:
        event = Progress(
            kind=kind,
            wizard=self.wizard.name,
            node=step.node if step is not None and step.node else self.node,
            step=step.name if step else None,
            index=index,
            total=len(self.wizard.steps),
            text=text,
            waiting_for=waiting_for,
            figures=dict(figures or {}),
            changes=changes,
            state=state,
            status=status,
        )
        if self._held is not None:
            self._held.append(event)
        else:
            self.on_progress(event)

    def cancel(self, reason: str = "cancelled by the operator") -> None:
        """Stop the run at the next await; the step in progress is cut short."""
        self._cancel_reason = reason
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def run(self) -> Outcome:
        """Every step in order (or its plan, in a dry run); the outcome, already reported.

        The state the cluster was left in is read back (`Wizard.conclude`) whenever a step
        acted, so the last line says what the balancers and the node show, not what the step
        meant to do."""
        self._left = _describe(self.wizard.initial, self.ctx)
        self._acted = False
        ending = await self._run()
        state = await self._state_left(ending.status)
        if ending.event is not None and ending.step is not None:
            self.emit(ending.event, ending.step, ending.index, ending.why, state=state)
        outcome = Outcome(
            ending.status, ending.text, state, ending.step.name if ending.step else None
        )
        if self._run_entry is not None:
            result = {"status": outcome.status, "text": outcome.text, "state": outcome.state}
            with contextlib.suppress(AuditError):  # the changes themselves are audited
                if outcome.status == "done":
                    self._run_entry.done(result)
                else:
                    self._run_entry.failed(outcome.text, result)
        self.emit("finished", None, 0, outcome.text, state=outcome.state, status=outcome.status)
        return outcome

    def _audit_run(self) -> None:
        """The run's own ``before`` line, ahead of its first change (AuditError stops it)."""
        if self.audit is None or self._run_entry is not None:
            return
        request = {
            "wizard": self.wizard.name,
            "node": self.node,
            "force": self.force,
            "timeout": self.timeout,
        }
        self._run_entry = self.audit.begin(
            node=self.node, step="run", request=request, wizard=self.wizard.name
        )

    async def _state_left(self, status: Status) -> str:
        conclude = self.wizard.conclude
        if self.dry_run or not self._acted or conclude is None:
            return self._left
        try:
            async with asyncio.timeout(READ_BACK_TIMEOUT):
                return await conclude(self.ctx, status)
        except Exception as error:  # the run's outcome stands; say the state is not confirmed
            why = str(error) or type(error).__name__
            return f"{self._left} (not confirmed: the cluster could not be read back: {why})"

    async def _run(self) -> _Ending[C]:
        loop = asyncio.get_running_loop()
        run_deadline = loop.time() + self.timeout if self.timeout else None
        refusals: list[str] = []
        for index, step in enumerate(self.wizard.steps, start=1):
            if self._cancel_reason is not None:
                return self._cancelled(step, index)
            run = StepRun(self, step, index)
            limit = step.timeout_for(self.ctx)
            deadline = loop.time() + limit
            overall = run_deadline is not None and run_deadline < deadline
            if run_deadline is not None:
                deadline = min(deadline, run_deadline)
            run.deadline = deadline
            self._task = asyncio.ensure_future(self._step(run, refusals))
            try:
                async with asyncio.timeout_at(deadline):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
                if self.dry_run:
                    self.emit("warning", step, index, f"{step.name}: could not plan in time")
                    continue
                what = f"the whole run's {self.timeout:g} s" if overall else f"{limit:g} s"
                why = f"{step.name} timed out after {what}"
                return _Ending("timed-out", why, step, index, "failed", why)
            except asyncio.CancelledError:
                if self._cancel_reason is None:  # the caller cancelled run() itself
                    self._task.cancel()
                    raise
                await asyncio.gather(self._task, return_exceptions=True)
                return self._cancelled(step, index)
            finally:
                self._task = None
            error = self._step_error
            if isinstance(error, Refused):
                text = f"refused: {error.reason}" + (
                    "" if self.force else " (nothing more was changed)"
                )
                return _Ending("refused", text, step, index, "refused", error.reason)
            if isinstance(error, _Declined):
                return _Ending("declined", f"stopped before {step.name}: not confirmed", step)
            if error is not None:
                why = str(error) or type(error).__name__
                return _Ending("failed", why, step, index, "failed", why)
        if self.dry_run:
            if refusals:
                text = "dry run: the run would be refused: " + "; ".join(refusals)
                return _Ending("refused", text)
            return _Ending("planned", "dry run: nothing was changed")
        return _Ending("done", f"{self.wizard.title}: done")

    def _cancelled(self, step: Step[C], index: int) -> _Ending[C]:
        why = f"{self._cancel_reason or 'cancelled'} during {step.name}"
        return _Ending("cancelled", why, step, index, "cancelled", why)

    _step_error: BaseException | None = None

    async def _step(self, run: StepRun[C], refusals: list[str]) -> None:
        """One step; its error (if any) is kept in _step_error, never raised."""
        self._step_error = None
        step, index = run.step, run.index
        try:
            if not self.dry_run:
                self.emit("started", step, index, step.description)
            else:
                self._held = []
            if step.check is not None:
                try:
                    await step.check(run)
                except Refused as refusal:
                    if refusal.forceable and self.force:
                        self.emit("warning", step, index, f"forced past: {refusal.reason}")
                    elif self.dry_run:
                        refusals.append(refusal.reason)
                        self.emit("refused", step, index, f"would refuse: {refusal.reason}")
                    else:
                        raise
                except StepFailed as failure:
                    if not (self.dry_run and refusals):
                        raise
                    # a dry run already refused: later checks fail for the same reason
                    self.emit("warning", step, index, f"would fail: {failure}")
            changes = await step.plan(run) if step.plan is not None else []
            if self.dry_run:
                held, self._held = self._held or [], None
                self.emit("plan", step, index, step.description, changes=tuple(changes))
                for event in held:
                    self.on_progress(event)
                return
            if changes and (self.confirm is None or not await self.confirm(step, changes)):
                raise _Declined()
            if step.action is not None:
                self._audit_run()
                self._acted = True
                await step.action(run)
            self._left = _describe(step.interrupted, self.ctx) or self._left
            if step.verify is not None:
                await step.verify(run)
            self._left = _describe(step.left, self.ctx) or self._left
            self.emit("done", step, index, "done")
        except Skip as skip:
            self.emit("skipped", step, index, str(skip) or f"{step.name}: nothing to do")
        except asyncio.CancelledError:
            self._left = _describe(step.interrupted, self.ctx) or self._left
            raise
        except Exception as error:  # every step failure becomes an outcome, never a traceback
            if not isinstance(error, Refused | _Declined):
                self._left = _describe(step.interrupted, self.ctx) or self._left
            self._step_error = error
        finally:
            pending, self._held = self._held or [], None
            for event in pending:
                self.on_progress(event)


class _Declined(Exception):
    """The confirm hook said no (or there was nobody to ask)."""


@dataclass(frozen=True, slots=True)
class _Ending(Generic[C]):
    """How `_run` ended: the outcome's status and text, and the step event to report (if any)."""

    status: Status
    text: str
    step: Step[C] | None = None
    index: int = 0
    event: ProgressKind | None = None
    why: str = ""
