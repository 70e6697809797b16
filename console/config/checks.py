"""Syntax checks for single config values: host names, URLs, database URLs, colours.

Each check returns a user-facing reason (or the parsed value) instead of raising, so the
validator can collect every problem in one pass.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import SplitResult, unquote, urlsplit

NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
COLOR = re.compile(r"#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{6}|[a-z-]+")
GRANT = re.compile(r"[A-Z_]+(?: [A-Z_]+)*")

_LABEL = re.compile(r"[A-Za-z0-9-]+")
_NUMERIC_DOTTED = re.compile(r"[0-9.]+")
_HOST_PORT = re.compile(r"[^:]+:[0-9]*")


def host_problem(host: str, *, ssh_alias: bool = False) -> str | None:
    """Why ``host`` is not a host name, IPv4 or IPv6 literal, or None when it is one.

    ``ssh_alias``: a node's host may also be a Host alias of ~/.ssh/config, which may hold '_'
    (``db_1``); URLs keep the strict rule."""
    if not host.strip():
        return "is empty"
    if any(char.isspace() for char in host):
        return "contains whitespace"
    if "://" in host or "/" in host:
        return "is a URL or path; give only the host name or IP address"
    if host.startswith("[") and host.endswith("]"):
        return "has brackets; write the IPv6 address without them"
    if ":" in host:
        if _HOST_PORT.fullmatch(host):
            return "contains a port; give the port in its own field"
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "is not a valid IPv6 address"
        return None
    if _NUMERIC_DOTTED.fullmatch(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return "is not a valid IPv4 address"
        return None
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253:
        return "is longer than 253 characters"
    for label in name.split("."):
        if not label:
            return "has an empty label (two dots in a row, or a leading dot)"
        if "_" in label and not ssh_alias:
            return "contains '_', which is not allowed in a host name"
        if not _LABEL.fullmatch(label.replace("_", "-") if ssh_alias else label):
            return "contains characters not allowed in a host name (letters, digits, '-', '.')"
        if len(label) > 63:
            return f"has a label longer than 63 characters ({len(label)})"
        if label.startswith("-") or label.endswith("-"):
            return f"has a label that starts or ends with '-' ({label!r})"
    return None


def _netloc_problem(parts: SplitResult, url: str) -> str | None:
    """Check the host and port of an already split URL."""
    netloc = parts.netloc.rpartition("@")[2]
    if not netloc:
        return f"{url!r} has no host"
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        if ":" not in host:
            return f"{url!r} has brackets around something that is not an IPv6 address"
        port = rest[1:] if rest.startswith(":") else None
        if rest and port is None:
            return f"{url!r} has text after the IPv6 address"
    else:
        host, colon, port_text = netloc.partition(":")
        port = port_text if colon else None
    reason = host_problem(host)
    if reason is not None:
        return f"{url!r}: host {host!r} {reason}"
    if port is not None:
        if not port.isdigit():
            return f"{url!r}: port {port!r} is not a number"
        if not 1 <= int(port) <= 65535:
            return f"{url!r}: port {int(port)} is out of range 1-65535"
    return None


def url_problem(url: str, *, password_hint: str) -> str | None:
    """Why ``url`` is not an http(s) URL with a valid host and port, or None when it is one."""
    if any(char.isspace() for char in url):
        return f"{url!r} contains whitespace"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not url.lower().startswith(
        ("http://", "https://")
    ):
        return f"{url!r} is not a URL; it must start with http:// or https://"
    if "@" in parts.netloc and ":" in parts.netloc.rpartition("@")[0]:
        return f"password in the URL; {password_hint}"
    return _netloc_problem(parts, url)


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """The parts of a ``mysql://user@host:port/database`` URL."""

    scheme: Literal["mysql", "mariadb"]
    user: str
    host: str
    port: int
    database: str
    unix_socket: str | None = None
    """``?unix_socket=/path``: connect through this socket (on this machine) instead of TCP."""
    tls: bool = False
    """``?ssl=required``: TLS, verified against the system trust store or ``ssl_ca``."""
    ssl_ca: str | None = None
    """``?ssl_ca=/path``: the CA file (PEM) the server's certificate is verified against."""


_DB_EXAMPLE = "write mysql://USER@HOST[:PORT]/DATABASE"
_DB_OPTIONS = "unix_socket=/PATH, ssl=required and ssl_ca=/PATH.pem"


def parse_database_url(url: str) -> DatabaseUrl | str:
    """Parse a database URL, or return why it is refused."""
    if any(char.isspace() for char in url):
        return f"{url!r} contains whitespace"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("mysql", "mariadb") or "://" not in url:
        return f"{url!r} must start with mysql:// or mariadb://"
    userinfo, at, _ = parts.netloc.rpartition("@")
    if ":" in userinfo:
        return "password in the URL; use password_env or password_file"
    if not at or not userinfo:
        return f"{url!r} has no user; {_DB_EXAMPLE}"
    problem = _netloc_problem(parts, url)
    if problem is not None:
        return problem
    if parts.fragment:
        return f"{url!r}: a fragment (#...) is not supported; {_DB_EXAMPLE}"
    options: dict[str, str] = {}
    for item in parts.query.split("&") if parts.query else []:
        key, _, value = item.partition("=")
        if key not in ("unix_socket", "ssl", "ssl_ca") or not value:
            return f"{url!r}: unknown option {item!r}; the options are {_DB_OPTIONS}"
        options[key] = unquote(value)
    if options.get("ssl", "required") not in ("required", "true"):
        return f"{url!r}: ssl={options['ssl']!r}; write ssl=required"
    for key in ("unix_socket", "ssl_ca"):
        if key in options and not options[key].startswith(("/", "~")):
            return f"{url!r}: {key} must be an absolute path"
    database = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not database:
        return f"{url!r} has no database name; {_DB_EXAMPLE}"
    if "/" in database:
        return f"{url!r}: database name {database!r} contains '/'"
    return DatabaseUrl(
        scheme="mysql" if scheme == "mysql" else "mariadb",
        user=unquote(userinfo),
        host=parts.hostname or "",
        port=parts.port or 3306,
        database=unquote(database),
        unix_socket=options.get("unix_socket"),
        tls="ssl" in options or "ssl_ca" in options,
        ssl_ca=options.get("ssl_ca"),
    )
