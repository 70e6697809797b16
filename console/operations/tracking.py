"""Where a wizard run stands, folded from its progress events (for screens; no Textual here).

Each step has a state word: pending, RUNNING, WAITING, done, skipped, planned (dry run), FAILED,
REFUSED, cancelled or declined. A step still running when the run finishes gets the run's ending
(``declined`` when the operator said no, else ``cancelled``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from console.operations.engine import Progress

KIND_STATE: Mapping[str, str] = {
    "started": "RUNNING",
    "waiting": "WAITING",
    "done": "done",
    "skipped": "skipped",
    "plan": "planned",
    "failed": "FAILED",
    "refused": "REFUSED",
    "cancelled": "cancelled",
}
THROUGH = ("done", "skipped", "plan")
"""Events after which a step counts as gone through (the progress bar)."""


@dataclass(slots=True)
class RunTracker:
    """The state of every step, the current step's last event and the final event."""

    states: dict[str, str] = field(default_factory=dict)
    through: set[str] = field(default_factory=set)
    current: Progress | None = None
    """The last `started` or `waiting` event (what the figures panel shows)."""
    finished: Progress | None = None

    def state_of(self, step: str) -> str:
        return self.states.get(step, "pending")

    @property
    def gone_through(self) -> int:
        return len(self.through)

    def apply(self, event: Progress) -> None:
        step = event.step
        if step is not None:
            state = KIND_STATE.get(event.kind)
            # a dry run plans a step its check refused: it stays REFUSED
            if state is not None and not (
                event.kind == "plan" and self.state_of(step) == "REFUSED"
            ):
                self.states[step] = state
            if event.kind in THROUGH:
                self.through.add(step)
            if event.kind in ("started", "waiting"):
                self.current = event
        if event.kind == "finished":
            self.finished = event
            ending = "declined" if event.status == "declined" else "cancelled"
            for name, state in self.states.items():
                if state in ("RUNNING", "WAITING"):
                    self.states[name] = ending
