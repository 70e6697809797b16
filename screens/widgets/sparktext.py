"""A sparkline as a short string of block characters, for table cells (Sparkline is a widget)."""

from __future__ import annotations

import math
from collections.abc import Iterable

BARS = "▁▂▃▄▅▆▇█"


GAP = " "
"""A point that is not known (a counter reset, a column the page lacks)."""


def spark(values: Iterable[float | None], width: int) -> str:
    """The last ``width`` values scaled between zero and their maximum (empty when none); an
    unknown point (None) is a gap, so points of different series stay aligned in time."""
    points = list(values)[-width:]
    known = [value for value in points if value is not None and math.isfinite(value)]
    if not known:
        return GAP * len(points) if points else ""
    top = max(known)
    last = len(BARS) - 1
    return "".join(
        GAP
        if value is None or not math.isfinite(value)
        else BARS[0]
        if top <= 0
        else BARS[min(last, max(0, round(value / top * last)))]
        for value in points
    )
