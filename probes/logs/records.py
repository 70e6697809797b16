"""One log line read as a record: prefixes removed, layout recognised, fields extracted.

Layouts: Tomcat's OneLineFormatter, JUL's two-line SimpleFormatter (header line, `LEVEL: message`
line, or both collapsed on one line), Tomcat's JsonFormatter, WSO2 Carbon (`[ts]  INFO {logger} -`,
`TID:` form), ISO-stamped log4j/logback/Spring Boot lines and time-only JBoss/Hazelcast lines.
Levels are canonicalised across the JVM's localized names (`GRAVE`, `SCHWERWIEGEND`, `重大`, ...).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from probes.logs.text import iso_from_iso_like, iso_from_jul_one_line, iso_from_jul_two_line

LEVELS: dict[str, str] = {}
for _canonical, _names in (
    ("SEVERE", "SEVERE SCHWERWIEGEND GRAVE 重大 심각 严重 嚴重 ALLVARLIG"),
    ("ERROR", "ERROR FATAL CRITICAL"),
    ("WARNING", "WARNING WARN WARNUNG AVERTISSEMENT ADVERTENCIA AVVERTENZA ADVERTÊNCIA"),
    ("WARNING", "VARNING 警告 경고"),
    ("INFO", "INFO INFOS INFORMATION INFORMACIÓN INFORMAZIONI INFORMAÇÕES NOTICE"),
    ("INFO", "情報 정보 信息 資訊"),
    ("DEBUG", "CONFIG KONFIGURATION CONFIGURAR CONFIGURAZIONE CONFIGURAÇÃO KONFIG"),
    ("DEBUG", "構成 구성 配置 組態 FINE FINER FINEST FEIN FEINER FEINSTE PRÉCIS DETALLADO"),
    ("DEBUG", "BUONO DETALHADO FIN 普通 미세 詳細 详细 DEBUG TRACE ALL"),
):
    for _name in _names.split():
        LEVELS[_name] = _canonical

ERROR_LEVELS = frozenset({"SEVERE", "ERROR"})
LOCALIZED_SEVERE = ("GRAVE", "SCHWERWIEGEND", "重大", "심각", "严重", "嚴重", "ALLVARLIG")
"""SEVERE as non-English JVMs print it (JUL's localized level names)."""

_SRC = r"(?P<src>[A-Za-z_$][\w$]*(?:\.[\w$<>-]+)+)"
_PREFIX = re.compile(
    r"^(?:<\d{1,3}>"
    r"|(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?"
    r"(?:Z|[+-]\d\d:?\d\d)?) \S+ [^\s:\[]+(?:\[\d+\])?: "
    r"|\[[\w./:-]{1,80}\] (?=[^\s]|\t)"
    r"|[\w.-]{1,64} +\| )"
)
_JUL_ONE = re.compile(
    r"^(?P<ts>\d{1,2}-[^\W\d_]{3,5}\.?-\d{4} \d{1,2}:\d\d:\d\d(?:[.,]\d+)?) (?P<level>\S+) "
    r"\[(?P<thread>.*?)\] " + _SRC + r"(?= |$)"
)
"""The record's head; its message is what follows the space after the source (matching it with
`.*` too cost ~1 µs a line of a busy log)."""
_STAMP_TWO = (
    r"(?:(?:[^\W\d_]{3,9}\.?|\d{1,2}[月월])\s+\d{1,2},\s+\d{4}|\d{1,2}/\d{1,2}/\d{4})"
    r"\s+\d{1,2}:\d{2}:\d{2}"
    r"(?:\s+(?:[AaPp]\.?\s?[Mm]\.?|午前|午後|上午|下午|오전|오후|vorm\.|nachm\.))?"
)
_JUL_TWO = re.compile(
    r"^(?P<ts>" + _STAMP_TWO + r") " + _SRC + r"(?: (?P<method>[\w$<>-]+))?"
    r"(?:\s+(?P<level>[^\W\d_]{2,16}): (?P<msg>.*))?\s*$"
)
_LEVEL_LINE = re.compile(r"^(?P<level>[^\W\d_]{2,16}): (?P<msg>.*)$")
_CARBON = re.compile(
    r"^(?:TID: \[[^\]]*\] \[[^\]]*\] )?\[(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[,.]\d+)?)\]"
    r"(?: \[[^\]]*\])*\s+(?P<level>[A-Z]+) \{(?P<logger>[^}]*)\} -\s?(?P<msg>.*)$"
)
_ISO_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s+"
    r"(?:\[[^\]]*\]\s+)?(?P<level>[A-Z]{4,7})\b:?\s*(?P<rest>.*)$"
)
_CLOCK_LINE = re.compile(
    r"^(?P<ts>\d\d:\d\d:\d\d[,.]\d{3})\s+(?P<level>[A-Z]{4,7})\s+(?P<rest>.*)$"
)
_REST_LOGGER = (  # (a literal each pattern needs: a cheap test before the regex, pattern)
    (" --- [", re.compile(r"^\d+ --- \[[^\]]*\] (?P<logger>\S+)\s+: (?P<msg>.*)$")),
    ("] (", re.compile(r"^\[(?P<logger>[\w$.]+)\] \([^)]*\) (?P<msg>.*)$")),
    (" - ", re.compile(r"^\[[^\]]*\] (?P<logger>[\w$.]+) - (?P<msg>.*)$")),
    (" - ", re.compile(r"^(?P<logger>[\w$.]+\.[\w$]+) - (?P<msg>.*)$")),
)
_GLUE = re.compile(
    r"(?<=\S) +(?=(?:" + _STAMP_TWO + r") [A-Za-z_$][\w$]*(?:\.[\w$]+)+ [\w$<>]+ +[^\W\d_]{2,16}: "
    r"|\d{1,2}-[A-Z][a-z]{2}-\d{4} \d{1,2}:\d\d:\d\d[.,]\d{3} \S+ \[)"
)


