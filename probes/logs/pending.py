"""Records that span several lines, assembled one line at a time.

The scanner feeds each following line to the open assembly, whether the line arrived in the same
chunk or minutes later, so the events never depend on where chunks were cut. `take` answers
whether the line belonged to the record; a record ends when a line does not.
"""

from __future__ import annotations

from probes.logs import hazelcast
from probes.logs.classify import classify, event
from probes.logs.draft import Draft
from probes.logs.model import TEXT_CAP, LogEvent
from probes.logs.records import Record, is_continuation, parse, strip_prefixes


class Assembly:
    """A record spanning lines; `first_line`/`first_offset` locate its first line."""

    emit_on_idle = False
    """Whether the stream going quiet means the record is complete (a stack trace)."""

    def __init__(self, first_line: int, first_offset: int, text: str) -> None:
        self.first_line = first_line
        self.first_offset = first_offset
        self.text = text
        self.done = False

    def take(self, text: str) -> bool:
        """Add the next line if it belongs to the record; False means the record ended before it."""
        raise NotImplementedError

    def events(self, *, final: bool = False) -> list[LogEvent]:
        """The events of the record as assembled so far (`final`: the stream ended)."""
        raise NotImplementedError

    def _append(self, text: str) -> None:
        if len(self.text) <= TEXT_CAP:
            self.text += "\n" + text


class Trace(Assembly):
    """An error record followed by its stack trace (`\\tat ...`, `Caused by:`, `... 5 more`),
    folded up to `max_fold` lines."""

    emit_on_idle = True

    def __init__(self, record: Record, line: int, offset: int, text: str, max_fold: int) -> None:
        super().__init__(line, offset, text)
        self.record = record
        self.max_fold = max_fold
        self.folded = 0

    def take(self, text: str) -> bool:
        indented = text[:1] in ("\t", " ") and not text.isspace()
        if not indented and not is_continuation(strip_prefixes(text)):
            return False
        self.folded += 1
        self._append(text)
        self.done = self.folded >= self.max_fold  # capped: later lines are left to the search
        return True

    def take_indented(self, text: str, count: int) -> None:
        """Add `count` indented lines at once (`text` joins them); the caller checked that they
        all belong and that the fold cap is not reached."""
        self.folded += count
        self._append(text)

    def events(self, *, final: bool = False) -> list[LogEvent]:
        draft = classify(self.record)
        if draft is None:
            return []
        return [event(draft, self.first_line, self.first_offset, self.record.time, self.text)]


class TwoLine(Assembly):
    """JUL's SimpleFormatter: a `date class method` header, then `LEVEL: message`."""

    def __init__(self, header: Record, line: int, offset: int, text: str, max_fold: int) -> None:
        super().__init__(line, offset, text)
        self.header = header
        self.max_fold = max_fold
        self.trace: Trace | None = None

    def take(self, text: str) -> bool:
        if self.trace is not None:
            taken = self.trace.take(text)
            self.done = self.trace.done
            return taken
        message = parse(text)
        if message.layout != "level":
            return False
        record = combine(self.header, message)
        self._append(text)
        if record.is_error:
            self.trace = Trace(record, self.first_line, self.first_offset, self.text, self.max_fold)
            self.emit_on_idle = True
        else:
            self.trace = Trace(record, self.first_line, self.first_offset, self.text, 0)
            self.done = True
        return True

    def events(self, *, final: bool = False) -> list[LogEvent]:
        return self.trace.events(final=final) if self.trace else []


def combine(header: Record, message: Record) -> Record:
    """One record from a two-line JUL header and its `LEVEL: message` line."""
    return Record(
        "jul2",
        header.time,
        message.level,
        header.logger,
        header.method,
        message.message,
        header.text + "\n" + message.text,
    )


class Block(Assembly):
    """A Hazelcast `Members {...}` block, reported as one `membership` event when it closes."""

    def __init__(
        self,
        line: int,
        offset: int,
        text: str,
        time: str | None,
        header: str | None,
        size: int | None,
        version: str | None,
    ) -> None:
        super().__init__(line, offset, text)
        self.time = time
        self.size = size
        self.version = version
        self.members: list[str] = []
        self.observer = hazelcast.header_observer(header) if header else None
        self.broken = False

    def take(self, text: str) -> bool:
        text = strip_prefixes(text)
        if hazelcast.is_end(text):
            self._append(text)
            self.done = True
            return True
        found = hazelcast.member_line(text)
        if found is None or len(self.members) >= hazelcast.MAX_LINES:
            self.broken = True
            return False
        member, this = found
        self.members.append(member)
        if this:
            self.observer = member
        self._append(text)
        return True

    def events(self, *, final: bool = False) -> list[LogEvent]:
        complete = self.done or (final and self.members and self.size in (None, len(self.members)))
        if not complete:
            return []
        members = tuple(self.members)
        draft = Draft(
            "membership", "hazelcast", members=members, detail=self.version, observer=self.observer
        )
        return [event(draft, self.first_line, self.first_offset, self.time, self.text)]


class Wrapped(Assembly):
    """A Tomcat member line cut before its end (`domain=` not reached): read up to 4 more lines."""

    def __init__(self, record: Record, line: int, offset: int, text: str) -> None:
        super().__init__(line, offset, text)
        self.record = record
        self.lines = 0

    def take(self, text: str) -> bool:
        if self.lines >= 4 or is_continuation(text) or parse(text).layout != "bare":
            return False
        self.lines += 1
        self._append(text)
        self.record.message += text
        self.done = "domain=" in text
        return True

    def events(self, *, final: bool = False) -> list[LogEvent]:
        draft = classify(self.record)
        if draft is None:
            return []
        return [event(draft, self.first_line, self.first_offset, self.record.time, self.text)]
