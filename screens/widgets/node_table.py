"""A table of nodes drawn through the Line API: one cached `Strip` per row, rebuilt only when
that row changed.

Textual's `DataTable` re-renders every visible cell after any `update_cell` (its render caches
are keyed by a global update counter), about 0.4 ms a cell: with 500 nodes changing each second
that alone exceeds the dashboard's budget. Here each row carries a version; its strip is cached
under (node, version, column layout, row style), so a frame re-renders only rows that changed
*and* are visible, each as one `Text` rendered once. The columns' widths (grown, shrunk back,
squeezed to fit at 80 columns) are `table_columns`, a cell drawn into its column `table_cells`,
the cursor keys and the mouse `table_pointer`.

Cells are `Text` and stay literal: nothing here parses markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from screens.widgets.export import EXPORT_BINDINGS, Format, export_from
from screens.widgets.sorting import SortMemory, SortOrder, arrow, next_order, sorted_keys
from screens.widgets.table_cells import cell_segments, row_text
from screens.widgets.table_columns import PADDING, Column, ColumnWidths
from screens.widgets.table_pointer import RowPointer


class NodeTable(RowPointer, ScrollView, can_focus=True):
    """Rows of cells keyed by node name, a header, a row cursor; Enter posts `Selected`."""

    # No ids: like a DataTable's own keys, these list after the view's keys in the help.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select row", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First row", show=False),
        Binding("end", "last", "Last row", show=False),
        *(Binding(k, a, d, show=False, id=i) for k, a, d, i in EXPORT_BINDINGS),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "node-table--header",
        "node-table--cursor",
        "node-table--hover",
        "node-table--even-row",
        "node-table--odd-row",
    }

    # The look of Textual's DataTable, which this replaces.
    DEFAULT_CSS = """
    NodeTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .node-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .node-table--header { background-tint: $foreground 5%; }
        }
        &:dark > .node-table--even-row { background: $surface-darken-1 40%; }
        & > .node-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .node-table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .node-table--even-row { background: $surface-lighten-1 50%; }
        & > .node-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .node-table--hover { background: $block-hover-background; }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=False, layout=False, repaint=False)
    """Index (in the shown rows) of the highlighted row."""
    hover_row: reactive[int] = reactive(-1, repaint=False)
    """Index of the row under the mouse, or -1."""

    class Selected(Message):
        """Enter (or a click on the highlighted row) on a node's row."""

        def __init__(self, table: NodeTable, node: str) -> None:
            super().__init__()
            self.table = table
            self.node = node

        @property
        def control(self) -> NodeTable:
            return self.table

    class Highlighted(Message):
        """The cursor is on another node (or on none)."""

        def __init__(self, table: NodeTable, node: str | None) -> None:
            super().__init__()
            self.table = table
            self.node = node

        @property
        def control(self) -> NodeTable:
            return self.table

    def __init__(
        self,
        *,
        zebra_stripes: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.zebra_stripes = zebra_stripes
        self._columns: tuple[Column, ...] = ()
        self._widths = ColumnWidths()
        self._fit: list[int] = []
        """The widths drawn: the content widths squeezed into the view's width (0: hidden)."""
        self._layout = 0
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._versions: dict[str, int] = {}
        self._order: tuple[str, ...] = ()
        self._given: tuple[str, ...] = ()
        """The rows in the order the view gave them (before the operator's sort)."""
        self._index: dict[str, int] = {}
        self.row_sort: SortOrder | None = None
        """The operator's sort (shift+letter, < >, =), or None: the view's own order."""
        self._cache: LRUCache[tuple[object, ...], Strip] = LRUCache(2048)
        self._drawn: dict[str, int] = {}
        self._pieces: dict[tuple[str, int], tuple[Text, int, list[Segment]]] = {}
        self._base: Style | None = None
        self._highlighted: str | None = None
        self.rows_rendered = 0
        """Row strips built so far (cache misses): what frames cost, for tests and benches."""

    # -- content -------------------------------------------------------------------------------

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Replace the columns; forgets every row."""
        self._columns = tuple(columns)
        self._widths = ColumnWidths(self._columns)
        self._cells.clear()
        self._versions.clear()
        self._drawn.clear()
        self._pieces.clear()
        self._order = ()
        self._given = ()
        self._index = {}
        self._relayout()

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @property
    def column_widths(self) -> tuple[int, ...]:
        """Content width of each column now (without padding)."""
        return tuple(self._widths.widths)

    @property
    def drawn_widths(self) -> tuple[int, ...]:
        """Width each column is drawn with in the view now (0: hidden for lack of room)."""
        return tuple(self._fit)

    def _fit_widths(self) -> list[int]:
        """Squeeze the columns into the view's width, in their squeeze order."""
        return self._widths.fit(self.scrollable_content_region.width or self.size.width)

    def update_row(self, name: str, cells: Sequence[Text]) -> bool:
        """Set a node's cells (shown or not); True if they differ from what it had."""
        changed = self._store(name, cells)
        if changed and self.row_sort is not None and self._given:
            self._show_order(self._sorted(self._given))
        if changed and (at := self._index.get(name)) is not None:
            self._refresh_row(at)
        return changed

    def update_rows(self, rows: Mapping[str, Sequence[Text]]) -> list[str]:
        """`update_row` for many nodes with one repaint; the names whose cells changed."""
        layout = self._layout
        changed = [name for name, cells in rows.items() if self._store(name, cells)]
        if changed and self.row_sort is not None and self._given:
            self._show_order(self._sorted(self._given))  # a changed cell may move its row
        if self._layout == layout and changed:
            top = int(self.scroll_y)
            bottom = top + self.size.height - 1
            index = self._index
            if any(top <= index.get(name, -1) < bottom for name in changed):
                self.refresh()
        return changed

    def _store(self, name: str, cells: Sequence[Text]) -> bool:
        """Keep a node's cells and bump its version; widen columns (and repaint) if needed."""
        row = tuple(cells)
        if len(row) != len(self._columns):
            raise ValueError(f"{len(row)} cells for {len(self._columns)} columns")
        old = self._cells.get(name)
        if old == row:
            return False
        self._cells[name] = row
        self._versions[name] = self._versions.get(name, 0) + 1
        grew = self._widths.account(old, row)
        if grew:
            self._relayout()
        return True

    def set_rows(self, order: Sequence[str]) -> None:
        """Show these nodes in this order (each needs cells), or in the operator's sort; the
        cursor stays on its node."""
        order = tuple(order)
        missing = [name for name in order if name not in self._cells]
        if missing:
            raise KeyError(f"no cells for {missing[0]!r}")
        self._given = order
        self._show_order(self._sorted(order))

    def _sorted(self, order: tuple[str, ...]) -> tuple[str, ...]:
        sort = self.row_sort
        at = next((i for i, c in enumerate(self._columns) if sort and c.key == sort.column), None)
        if sort is None or at is None:
            return order
        cells = self._cells
        return tuple(sorted_keys(order, lambda name: cells[name][at], sort))

    def _show_order(self, order: tuple[str, ...]) -> None:
        if order == self._order:
            return
        selected = self.selected_node
        self._order = order
        self._index = {name: at for at, name in enumerate(order)}
        self._resize()
        self.hover_row = -1
        if selected in self._index:
            self.move_cursor(self._index[selected])
        else:
            self.move_cursor(min(self.cursor_row, len(order) - 1))
        self.refresh()

    def row_cells(self, name: str) -> tuple[Text, ...]:
        """The cells last given for a node."""
        return self._cells[name]

    @property
    def shown(self) -> tuple[str, ...]:
        """The nodes listed, in order."""
        return self._order

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def selected_node(self) -> str | None:
        """The node under the cursor, if any."""
        if 0 <= self.cursor_row < len(self._order):
            return self._order[self.cursor_row]
        return None

    def row_version(self, name: str) -> int:
        """How many times a node's cells changed (1 after its first `update_row`)."""
        return self._versions.get(name, 0)

    def drawn_version(self, name: str) -> int:
        """The row version last turned into a strip (0: never drawn)."""
        return self._drawn.get(name, 0)

    def header_text(self) -> str:
        """The header as it reads on screen (with the sort arrow)."""
        return "".join(segment.text for segment in self.render_line(0)).rstrip()

    def row_text(self, name: str) -> str:
        """A row as it reads on screen, padded and clipped to the column widths."""
        return row_text(self._cells[name], self._fit).plain

    # -- sorting -------------------------------------------------------------------------------

    def _sort_memory_key(self) -> str:
        return f"{type(self.screen).__name__}/{self.id}"

    def on_mount(self) -> None:
        self.row_sort = SortMemory.get(self.app, self._sort_memory_key())

    def sort_by(self, order: SortOrder | None) -> None:
        """Sort the rows by a column (None: the view's own order); remembered for the view."""
        self.row_sort = order
        SortMemory.put(self.app, self._sort_memory_key(), order)
        self._show_order(self._sorted(self._given))
        self._relayout()  # the header's arrow

    def on_key(self, event: events.Key) -> None:
        if event.key in self.screen.active_bindings:  # a key of the view's own wins
            return
        columns = [(column.key, column.label) for column in self._columns]
        order = next_order(self.row_sort, columns, event.key)
        if order is False:
            return
        event.stop()
        event.prevent_default()
        self.sort_by(order if isinstance(order, SortOrder) else None)

    def action_export(self, fmt: Format) -> None:
        """Every column of the rows shown, in the order shown (hidden columns too)."""
        columns = [column.label for column in self._columns]
        rows = [[cell.plain for cell in self._cells[name]] for name in self._order]
        export_from(self, fmt, columns, rows)

    # -- cursor and keys -----------------------------------------------------------------------

    def move_cursor(self, row: int, *, scroll: bool = True) -> None:
        """Highlight the row at ``row`` (clamped) and scroll it into view."""
        row = max(0, min(row, len(self._order) - 1))
        old = self.cursor_row
        self.cursor_row = row
        if old != row:
            self._refresh_row(old)
            self._refresh_row(row)
        if scroll:
            self._scroll_to_row(row)
        node = self.selected_node
        if node != self._highlighted:
            self._highlighted = node
            self.post_message(self.Highlighted(self, node))

    def action_select_cursor(self) -> None:
        node = self.selected_node
        if node is not None:
            self.post_message(self.Selected(self, node))

    # -- layout and rendering ------------------------------------------------------------------

    def _table_width(self) -> int:
        return sum(width + 2 * PADDING for width in self._fit if width)

    def _resize(self) -> None:
        self.virtual_size = Size(self._table_width(), len(self._order) + 1)

    def _relayout(self) -> None:
        self._layout += 1
        self._fit = self._fit_widths()
        self._resize()
        self.refresh()

    def on_resize(self) -> None:
        if self._fit_widths() != self._fit:
            self._relayout()

    def _cell_segments(self, key: tuple[str, int], cell: Text, width: int) -> list[Segment]:
        """A cell clipped and padded to its column, as segments (cached while unchanged)."""
        cached = self._pieces.get(key)
        if cached is not None and cached[0] is cell and cached[1] == self._layout:
            return cached[2]
        segments = cell_segments(cell, width, self.app.console)
        self._pieces[key] = (cell, self._layout, segments)
        return segments

    def _draw_row(
        self,
        name: str,
        cells: Sequence[Text],
        pre: Style,
        post: Style | None,
        marks: Mapping[int, str] | None = None,
    ) -> Strip:
        """One line: every cell's cached segments between paddings, under the row's style
        (``marks``: a column's left padding replaced by a mark, the header's sort arrow)."""
        pad = Segment(" " * PADDING, pre + post if post else pre)
        line: list[Segment] = []
        append = line.append
        for index, (cell, width) in enumerate(zip(cells, self._fit, strict=True)):
            if not width:
                continue
            mark = marks.get(index) if marks else None
            append(Segment(mark + " " * (PADDING - 1), pad.style) if mark else pad)
            for text, style, _ in self._cell_segments((name, index), cell, width):
                combined = pre + style if style else pre
                append(Segment(text, combined + post if post else combined))
            append(pad)
        return Strip(line, self._table_width())

    def _row_styles(self, row: int, base: Style) -> tuple[Style, Style | None]:
        style = base
        if self.zebra_stripes:
            name = "node-table--odd-row" if row % 2 else "node-table--even-row"
            style += self.get_component_rich_style(name)
        if row == self.hover_row:
            style += self.get_component_rich_style("node-table--hover")
        post: Style | None = None
        if row == self.cursor_row:
            cursor = self.get_component_rich_style("node-table--cursor")
            style += cursor
            post = Style.from_color(cursor.color, cursor.bgcolor)
        return style, post

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base = self.rich_style  # once a frame, not once a line
        try:
            return super().render_lines(crop)
        finally:
            self._base = None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self._base or self.rich_style
        if y == 0:
            pre = base + self.get_component_rich_style("node-table--header")
            key: tuple[object, ...] = (None, self._layout, pre)
            strip = self._cache.get(key)
            if strip is None:
                labels = [Text(column.label, end="") for column in self._columns]
                sort = self.row_sort
                marks = {
                    index: arrow(sort, column.key)
                    for index, column in enumerate(self._columns)
                    if sort is not None and column.key == sort.column
                }
                strip = self._draw_row("\x00", labels, pre, None, marks)
                self._cache[key] = strip
            return strip.crop_extend(scroll_x, scroll_x + width, pre)
        row = scroll_y + y - 1
        if row >= len(self._order):
            return Strip.blank(width, base)
        name = self._order[row]
        pre, post = self._row_styles(row, base)
        version = self._versions[name]
        key = (name, version, self._layout, pre, post)
        strip = self._cache.get(key)
        if strip is None:
            self.rows_rendered += 1
            self._drawn[name] = version
            strip = self._draw_row(name, self._cells[name], pre, post)
            self._cache[key] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, pre + post if post else pre)


__all__ = ["PADDING", "Column", "NodeTable"]