@dataclass(slots=True)
class Record:
    """The fields of one log record as far as its line shows them."""

    layout: str
    """jul1, jul2 (header, maybe with the message collapsed on it), level (a `LEVEL: msg` line),
    carbon, iso, clock, json or bare."""
    time: str | None
    level: str | None
    logger: str | None
    method: str | None
    message: str
    text: str

    @property
    def is_error(self) -> bool:
        """SEVERE/ERROR/FATAL in any of the JVM's languages."""
        return self.level in ERROR_LEVELS

    @property
    def awaits_message(self) -> bool:
        """A two-line JUL header whose `LEVEL: message` line is the next line."""
        return self.layout == "jul2" and self.level is None


def canonical_level(name: str | None) -> str | None:
    """SEVERE, ERROR, WARNING, INFO or DEBUG for a level name in any language, else None."""
    return LEVELS.get(name.upper()) if name else None


def _may_have_prefix(text: str) -> bool:
    """A cheap necessary condition for `_PREFIX`: its first character, the `T` of an RFC 3339
    stamp or the compose `|`; most candidate lines fail it and skip the regex."""
    first = text[:1]
    if not first:
        return False
    syslog = "A" <= first <= "Z" and text[3:4] == " "  # `Nov 22 10:00:00 host app: `
    return syslog or first in "<[" or text[10:11] == "T" or "|" in text


def strip_prefixes(text: str) -> str:
    """The line without syslog/journal, container (`[tomcat] `) or compose (`web-1 | `) prefix."""
    for _ in range(3):
        if not _may_have_prefix(text):
            break
        match = _PREFIX.match(text)
        if not match:
            break
        text = text[match.end() :]
    return text


_GLUE_HINT = re.compile(r":\d\d:\d\d")
"""What every glued record's stamp holds (`h:mm:ss`): a literal-led search, ~0.4 µs a line."""


def _may_be_glued(body: str) -> bool:
    """A cheap necessary condition for `_GLUE` (which costs ~30 µs on a long line): a clock
    `:mm:ss` past the first record's own stamp, which ends before position 20 in every layout
    that can be glued, and any glued record starts after a whole stamp of its own."""
    return _GLUE_HINT.search(body, 20) is not None


