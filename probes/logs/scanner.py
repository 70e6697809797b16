"""The incremental log scanner: byte chunks in, cluster events out, in bounded memory.

Only lines holding one of a few needles (see `needles`) are decoded and parsed; everything else is
skipped at `bytearray.find` speed, and newlines are counted with `bytearray.count` so every event
still carries its exact line number and byte offset. Single-line events come out of the `feed()`
call that completes their line; a stack trace is folded into its error until a line that is not
part of it arrives, or until `idle()` says the stream went quiet.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import cast

from probes.logs import hazelcast, jsonl, needles
from probes.logs import lines as _lines
from probes.logs.classify import MAY_BE_CLUSTER, classify, event
from probes.logs.departures import Departures
from probes.logs.draft import Draft
from probes.logs.lines import count_newlines
from probes.logs.model import TEXT_CAP, LogEvent
from probes.logs.pending import Assembly, Block, Trace, TwoLine, Wrapped, combine
from probes.logs.records import (
    Record,
    canonical_level,
    is_continuation,
    parse,
    split_glued,
    strip_prefixes,
)
from probes.logs.region import TRACE_RUN, Line, Region, record_start
from probes.logs.sniff import sniffed_probes
from probes.logs.text import clean

SNIFF_LINES = 64
"""Lines at the start of a stream that decide whether it is a journal export or a localized JVM."""

_MEMBER_KINDS = frozenset({"member-joined", "member-left", "session-sync"})
_JSON_ERRORS = jsonl.json_errors
"""The helper that writes error records as JSON lines (None: not built)."""
_UNKNOWN = Draft("error", "tomcat")
"""A marker: no draft remembered yet (None is a remembered answer: no event)."""
_FAST_DRAFTS: dict[tuple[int, str, str, str], Draft | None] = {}
"""`classify`'s answers for the records the C path read, by layout, level, source and message."""


