"""HAProxy's `show stat` CSV to rows and to the same balancer model as httpd's balancer-manager.

Columns are found by header name (the header line starts `# pxname`): HAProxy 1.4 prints 36
columns, 1.5 prints 51 and 2.x about 100, and rows may stop short of the header.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from probes.balancer.model import Balancer, BalancerError, BalancerPage, Worker, parse_int

ROW_LIMIT = 100_000
"""Rows read at most from one `show stat` answer."""

_NUMBERS = (
    "qcur",
    "scur",
    "smax",
    "slim",
    "stot",
    "bin",
    "bout",
    "weight",
    "act",
    "bck",
    "chkfail",
    "chkdown",
    "lastchg",
    "downtime",
    "lbtot",
    "type",
    "iid",
    "sid",
    "check_code",
)


@dataclass(frozen=True, slots=True)
class HaproxyRow:
    """One line of `show stat`; a column this HAProxy does not print is None."""

    pxname: str
    svname: str
    status: str | None = None
    weight: int | None = None
    check_status: str | None = None
    check_code: int | None = None
    scur: int | None = None
    smax: int | None = None
    slim: int | None = None
    stot: int | None = None
    qcur: int | None = None
    bin: int | None = None
    bout: int | None = None
    act: int | None = None
    bck: int | None = None
    chkfail: int | None = None
    chkdown: int | None = None
    lastchg: int | None = None
    downtime: int | None = None
    lbtot: int | None = None
    type: int | None = None
    iid: int | None = None
    sid: int | None = None
    addr: str | None = None
    agent_status: str | None = None

    @property
    def is_server(self) -> bool:
        """A server line (not FRONTEND, BACKEND nor a listener)."""
        if self.type is not None:
            return self.type == 2
        return self.svname not in ("FRONTEND", "BACKEND")


def _header(line: str) -> list[str] | None:
    """Column names of the `# pxname,svname,...` line (any order), else None."""
    stripped = line.lstrip()
    if not stripped.startswith("#") or "pxname" not in stripped:
        return None
    names = [name.strip() for name in stripped[1:].split(",")]
    return names if "pxname" in names and "svname" in names else None


def parse_show_stat(text: str) -> list[HaproxyRow]:
    """Rows of a `show stat` answer, columns by header name; BalancerError without a header."""
    lines = text.splitlines()
    names: list[str] | None = None
    start = 0
    for index, line in enumerate(lines):
        names = _header(line)
        if names is not None:
            start = index + 1
            break
    if names is None:
        first = next((line.strip() for line in lines if line.strip()), "")
        hint = f" (it starts {first[:60]!r})" if first else " (it is empty)"
        raise BalancerError(f"not HAProxy `show stat` output: no '# pxname' header line{hint}")
    index_of = {name: position for position, name in enumerate(names) if name}
    rows: list[HaproxyRow] = []
    body = (line for line in lines[start:] if line.strip() and not line.lstrip().startswith("#"))
    reader = csv.reader(body)
    while len(rows) < ROW_LIMIT:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise BalancerError(f"not HAProxy `show stat` output: {error}") from None

        def cell(name: str, cells: list[str] = cells) -> str | None:
            position = index_of.get(name)
            if position is None or position >= len(cells):
                return None
            return cells[position]

        pxname, svname = cell("pxname"), cell("svname")
        if not pxname or svname is None:
            continue
        values: dict[str, int | None] = {}
        for name in _NUMBERS:
            raw = cell(name)
            values[name] = parse_int(raw) if raw is not None else None
        rows.append(
            HaproxyRow(
                pxname=pxname,
                svname=svname,
                status=_text(cell("status")),
                check_status=_text(cell("check_status")),
                addr=_text(cell("addr")),
                agent_status=_text(cell("agent_status")),
                **values,
            )
        )
    return rows


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


@dataclass(frozen=True, slots=True)
class ServerState:
    """What a server's status text means: usable for new sessions, draining, in maintenance."""

    usable: bool | None
    draining: bool | None
    disabled: bool | None


def server_state(status: str | None) -> ServerState:
    """UP, `UP 1/2`, DOWN, `DOWN (agent)`, NOLB, MAINT, `MAINT (via x/y)`, DRAIN, `no check`."""
    if status is None:
        return ServerState(None, None, None)
    word = status.strip().upper()
    if word.startswith("MAINT"):
        return ServerState(usable=False, draining=False, disabled=True)
    if word.startswith(("DRAIN", "NOLB")):
        return ServerState(usable=True, draining=True, disabled=False)
    if word.startswith("DOWN"):
        return ServerState(usable=False, draining=False, disabled=False)
    if word.startswith("UP") or word == "NO CHECK":
        return ServerState(usable=True, draining=False, disabled=False)
    return ServerState(None, None, None)


def to_worker(row: HaproxyRow) -> Worker:
    """A server line as a balancer worker (route = server name, factor = weight)."""
    state = server_state(row.status)
    return Worker(
        url=row.addr or row.svname,
        route=row.svname,
        redirect=None,
        factor=float(row.weight) if row.weight is not None else None,
        lbset=None,
        status=row.status,
        flags=tuple(row.status.split()) if row.status else (),
        usable=state.usable,
        draining=state.draining,
        disabled=state.disabled,
        standby=(row.bck > 0) if row.bck is not None else None,
        elected=row.lbtot,
        busy=row.scur,
        load=None,
        to_bytes=row.bin,
        from_bytes=row.bout,
    )


def to_page(rows: list[HaproxyRow], url: str) -> BalancerPage:
    """Each backend (a proxy with a BACKEND line or servers) as a Balancer of its servers."""
    order: list[str] = []
    servers: dict[str, list[Worker]] = {}
    for row in rows:
        is_backend = row.svname == "BACKEND"
        if not (is_backend or row.is_server):
            continue
        if row.pxname not in servers:
            order.append(row.pxname)
            servers[row.pxname] = []
        if row.is_server:
            servers[row.pxname].append(to_worker(row))
    balancers = tuple(
        Balancer(name=name, nonce=None, workers=tuple(servers[name])) for name in order
    )
    return BalancerPage(url=url, balancers=balancers)
