"""The validated inventory read from ``cluster.toml``: frozen dataclasses, errors and secrets.

Everything here is plain data: the validation that builds it lives in ``config_build`` and the
file handling in ``config``. A secret's value is never stored, only where to read it from.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from console.config.errors import ConfigError as ConfigError
from console.config.errors import ConfigIssue as ConfigIssue
from console.config.errors import ConfigNotFound as ConfigNotFound
from console.config.profiles import LicenseKind, Profile

BalancerKind = Literal["apache", "haproxy", "nginx", "nginx-plus"]
LogKind = Literal["file", "journal"]


@dataclass(frozen=True, slots=True)
class Secret:
    """Where a password is read from (an environment variable or a file), never the value."""

    env: str | None = None
    """Name of the environment variable holding the password."""
    file: Path | None = None
    """Absolute path of a file (mode 0600) holding the password on its first line."""
    config_file: str = field(default="<config>", compare=False)
    """The config file that declared this secret, for error messages."""
    config_line: int = field(default=1, compare=False)
    """The line that declared it."""
    config_field: str = field(default="password", compare=False)
    """The field that declared it, e.g. ``database.password_env``."""

    def reveal(self) -> str:
        """Read the password now; ConfigError if the variable is unset or the file unreadable."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise self._error(f"environment variable {self.env} is not set")
            return value
        if self.file is not None:
            try:
                text = self.file.read_text(encoding="utf-8")
            except OSError as exc:
                raise self._error(f"cannot read {self.file}: {exc.strerror or exc}") from None
            except UnicodeDecodeError:
                raise self._error(f"cannot read {self.file}: not UTF-8 text") from None
            return text.splitlines()[0] if text else ""
        raise self._error("neither password_env nor password_file is set")

    def _error(self, message: str) -> ConfigError:
        return ConfigError(
            [ConfigIssue(self.config_file, self.config_line, self.config_field, message)]
        )

    def __repr__(self) -> str:
        if self.env is not None:
            return f"Secret(env={self.env!r})"
        return f"Secret(file={str(self.file)!r})"

    def __str__(self) -> str:
        return f"${self.env}" if self.env is not None else f"file {self.file}"


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """The ``[cluster]`` table."""

    name: str
    """Shown in the title bar and used to name recordings."""
    profile: str
    """Name of the product profile whose defaults apply."""
    color: str | None = None
    """Accent colour (``#rgb``, ``#rrggbb`` or a colour word) to tell clusters apart."""


@dataclass(frozen=True, slots=True)
class SshSettings:
    """The ``[ssh]`` table: defaults for connecting to every node."""

    user: str | None = None
    """Login user; None leaves it to ~/.ssh/config or the local login name."""
    port: int | None = None
    """SSH port unless a node sets ssh_port; None: ~/.ssh/config's Port for the host, else 22."""
    identity_file: Path | None = None
    """Private key to offer in addition to the agent's keys."""
    known_hosts: Path | None = None
    """known_hosts file to verify host keys against; None: the files ~/.ssh/config names
    (UserKnownHostsFile, GlobalKnownHostsFile; by default ~/.ssh/known_hosts and
    /etc/ssh/ssh_known_hosts)."""
    accept_new: bool = False
    """Record the key of a host no known_hosts file names yet (OpenSSH's accept-new); a changed
    key is refused whatever this says."""
    connect_timeout: float = 10.0
    """Seconds to wait for a connection before reporting the node unreachable."""


@dataclass(frozen=True, slots=True)
class LogSource:
    """A log to follow on a node: an absolute file path or a systemd journal unit."""

    kind: LogKind
    """``file`` or ``journal``."""
    path: str
    """Absolute path of the file, or the unit name for the journal."""

    def __str__(self) -> str:
        return f"journal:{self.path}" if self.kind == "journal" else self.path


