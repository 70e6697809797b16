"""What a stream's first lines say about it: a journal export (its first line), a Tomcat JUL
stream, localized or not (its first record's level word). Each answer changes which needles the
scanner searches for."""

from __future__ import annotations

import re

from probes.logs import needles
from probes.logs.records import LEVELS, strip_prefixes

_SYSLOG = re.compile(
    r"^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*) \S+ [^\s:\[]+"
    r"(?:\[\d+\])?: |^-- (?:Logs begin|Journal begins|No entries)"
)
_JUL_LEVEL = re.compile(r"^\d{1,2}-\S+-\d{4} \S+ (?P<a>\S+) \[|^(?P<b>[^\W\d_]{2,16}): ")
_ENGLISH_LEVELS = frozenset({"SEVERE", "WARNING", "INFO", "CONFIG", "FINE", "FINER", "FINEST"})


def sniffed_probes(
    text: str, first: bool, probes: tuple[needles.Probe, ...]
) -> tuple[tuple[needles.Probe, ...], bool]:
    """The probes after one of the stream's first lines (`first`: the very first), and whether
    the question is settled (a Tomcat JUL record was seen)."""
    if first and _SYSLOG.match(text):
        probes = (*probes, needles.JOURNAL)
    match = _JUL_LEVEL.match(strip_prefixes(text))
    word = (match["a"] or match["b"] or "").upper() if match else ""
    if word not in LEVELS:
        return probes, False
    # a Tomcat JUL stream
    probes = tuple(
        probe
        for probe in probes
        if probe is not needles.COORDINATOR and probe is not needles.INFINISPAN
    )
    if word not in _ENGLISH_LEVELS:
        probes = (*probes, needles.LOCALIZED)
    return probes, True