class EventScanner(Region):
    """Incremental scanner: feed byte chunks of one log stream, get the events completed so far."""

    def __init__(
        self,
        *,
        max_line: int = 65536,
        max_fold_lines: int = 200,
        kinds: frozenset[str] | None = None,
        json: jsonl.Frame | None = None,
    ) -> None:
        """`kinds`: report only these event kinds (None: all); the needles that can only find
        other kinds are not searched, so kinds not asked for cost nothing. `json`: the frame of
        the file's JSON lines; then `feed_items` gives the error records the compiled helper
        reads whole as bytes of finished JSON lines, in order among the other events."""
        self._max_line = max(80, max_line)
        self._max_fold = max(0, max_fold_lines)
        self._report = None if kinds is None or kinds >= needles.ALL_KINDS else frozenset(kinds)
        self._wanted = needles.searched_kinds(self._report)
        self._fast = _lines.error_record if self._max_fold else None
        """The C reading of a busy log's commonest record (None: the Python path only)."""
        if self._wanted is not None and "error" not in self._wanted:
            self._fast = None  # an error not asked for takes `_record`'s road
        self._json: tuple[int, int, int, jsonl.Drafts, bytes, bytes] | None = None
        if json is not None and self._fast is not None and _JSON_ERRORS is not None:
            self._json = (self._max_fold, self._max_line, TEXT_CAP, {}, *json)
        self._departures = Departures()
        """Outlives `reset`: a truncated or rotated log is still the same node's view."""
        self.reset(0)

    def reset(self, offset: int = 0) -> None:
        """The stream restarted (truncated or rotated): lines count from 1 again, at `offset`."""
        self._carry = bytearray()  # the partial last line, at most max_line bytes
        self._dropped = 0  # bytes of an over-long partial line dropped after max_line
        self._overlong = False
        self._buf: bytes | bytearray = b""  # the region being scanned (a chunk, not a copy)
        self._start = self._end = 0
        self._base_offset = offset
        self._base_line = 1
        self._context: list[tuple[bytes, int, int]] = []  # raw last lines: (bytes, line, offset)
        self._pending: Assembly | None = None
        self._lines = 0
        self._bytes = 0
        self._sniffed = 0
        self._probes: tuple[needles.Probe, ...] = needles.for_kinds(needles.BASE, self._wanted)
        self._search = needles.Search(self._probes, [0] * len(self._probes))
        self._cpos = 0
        self._cline = 1
        self._out: list[LogEvent | bytes] = []

    def _use_probes(self, probes: tuple[needles.Probe, ...]) -> None:
        """Skip sniffing: use the probes the stream's first lines chose (a part of a big file)."""
        self._probes = probes = needles.for_kinds(probes, self._wanted)
        self._sniffed = SNIFF_LINES
        self._search = needles.Search(probes, [0] * len(probes))

    @property
    def lines_seen(self) -> int:
        """Complete lines scanned since the last reset (a last line without newline after close)."""
        return self._lines

    @property
    def bytes_seen(self) -> int:
        """Bytes fed since the last reset."""
        return self._bytes

    def feed(self, data: bytes) -> list[LogEvent]:
        """Scan the next chunk; return the events it completed."""
        return self.feed_buffer(data, len(data))

    def feed_buffer(self, data: bytes | bytearray, size: int) -> list[LogEvent]:
        """Scan `data[:size]` where it lies (a reused `readinto` buffer): no copy of the chunk."""
        return cast(list[LogEvent], self.feed_items(data, size))  # no JSON frame: no bytes

    def feed_items(self, data: bytes | bytearray, size: int) -> list[LogEvent | bytes]:
        """`feed_buffer`, with the JSON lines the helper wrote as bytes (see `json`)."""
        self._bytes += size
        begin = 0
        if self._overlong:
            begin = data.find(b"\n", 0, size)
            if begin < 0:
                self._dropped += size
                return []
            self._dropped += begin
            self._overlong = False
        first = data.find(b"\n", begin, size)
        if first < 0:
            self._keep(data, begin, size)
        else:
            if self._carry or self._dropped:
                head = bytes(self._carry) + data[begin : first + 1]
                self._carry = bytearray()
                self._region(head, 0, len(head))
                begin = first + 1
            last = data.rfind(b"\n", begin, size) + 1
            if last > begin:
                self._region(data, begin, last)
            self._keep(data, max(last, begin), size)
        return self._emit()

    def _emit(self, pending: list[LogEvent] | None = None) -> list[LogEvent | bytes]:
        """The events completed so far (and `pending`'s), one per departure, of the kinds asked
        (JSON lines are errors, written only when errors are asked for)."""
        out, self._out = self._out, []
        if pending:
            out.extend(pending)
        if not out:
            return out
        out = self._departures.filter(out)
        if self._report is not None:
            out = [e for e in out if type(e) is bytes or cast(LogEvent, e).kind in self._report]
        return out

    def _keep(self, data: bytes | bytearray, start: int, end: int) -> None:
        """Carry a partial line over to the next chunk, cut at max_line."""
        room = self._max_line - len(self._carry)
        if end - start > room:
            self._carry += data[start : start + max(room, 0)]
            self._dropped += end - start - max(room, 0)
            self._overlong = True
        else:
            self._carry += data[start:end]

    def idle(self) -> list[LogEvent]:
        """The stream went quiet: emit a pending error whose stack trace may have ended."""
        if self._pending is not None and self._pending.emit_on_idle:
            self._flush()
        return cast(list[LogEvent], self._emit())  # a live tail has no JSON frame

    def close(self) -> list[LogEvent]:
        """End of stream: emit everything, including a last line without newline."""
        return cast(list[LogEvent], self.close_items())  # no JSON frame: no bytes

    def close_items(self) -> list[LogEvent | bytes]:
        """`close`, with the JSON lines the helper wrote as bytes (see `json`)."""
        out: list[LogEvent | bytes] = []
        if self._carry or self._overlong:
            out = self.feed_items(b"\n", 1)
            self._bytes -= 1
        if self._pending is not None:
            out.extend(self._emit(self._pending.events(final=True)))
            self._pending = None
        return out

    # -- one region of complete lines: buf[start:end] -------------------------------------

    def _region(self, buf: bytes | bytearray, start: int, end: int) -> None:
        self._buf, self._start, self._end = buf, start, end
        self._cpos, self._cline = start, self._base_line
        pos = self._drain(start, end)
        if self._sniffed < SNIFF_LINES and pos < end:
            pos = self._sniff(pos, end)
        if pos < end:
            search = self._search
            search.start(buf, pos, end)
            json = self._json if search.tables is not None else None
            while True:
                if json is not None and self._pending is None and self._cpos <= pos:
                    hit = self._json_errors(pos, search)
                else:
                    hit = search.next_line(pos)
                if hit is None:
                    break
                pos = self._drain(self._handle(*hit), end)
                if pos >= end:
                    break
            search.finish(end - start)
        next_line = self._line_at(end)
        self._remember_context(end)
        self._lines += next_line - self._base_line
        self._base_line = next_line
        self._base_offset += end - start + self._dropped
        self._dropped = 0
        self._buf = b""

    def _json_errors(self, pos: int, search: needles.Search) -> tuple[int, int] | None:
        """The error records from `pos` on written as JSON lines by the helper, up to the next
        candidate line it leaves to Python (None: the region has none left)."""
        assert _JSON_ERRORS is not None and self._json is not None and search.tables is not None
        start, end, self._cpos, self._cline = _JSON_ERRORS(
            self._buf, pos, self._end, search.tables, search.misses, self._json,
            self._cpos, self._cline, self._out,
        )  # fmt: skip
        return None if start < 0 else (start, end)

    def _sniff(self, pos: int, end: int) -> int:
        """Read the stream's first lines one by one, choosing its probes as the evidence comes."""
        buf = self._buf
        while pos < end and self._sniffed < SNIFF_LINES:
            line_end = buf.find(b"\n", pos, end)
            text = self._text(pos, line_end)
            self._decide(text)
            self._search.start(buf, pos, line_end + 1)
            if self._search.next_line(pos) is not None:
                pos = self._drain(self._handle(pos, line_end), end)
            else:
                pos = line_end + 1
        return pos

    def _decide(self, text: str) -> None:
        """Journal exports are known by their first line, localized JVMs by their first record."""
        first = self._sniffed == 0 and not self._context
        self._sniffed += 1
        probes, decided = sniffed_probes(text, first, self._probes)
        if decided:
            self._sniffed = SNIFF_LINES
        probes = needles.for_kinds(probes, self._wanted)
        if probes != self._probes:
            self._probes = probes
            self._search = needles.Search(probes, [0] * len(probes))

    def _drain(self, pos: int, end: int) -> int:
        """Feed the lines from `pos` to the open multi-line record until it ends."""
        buf = self._buf
        while self._pending is not None and pos < end:
            pending = self._pending
            if type(pending) is Trace and (run := TRACE_RUN.match(buf, pos, end)):
                count = count_newlines(buf, pos, run.end())
                if pending.folded + count < pending.max_fold:
                    block = bytes(buf[pos : run.end() - 1]).replace(b"\r\n", b"\n")
                    pending.take_indented(clean(block.removesuffix(b"\r")), count)
                    pos = run.end()
                    continue
            line_end = buf.find(b"\n", pos, end)
            if type(pending) is Trace and record_start(buf, pos, line_end):
                self._flush()  # the usual end of a trace (or of an error without one)
                break
            if not self._pending.take(self._text(pos, line_end)):
                self._flush()
                break
            pos = line_end + 1
            if self._pending.done:
                self._flush()
        return pos

    def _flush(self) -> None:
        if self._pending is not None:
            self._out.extend(self._pending.events())
            self._pending = None

    def _handle(self, start: int, line_end: int) -> int:
        """Parse a candidate line (and the line above it when needed); return the next line."""
        fast = self._fast
        if fast is not None and self._pending is None and line_end - start <= self._max_line:
            read = fast(self._buf, start, line_end, self._end, self._max_fold)
            if read is not None:
                return self._fast_error(start, *read)
        text = self._text(start, line_end)
        line, offset = self._line_at(start), self._offset(start)
        parts = split_glued(text) if len(text) > 60 else [text]
        for part in parts[:-1]:
            self._record(parse(part), Line(part, line, offset), fold=False)
        last = parts[-1]
        record = parse(last)
        here = Line(last, line, offset)
        if record.layout == "bare" and len(parts) == 1 and is_continuation(record.message):
            # `Caused by: ...`, `java.io.IOException: ...`: a stack trace's line whose record was
            # not an error (or not searched for), never a record of its own.
            return line_end + 1
        if record.is_error and record.layout != "level":  # the usual candidate of a busy log
            self._record(record, here, fold=True)
            return line_end + 1
        if record.layout == "level" and len(parts) == 1:
            above = self._above(start, 1)
            if above and (header := parse(above[0].text)).awaits_message:
                whole = Line(above[0].text + "\n" + last, above[0].line, above[0].offset)
                self._record(combine(header, record), whole, fold=True)
                return line_end + 1
        elif record.awaits_message:
            self._pending = TwoLine(record, line, offset, last, self._max_fold)
            return line_end + 1
        elif (block := hazelcast.block_start(strip_prefixes(last))) is not None:
            self._open_block(start, here, *block)
            return line_end + 1
        self._record(record, here, fold=True)
        return line_end + 1

    def _fast_error(
        self,
        start: int,
        layout: int,
        time: str,
        level: str,
        source: str,
        message: str,
        head: str,
        trace: str | None,
        next_line: int,
    ) -> int:
        """The event of an error record and its stack trace that `_lines.error_record` read whole:
        what `_handle`, `Trace` and `_drain` make of the same lines, without their steps.

        `classify` is a function of the record's layout, level, logger, method and message
        alone, so its answer is remembered for those (a busy log repeats few messages)."""
        key = (layout, level, source, message)
        draft = _FAST_DRAFTS.get(key, _UNKNOWN)
        if draft is _UNKNOWN:
            if layout == 1:  # OneLineFormatter: `logger.method`
                logger, _, method = source.rpartition(".")
                record = Record("jul1", time, canonical_level(level), logger, method, message, head)
            else:  # log4j/logback: the logger alone
                record = Record("iso", time, canonical_level(level), source, None, message, head)
            draft = classify(record)
            if len(_FAST_DRAFTS) >= 4096:  # untrusted text: a bound on what it can cost
                _FAST_DRAFTS.clear()
            _FAST_DRAFTS[key] = draft
        if self._json is not None and draft is not None:
            self._describe(layout, level, source, message, draft)
        if draft is not None:
            text = head if trace is None or len(head) > TEXT_CAP else head + "\n" + trace
            line, offset = self._line_at(start), self._offset(start)
            self._out.append(event(draft, line, offset, time, text))
        return next_line

    def _describe(self, layout: int, level: str, source: str, message: str, draft: Draft) -> None:
        """Tell the helper the fields of the error events of this key, when `classify` gives
        every record of that key without a cluster rule's word the same draft."""
        if draft.kind != "error" or MAY_BE_CLUSTER.search(message):
            return
        if not jsonl.message_free(layout, source) or self._json is None:
            return
        drafts = self._json[3]
        if len(drafts) >= 4096:  # untrusted text: a bound on what it can cost
            drafts.clear()
        drafts[jsonl.key(layout, level, source)] = jsonl.fragments(draft)

    def _record(self, record: Record, where: Line, *, fold: bool) -> None:
        """Emit the event a one-line record stands for, or open its stack trace / continuation."""
        if fold and record.is_error and self._max_fold:
            if self._wanted is not None and "error" not in self._wanted:
                draft = classify(record)  # an error not asked for: its trace is not folded
                if draft is None or draft.kind not in self._wanted:
                    return
            self._pending = Trace(record, where.line, where.offset, where.text, self._max_fold)
            return
        draft = classify(record)
        if draft is None:
            return
        message = record.message
        wrapped = "tcp://" in message and "domain=" not in message
        if fold and wrapped and draft.kind in _MEMBER_KINDS:
            self._pending = Wrapped(record, where.line, where.offset, where.text)
            return
        self._out.append(event(draft, where.line, where.offset, record.time, where.text))

    def _open_block(self, start: int, here: Line, size: int | None, version: str | None) -> None:
        """A Hazelcast block, owned by the header line just above it (blank lines allowed).

        When the header is the `INFO: ...` half of a two-line JUL record, the record starts at
        the JUL header above it.
        """
        above = self._above(start, 3)
        blanks: list[str] = []
        chain: list[Line] = []
        for index, line in enumerate(above[:2]):
            if line.text.strip():
                if hazelcast.is_header(line.text):
                    chain = [line]
                    if parse(line.text).layout == "level" and index + 1 < len(above):
                        jul = above[index + 1]
                        if parse(jul.text).awaits_message:
                            chain.insert(0, jul)
                break
            blanks.insert(0, line.text)
        if not chain:
            self._pending = Block(here.line, here.offset, here.text, None, None, size, version)
            return
        first = chain[0]
        text = "\n".join([*(line.text for line in chain), *blanks, here.text])
        header = chain[-1].text
        time = parse(first.text).time
        self._pending = Block(first.line, first.offset, text, time, header, size, version)


def scan_file(
    path: str | os.PathLike[str], chunk_size: int = 1 << 20, kinds: frozenset[str] | None = None
) -> Iterator[LogEvent]:
    """All events of a file (of `kinds`, None: all), in order; raises OSError (at the call) for
    an unreadable file."""
    return cast(Iterator[LogEvent], scan_items(path, chunk_size, kinds))  # no frame: no bytes


def scan_items(
    path: str | os.PathLike[str],
    chunk_size: int = 1 << 20,
    kinds: frozenset[str] | None = None,
    json: jsonl.Frame | None = None,
) -> Iterator[LogEvent | bytes]:
    """`scan_file`, with a busy log's errors as bytes of JSON lines when `json` is given."""
    handle = open(path, "rb", buffering=0)  # noqa: SIM115 -- closed by the generator

    def events() -> Iterator[LogEvent | bytes]:
        with handle:
            scanner = EventScanner(kinds=kinds, json=json)
            chunk = bytearray(max(1, chunk_size))
            while size := handle.readinto(chunk):
                yield from scanner.feed_items(chunk, size)
            yield from scanner.close_items()

    return events()
