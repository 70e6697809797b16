"""The shared MySQL/MariaDB database: reachable, latency, version, grants, connections per host.

pymysql blocks, so `check` is meant to run in a thread (``asyncio.to_thread``). It logs in as the
application's own user: that user sees its own connections in the process list (no PROCESS
privilege needed), which is exactly each node's connection pool.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from probes.privileges import ALL_PRIVILEGES

_GRANT = re.compile(
    r"^GRANT\s+(?P<privs>.+?)\s+ON\s+(?:(?:TABLE|FUNCTION|PROCEDURE)\s+)?"
    r"(?P<db>`(?:[^`]|``)*`|\*|[^.\s]+)\.(?P<table>`(?:[^`]|``)*`|\*|\S+)\s+TO\s",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """Where the database is and who to log in as; the password is held but never shown."""

    host: str
    port: int
    user: str
    database: str
    password: str | None = field(default=None, repr=False)
    required_grants: frozenset[str] = frozenset()
    connect_timeout: float = 5.0
    unix_socket: str | None = None
    tls: bool = False
    ssl_ca: str | None = None


def my_cnf(path: str | None = None) -> dict[str, str]:
    """The ``[client]`` options of the operator's ``~/.my.cnf`` (``$MYSQL_HOME`` is not read):
    what the mysql client itself would use; empty when there is no readable file."""
    import configparser

    file = os.path.expanduser(path or os.environ.get("CLUSTERCONSOLE_MY_CNF") or "~/.my.cnf")
    parser = configparser.ConfigParser(allow_no_value=True, strict=False, interpolation=None)
    try:
        with open(file, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, UnicodeDecodeError, configparser.Error):
        return {}
    if not parser.has_section("client"):
        return {}
    return {
        key.replace("_", "-"): value.strip().strip("'\"")
        for key, value in parser.items("client")
        if value is not None
    }


def connect_options(target: DatabaseTarget, cnf: dict[str, str] | None = None) -> dict[str, Any]:
    """pymysql.connect's arguments: the inventory's values, ~/.my.cnf's [client] password and
    ssl-ca where the inventory has none (like the mysql client), a unix socket or TLS when the
    URL asks for them. TLS asked for is always verified (never "encrypted but trusting
    anyone"); without ``ssl=required`` PyMySQL's own PREFERRED mode applies (docs/facts.md)."""
    from probes.tls import client_ssl

    cnf = my_cnf() if cnf is None else cnf
    options: dict[str, Any] = {
        "host": target.host,
        "port": target.port,
        "user": target.user,
        "password": target.password if target.password is not None else cnf.get("password", ""),
        "database": target.database,
        "connect_timeout": target.connect_timeout,
        "read_timeout": target.connect_timeout,
        "write_timeout": target.connect_timeout,
        "charset": "utf8mb4",
    }
    if target.unix_socket:
        options["unix_socket"] = os.path.expanduser(target.unix_socket)
    ca = target.ssl_ca or (cnf.get("ssl-ca") if target.tls else None)
    if target.tls:
        options["ssl"] = client_ssl(os.path.expanduser(ca) if ca else None)
    return options


@dataclass(frozen=True, slots=True)
class DatabaseHealth:
    """One check of the database, as seen from this machine."""

    reachable: bool
    ms: float | None = None
    """Round trip of ``SELECT 1`` on an open connection, in milliseconds."""
    connect_ms: float | None = None
    version: str | None = None
    grants: frozenset[str] = frozenset()
    """Privileges the user holds on the database (upper case)."""
    missing_grants: frozenset[str] = frozenset()
    grants_ok: bool | None = None
    """None when the grants could not be read."""
    connections: tuple[tuple[str, int], ...] = ()
    """(client host, open connections of the application user), ours excluded, by host."""
    error: str | None = None
    at: float = 0.0


def _unquote(name: str) -> str:
    if name.startswith("`") and name.endswith("`"):
        return name[1:-1].replace("``", "`")
    return name


def _db_pattern_matches(pattern: str, database: str) -> bool:
    """MySQL database-level grant patterns: ``%`` and ``_`` are wildcards, ``\\_`` a literal."""
    if pattern == "*":
        return True
    regex = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            regex.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        regex.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.fullmatch("".join(regex), database) is not None


def _split_privileges(text: str) -> list[str]:
    """``SELECT, INSERT (col), ALL PRIVILEGES`` -> names; column lists are dropped."""
    names: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            names.append("".join(current))
            current = []
        elif depth == 0:
            current.append(char)
    names.append("".join(current))
    return [" ".join(name.split()).upper() for name in names if name.strip()]


def granted_on(grant_lines: Iterable[str], database: str) -> frozenset[str]:
    """Privileges the ``SHOW GRANTS`` lines give on every table of ``database``.

    Only global (``*.*``) and database-level (``db.*``) grants count: a table-level grant does
    not let the application create its tables.
    """
    held: set[str] = set()
    for line in grant_lines:
        match = _GRANT.match(line.strip())
        if not match or _unquote(match["table"]) != "*":
            continue
        if not _db_pattern_matches(_unquote(match["db"]), database):
            continue
        for name in _split_privileges(match["privs"]):
            if name in ("ALL", "ALL PRIVILEGES"):
                held |= ALL_PRIVILEGES
            elif name != "USAGE":
                held.add(name)
    return frozenset(held)


def _reason(exc: BaseException) -> str:
    """A plain sentence for a pymysql failure (the password never appears in these)."""
    args: tuple[object, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int):
        return f"{args[1]} (error {args[0]})"
    return str(exc) or type(exc).__name__


def check(target: DatabaseTarget) -> DatabaseHealth:
    """Connect, time a round trip, read version, grants and connections; never raises."""
    import pymysql  # here, not at the top: the console's first frame should not wait for it

    began = time.perf_counter()
    try:
        connection = pymysql.connect(**connect_options(target))
    except Exception as exc:  # pymysql raises its own errors and bare OS errors alike
        return DatabaseHealth(reachable=False, error=_reason(exc), at=time.time())
    connect_ms = (time.perf_counter() - began) * 1000
    try:
        with connection.cursor() as cursor:
            began = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchall()
            ms = (time.perf_counter() - began) * 1000
            cursor.execute("SELECT VERSION()")
            version = str(cursor.fetchone()[0])
            cursor.execute("SHOW GRANTS FOR CURRENT_USER()")
            held = granted_on((str(row[0]) for row in cursor.fetchall()), target.database)
            cursor.execute(
                "SELECT SUBSTRING_INDEX(HOST, ':', 1), COUNT(*)"
                " FROM information_schema.PROCESSLIST"
                " WHERE USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)"
                " AND ID <> CONNECTION_ID() GROUP BY 1 ORDER BY 1"
            )
            connections = tuple((str(host), int(count)) for host, count in cursor.fetchall())
    except Exception as exc:
        return DatabaseHealth(
            reachable=True, connect_ms=connect_ms, error=_reason(exc), at=time.time()
        )
    finally:
        connection.close()
    missing = target.required_grants - held
    return DatabaseHealth(
        reachable=True,
        ms=ms,
        connect_ms=connect_ms,
        version=version,
        grants=held,
        missing_grants=frozenset(missing),
        grants_ok=not missing,
        connections=connections,
        at=time.time(),
    )
