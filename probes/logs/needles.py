"""Which byte strings mark the lines worth parsing, and a fast search for them.

Each `bytearray.find` pass costs about as much as a fraction of counting a chunk's newlines, so
the needles are few and were chosen by measurement (CPU per 100 MB of a busy catalina.out,
Python 3.11): newline count 0.06 s; `ERROR` 0.053; `org.apache.catalina.{ha.session.,
startup.Catalina, core.StandardSe}` 0.018 each (their shorter forms cost 0.03-0.045: length buys
skips); a rare single byte (memchr) 0.006. A probe may name one `anchor` byte that every line it
cares about holds and that is rare in ordinary logs (`{` in Tribes member strings, Hazelcast
blocks and WSO2's `{logger}`; `|` in JGroups views; `V` in SEVERE): while the anchor stays rare
the search is a memchr, and where it is common (JSON logs, WSO2 files) the probe searches for its
needles instead. Either way a line is a candidate only if it holds the anchor and a needle, so
the events found never depend on the mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from probes.logs.lines import MAX_NEEDLES, FindAny, find_any, needle_spec
from probes.logs.model import EventKind
from probes.logs.records import LOCALIZED_SEVERE

ALL_KINDS: frozenset[str] = frozenset(get_args(EventKind))


@dataclass(frozen=True, slots=True)
class Probe:
    """Byte strings that mark candidate lines; see the module docstring for `anchor`.

    `kinds`: the events the lines it finds can stand for. A scan asked for some kinds only
    searches the probes that can give one of them (see `for_kinds`).
    """

    needles: tuple[bytes, ...]
    anchor: bytes = b""
    kinds: frozenset[str] = ALL_KINDS


_MEMBERSHIP = frozenset({"member-joined", "member-left", "membership"})
_LIFECYCLE = frozenset({"server-started", "server-stopping"})

MEMBERS = Probe(
    (
        b"tcp://",
        b"Member",
        b"left cluster",
        b"joined cluster",
        b"application cluster",
        b"WSO2 Carbon started",
        b"hutting down",
    ),
    anchor=b"{",
    kinds=_MEMBERSHIP | _LIFECYCLE | {"session-sync", "error"},
)
"""Tribes member strings (any language: `...tribes.membership.StaticMember[tcp://{...}`),
Hazelcast `Members {` blocks, WSO2 membership (Hazelcast schemes, WKA, axis2 Tribes: `New member
... joined cluster.`, `Application member ... joined application cluster`) and lifecycle in
Carbon's `{logger}` layout."""
HAZELCAST = Probe((b"is suspected to be dead", b"Removing Member"), kinds=_MEMBERSHIP | {"error"})
"""Hazelcast 3.x-5.x departures: `Member [ip]:port - uuid is suspected to be dead` (4.x+ logs it
after its own `Suspecting Member ... because it has not sent any heartbeats`), 3.x
`Address[ip]:port is suspected to be dead`, `Removing Member [...]` (with `because it has not
sent any heartbeats` in 3.x). Long needles: 0.22 and 0.33 ms per MB (`Member [` costs 0.6)."""
INFINISPAN = Probe((b"ISPN10000",), kinds=_MEMBERSHIP | {"error"})
"""Infinispan 9+ `ISPN100000: Node x joined the cluster`, `ISPN100001: Node x left the cluster`;
like COORDINATOR, not searched in Tomcat JUL streams (Infinispan logs through WildFly, Keycloak
or its own server's layout)."""
SEVERE = Probe((b"SEVERE",), anchor=b"V", kinds=frozenset({"error", "session-sync"}))
VIEWS = Probe((b"ISPN00009", b"view", b"View"), anchor=b"|", kinds=_MEMBERSHIP | {"error"})
"""JGroups views `[coord|7] (3) [a, b, c]`, announced as ISPN000094/93, "Accepted view", ..."""
COORDINATOR = Probe((b"creating cluster as coordinator",), kinds=_MEMBERSHIP | {"error"})
"""JGroups GMS founding a cluster; not searched in Tomcat JUL streams (a JGroups app inside Tomcat,
Liferay, also logs the one-member view that follows, which VIEWS finds)."""
OWN_NAME = Probe((b"GMS: address=",), kinds=frozenset({"member-name"}))
"""JGroups GMS's banner naming the node's own member (`jgroups.own_name`); one long needle,
searched in every stream (an application inside Tomcat prints it to catalina.out)."""
SUSPICIONS = Probe(
    (b"suspect", b"SUSPECT"),
    kinds=_MEMBERSHIP | {"error"},
)
"""JGroups failure detection (FD_SOCK, FD_ALL, GMS: `suspecting`, `suspect list`) and
VERIFY_SUSPECT (`SUSPECT event`, `SUSPECT([`); two short needles rather than four long ones:
each needle costs the one-pass search about as much as any other. Searched in Tomcat streams
too: an application inside Tomcat (Liferay, frevvo) logs its JGroups channel to catalina.out."""
BASE: tuple[Probe, ...] = (
    MEMBERS,
    SEVERE,
    VIEWS,
    Probe((b"ERROR",), kinds=frozenset({"error"})),
    Probe((b"org.apache.catalina.ha.session.",), kinds=frozenset({"session-sync", "error"})),
    Probe((b"org.apache.catalina.startup.Catalina",), kinds=_LIFECYCLE | {"error"}),
    Probe((b"org.apache.catalina.core.StandardSe",), kinds=_LIFECYCLE | {"error"}),
    COORDINATOR,
    HAZELCAST,
    INFINISPAN,
    SUSPICIONS,
    OWN_NAME,
)
LOCALIZED = Probe(
    tuple(level.encode() for level in LOCALIZED_SEVERE), kinds=frozenset({"error", "session-sync"})
)
"""SEVERE as non-English JVMs print it (GRAVE, SCHWERWIEGEND, 重大, ...); searched only in streams
whose first JUL record has a non-English level."""
JOURNAL = Probe(
    (
        b"session state",
        b"state transfer",
        b"Server startup in",
        b"shutdown command",
        b"Stopping service",
    )
)
"""Tomcat's English messages, searched only in journal/syslog exports (no logger printed)."""

