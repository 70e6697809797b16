"""httpd's balancer-manager HTML page (2.2 and 2.4, with or without mod_proxy_hcheck) to a model.

A regex tokeniser over `<table>`/`<tr>`/`<th>`/`<td>` only (the stdlib HTML parser is ~30x
slower on a 50-member page). Columns are found by header name, never by position, so the
health-check columns, a browser's reformatting or upper-case tags change nothing. Every pattern
stops at `<` or `>`, which keeps the scan linear on hostile input.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from probes.balancer.model import (
    Balancer,
    BalancerError,
    BalancerPage,
    BalancerSettings,
    Worker,
    make_worker,
    parse_float,
    parse_int,
    parse_size,
)

PAGE_LIMIT = 8 * 1024 * 1024
"""Characters read at most: a balancer-manager page with 1000 members is well under 1 MiB."""

_TAG = re.compile(r"<(/?)(table|tr|td|th)\b[^<>]*>", re.IGNORECASE)
_STRIP = re.compile(r"<[^<>]*>")
_HEADING = re.compile(r"LoadBalancer\s+Status\s+for\b")
_HEADING_ANY_CASE = re.compile(r"LoadBalancer\s+Status\s+for\b", re.IGNORECASE)
_HEADING_END = re.compile(r"</h\d\s*>", re.IGNORECASE)
_NAME = re.compile(r"balancer://([^\s\[\]<>\"']+)", re.IGNORECASE)
_HREF = re.compile(
    r"""href\s*=\s*(?:"([^"<>]*)"|'([^'<>]*)'|([^\s<>"']+))""",
    re.IGNORECASE,
)
_ANY_NONCE = re.compile(r"[?&;]nonce=([0-9A-Za-z_-]{1,128})")
_VERSION = re.compile(r"Server\s+Version:\s*([^<]{0,300})", re.IGNORECASE)
_MARKER = re.compile(
    r"Load\s+Balancer\s+Manager\s+for|<title>\s*Balancer\s+Manager\s*</title>", re.IGNORECASE
)
_PASSWORD = re.compile(r"<input\b[^<>]*type\s*=\s*[\"']?password", re.IGNORECASE)

_COLUMNS = {
    "worker url": "url",
    "route": "route",
    "routeredir": "redirect",
    "factor": "factor",
    "set": "lbset",
    "status": "status",
    "elected": "elected",
    "busy": "busy",
    "load": "load",
    "to": "to",
    "from": "from",
}

Row = list[tuple[bool, str]]
"""One table row: (is a header cell, the cell's raw inner HTML) per cell."""


@dataclass(slots=True)
class _Table:
    """A table being tokenised: finished rows, the open row and the open cell's text parts."""

    rows: list[Row] = field(default_factory=list)
    row: Row | None = None
    cell: list[str] | None = None
    header: bool = False

    def close_cell(self) -> None:
        if self.cell is not None:
            if self.row is None:
                self.row = []
            self.row.append((self.header, "".join(self.cell)))
            self.cell = None

    def close_row(self) -> None:
        self.close_cell()
        if self.row is not None:
            self.rows.append(self.row)
            self.row = None


def tables(text: str) -> list[list[Row]]:
    """Every table in `text` as rows of raw cells; nested tables come out as tables of their own.

    Tolerates omitted end tags (`</td>`, `</tr>`) the way browsers do. One C-level split does
    the scanning; the loop only walks the table tags.
    """
    done: list[list[Row]] = []
    stack: list[_Table] = []
    pieces = _TAG.split(text)  # text, "/" or "", tag name, text, ...
    for index in range(1, len(pieces), 3):
        closing = pieces[index] == "/"
        name = pieces[index + 1].lower()
        after = pieces[index + 2]
        if name == "table":
            if not closing:
                stack.append(_Table())
                continue
            if stack:
                table = stack.pop()
                table.close_row()
                done.append(table.rows)
            if stack and stack[-1].cell is not None:
                stack[-1].cell.append(after)  # back in the cell that held the nested table
            continue
        if not stack:
            continue
        table = stack[-1]
        if name == "tr":
            table.close_row()
            if not closing:
                table.row = []
        elif closing:
            table.close_cell()
        else:
            table.close_cell()
            table.cell = [after]
            table.header = name == "th"
    while stack:
        table = stack.pop()
        table.close_row()
        done.append(table.rows)
    return done


def cell_text(raw: str) -> str:
    """A cell's visible text: tags dropped, entities decoded, whitespace runs made one space."""
    if "<" in raw:
        raw = _STRIP.sub("", raw)
    if "&" in raw:
        raw = html.unescape(raw)
    return " ".join(raw.split())


def _header_map(row: Row) -> dict[str, int] | None:
    """Column name -> index when `row` is a worker table's header row (has `Worker URL`)."""
    if not row or not all(header for header, _ in row):
        return None
    names = [cell_text(raw).lower() for _, raw in row]
    if "worker url" not in names:
        return None
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        key = _COLUMNS.get(name)
        if key is not None and key not in columns:
            columns[key] = index
    return columns


