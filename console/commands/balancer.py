"""``clusterconsole balancer URL``: one read of a balancer-manager, as a table or as JSON.

URL may also be a saved page (`file://...` or a local path) for post-mortems. The JSON shape is
`BalancerPage.to_json()`, a contract for scripts. Read failures are one sentence and exit 1.
"""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote, urlsplit

from console import exitcodes
from console.textsafe import printable
from probes.balancer.httpd_client import BalancerReader
from probes.balancer.httpd_html import PAGE_LIMIT, parse_html
from probes.balancer.httpd_xml import parse_xml
from probes.balancer.model import (
    BALANCER_PREFIX,
    Balancer,
    BalancerError,
    BalancerPage,
    BalancerSettings,
    Worker,
)
from probes.http import DEADLINE

PROG = "clusterconsole: balancer"
COLUMNS = ("WORKER", "ROUTE", "STATUS", "FACTOR", "SET", "ELECTED", "BUSY", "LOAD", "TO", "FROM")
_UNITS = "KMGTPE"


def saved_path(url: str) -> Path | None:
    """The local file `url` names (`file://` URL or plain path), or None for an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https"):
        return None
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost"):
            raise BalancerError(f"{url} names a file on another host; give a local path")
        return Path(unquote(parts.path))
    if parts.scheme and len(parts.scheme) > 1:  # `C:\...` has a one-letter "scheme"
        raise BalancerError(f"{url} is neither an http(s):// URL nor a saved page")
    return Path(url)


def read_saved(path: Path, url: str) -> BalancerPage:
    """A page or XML view saved to disk, parsed like a live one."""
    try:
        if not stat.S_ISREG(path.stat().st_mode) and not path.is_dir():
            # a FIFO would block forever and a device never end: a saved page is a file
            raise BalancerError(f"cannot read the saved page {path}: not a regular file")
        with path.open("rb") as handle:
            data = handle.read(PAGE_LIMIT + 1)
    except FileNotFoundError:
        hint = "" if url.lower().startswith("file:") else " (a live balancer needs an http:// URL)"
        raise BalancerError(f"cannot read the saved page {path}: no such file{hint}") from None
    except IsADirectoryError:
        raise BalancerError(f"cannot read the saved page {path}: it is a directory") from None
    except OSError as error:
        reason = (error.strerror or type(error).__name__).lower()
        raise BalancerError(f"cannot read the saved page {path}: {reason}") from None
    if len(data) > PAGE_LIMIT:
        raise BalancerError(
            f"{path} is larger than {PAGE_LIMIT // (1024 * 1024)} MiB, far more than any "
            "balancer-manager page; not read"
        )
    head = data.lstrip()[:200]
    if head.startswith(b"<?xml") or b"<httpd:manager" in head:
        return parse_xml(data, url)
    return parse_html(
        data.decode("utf-8", "replace") if _utf8(data) else data.decode("cp1252", "replace"), url
    )


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def fetch(url: str, *, deadline: float = DEADLINE) -> BalancerPage:
    """One read of the balancer-manager at `url` (or of a saved page); BalancerError on failure,
    also when the server has not sent the whole page within `deadline` seconds."""
    path = saved_path(url)
    if path is not None:
        return read_saved(path, url)
    reader = BalancerReader(url, deadline=deadline)
    try:
        return await reader.read()
    finally:
        await reader.aclose()


def human_size(value: int | None) -> str:
    """Bytes the way balancer-manager shows them: 395, 1.5K, 15K, 55M."""
    if value is None:
        return "-"
    if value < 973:
        return str(value)
    size = float(value)
    for unit in _UNITS:
        size /= 1024
        if size < 973 or unit == _UNITS[-1]:
            return f"{size:.1f}{unit}" if size < 9.95 else f"{size:.0f}{unit}"
    return str(value)


def _number(value: float | int | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _cells(worker: Worker) -> tuple[str, ...]:
    return (
        printable(worker.url),
        printable(worker.route) if worker.route else "-",
        printable(worker.status) if worker.status else "-",
        _number(worker.factor),
        _number(worker.lbset),
        _number(worker.elected),
        _number(worker.busy),
        _number(worker.load),
        human_size(worker.to_bytes),
        human_size(worker.from_bytes),
    )


def render_balancer(balancer: Balancer) -> list[str]:
    """A heading and one aligned row per worker (control characters shown as escapes)."""
    nonce = f" (nonce {printable(balancer.nonce)})" if balancer.nonce else ""
    lines = [f"{BALANCER_PREFIX}{printable(balancer.name)}{nonce}"]
    if balancer.settings is not None:
        lines.append("  " + printable(describe_settings(balancer.settings)))
    if not balancer.workers:
        return [*lines, "  no workers"]
    rows = [COLUMNS, *(_cells(worker) for worker in balancer.workers)]
    widths = [max(len(row[index]) for row in rows) for index in range(len(COLUMNS))]
    for row in rows:
        lines.append(
            "  "
            + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return lines


def describe_settings(settings: BalancerSettings) -> str:
    """The balancer's own settings in one line (what the page shows of them)."""
    parts: list[str] = []
    if settings.sticky_session:
        parts.append(f"sticky {settings.sticky_session}")
    if settings.lbmethod:
        parts.append(settings.lbmethod)
    if settings.timeout is not None:
        parts.append(f"timeout {settings.timeout:g}")
    if settings.failover_attempts is not None:
        parts.append(f"failover attempts {settings.failover_attempts}")
    if settings.path:
        parts.append(f"path {settings.path}")
    if settings.max_members is not None:
        used = settings.members_used
        room = f"{used} of {settings.max_members} members" if used is not None else ""
        parts.append(room or f"max {settings.max_members} members")
        if settings.free_slots == 0:
            parts.append("no room to add a worker (growth)")
    return " · ".join(parts) or "no settings shown"


def render(page: BalancerPage) -> str:
    """The whole page as text: where it was read, then one table per balancer."""
    version = f" ({printable(page.server_version)})" if page.server_version else ""
    lines = [f"{printable(page.url)}{version}"]
    if not page.balancers:
        lines.append("no balancers on this page")
    for balancer in page.balancers:
        lines.append("")
        lines.extend(render_balancer(balancer))
    return "\n".join(lines) + "\n"


SCHEMA_VERSION = 1
"""`balancer --json`'s schema_version (console/schemas/balancer.schema.json)."""


def run(url: str, *, as_json: bool, out: TextIO, err: TextIO, deadline: float = DEADLINE) -> int:
    """Read once and print; 0 when read, 1 (PROBLEMS) with one sentence when it cannot be."""
    try:
        page = asyncio.run(fetch(url, deadline=deadline))
    except BalancerError as error:
        err.write(f"{PROG}: {printable(str(error))}\n")
        return exitcodes.PROBLEMS
    if as_json:
        document = {"schema_version": SCHEMA_VERSION, **page.to_json()}
        out.write(json.dumps(document, indent=2, ensure_ascii=True) + "\n")
    else:
        out.write(render(page))
    return exitcodes.OK