DEPARTURE_CONTEXT = frozenset({"member-joined", "membership", "server-started", "server-stopping"})
"""What must be found to tell a new departure from one told again (`probes.logs.departures`)."""


def searched_kinds(kinds: frozenset[str] | None) -> frozenset[str] | None:
    """The kinds a scan must look for to report `kinds` right (None: all of them)."""
    if kinds is None or kinds >= ALL_KINDS:
        return None
    return kinds | DEPARTURE_CONTEXT if "member-left" in kinds else kinds


def for_kinds(probes: tuple[Probe, ...], kinds: frozenset[str] | None) -> tuple[Probe, ...]:
    """The probes worth searching for `kinds` (see `searched_kinds`); all of them for None."""
    if kinds is None:
        return probes
    return tuple(probe for probe in probes if probe.kinds & kinds)


Tables = tuple[
    bytes, tuple[tuple[int, int, bytes | tuple[bytes, ...]], ...], bytes, tuple[bytes, ...]
]
"""A search as `_lines.json_errors` takes it: the spec, `_accepts` per pattern, the spec of
every needle and each needle's anchor (`_another_probe`)."""

BREAK_EVEN = 2600
"""Bytes scanned by one needle pass for the cost of checking one anchor candidate (measured: a
pass costs ~0.6 ms per MiB, a candidate ~1.5 µs); above that density a probe uses its needles."""
RETRY = 16
"""Chunks after which a probe that fell back to its needles tries its anchor again."""