_SETTINGS = {
    "maxmembers": "max",
    "stickysession": "sticky",
    "disablefailover": "nofailover",
    "timeout": "timeout",
    "failoverattempts": "attempts",
    "method": "method",
    "path": "path",
    "active": "active",
}
_MEMBERS = re.compile(r"^\s*(\d+)\s*(?:\[\s*(\d+)\s*Used\s*\])?", re.IGNORECASE)


def _on_off(text: str | None) -> bool | None:
    word = (text or "").strip().lower()
    return True if word in ("on", "yes") else False if word in ("off", "no") else None


def _settings(rows: list[Row]) -> BalancerSettings | None:
    """The balancer's settings table (`StickySession`, `Method`, ... `MaxMembers` in 2.4)."""
    if len(rows) < 2 or not all(header for header, _ in rows[0]):
        return None
    names = [_SETTINGS.get(cell_text(raw).lower().replace(" ", "")) for _, raw in rows[0]]
    if "sticky" not in names or "method" not in names:
        return None
    values = [cell_text(raw) for _, raw in rows[1]]
    text = {name: values[i] for i, name in enumerate(names) if name and i < len(values)}
    members = _MEMBERS.match(text.get("max", ""))
    sticky = text.get("sticky")
    return BalancerSettings(
        sticky_session=sticky if sticky and sticky not in ("(None)", "-") else None,
        lbmethod=text.get("method") or None,
        timeout=parse_float(text.get("timeout")),
        failover_attempts=parse_int(text.get("attempts")),
        disable_failover=_on_off(text.get("nofailover")),
        path=text.get("path") or None,
        active=_on_off(text.get("active")),
        max_members=int(members.group(1)) if members else None,
        members_used=int(members.group(2)) if members and members.group(2) else None,
    )


def _worker(row: Row, columns: dict[str, int]) -> Worker | None:
    """One worker from a data row, or None for a row without a worker URL."""
    size = len(row)
    text = {key: cell_text(row[index][1]) for key, index in columns.items() if index < size}
    url = text.get("url")
    if not url:
        return None
    return make_worker(
        url,
        route=text.get("route"),
        redirect=text.get("redirect"),
        factor=parse_float(text.get("factor")),
        lbset=parse_int(text.get("lbset")),
        status=text.get("status"),
        elected=parse_int(text.get("elected")),
        busy=parse_int(text.get("busy")),
        load=parse_int(text.get("load")),
        to_bytes=parse_size(text.get("to")),
        from_bytes=parse_size(text.get("from")),
    )


def _nonce(segment: str, name: str) -> str | None:
    """The nonce of the links `?b=NAME&nonce=...` in a balancer's part of the page."""
    for match in _HREF.finditer(segment):
        href = match.group(1) or match.group(2) or match.group(3) or ""
        if "nonce=" not in href:
            continue
        query = parse_qs(urlsplit(html.unescape(href)).query)
        if query.get("b", [""])[0] == name and query.get("nonce"):
            return query["nonce"][0] or None
    found = _ANY_NONCE.search(segment)
    return found.group(1) if found else None


def _balancer(segment: str) -> Balancer | None:
    """A balancer from its part of the page (heading to next heading), if it has a worker table."""
    end = _HEADING_END.search(segment, 0, 4000)
    heading = cell_text(segment[: end.start() if end else min(len(segment), 1000)])
    named = _NAME.search(heading)
    if named is None:
        return None
    name = named.group(1)
    found_table = False
    workers: list[Worker] = []
    settings: BalancerSettings | None = None
    for rows in tables(segment):
        if settings is None and not found_table:
            settings = _settings(rows)
        for index, row in enumerate(rows):
            columns = _header_map(row)
            if columns is None:
                continue
            found_table = True
            for data in rows[index + 1 :]:
                worker = _worker(data, columns)
                if worker is not None:
                    workers.append(worker)
            break
    if not found_table:
        return None
    return Balancer(
        name=name, nonce=_nonce(segment, name), workers=tuple(workers), settings=settings
    )


def parse_html(text: str, url: str) -> BalancerPage:
    """The balancers and workers of a balancer-manager page; BalancerError if it is not one."""
    if len(text) > PAGE_LIMIT:
        raise BalancerError(
            f"{url} answered with {len(text) // (1024 * 1024)} MiB, far more than any "
            "balancer-manager page; not a balancer-manager page"
        )
    if not text.strip():
        raise BalancerError(f"{url} answered with an empty page, not a balancer-manager page")
    # The literal pattern is ~20x faster; any case only when httpd's own spelling is absent.
    starts = [match.start() for match in _HEADING.finditer(text)] or [
        match.start() for match in _HEADING_ANY_CASE.finditer(text)
    ]
    balancers: list[Balancer] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        balancer = _balancer(text[start:end])
        if balancer is not None:
            balancers.append(balancer)
    if not balancers and _MARKER.search(text) is None:
        if _PASSWORD.search(text):
            raise BalancerError(
                f"{url} asks for a password (it answered with a login page), "
                "not with a balancer-manager page"
            )
        raise BalancerError(f"{url} did not answer with a balancer-manager page")
    version = _VERSION.search(text)
    server_version = cell_text(version.group(1)) if version else None
    return BalancerPage(url=url, balancers=tuple(balancers), server_version=server_version or None)
