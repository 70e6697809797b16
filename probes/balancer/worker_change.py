"""A change to one worker, whatever the balancer: the fields httpd's balancer-manager can set
(HAProxy and NGINX take the subset they can express)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from probes.balancer.model import Worker

FACTOR_RANGE = (1.0, 100.0)
LBSET_RANGE = (0, 99)


def _shown(value: float | int | None) -> str:
    return "nothing" if value is None else f"{value:g}"


@dataclass(frozen=True, slots=True)
class WorkerChange:
    """What to change on one worker; None leaves a setting as it is."""

    drain: bool | None = None
    disabled: bool | None = None
    standby: bool | None = None
    stopped: bool | None = None
    ignore_errors: bool | None = None
    factor: float | None = None
    lbset: int | None = None

    def _switches(self) -> tuple[tuple[str, str, bool | None], ...]:
        """(label, httpd form field, wanted) per on/off setting, in httpd's form order."""
        return (
            ("ignore errors", "w_status_I", self.ignore_errors),
            ("drain", "w_status_N", self.drain),
            ("disabled", "w_status_D", self.disabled),
            ("standby", "w_status_H", self.standby),
            ("stopped", "w_status_S", self.stopped),
        )

    @property
    def empty(self) -> bool:
        return not self.form()

    def describe(self) -> str:
        """`drain on, factor 2` (for confirmations, logs and error messages)."""
        parts = [
            f"{label} {'on' if on else 'off'}"
            for label, _, on in self._switches()
            if on is not None
        ]
        if self.factor is not None:
            parts.append(f"factor {self.factor:g}")
        if self.lbset is not None:
            parts.append(f"set {self.lbset}")
        return ", ".join(parts) or "no change"

    def form(self) -> list[tuple[str, str]]:
        """The httpd form fields for this change (w_status_X=1/0, w_lf, w_ls)."""
        fields = [(name, "1" if on else "0") for _, name, on in self._switches() if on is not None]
        if self.factor is not None:
            fields.append(("w_lf", f"{self.factor:g}"))
        if self.lbset is not None:
            fields.append(("w_ls", str(self.lbset)))
        return fields

    def problems(self) -> list[str]:
        """Why httpd would refuse or silently ignore this change (empty when it is valid)."""
        found: list[str] = []
        if self.factor is not None:
            low, high = FACTOR_RANGE
            if isinstance(self.factor, bool) or not math.isfinite(self.factor):
                found.append(f"factor must be a number from {low:g} to {high:g}")
            elif not low <= self.factor <= high:
                found.append(f"factor must be from {low:g} to {high:g}, not {self.factor:g}")
        if self.lbset is not None:
            low_set, high_set = LBSET_RANGE
            whole = isinstance(self.lbset, int) and not isinstance(self.lbset, bool)
            if not whole or not low_set <= self.lbset <= high_set:
                found.append(f"set must be a whole number from {low_set} to {high_set}")
        return found

    def differences(self, seen: Worker) -> list[str]:
        """`drain: asked on, seen off` for every setting `seen` does not show as asked."""

        def word(value: bool | None) -> str:
            return "unknown" if value is None else ("on" if value else "off")

        shown = {
            "ignore errors": "Ign" in seen.flags if seen.status is not None else None,
            "drain": seen.draining,
            "disabled": seen.disabled,
            "standby": seen.standby,
            "stopped": "Stop" in seen.flags if seen.status is not None else None,
        }
        found = [
            f"{label}: asked {word(on)}, seen {word(shown[label])}"
            for label, _, on in self._switches()
            if on is not None and shown[label] != on
        ]
        # httpd stores int(factor * 100): 1.15 may come back as 1.14.
        if self.factor is not None and (
            seen.factor is None or abs(seen.factor - self.factor) > 0.0101
        ):
            found.append(f"factor: asked {self.factor:g}, seen {_shown(seen.factor)}")
        if self.lbset is not None and seen.lbset != self.lbset:
            found.append(f"set: asked {self.lbset}, seen {_shown(seen.lbset)}")
        return found
