"""A node table cell drawn into its column: clipped with an ellipsis when too wide, padded when
narrower, as plain text (exports, tests) or as segments (the Line API). Cells stay literal
`Text`: nothing here parses markup."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from screens.widgets.table_columns import PADDING


def clip(cell: Text, width: int) -> tuple[Text, int]:
    """The cell cut to `width` cells with an ellipsis if wider (a copy; the cell is kept), and
    the cells it takes."""
    size = cell.cell_len
    if size <= width:
        return cell, size
    shown = cell.copy()
    shown.truncate(width, overflow="ellipsis")
    return shown, shown.cell_len


def row_text(cells: Sequence[Text], widths: Sequence[int]) -> Text:
    """A row as one text, each cell in its column between paddings (width 0: hidden)."""
    text = Text(no_wrap=True, end="")
    pad = " " * PADDING
    for cell, width in zip(cells, widths, strict=True):
        if not width:
            continue
        shown, size = clip(cell, width)
        text.append(pad)
        text.append_text(shown)
        text.append(" " * (width - size + PADDING))
    return text


def cell_segments(cell: Text, width: int, console: Console) -> list[Segment]:
    """A cell clipped and padded to its column, as segments."""
    shown, size = clip(cell, width)
    if shown.spans or not shown.style:
        segments = list(shown.render(console, end=""))
    else:  # rich's Text.render drops the base style of a text without spans
        segments = [Segment(shown.plain, console.get_style(shown.style))]
    if size < width:
        segments.append(Segment(" " * (width - size)))
    return segments