@dataclass(frozen=True, slots=True)
class Node:
    """One ``[[nodes]]`` entry with every default resolved."""

    name: str
    """Unique short name shown everywhere in the console."""
    host: str
    """Host name or IP address to SSH to."""
    ssh_user: str | None
    """Login user (node override, else [ssh].user, else None)."""
    ssh_port: int | None
    """SSH port (node override, else [ssh].port, else None: ~/.ssh/config's, else 22)."""
    catalina_base: str
    """Absolute, normalised CATALINA_BASE (or the product home for WSO2) on the node."""
    logs: tuple[LogSource, ...]
    """Logs to follow, file paths already absolute."""
    start: str
    """Shell command that starts the server, ``{catalina_base}`` substituted."""
    stop: str
    """Shell command that stops the server, ``{catalina_base}`` substituted."""
    http: str | None = None
    """Direct URL of the node's application, bypassing the balancer."""
    jvm_route: str | None = None
    """The Engine jvmRoute, matched against the balancer's route for this node."""
    manager_url: str | None = None
    """Tomcat's manager application on this node (``http://host:port/manager``); None: on the
    origin of ``http``."""
    access_log: str | None = None
    """The access log's glob (AccessLogValve's rotated files), relative to catalina_base or
    absolute; its 5xx answers give the node's error rate. None: not read."""

    def resolve(self, path: str) -> str:
        """An absolute path on this node: ``path`` itself, or relative to catalina_base."""
        return posixpath.normpath(posixpath.join(self.catalina_base, path))


@dataclass(frozen=True, slots=True)
class SocketRef:
    """Where HAProxy's admin socket is: a local path, or a path on an inventory node."""

    path: str
    """Absolute path of the socket."""
    node: str | None = None
    """Inventory node the socket lives on (reached via SSH); None means this machine."""

    def __str__(self) -> str:
        return f"{self.node}:{self.path}" if self.node else self.path


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """A balancer's configuration file, ``HOST:/path``: HOST is an inventory node (reached with
    its SSH settings) or else a host reached with the ``[ssh]`` settings."""

    host: str
    path: str
    node: str | None = None
    """The inventory node HOST names; None: HOST is an SSH host of its own."""

    def __str__(self) -> str:
        return f"{self.host}:{self.path}"


@dataclass(frozen=True, slots=True)
class BalancerConfig:
    """One ``[[balancers]]`` entry."""

    name: str
    """Unique name shown in the console."""
    kind: BalancerKind
    """``apache`` (balancer-manager), ``haproxy`` (stats page / runtime API), ``nginx`` (open
    source: `nginx -T` over SSH and an include file) or ``nginx-plus`` (its REST API)."""
    url: str | None = None
    """balancer-manager URL for apache, stats URL for haproxy, stub_status URL for nginx, the
    API base (``http://host:8080/api/9``) for nginx-plus."""
    socket: SocketRef | None = None
    """HAProxy runtime API socket (haproxy only)."""
    balancer: str | None = None
    """Which balancer (apache, without balancer://) or backend (haproxy) to manage; None = all."""
    username: str | None = None
    """HTTP basic auth user."""
    password: Secret | None = None
    """HTTP basic auth password, if any."""
    ca_file: Path | None = None
    """CA certificates (PEM) an https URL is verified against (an internal CA); None: the
    system's trust store."""
    config: RemoteFile | None = None
    """The balancer's configuration file, where a member added or removed at runtime is also
    written so that a restart keeps it; None: the console shows the lines to change instead."""
    reload: str | None = None
    """Shell command (on the config host) that reloads the balancer gracefully; ``{config}`` is
    the file's path. None: ``apachectl -k graceful -f {config}`` / ``systemctl reload haproxy``."""
    config_test: str | None = None
    """Shell command that checks the edited file; None: ``apachectl -t -f {config}`` /
    ``haproxy -c -f {config}``."""
    host: str | None = None
    """nginx: the inventory node whose SSH session runs `nginx` (the balancer's host)."""
    conf: str | None = None
    """nginx: the main configuration file on that host (`nginx -c`); None: nginx's default."""
    include: str | None = None
    """nginx: the include file (absolute path on the host) holding the upstream's `server`
    lines, owned by the console; None: NGINX is only read."""


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """The ``[database]`` table: the application's MySQL/MariaDB database."""

    url: str
    """The URL as written (it never contains a password)."""
    scheme: Literal["mysql", "mariadb"]
    """Which server flavour the URL names."""
    user: str
    """Database user."""
    host: str
    """Database host name or IP address."""
    port: int
    """Database port (default 3306)."""
    database: str
    """Database (schema) name."""
    password: Secret | None
    """Where the password comes from; None means no password."""
    required_grants: frozenset[str]
    """Privileges (upper case) the user must hold, checked by the database probe."""
    unix_socket: str | None = None
    """A local socket to connect through instead of host:port (``?unix_socket=``)."""
    tls: bool = False
    """TLS required (``?ssl=required`` or ``?ssl_ca=``), always verified."""
    ssl_ca: str | None = None
    """The CA file the server is verified against; None: the system's trust store."""


