"""Find, read and validate ``cluster.toml``, the inventory of nodes and balancers.

This is the public face of the config: the dataclasses live in ``config_model``, the validation
in ``config_build`` and the line finder in ``config_lines``. Every user error surfaces as a
ConfigError (or ConfigNotFound) whose text names the file, line and field, never a traceback.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path

from console.config.build import build_inventory
from console.config.lines import scan_lines
from console.config.model import (
    BalancerConfig,
    ClusterSettings,
    ConfigError,
    ConfigIssue,
    ConfigNotFound,
    DatabaseConfig,
    DeployConfig,
    Inventory,
    LicenseConfig,
    LogSource,
    Node,
    RemoteFile,
    Secret,
    SharedDir,
    SocketRef,
    SshSettings,
)
from console.paths import user_config_dir

__all__ = [
    "CONFIG_ENV",
    "CONFIG_NAME",
    "MAX_INVENTORY_BYTES",
    "MINIMAL_EXAMPLE",
    "BalancerConfig",
    "ClusterSettings",
    "ConfigError",
    "ConfigIssue",
    "ConfigNotFound",
    "DatabaseConfig",
    "DeployConfig",
    "Inventory",
    "LicenseConfig",
    "LogSource",
    "Node",
    "RemoteFile",
    "Secret",
    "SharedDir",
    "SocketRef",
    "SshSettings",
    "find_config",
    "load_inventory",
    "load_inventory_text",
]

CONFIG_NAME = "cluster.toml"
CONFIG_ENV = "CLUSTERCONSOLE_CONFIG"

MINIMAL_EXAMPLE = """\
[cluster]
name = "my-cluster"

[[nodes]]
name = "node1"
host = "192.168.1.10"
catalina_base = "/opt/tomcat"

[[nodes]]
name = "node2"
host = "192.168.1.11"
catalina_base = "/opt/tomcat"
"""
"""The smallest useful cluster.toml, shown when none is found (and tested to load)."""

MAX_INVENTORY_BYTES = 1024 * 1024
"""An inventory larger than this is refused before it is parsed (150 MB took 2.4 GB and 60 s)."""

_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _not_found(path: Path, resolved: Path, origin: str) -> ConfigNotFound:
    """The error for a path the user named that cannot be used."""
    problem = "is not a file" if resolved.exists() else "config file not found"
    return ConfigNotFound(f"{path}: {problem} ({origin})", [resolved])


def find_config(
    explicit: str | None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Path:
    """Locate the config: ``--config``, ``$CLUSTERCONSOLE_CONFIG``, ``./cluster.toml``, XDG dir.

    A path the user named explicitly (option or variable) must exist: we never silently fall
    through to another file, which could be a different cluster.
    """
    env = os.environ if env is None else env
    here = Path.cwd() if cwd is None else cwd
    if explicit:
        path = here / Path(explicit).expanduser()
        if not path.is_file():
            raise _not_found(Path(explicit), path, "given with --config")
        return Path(explicit).expanduser() if cwd is None else path
    from_env = env.get(CONFIG_ENV, "")
    if from_env:
        path = here / Path(from_env).expanduser()
        if not path.is_file():
            raise _not_found(Path(from_env), path, f"from ${CONFIG_ENV}")
        return Path(from_env).expanduser() if cwd is None else path
    candidates = [here / CONFIG_NAME, user_config_dir(env) / CONFIG_NAME]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = "\n".join(f"  {candidate}" for candidate in candidates)
    example = "\n".join(f"  {line}" if line else "" for line in MINIMAL_EXAMPLE.splitlines())
    raise ConfigNotFound(
        f"no {CONFIG_NAME} found. Looked for --config, ${CONFIG_ENV}, then:\n{looked}\n\n"
        f"Write one like this:\n\n{example}\n\n"
        "Or try a local cluster: run `clusterconsole sandbox up`, then `clusterconsole --sandbox`.",
        candidates,
    )


def _syntax_issue(file: str, exc: tomllib.TOMLDecodeError) -> ConfigIssue:
    """Turn tomllib's error into ``FILE:LINE: syntax: MESSAGE (column N)``."""
    line: int | None = getattr(exc, "lineno", None)
    column: int | None = getattr(exc, "colno", None)
    message: str | None = getattr(exc, "msg", None)
    if line is None or column is None or message is None:
        text = str(exc)
        match = _POSITION.search(text)
        message = _POSITION.sub("", text)
        if match is not None:
            line, column = int(match.group(1)), int(match.group(2))
    suffix = f" (column {column})" if column is not None else ""
    return ConfigIssue(file, line or 1, "syntax", f"{message}{suffix}")


def _too_big(file: str, size: int) -> ConfigIssue:
    mib = MAX_INVENTORY_BYTES // (1024 * 1024)
    return ConfigIssue(
        file,
        1,
        "file",
        f"is {size / (1024 * 1024):.1f} MiB, more than the {mib} MiB an inventory may have "
        "(a cluster of hundreds of nodes takes a few hundred KiB); not read",
    )


def load_inventory_text(text: str, path: Path, *, display_name: str | None = None) -> Inventory:
    """Validate ``text`` as if read from ``path`` (relative paths resolve next to it)."""
    file = display_name if display_name is not None else str(path)
    if len(text) > MAX_INVENTORY_BYTES:
        raise ConfigError([_too_big(file, len(text.encode("utf-8", "replace")))])
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_issue(file, exc)]) from None
    return build_inventory(doc, scan_lines(text), file=file, path=path)


def load_inventory(path: Path, *, display_name: str | None = None) -> Inventory:
    """Read and validate the config file at ``path``; raise ConfigError on any problem."""
    file = display_name if display_name is not None else str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError([ConfigIssue(file, 1, "file", "cannot read: not a regular file")])
        if info.st_size > MAX_INVENTORY_BYTES:
            raise ConfigError([_too_big(file, info.st_size)])
        with path.open("rb") as handle:
            data = handle.read(MAX_INVENTORY_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError([ConfigIssue(file, 1, "file", f"cannot read: {reason}")]) from None
    if len(data) > MAX_INVENTORY_BYTES:  # it grew between the stat and the read
        raise ConfigError([_too_big(file, len(data))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        message = f"cannot read: not UTF-8 text (byte 0x{data[exc.start]:02x})"
        raise ConfigError([ConfigIssue(file, line, "file", message)]) from None
    return load_inventory_text(text, path, display_name=display_name)
