"""A live log view that stays responsive under bursts and never interprets what a log says.

Bytes arrive through `LogView.feed` (cheap: appended to a bounded pending buffer, one refresh
scheduled). At most every `FLUSH_SECONDS` the pending bytes are split into lines (a partial last
line is kept per log until its newline arrives), each line is capped, made printable (control
characters and ANSI escapes become visible ``\\xNN`` text) and appended to a ring of `MAX_LINES`.
Rendering goes through the Line API: only the visible rows are turned into `Strip`s, from `Text`
(never markup), with an LRU cache. A burst of 100k lines costs one split and the decoding of the
lines that fit in the ring.

Like lnav: a search highlights every match and `next_match` moves to the next or previous line
with one (the view pauses there); a level filter keeps SEVERE/ERROR (or those and WARNING) lines
with their stack traces; `wrap` folds long lines to the view's width instead of scrolling sideways.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from screens.widgets.export import EXPORT_BINDINGS, Format, export_from
from screens.widgets.log_lines import LEVELS as LEVELS
from screens.widgets.log_lines import LINE_CAP as LINE_CAP
from screens.widgets.log_lines import LogLine, line_text, make_line
from screens.widgets.search import Search, step

MAX_LINES = 10_000
"""Lines kept in the ring (older ones are dropped)."""
PENDING_CAP = 4 << 20
"""Bytes waiting for the next flush; beyond this the oldest pending bytes are skipped."""
PARTIAL_CAP = 64 << 10
"""Bytes of an unfinished line kept while waiting for its newline."""
FLUSH_SECONDS = 0.1
GUTTER = 6


class LogView(ScrollView, can_focus=True):
    """A bounded, filterable, pausable tail of one node's logs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_home", "Top", show=False, id="log.top"),
        Binding("end", "follow", "Follow", show=False, id="log.follow"),
        *(Binding(k, a, d, show=False, id=i) for k, a, d, i in EXPORT_BINDINGS),
    ]

    DEFAULT_CSS = """
    LogView {
        background: $surface;
        scrollbar-gutter: stable;
    }
    """

    following: reactive[bool] = reactive(True)
    """True: the view sticks to the newest line. False: paused, new lines are kept below."""

    class Changed(Message):
        """Lines were added or the filter or follow state changed (for status lines)."""

    def __init__(
        self,
        *,
        max_lines: int = MAX_LINES,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._ring: deque[LogLine] = deque(maxlen=max_lines)
        self._shown: deque[LogLine] = self._ring
        self._pending: deque[tuple[str, bytes]] = deque()
        self._pending_bytes = 0
        self._partial: dict[str, bytes] = {}
        self._sources: set[str] = set()
        self._seq = 0
        self._flush_scheduled = False
        self._max_width = 0
        self._filter = ""
        self._level = ""
        self._levels: dict[str, str] = {}
        """Per source, the level of the last message (its stack trace lines inherit it)."""
        self._search = Search()
        self._current: int | None = None
        """The seq of the line `next_match` moved to."""
        self.wrap = False
        """Long lines folded to the view's width (instead of scrolling sideways)."""
        self._rows: list[tuple[LogLine, int, int]] = []
        """In wrap mode: each screen row's line and character range."""
        self._cache: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self.lines_received = 0
        """Complete lines seen since the view was created (kept or not)."""
        self.bytes_skipped = 0
        """Bytes dropped unread because a burst outran the flushes."""
        self.unseen = 0
        """Lines that arrived while paused (shown as a count in the status)."""

    # -- input -----------------------------------------------------------------------------

    def feed(self, data: bytes, source: str = "") -> None:
        """Take a chunk of a log (any size, lines may be split across chunks); cheap."""
        if not data:
            return
        self._pending.append((source, data))
        self._pending_bytes += len(data)
        while self._pending_bytes > PENDING_CAP and len(self._pending) > 1:
            dropped_source, dropped = self._pending.popleft()
            self._pending_bytes -= len(dropped)
            self.bytes_skipped += len(dropped)
            self._partial.pop(dropped_source, None)
        if not self._flush_scheduled and self.is_mounted:
            self._flush_scheduled = True
            self.set_timer(FLUSH_SECONDS, self.flush)

    def on_mount(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Turn pending bytes into lines and refresh once."""
        self._flush_scheduled = False
        if not self._pending:
            return
        by_source: dict[str, list[bytes]] = {}
        for source, data in self._pending:
            by_source.setdefault(source, []).append(data)
        self._pending.clear()
        self._pending_bytes = 0
        fresh: list[LogLine] = []
        for source, chunks in by_source.items():
            self._sources.add(source)
            data = self._partial.pop(source, b"") + b"".join(chunks)
            pieces = data.split(b"\n")
            rest = pieces.pop()
            if rest:
                self._partial[source] = rest[-PARTIAL_CAP:]
            self.lines_received += len(pieces)
            keep = pieces[-(self._ring.maxlen or MAX_LINES) :]
            fresh.extend(self._make(source, raw) for raw in keep)
        self._append(fresh)

    def _make(self, source: str, raw: bytes) -> LogLine:
        self._seq += 1
        return make_line(self._seq, source, raw, self._levels)

    def _append(self, lines: Iterable[LogLine]) -> None:
        filtered = self._shown is not self._ring
        added = 0
        dropped = 0
        for line in lines:
            full = len(self._ring) == self._ring.maxlen
            if filtered and full and self._shown and self._shown[0] is self._ring[0]:
                self._shown.popleft()
                dropped += 1
            elif not filtered and full:
                dropped += 1
            self._ring.append(line)
            if filtered and not self._matches(line):
                continue
            if filtered:
                self._shown.append(line)
            added += 1
            self._max_width = max(self._max_width, self._width_of(line))
        if not added and not dropped:
            return
        self._resize()
        if self.following:
            self.scroll_end(animate=False, x_axis=False)
        else:
            self.unseen += added
            if dropped:
                self.scroll_to(y=max(0, self.scroll_y - dropped), animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Changed())

    # -- filter and follow -----------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        return self._filter

    def set_filter(self, text: str) -> None:
        """Show only lines containing ``text`` (case-insensitive); empty shows everything."""
        self._filter = text.casefold()
        self._refilter()

    @property
    def level(self) -> str:
        """The level filter: "SEVERE", "WARN" (and worse) or "" (every line)."""
        return self._level

    def set_level(self, level: str) -> None:
        """Show only SEVERE (or WARN and worse) messages with their stack traces; "" all."""
        self._level = level if level in LEVELS else ""
        self._refilter()

    def _refilter(self) -> None:
        if not self._filter and not self._level:
            self._shown = self._ring
        else:
            self._shown = deque(
                (line for line in self._ring if self._matches(line)), maxlen=self._ring.maxlen
            )
        self._max_width = max((self._width_of(line) for line in self._shown), default=0)
        self._cache.clear()
        self._resize()
        if self.following:
            self.scroll_end(animate=False, x_axis=False)
        self.refresh()
        self.post_message(self.Changed())

    def _matches(self, line: LogLine) -> bool:
        if self._level and not (line.level == "SEVERE" or line.level == self._level):
            return False
        return self._filter in line.text.casefold()

    def action_export(self, fmt: Format) -> None:
        """The lines shown (after the filters): source, level and text."""
        rows = [[line.source, line.level, line.text] for line in self._shown]
        export_from(self, fmt, ["source", "level", "text"], rows)

    # -- search ----------------------------------------------------------------------------

    @property
    def search(self) -> Search:
        return self._search

    def set_search(self, text: str) -> None:
        """Highlight every match of ``text`` (``re:`` for a regular expression); "" none."""
        self._search = Search.parse(text)
        self._current = None
        self._cache.clear()
        self.refresh()
        self.post_message(self.Changed())

    def match_indexes(self) -> list[int]:
        """Indexes (among the lines shown) of the lines the search matches."""
        search = self._search
        if not search.active:
            return []
        return [at for at, line in enumerate(self._shown) if search.matches(line.text)]

    def current_match(self) -> tuple[int, int] | None:
        """(number of the line moved to among the matches, 1-based; how many match)."""
        if self._current is None:
            return None
        indexes = self.match_indexes()
        seqs = [self._shown[at].seq for at in indexes]
        if self._current not in seqs:
            return None
        return seqs.index(self._current) + 1, len(seqs)

    @property
    def current_line(self) -> LogLine | None:
        """The line `next_match` moved to, if still shown."""
        return next((line for line in self._shown if line.seq == self._current), None)

    def next_match(self, forward: bool = True) -> bool:
        """Move to the next (or previous) line the search matches, wrapping round; the view
        pauses there. False when nothing matches."""
        indexes = self.match_indexes()
        if not indexes:
            return False
        seqs = [line.seq for line in self._shown]
        if self._current in seqs:
            at: int | None = seqs.index(self._current)
        else:  # from the lines in sight
            top = self._line_at_row(int(self.scroll_y))
            at = top - 1 if forward else top + max(1, self.size.height)
        target = step(indexes, at, forward)
        if target is None:
            return False
        self._current = self._shown[target].seq
        self.following = False
        self._cache.clear()
        row = self._row_of_line(target)
        self.scroll_to(y=max(0, row - self.size.height // 2), animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Changed())
        return True

    # -- wrap ------------------------------------------------------------------------------

    def set_wrap(self, wrap: bool) -> None:
        """Fold long lines to the view's width (True) or scroll sideways (False)."""
        self.wrap = wrap
        self._cache.clear()
        self.scroll_to(x=0, animate=False, immediate=True)
        self._resize()
        if self.following:
            self.scroll_end(animate=False, x_axis=False)
        self.refresh()
        self.post_message(self.Changed())

    def _wrap_width(self) -> int:
        width = self.scrollable_content_region.width or self.size.width
        return max(8, width - self._gutter())

    def _rewrap(self) -> None:
        width = self._wrap_width()
        rows: list[tuple[LogLine, int, int]] = []
        for line in self._shown:
            size = len(line.text)
            rows.extend((line, start, start + width) for start in range(0, max(size, 1), width))
        self._rows = rows

    def _row_of_line(self, index: int) -> int:
        if not self.wrap:
            return index
        line = self._shown[index]
        return next((row for row, (at, _, _) in enumerate(self._rows) if at is line), index)

    def _line_at_row(self, row: int) -> int:
        if not self.wrap or not self._rows:
            return row
        line = self._rows[min(row, len(self._rows) - 1)][0]
        return next((at for at, shown in enumerate(self._shown) if shown is line), row)

    def watch_following(self, following: bool) -> None:
        if following:
            self.unseen = 0
            self.scroll_end(animate=False, x_axis=False)
        self.post_message(self.Changed())

    def action_follow(self) -> None:
        self.following = True

    def toggle_follow(self) -> None:
        self.following = not self.following

    # -- reading back (tests, status lines) --------------------------------------------------

    @property
    def line_count(self) -> int:
        """Lines currently shown (after the filter)."""
        return len(self._shown)

    @property
    def kept(self) -> int:
        """Lines in the ring."""
        return len(self._ring)

    def shown_lines(self) -> list[LogLine]:
        return list(self._shown)

    # -- rendering ---------------------------------------------------------------------------

    def _gutter(self) -> int:
        return GUTTER + (self._source_width() + 1 if len(self._sources) > 1 else 0)

    def _source_width(self) -> int:
        return min(16, max((len(s) for s in self._sources), default=0))

    def _width_of(self, line: LogLine) -> int:
        return cell_len(line.text) + self._gutter()

    def _resize(self) -> None:
        if self.wrap:
            self._rewrap()
            self.virtual_size = Size(self._wrap_width() + self._gutter(), len(self._rows))
        else:
            self._rows = []
            self.virtual_size = Size(self._max_width, len(self._shown))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if self.wrap:
            if index >= len(self._rows):
                return Strip.blank(width, style)
            line, start, end = self._rows[index]
            return self._strip(line, style, (start, end)).crop_extend(0, width, style)
        if index >= len(self._shown):
            return Strip.blank(width, style)
        line = self._shown[index]
        strip = self._strip(line, style)
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def row_texts(self) -> list[str]:
        """Every row as it reads on screen (wrapped rows one by one), for tests."""
        style = Style()
        if self.wrap:
            return [
                self._strip(line, style, (start, end)).text.rstrip()
                for line, start, end in self._rows
            ]
        return [self._strip(line, style).text.rstrip() for line in self._shown]

    def _strip(self, line: LogLine, base: Style, piece: tuple[int, int] | None = None) -> Strip:
        many = len(self._sources) > 1
        current = line.seq == self._current
        key = (line.seq, self._filter, many, self._search.text, current, piece)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        width = self._source_width() if many else 0
        text = line_text(line, GUTTER, width, self._filter, self._search, current=current)
        if piece is not None:
            start, end = piece
            body = len(text) - len(line.text)  # where the line's own text begins
            if start == 0:
                shown = text[: body + end]
            else:
                shown = Text(" " * body, end="")
                shown.append_text(text[body + start : body + end])
            text = shown
        segments = [
            Segment(seg.text, base + seg.style if seg.style else base, seg.control)
            for seg in text.render(self.app.console, end="")
        ]
        strip = Strip(segments, cell_len(text.plain))
        self._cache[key] = strip
        return strip

    def on_resize(self) -> None:
        self._cache.clear()
        if self.wrap:
            self._resize()