@dataclass(frozen=True, slots=True)
class SharedDir:
    """The ``[shared_dir]`` table: a directory every node must see identically (NFS, GlusterFS)."""

    path: str
    """Absolute path of the shared directory on each node."""


@dataclass(frozen=True, slots=True)
class DeployPath:
    """One directory a deploy sync keeps in step: where it is read, where it is written."""

    source: str
    """On the source node (relative to its catalina_base) or, local, absolute."""
    target: str
    """On each node; relative means relative to its catalina_base."""


@dataclass(frozen=True, slots=True)
class DeployConfig:
    """The ``[deploy]`` table: what to copy to every node (one or several directories)."""

    paths: tuple[DeployPath, ...]
    """The directories synced, each from its source to its target; never empty."""
    source_node: str | None = None
    """Inventory node the source lives on; None means this machine."""
    exclude: tuple[str, ...] = ()
    """rsync-style patterns not to copy."""

    @property
    def source_path(self) -> str:
        """The first directory's source (the only one in the usual single-path case)."""
        return self.paths[0].source

    @property
    def target(self) -> str:
        """The first directory's target."""
        return self.paths[0].target

    def target_on(self, node: Node, index: int = 0) -> str:
        """The absolute target path of directory ``index`` on ``node``."""
        return node.resolve(self.paths[index].target)


@dataclass(frozen=True, slots=True)
class LicenseConfig:
    """The ``[license]`` table, defaulted from the profile."""

    kind: LicenseKind
    """``none``, ``per-node`` or ``per-server``."""
    page: str | None = None
    """Path of the licence page on each node's direct http URL."""
    adapter: str = "standin"
    """Which product's page or file format (`probes.license.ADAPTERS`): ``standin`` (the
    sandbox's page), ``joget``, ``frevvo``, ``liferay``; defaulted from the profile."""
    deploy: str = "../deploy/"
    """Where a file activation (Liferay) drops the key on each node: relative to its
    catalina_base, or absolute. Default: Liferay Home's ``deploy/`` (Liferay Home is the bundle
    Tomcat's parent; Liferay's ``auto.deploy.deploy.dir`` moves it)."""


DEFAULT_METRICS_INTERVAL = 5.0
DEFAULT_MAX_ERRORS = 1.0


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """The ``[metrics]`` table, defaulted."""

    manager_user: str | None = None
    """The manager application's user (roles manager-status, manager-jmx); None: not read."""
    password: Secret | None = None
    """Where that user's password is read from; never the value."""
    interval: float = DEFAULT_METRICS_INTERVAL
    """Seconds between two reads of one node's figures."""
    max_errors_per_s: float = DEFAULT_MAX_ERRORS
    """5xx answers a second (from the node's access log) above which a node is a problem."""


@dataclass(frozen=True, slots=True)
class Inventory:
    """A whole validated ``cluster.toml``."""

    path: Path
    """The file it was read from."""
    cluster: ClusterSettings
    profile: Profile
    ssh: SshSettings
    nodes: tuple[Node, ...]
    balancers: tuple[BalancerConfig, ...]
    database: DatabaseConfig | None
    shared_dir: SharedDir | None
    deploy: DeployConfig | None
    license: LicenseConfig
    metrics: MetricsConfig = MetricsConfig()
    """The ``[metrics]`` table: how the nodes' figures are read from Tomcat's manager."""

    def node(self, name: str) -> Node:
        """The node called ``name``; KeyError if there is none."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)
