"""A sparkline as a short string of block characters, for table cells (Sparkline is a widget)."""

from __future__ import annotations

from collections.abc import Iterable

BARS = "▁▂▃▄▅▆▇█"


def spark(values: Iterable[float], width: int) -> str:
    """The last ``width`` values scaled between zero and their maximum (empty when none)."""
    points = list(values)[-width:]
    if not points:
        return ""
    top = max(points)
    if top <= 0:
        return BARS[0] * len(points)
    last = len(BARS) - 1
    return "".join(BARS[min(last, max(0, round(value / top * last)))] for value in points)