def split_glued(text: str) -> list[str]:
    """A physical line cut where a second JUL record was glued onto the first (copy-paste, t12)."""
    body = strip_prefixes(text)
    if not _may_be_glued(body):
        return [text]
    parts = [part for part in _GLUE.split(body) if part]
    if len(parts) < 2:
        return [text]
    parts[0] = text[: len(text) - len(body)] + parts[0]
    return parts


def _split_src(src: str, method: str | None) -> tuple[str, str]:
    """Logger and method; JUL sometimes prints `package.method` with no class (Tomcat 7, t04)."""
    if method:
        return src, method
    logger, _, tail = src.rpartition(".")
    return logger, tail


def _from_json(text: str) -> Record | None:
    """A line of Tomcat's JsonFormatter."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or "message" not in data:
        return None
    message = str(data.get("message", ""))
    thrown = data.get("throwable")
    if isinstance(thrown, list):
        message += "\n" + "\n".join(str(item) for item in thrown)
    return Record(
        "json",
        iso_from_iso_like(str(data.get("time", ""))),
        canonical_level(str(data.get("level", ""))),
        str(data["class"]) if "class" in data else None,
        str(data["method"]) if "method" in data else None,
        message,
        text,
    )


def _rest(layout: str, time: str | None, level: str, rest: str, text: str) -> Record:
    """A record whose logger, if any, follows the level in one of the common patterns."""
    for hint, pattern in _REST_LOGGER:
        if hint in rest and (m := pattern.match(rest)):
            return Record(layout, time, canonical_level(level), m["logger"], None, m["msg"], text)
    return Record(layout, time, canonical_level(level), None, None, rest, text)


def parse(text: str) -> Record:
    """Read one record from a line (without its newline), whatever its layout."""
    body = strip_prefixes(text)
    # Cheap tests of what each layout's regex needs at the start skip the regexes that must fail.
    digit = "0" <= body[:1] <= "9"
    sep = body[1:3]
    if (not digit or "-" in sep) and (m := _JUL_ONE.match(body)):
        logger, method = _split_src(m["src"], None)
        level = canonical_level(m["level"])
        time = iso_from_jul_one_line(m["ts"])
        return Record("jul1", time, level, logger, method, body[m.end() + 1 :], text)
    jul_two = not digit or "/" in sep or "月" in sep or "월" in sep
    if jul_two and (m := _JUL_TWO.match(body)):
        logger, method = _split_src(m["src"], m["method"])
        level = canonical_level(m["level"]) if m["level"] else None
        if m["level"] and level is None:
            level = "INFO"  # an unknown word before ':' in a collapsed header: treat as a message
        time = iso_from_jul_two_line(m["ts"])
        return Record("jul2", time, level, logger, method, m["msg"] or "", text)
    level_line = not digit and ": " in body
    if level_line and (m := _LEVEL_LINE.match(body)) and (level := canonical_level(m["level"])):
        return Record("level", None, level, None, None, m["msg"], text)
    if body[:1] in ("[", "T") and (m := _CARBON.match(body)):
        time, level = iso_from_iso_like(m["ts"]), canonical_level(m["level"])
        return Record("carbon", time, level, m["logger"], None, m["msg"], text)
    if body[4:5] == "-" and (m := _ISO_LINE.match(body)):
        return _rest("iso", iso_from_iso_like(m["ts"]), m["level"], m["rest"], text)
    if body[2:3] == ":" and (m := _CLOCK_LINE.match(body)):
        return _rest("clock", None, m["level"], m["rest"], text)
    if body.startswith('{"') and (record := _from_json(body)):
        return record
    return Record("bare", None, None, None, None, body, text)


def is_continuation(text: str) -> bool:
    """A stack-trace line that belongs to the record above it."""
    if not text:
        return False
    if text[0] in " \t":
        return text.strip() != ""
    if text.startswith(("Caused by:", "Suppressed:", "... ", "\tat ", "at ")):
        return True
    first = text[0]  # _EXCEPTION_HEAD starts with a package name: [a-z_$]
    return ("a" <= first <= "z" or first in "_$") and bool(_EXCEPTION_HEAD.match(text))


_EXCEPTION_HEAD = re.compile(
    r"^(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable|Fault)(?::|$)"
)
