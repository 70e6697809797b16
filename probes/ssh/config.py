"""What OpenSSH's client config says about a host: the same lookups `ssh` makes.

An operator's ``~/.ssh/config`` (and ``/etc/ssh/ssh_config``) names hosts by alias, with their
``HostName``, ``Port``, ``User``, ``UserKnownHostsFile``/``GlobalKnownHostsFile``,
``StrictHostKeyChecking`` and ``ProxyJump``. The console resolves an inventory host through the
same files, so an alias works for connecting, for verifying host keys and for recognising the
node in logs and balancers. The inventory's own values win where it sets them.
"""

from __future__ import annotations

import fnmatch
import getpass
import os
from dataclasses import dataclass
from pathlib import Path

import asyncssh
from asyncssh.config import SSHClientConfig, SSHConfig

DEFAULT_PORT = 22
USER_CONFIG = "~/.ssh/config"
SYSTEM_CONFIG = "/etc/ssh/ssh_config"
# OpenSSH's defaults when the config names no file (ssh_config(5)).
USER_KNOWN_HOSTS = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
GLOBAL_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")


@dataclass(frozen=True, slots=True)
class HostConfig:
    """One host as the client config resolves it (the inventory's values already applied)."""

    alias: str
    hostname: str
    """``HostName`` (the alias itself when the config has none): where the node really is."""
    port: int
    user: str | None
    user_known_hosts: tuple[str, ...]
    """UserKnownHostsFile paths, expanded (empty: ``UserKnownHostsFile none``)."""
    global_known_hosts: tuple[str, ...]
    strict: str
    """StrictHostKeyChecking as written, lower case ("" when unset)."""
    proxy_jump: str | None
    host_key_alias: str | None
    hash_known_hosts: bool = False
    """``HashKnownHosts yes``: a key accepted for a new host is recorded hashed (``|1|salt|hash``),
    as OpenSSH writes it, so the file does not list the fleet's host names."""

    @property
    def known_hosts(self) -> tuple[str, ...]:
        """Every known_hosts file OpenSSH would read for this host, user files first."""
        return (*self.user_known_hosts, *self.global_known_hosts)

    @property
    def accept_new(self) -> bool:
        """``StrictHostKeyChecking accept-new``: OpenSSH records a new host's key itself."""
        return self.strict == "accept-new"


class _ClientConfig(SSHClientConfig):
    """asyncssh's parser, also keeping StrictHostKeyChecking and HashKnownHosts (asyncssh
    ignores both)."""

    _handlers = {  # noqa: RUF012 (asyncssh's own class attribute, extended)
        **SSHClientConfig._handlers,
        "stricthostkeychecking": ("StrictHostKeyChecking", SSHConfig._set_string),
        "hashknownhosts": ("HashKnownHosts", SSHConfig._set_bool),
    }


def config_paths(explicit: tuple[str, ...] | None = None) -> list[Path]:
    """The client config files read, in OpenSSH's order: the user's, then the system's."""
    if explicit is not None:
        return [Path(path).expanduser() for path in explicit]
    found = []
    for path in (Path(USER_CONFIG).expanduser(), Path(SYSTEM_CONFIG)):
        if os.access(path, os.R_OK):
            found.append(path)
    return found


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _paths(value: object, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        value = default
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(Path(str(item)).expanduser()) for item in value)


def host_config(
    alias: str,
    *,
    port: int | None = None,
    user: str | None = None,
    paths: tuple[str, ...] | None = None,
) -> HostConfig:
    """How OpenSSH would reach ``alias``; ``port`` and ``user`` (the inventory's) win.

    Raises asyncssh.ConfigParseError (a ValueError) for a config file OpenSSH would refuse too.
    Answers are kept per version of the files (a fleet of 500 nodes reconnecting parses each
    file once, not 500 times); a file it `Include`s is not watched for changes.
    """
    files = config_paths(paths)
    key = (alias, port, user, tuple((str(f), *_version(f)) for f in files))
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        found = _CACHE[key] = _host_config(alias, port, user, files)
    return found


