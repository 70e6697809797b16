"""The node table's row pointer: the cursor keys (up, down, page, first, last) and the mouse
(hover, click to move the cursor, click on the cursor's row to select it).

A mixin of `NodeTable`: to the type checker a `ScrollView`, at run time a plain class (the
table's MRO, bindings and CSS type names stay its own). It declares the table's attributes it
reads and, under ``TYPE_CHECKING``, the table's methods it calls; mypy checks them where they
meet in `NodeTable`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events

if TYPE_CHECKING:
    from textual.scroll_view import ScrollView

    _Base = ScrollView
else:
    _Base = object


class RowPointer(_Base):
    """The cursor's moves and the mouse over the table's rows."""

    _order: tuple[str, ...]
    """The nodes listed, in order (row 0 is under the header)."""
    _index: dict[str, int]
    """Each listed node's row."""

    if TYPE_CHECKING:
        cursor_row: int
        hover_row: int

        def move_cursor(self, row: int, *, scroll: bool = True) -> None: ...
        def action_select_cursor(self) -> None: ...

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self._page())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._order) - 1)

    def _row_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return None
        row = int(self.scroll_y) + offset.y - 1
        return row if 0 <= row < len(self._order) else None

    async def _on_click(self, event: events.Click) -> None:
        row = self._row_at(event)
        if row is None:
            return
        event.stop()
        if row == self.cursor_row:
            self.action_select_cursor()
        else:
            self.move_cursor(row)

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        row = self._row_at(event)
        self._set_hover(-1 if row is None else row)

    def _on_leave(self, event: events.Leave) -> None:
        self._set_hover(-1)

    def _set_hover(self, row: int) -> None:
        old = self.hover_row
        if old != row:
            self.hover_row = row
            self._refresh_row(old)
            self._refresh_row(row)

    def _scroll_to_row(self, row: int) -> None:
        height = self.scrollable_content_region.height
        if height <= 1:
            return
        top = int(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row > top + height - 2:
            self.scroll_to(y=row - height + 2, animate=False, immediate=True)

    def select_node(self, name: str) -> bool:
        """Move the cursor to a node's row; False if it is not shown."""
        at = self._index.get(name)
        if at is None:
            return False
        self.move_cursor(at)
        return True

    def _refresh_row(self, row: int) -> None:
        if 0 <= row < len(self._order):
            line = row + 1 - int(self.scroll_y)
            if 1 <= line < self.size.height:
                self.refresh_line(row + 1)
