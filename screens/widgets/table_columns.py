"""The node table's columns and their widths: each column grows when a cell outgrows it (up to
its cap), shrinks back when its widest cell gets narrower, and, when the view is too narrow, the
columns that may be squeezed give up cells (highest `squeeze` first, down to their
`min_width`; a column whose `min_width` is 0 is hidden). Pure bookkeeping, no drawing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

PADDING = 1
"""Blank cells on each side of every column."""


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its key, its title, and the width range of its content (without padding)."""

    key: str
    label: str
    width: int
    """Narrowest the column gets (the title also widens it)."""
    max_width: int = 0
    """Widest the column grows to fit content; 0 means `width` (never grows)."""
    min_width: int | None = None
    """Narrowest the column is squeezed to when the view is too narrow (0: hidden instead);
    None: never squeezed."""
    squeeze: int = 0
    """Order in which columns give up width (highest first)."""


class ColumnWidths:
    """The content width of each column (without padding), kept as rows come and go."""

    def __init__(self, columns: Sequence[Column] = ()) -> None:
        self.columns = tuple(columns)
        self.widths = [max(column.width, len(column.label)) for column in self.columns]
        self._lengths: list[Counter[int]] = [Counter() for _ in self.columns]
        """Per column, how many rows have a cell of each length (the widest is the max key)."""

    def account(self, old: Sequence[Text] | None, row: Sequence[Text]) -> bool:
        """Count a row's cells (replacing `old`, its previous cells); True if a width changed."""
        changed = False
        widths = self.widths
        for index, cell in enumerate(row):
            if old is not None and old[index] is cell:
                continue
            width = widths[index]
            column = self.columns[index]
            size = cell.cell_len
            counts = self._lengths[index]
            counts[size] += 1
            was = old[index].cell_len if old is not None else -1
            if was >= 0:
                counts[was] -= 1
                if not counts[was]:
                    del counts[was]
            if size > width:
                cap = max(column.max_width, column.width)
                if width < cap:
                    widths[index] = min(size, cap)
                    changed = True
            elif was >= width > size:
                # This row may have held the column's widest cell: fit the column again.
                floor = max(column.width, len(column.label))
                cap = max(column.max_width, column.width)
                narrower = max(floor, min(max(counts, default=0), cap))
                if narrower != width:
                    widths[index] = narrower
                    changed = True
        return changed

    def fit(self, room: int) -> list[int]:
        """The widths squeezed into `room` cells, in the columns' squeeze order (0: hidden)."""
        fit = list(self.widths)
        if room <= 0:
            return fit
        excess = sum(width + 2 * PADDING for width in fit) - room
        order = sorted(
            (i for i, column in enumerate(self.columns) if column.min_width is not None),
            key=lambda i: -self.columns[i].squeeze,
        )
        for index in order:
            if excess <= 0:
                break
            floor = self.columns[index].min_width or 0
            if floor == 0:  # a column that may go: hidden whole, never cut to a stub
                excess -= fit[index] + 2 * PADDING
                fit[index] = 0
                continue
            give = min(excess, max(0, fit[index] - floor))
            fit[index] -= give
            excess -= give
        return fit
