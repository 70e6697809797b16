"""A `DataTable` of whole rows: Home and End move the row cursor, columns fit their content.

Textual's `DataTable` binds Home and End to scrolling only: the highlighted row stays where it
was while the view jumps, so an action taken next (standby, drain) went to a row that was no
longer in sight. Its columns also only grow: a status word that got shorter kept its column wide
for good, and `update_cell` does not widen a column, so a longer state word was cut short
("DRAINING Init D"). Here every change of content refits the columns, both ways.

Rows may be sorted by any column (`screens.widgets.sorting`: shift+letter, `<` `>`, `=`); the
order chosen is remembered for the view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from screens.widgets.export import EXPORT_BINDINGS, Format, export_from
from screens.widgets.sorting import SortMemory, SortOrder, arrow, next_order, sorted_keys


class RowTable(DataTable[Text]):
    """Rows keyed by a string; `show_rows` replaces or updates them, keeping the cursor's row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "first_row", "First row", show=False),
        Binding("end", "last_row", "Last row", show=False),
        *(Binding(k, a, d, show=False, id=i) for k, a, d, i in EXPORT_BINDINGS),
    ]

    def __init__(self, *, id: str | None = None, zebra_stripes: bool = True) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=zebra_stripes)
        self.row_keys: list[str] = []
        """The rows' keys, top to bottom."""
        self.row_sort: SortOrder | None = None
        """The operator's sort (shift+letter, < >, =), or None: the view's own order."""
        self._given: list[tuple[str, Sequence[Text]]] = []
        self._titles: dict[str, str] = {}

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

    # -- sorting -------------------------------------------------------------------------------

    def _sort_memory_key(self) -> str:
        return f"{type(self.screen).__name__}/{self.id}"

    def on_mount(self) -> None:
        self.row_sort = SortMemory.get(self.app, self._sort_memory_key())

    def _columns_titled(self) -> list[tuple[str, str]]:
        return [
            (str(key.value), self._titles.get(str(key.value), column.label.plain))
            for key, column in self.columns.items()
        ]

    def sort_by(self, order: SortOrder | None) -> None:
        """Sort the rows by a column (None: the order the view gives); remembered for the view."""
        self.row_sort = order
        SortMemory.put(self.app, self._sort_memory_key(), order)
        self.show_rows(self._given)

    def _mark_header(self) -> None:
        for key, column in self.columns.items():
            name = str(key.value)
            title = self._titles.setdefault(name, column.label.plain)
            label = title + arrow(self.row_sort, name)
            if column.label.plain != label:
                column.label = Text(label)
                column.content_width = max(column.content_width, cell_len(label))
                self._require_update_dimensions = True
                self.refresh()

    def on_key(self, event: events.Key) -> None:
        if event.key in self.screen.active_bindings:  # a key of the view's own wins
            return
        order = next_order(self.row_sort, self._columns_titled(), event.key)
        if order is False:
            return
        event.stop()
        event.prevent_default()
        self.sort_by(order if isinstance(order, SortOrder) else None)

    def _sorted(
        self, rows: Sequence[tuple[str, Sequence[Text]]]
    ) -> Sequence[tuple[str, Sequence[Text]]]:
        sort = self.row_sort
        names = [name for name, _ in self._columns_titled()]
        if sort is None or sort.column not in names:
            return rows
        at = names.index(sort.column)
        by_key = {key: cells for key, cells in rows}
        order = sorted_keys([key for key, _ in rows], lambda key: by_key[key][at], sort)
        return [(key, by_key[key]) for key in order]

    def action_export(self, fmt: Format) -> None:
        """The rows shown, in the order shown."""
        columns = [title for _, title in self._columns_titled()]
        rows = [[str(cell) for cell in self.get_row_at(at)] for at in range(self.row_count)]
        export_from(self, fmt, columns, rows)

    # -- content -------------------------------------------------------------------------------

    def show_rows(self, rows: Sequence[tuple[str, Sequence[Text]]]) -> None:
        """Show these rows in this order (or the operator's sort). Same keys: only changed cells
        are written (columns refit); other keys: the table is refilled, the cursor stays on its
        row's key (or its position) and columns fit the new content."""
        self._given = list(rows)
        self._mark_header()
        rows = self._sorted(rows)
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
