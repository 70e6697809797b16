"""The ``[metrics]`` table of cluster.toml: how the nodes' figures (sessions, heap, threads,
request and error rates) are read from Tomcat's manager application.

```toml
[metrics]
manager_user = "console"          # a user with the roles manager-status and manager-jmx only
password_file = "secrets/manager_password"   # or password_env = "TOMCAT_MANAGER_PASSWORD"
interval = 5.0                    # seconds between two reads of a node (default 5)
max_errors_per_s = 1.0            # a node answering more 5xx a second is a problem
```

The manager is read on each node's own origin (``http``'s scheme, host and port) at
``/manager``; a ``[[nodes]]`` entry's ``manager_url`` overrides that. Without ``[metrics]`` (or
without ``manager_user``) the manager is not read and the figures say why.

The error rate (5xx answers a second) comes from each node's access log, read over SSH: a
``[[nodes]]`` entry's ``access_log`` (a glob relative to catalina_base, the profile's by default;
``""`` or ``false``: not read).
"""

from __future__ import annotations

import math
import posixpath

from console.config.checks import url_problem
from console.config.lines import FieldPath
from console.config.model import DEFAULT_MAX_ERRORS, DEFAULT_METRICS_INTERVAL, MetricsConfig
from console.config.reader import Table, TableReader, type_name

METRICS_FIELDS = ("manager_user", "password_env", "password_file", "interval", "max_errors_per_s")
MAX_INTERVAL = 3600.0


def _number(
    reader: TableReader, table: Table, path: FieldPath, key: str, default: float, top: float
) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        reader.error((*path, key), f"expected a number, got {type_name(value)}")
        return default
    if not math.isfinite(value) or not 0 < value <= top:
        reader.error(
            (*path, key), f"must be a number greater than 0 and at most {top:g}, got {value}"
        )
        return default
    return float(value)


def read_metrics(reader: TableReader, doc: Table) -> MetricsConfig:
    """The ``[metrics]`` table (defaults when absent), every problem recorded on `reader`."""
    path: FieldPath = ("metrics",)
    table = reader.table(doc, "metrics")
    if table is None:
        return MetricsConfig()
    reader.keys(table, path, METRICS_FIELDS)
    user = reader.string(table, path, "manager_user")
    if user is not None and (not user or ":" in user):
        reader.error((*path, "manager_user"), "must be a non-empty user name without ':'")
    password = reader.secret(table, path)
    if user is None and password is not None:
        reader.error((*path, "manager_user"), "missing: a password is given for no user")
    return MetricsConfig(
        manager_user=user,
        password=password,
        interval=_number(reader, table, path, "interval", DEFAULT_METRICS_INTERVAL, MAX_INTERVAL),
        max_errors_per_s=_number(reader, table, path, "max_errors_per_s", DEFAULT_MAX_ERRORS, 1e9),
    )


def access_log_glob(reader: TableReader, table: Table, path: FieldPath, default: str) -> str | None:
    """A node's ``access_log``: a glob relative to catalina_base (or absolute), the profile's
    when absent; ``""`` or ``false`` turns it off (None)."""
    value = table.get("access_log", default)
    if value is False or value == "":
        return None
    where = (*path, "access_log")
    if not isinstance(value, str):
        reader.error(where, f"expected a glob (a string) or false, got {type_name(value)}")
        return None
    bad = sorted({c for c in value if c.isspace() or c in "\"'`$;&|<>()" or not c.isprintable()})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        reader.error(where, f"{value!r}: a glob may not hold whitespace or {shown}")
        return None
    if value.endswith("/") or posixpath.basename(value) in ("", ".", ".."):
        reader.error(where, f"{value!r}: must name files (e.g. logs/localhost_access_log.*.txt)")
        return None
    return value


def manager_url_problem(value: str) -> str | None:
    """Why a node's ``manager_url`` is not usable, or None."""
    return url_problem(value, password_hint="use [metrics] password_env or password_file")
