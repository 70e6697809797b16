"""A `DataTable` of whole rows: Home and End move the row cursor, columns fit their content.

Textual's `DataTable` binds Home and End to scrolling only: the highlighted row stays where it
was while the view jumps, so an action taken next (standby, drain) went to a row that was no
longer in sight. Its columns also only grow: a status word that got shorter kept its column wide
for good, and `update_cell` does not widen a column, so a longer state word was cut short
("DRAINING Init D"). Here every change of content refits the columns, both ways.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class RowTable(DataTable[Text]):
    """Rows keyed by a string; `show_rows` replaces or updates them, keeping the cursor's row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "first_row", "First row", show=False),
        Binding("end", "last_row", "Last row", show=False),
    ]

    def __init__(self, *, id: str | None = None, zebra_stripes: bool = True) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=zebra_stripes)
        self.row_keys: list[str] = []
        """The rows' keys, top to bottom."""

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    @property
    def cursor_key(self) -> str | None:
        """The key of the highlighted row, if any."""
        row = self.cursor_row
        return self.row_keys[row] if 0 <= row < len(self.row_keys) else None

    def show_rows(self, rows: Sequence[tuple[str, Sequence[Text]]]) -> None:
        """Show these rows in this order. Same keys: only changed cells are written (columns
        refit); other keys: the table is refilled, the cursor stays on its row's key (or its
        position) and columns fit the new content."""
        keys = [key for key, _ in rows]
        if keys == self.row_keys:
            column_keys = list(self.columns)
            for key, cells in rows:
                for column_key, cell in zip(column_keys, cells, strict=True):
                    if self.get_cell(key, column_key) != cell:
                        self.update_cell(key, column_key, cell, update_width=True)
            return
        selected, position = self.cursor_key, self.cursor_row
        self.clear()
        for column in self.columns.values():  # clear() keeps the widest content ever seen
            column.content_width = cell_len(column.label.plain)
        for key, cells in rows:
            self.add_row(*cells, key=key)
        self.row_keys = keys
        if keys:
            row = keys.index(selected) if selected in keys else min(position, len(keys) - 1)
            self.move_cursor(row=row)


__all__ = ["RowTable"]
