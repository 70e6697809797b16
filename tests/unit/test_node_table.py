"""NodeTable on its own: layout, literal text, the cursor, selection, and what a frame redraws."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from screens import cells
from screens.widgets.node_table import Column, NodeTable
from tests.app.waiting import wait_for

COLUMNS = (Column("node", "node", 6, 10), Column("state", "state", 5, 12))


def row(name: str, state: str) -> tuple[Text, ...]:
    return (cells.plain(name), cells.plain(state))


class TableApp(App[None]):
    def __init__(self, rows: int = 3) -> None:
        super().__init__()
        self.rows = rows
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield NodeTable(id="nodes", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(NodeTable)
        table.set_columns(COLUMNS)
        names = [f"n{index}" for index in range(self.rows)]
        table.update_rows({name: row(name, "up") for name in names})
        table.set_rows(names)
        table.focus()

    def on_node_table_selected(self, event: NodeTable.Selected) -> None:
        self.selected.append(event.node)


def line(table: NodeTable, y: int) -> str:
    return table.render_line(y).text


async def test_header_rows_and_literal_text() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)):
        table = app.query_one(NodeTable)
        await wait_for(lambda: table.drawn_version("n2") == 1)
        assert line(table, 0).startswith(" node    state ")
        assert line(table, 1).startswith(" n0      up    ")
        hostile = "[bold]x[/] [0] \x1b[31m"
        table.update_row("n1", row("n1", hostile))
        strip = table.render_line(2)
        assert strip.text.startswith(" n1      [bold]x[/] … ")
        assert not any(seg.style and seg.style.bold for seg in strip)  # not interpreted
        cell = table.row_cells("n1")[1].plain
        assert cell.startswith("[bold]x[/] [0]") and "\x1b" not in cell and "\\x1b[31m" in cell


async def test_cell_colours_survive_with_and_without_spans() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)):
        table = app.query_one(NodeTable)
        word = Text("down", style="red", end="")
        mixed = Text("up", style="green", end="")
        mixed.append(" 4ms", style="yellow")
        table.update_row("n1", (word, mixed))
        styles = {seg.text.strip(): seg.style for seg in table.render_line(2) if seg.text.strip()}
        assert styles["down"] is not None and styles["down"].color is not None
        assert styles["down"].color.name == "red"
        assert styles["up"] is not None and styles["up"].color is not None
        assert styles["up"].color.name == "green"


async def test_columns_grow_to_their_cap_and_clip_with_an_ellipsis() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)):
        table = app.query_one(NodeTable)
        assert table.column_widths == (6, 5)
        assert table.update_row("n0", row("n0", "connecting"))
        assert table.column_widths == (6, 10)
        assert not table.update_row("n0", row("n0", "connecting"))  # unchanged: no new version
        table.update_row("n0", row("n0", "refused by the far end"))
        assert table.column_widths == (6, 12)
        assert line(table, 1).startswith(" n0      refused by … ")


async def test_cursor_keys_selection_and_reordering() -> None:
    app = TableApp(rows=30)
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(NodeTable)
        assert table.selected_node == "n0"
        await pilot.press("down", "down")
        assert table.selected_node == "n2"
        await pilot.press("end")
        assert table.selected_node == "n29"
        assert table.scroll_y > 0  # the last row is in view
        await pilot.press("home", "pagedown")
        assert table.cursor_row > 2
        await pilot.press("pageup", "enter")
        await wait_for(lambda: app.selected == ["n0"])
        table.select_node("n5")
        table.set_rows([f"n{index}" for index in reversed(range(30))])
        assert table.selected_node == "n5"  # the cursor follows its node
        table.set_rows(["n1", "n2"])
        assert table.selected_node in ("n1", "n2")
        table.set_rows([])
        assert table.selected_node is None


async def test_click_moves_the_cursor_and_a_second_click_selects() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(NodeTable)
        await pilot.click(NodeTable, offset=(2, 3))  # header is line 0: row 2
        await wait_for(lambda: table.selected_node == "n2")
        assert app.selected == []
        await pilot.click(NodeTable, offset=(2, 3))
        await wait_for(lambda: app.selected == ["n2"])


async def test_a_frame_redraws_only_changed_visible_rows() -> None:
    app = TableApp(rows=50)
    async with app.run_test(size=(40, 10)):
        table = app.query_one(NodeTable)
        await wait_for(lambda: table.drawn_version("n0") == 1)
        await wait_for(lambda: all(table.drawn_version(f"n{i}") == 1 for i in range(8)))
        drawn = table.rows_rendered
        table.update_rows({"n40": row("n40", "down")})  # not visible: nothing to draw
        table.update_rows({"n3": row("n3", "down")})
        await wait_for(lambda: table.drawn_version("n3") == 2)
        assert table.rows_rendered == drawn + 1
        assert table.drawn_version("n40") == 0


async def test_narrow_terminal_clips_and_scrolls_sideways() -> None:
    app = TableApp()
    async with app.run_test(size=(10, 6)):
        table = app.query_one(NodeTable)
        table.update_row("n0", row("n0", "connecting"))
        assert table.virtual_size.width == 20
        assert len(line(table, 1)) == table.size.width
        table.scroll_to(x=8, animate=False, immediate=True)
        await wait_for(lambda: table.scroll_x == 8)
        assert line(table, 1).startswith(" connecting"[: table.size.width])