class Search:
    """The candidate lines of one buffer region, in order, for a set of probes."""

    def __init__(self, probes: tuple[Probe, ...], modes: list[int]) -> None:
        self._probes = probes
        self._modes = modes  # per probe: 0 = anchor, >0 = chunks left in needle mode
        self._buf: bytes | bytearray = b""
        self._end = 0
        self._next: list[int] = []
        self._owner: list[int] = []
        self._pattern: list[bytes] = []
        self._misses = [0] * len(probes)
        self._built = False  # whether the pattern list matches the probes' current modes
        self._spec = b""  # the patterns as `find_any` takes them (when the helper is built)
        self._line_spec = b""  # every probe's needles, to look through one rejected line
        self._line_owner: list[Probe] = []
        self._probe_specs = [
            needle_spec(probe.needles) if find_any is not None else b"" for probe in probes
        ]  # each probe's needles, to look for them in one pass through a line holding its anchor
        self.tables: Tables | None = None
        """The search as `_lines.json_errors` takes it (None: no one-pass helper)."""

    def start(self, buf: bytes | bytearray, start: int, end: int) -> None:
        """Begin a region `buf[start:end]` of complete lines."""
        self._buf, self._end = buf, end
        self._misses = [0] * len(self._probes)
        if not self._built:  # rebuilt only when a probe switched mode
            self._built = True
            self._pattern, self._owner = [], []
            for index, probe in enumerate(self._probes):
                anchored = probe.anchor and self._modes[index] == 0
                for pattern in (probe.anchor,) if anchored else probe.needles:
                    self._pattern.append(pattern)
                    self._owner.append(index)
            every = [(needle, probe) for probe in self._probes for needle in probe.needles]
            anchors = tuple(probe.anchor for _, probe in every)
            if find_any is not None and max(len(self._pattern), len(every)) <= MAX_NEEDLES:
                self._spec = needle_spec(tuple(self._pattern))
                self._line_spec = needle_spec(tuple(needle for needle, _ in every))
                self._line_owner = [probe for _, probe in every]
                self.tables = (self._spec, self._accept_table(), self._line_spec, anchors)
            else:
                self._spec = b""
                self.tables = None
        self._next = [-1] * len(self._pattern)  # searched lazily by next_line

    @property
    def misses(self) -> list[int]:
        """Anchor candidates rejected in this region, per probe (`_lines.json_errors` adds its)."""
        return self._misses

    def _accept_table(self) -> tuple[tuple[int, int, bytes | tuple[bytes, ...]], ...]:
        """`_accepts` per pattern for the helper: (probe, 0 = accept, 1 = its anchor must be on
        the line too, 2 = the anchor was found: one of these needles must be; its data)."""
        rows: list[tuple[int, int, bytes | tuple[bytes, ...]]] = []
        for which, index in enumerate(self._owner):
            probe = self._probes[index]
            if probe.anchor and self._pattern[which] == probe.anchor:
                rows.append((index, 2, probe.needles))
            else:
                rows.append((index, 1 if probe.anchor else 0, probe.anchor))
        return tuple(rows)

    def finish(self, length: int) -> None:
        """Region done: decide for each anchored probe whether its anchor is still rare."""
        if not any(self._modes) and not any(self._misses):
            return
        for index, probe in enumerate(self._probes):
            if not probe.anchor:
                continue
            if self._modes[index]:
                self._modes[index] -= 1
                self._built = self._built and self._modes[index] > 0
            elif self._misses[index] * BREAK_EVEN > max(
                8 * BREAK_EVEN, length * len(probe.needles)
            ):
                self._modes[index] = RETRY
                self._built = False

    def next_line(self, pos: int) -> tuple[int, int] | None:
        """Start and end (before its newline) of the first candidate line at or after `pos`."""
        if self._spec and find_any is not None:
            return self._next_line_one_pass(pos, find_any)
        buf, end, nexts, patterns = self._buf, self._end, self._next, self._pattern
        never = end + 1
        for i, found in enumerate(nexts):
            if found < pos:
                found = buf.find(patterns[i], pos, end)
                nexts[i] = never if found < 0 else found
        while nexts:
            best = min(nexts)
            if best >= never:
                return None
            which = nexts.index(best)
            line_start = buf.rfind(b"\n", pos, best) + 1 or pos
            line_end = buf.find(b"\n", best, end)
            if line_end < 0:
                line_end = end
            if self._accepts(which, best, line_start, line_end):
                return line_start, line_end
            found = buf.find(patterns[which], line_end, end)
            nexts[which] = never if found < 0 else found
        return None

    def _next_line_one_pass(self, pos: int, find: FindAny) -> tuple[int, int] | None:
        """`next_line` with every pattern searched at once (the compiled helper): the same lines,
        in ~1 ms per MB however many patterns, where each `bytes.find` pass costs 0.2-0.6."""
        buf, end, spec = self._buf, self._end, self._spec
        while pos < end:
            found, which = find(buf, pos, end, spec)
            if found < 0:
                return None
            line_start = buf.rfind(b"\n", pos, found) + 1 or pos
            line_end = buf.find(b"\n", found, end)
            if line_end < 0:
                line_end = end
            if self._accepts(which, found, line_start, line_end):
                return line_start, line_end
            if buf[line_start] not in (9, 32) and self._another_probe(find, line_start, line_end):
                return line_start, line_end
            pos = line_end + 1
        return None

    def _another_probe(self, find: FindAny, start: int, end: int) -> bool:
        """Whether some probe accepts the line `buf[start:end]`: one of its needles and its
        anchor are on it. One pass through the line for every needle (a 16 KB line of JSON
        holding hundreds of `{` is looked through once, not once per pattern)."""
        buf, spec, owner = self._buf, self._line_spec, self._line_owner
        at = start
        while (hit := find(buf, at, end, spec))[0] >= 0:
            anchor = owner[hit[1]].anchor
            if not anchor or buf.find(anchor, start, end) >= 0:
                return True
            at = hit[0] + 1
        return False

    def _accepts(self, which: int, found: int, start: int, end: int) -> bool:
        """Whether the candidate's line is worth parsing: a record start (not an indented stack
        frame) holding the probe's anchor and one of its needles."""
        index = self._owner[which]
        probe = self._probes[index]
        buf = self._buf
        anchored = bool(probe.anchor) and self._pattern[which] == probe.anchor
        if buf[start] in (9, 32):  # a continuation line is never a record of its own
            ok = False
        elif anchored and find_any is not None and (spec := self._probe_specs[index]):
            ok = find_any(buf, start, end, spec)[0] >= 0  # a long line is looked through once
        elif anchored:
            ok = any(buf.find(needle, start, end) >= 0 for needle in probe.needles)
        else:
            ok = not probe.anchor or buf.find(probe.anchor, start, end) >= 0
        if not ok and anchored:
            self._misses[index] += 1
        return ok