_CACHE: dict[tuple[object, ...], HostConfig] = {}


def _version(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, -1)
    return (stat.st_mtime_ns, stat.st_size)


def _host_config(alias: str, port: int | None, user: str | None, files: list[Path]) -> HostConfig:
    config = _ClientConfig.load(
        None,
        files,
        False,
        False,
        False,
        _local_user(),
        user if user is not None else (),
        alias,
        port if port is not None else (),
    )
    found_port = config.get("Port", DEFAULT_PORT)
    found_user = config.get("User")
    jump = config.get("ProxyJump")
    key_alias = config.get("HostKeyAlias")
    strict = config.get("StrictHostKeyChecking")
    if isinstance(strict, bool):
        strict = "yes" if strict else "no"
    return HostConfig(
        alias=alias,
        hostname=str(config.get("Hostname", alias)),
        port=found_port if isinstance(found_port, int) else DEFAULT_PORT,
        user=found_user if isinstance(found_user, str) else None,
        user_known_hosts=_paths(config.get("UserKnownHostsFile"), USER_KNOWN_HOSTS),
        global_known_hosts=_paths(config.get("GlobalKnownHostsFile"), GLOBAL_KNOWN_HOSTS),
        strict=str(strict or "").lower(),
        proxy_jump=jump if isinstance(jump, str) and jump.lower() != "none" else None,
        host_key_alias=key_alias if isinstance(key_alias, str) else None,
        hash_known_hosts=config.get("HashKnownHosts") is True,
    )


def hostname(alias: str, paths: tuple[str, ...] | None = None) -> str:
    """The ``HostName`` the client config gives ``alias``; the alias itself when none, or
    when the config cannot be read (connecting then says why).

    Plain ``Host`` blocks are read once per file version and looked up per alias (asyncssh's
    parser splits every line with shlex, for every alias: ~50 ms per alias in a 500-host
    config, which made a fleet's start wait for seconds); a config with Match, Include or
    quotes goes through asyncssh's parser, as connecting does."""
    files = config_paths(paths)
    blocks = _plain_blocks(files)
    if blocks is not None:
        found = None
        for patterns, options in blocks:
            if found is None and "hostname" in options and _host_matches(patterns, alias):
                found = options["hostname"]
        return (found or alias).replace("%h", alias).replace("%%", "%")
    try:
        return host_config(alias, paths=paths).hostname
    except (OSError, ValueError, asyncssh.Error):
        return alias


_Blocks = list[tuple[list[str], dict[str, str]]]
_BLOCKS: dict[tuple[object, ...], _Blocks | None] = {}


def _plain_blocks(files: list[Path]) -> _Blocks | None:
    """The files' Host blocks (patterns, first value of each option), or None when a file
    holds what only a full parser gets right (Match, Include, quotes, '=' forms)."""
    key = tuple((str(f), *_version(f)) for f in files)
    if key in _BLOCKS:
        return _BLOCKS[key]
    blocks: _Blocks | None = [(["*"], {})]
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            blocks = None
            break
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            words = line.split()
            keyword = words[0].lower()
            if keyword in ("match", "include") or '"' in line or "=" in words[0]:
                blocks = None
                break
            assert blocks is not None
            if keyword == "host":
                blocks.append((words[1:], {}))
            elif len(words) > 1:
                blocks[-1][1].setdefault(keyword, words[1])
        if blocks is None:
            break
    if len(_BLOCKS) > 64:
        _BLOCKS.clear()
    _BLOCKS[key] = blocks
    return blocks


def _host_matches(patterns: list[str], alias: str) -> bool:
    """OpenSSH's Host rule: some pattern matches and no negated one does (case-sensitive, as
    asyncssh, which makes the connection, matches)."""
    name = alias
    matched = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if fnmatch.fnmatchcase(name, pattern[1:]):
                return False
        elif fnmatch.fnmatchcase(name, pattern):
            matched = True
    return matched
