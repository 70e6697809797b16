"""From one parsed record to the event it stands for, across Tomcat, WSO2 and JGroups rules.

A record that matches a specific rule (a DeltaManager timeout logged at SEVERE, say) is that
event only; any other SEVERE/ERROR/FATAL record is an `error` whose detail is its logger.
"""

from __future__ import annotations

import re

from probes.logs import hazelcast, jgroups, tomcat, wso2
from probes.logs.draft import Draft
from probes.logs.model import TEXT_CAP, EventSource, LogEvent
from probes.logs.records import Record
from probes.logs.text import cap

_TOMCAT_LAYOUTS = frozenset({"jul1", "jul2", "level", "json", "bare"})
MAY_BE_CLUSTER = re.compile(
    r"ember|cluster|WSO2 Carbon started|hutting down|uspect|USPECT|Removing |\||members discovered"
)
"""What every WSO2, Hazelcast and JGroups rule needs in the message: one search instead of five
rule functions for the ordinary error of a busy log (~1.5 µs an error)."""


def _source(record: Record) -> EventSource:
    """Which product family an error record comes from."""
    logger = (record.logger or "").lower()
    if "hazelcast" in logger or logger.startswith("c.h."):
        return "hazelcast"
    if "jgroups" in logger or "infinispan" in logger:
        return "jgroups"
    if record.layout == "carbon" or "wso2" in logger:
        return "wso2"
    return "tomcat"


def classify(record: Record) -> Draft | None:
    """The event a record stands for, or None for ordinary log noise."""
    logger = record.logger or ""
    message = record.message
    draft: Draft | None = None
    if logger.startswith(("org.apache.catalina.", "o.a.c.", "o.apache.catalina.")):
        if record.method:
            draft = tomcat.by_logger(record)
        else:
            draft = tomcat.by_text(message, is_error=record.is_error)
    elif not logger and record.layout in _TOMCAT_LAYOUTS:
        draft = tomcat.by_text(message, is_error=record.is_error)
    if draft is None and MAY_BE_CLUSTER.search(message):
        draft = (
            wso2.classify(message)
            or hazelcast.classify(message)
            or jgroups.view(message)
            or jgroups.node(message)
            or jgroups.coordinator(message)
            or jgroups.suspect(message)
            or jgroups.own_name(message)
        )
    if draft is None and record.is_error:
        key = (logger, record.layout == "carbon")
        draft = _ERRORS.get(key)
        if draft is None:
            draft = Draft("error", _source(record), detail=logger or None)
            if len(_ERRORS) >= 4096:  # untrusted text: a bound on what it can cost
                _ERRORS.clear()
            _ERRORS[key] = draft
    return draft


_ERRORS: dict[tuple[str, bool], Draft] = {}
"""The draft of an ordinary error, by logger (and Carbon layout): a busy log's errors come from
few loggers, and a draft is immutable."""


def event(draft: Draft, line: int, offset: int, time: str | None, text: str) -> LogEvent:
    """A located event from a draft and the record it was drawn from."""
    return LogEvent(  # positional: in field order (a busy log builds one every ~16 lines)
        draft.kind,
        draft.source,
        line,
        offset,
        time,
        draft.member,
        draft.members,
        text if len(text) <= TEXT_CAP else cap(text),
        draft.detail,
        draft.observer,
    )
