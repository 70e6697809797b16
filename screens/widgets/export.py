"""Export what a view shows (its rows in the order shown, every column) to a CSV or JSON file.

The console names the file: ``clusterconsole-CLUSTER-VIEW-YYYYmmdd-HHMMSS.csv`` (or ``.json``) in
``$CLUSTERCONSOLE_EXPORT_DIR``, else ``$XDG_STATE_HOME/clusterconsole/exports`` (by default
``~/.local/state/clusterconsole/exports``), created private (0700, files 0600), and says where.
Cells are the text shown (printable already); in CSV a cell that a spreadsheet would run as a
formula (``=``, ``+``, ``@``, ``-`` then not a number) starts with a quote. The JSON document is
``{"schema_version": 1, "view", "cluster", "exported_at" (with its time zone), "columns",
"rows": [{column: text}]}``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from console.paths import user_state_dir

if TYPE_CHECKING:
    from typing import Any

    from textual.screen import Screen
    from textual.widget import Widget

Format = Literal["csv", "json"]
SCHEMA_VERSION = 1
_NUMBER = re.compile(r"-\d+(\.\d+)?(\s|$|%|/)")
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def export_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    chosen = env.get("CLUSTERCONSOLE_EXPORT_DIR")
    if chosen:
        return Path(chosen).expanduser()
    return user_state_dir(env) / "exports"


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    if cell[:1] in ("=", "+", "@", "\t", "\r") or (
        cell.startswith("-") and len(cell) > 1 and not _NUMBER.match(cell)
    ):
        return "'" + cell
    return cell


def render(
    fmt: Format,
    view: str,
    cluster: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    at: datetime,
) -> str:
    if fmt == "json":
        document = {
            "schema_version": SCHEMA_VERSION,
            "view": view,
            "cluster": cluster,
            "exported_at": at.isoformat(timespec="seconds"),
            "columns": list(columns),
            "rows": [dict(zip(columns, row, strict=True)) for row in rows],
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return out.getvalue()


def export(
    fmt: Format,
    view: str,
    cluster: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    at: datetime | None = None,
    directory: Path | None = None,
) -> Path:
    """Write the rows to a new file the console names; its path. OSError when it cannot."""
    at = at or datetime.now().astimezone()
    directory = directory or export_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = f"clusterconsole-{_NAME.sub('_', cluster)}-{_NAME.sub('_', view)}"
    stem += at.strftime("-%Y%m%d-%H%M%S")
    text = render(fmt, view, cluster, columns, rows, at)
    for attempt in range(100):
        path = directory / f"{stem}{f'-{attempt}' if attempt else ''}.{fmt}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        return path
    raise FileExistsError(f"{directory}/{stem}.{fmt} and 99 more exist")


EXPORT_BINDINGS = (
    ("ctrl+s", "export('csv')", "Export CSV", "table.export-csv"),
    ("ctrl+e", "export('json')", "Export JSON", "table.export-json"),
)
"""(key, action, description, id) of the export keys every table and the node log have."""


def export_from(
    widget: Widget, fmt: Format, columns: Sequence[str], rows: Sequence[Sequence[str]]
) -> Path | None:
    """Export a widget's rows and say where they went (or why not); never in watch mode, so a
    wall served to a browser writes nothing on the console's machine."""
    app = widget.app
    if getattr(app, "read_only", False):
        app.notify("watch mode is read-only: nothing is exported", severity="warning", markup=False)
        return None
    inventory = getattr(app, "inventory", None)
    cluster = getattr(getattr(inventory, "cluster", None), "name", "cluster")
    screen = widget.screen
    view = str(screen.sub_title or type(screen).__name__)
    try:
        path = export(fmt, view, str(cluster), columns, rows)
    except OSError as error:
        app.notify(f"cannot export: {error}", severity="error", markup=False)
        return None
    app.notify(f"exported {len(rows)} row(s) as {fmt.upper()} to {path}", timeout=10, markup=False)
    return path


def export_view(screen: Screen[Any], fmt: Format) -> bool:
    """The command palette's export: the focused table or log of the view shown, else the
    view's first one (the same rows, in the same order, as its ctrl+s / ctrl+e). False, and a
    notice saying so, when the view has nothing to export; never anything in watch mode."""
    app = screen.app
    if getattr(app, "read_only", False):
        app.notify("watch mode is read-only: nothing is exported", severity="warning", markup=False)
        return False
    focused = screen.focused
    candidates = [focused] if focused is not None else []
    candidates += list(screen.query("*"))
    for widget in candidates:
        action = getattr(widget, "action_export", None)
        if callable(action):
            action(fmt)
            return True
    app.notify("this view has no table to export", severity="warning", markup=False)
    return False


__all__ = [
    "EXPORT_BINDINGS",
    "SCHEMA_VERSION",
    "Format",
    "export",
    "export_dir",
    "export_from",
    "export_view",
    "render",
    "spreadsheet_safe",
]
