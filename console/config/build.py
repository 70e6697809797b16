"""Validate a parsed ``cluster.toml`` and build the Inventory, collecting every problem at once.

Each section method reads one table, records an issue for every bad value and still returns
a placeholder so the remaining tables are checked too; ``build_inventory`` raises one ConfigError
listing them all (sorted by line) before any placeholder can escape.
"""

from __future__ import annotations

import math
import os
import posixpath
import shlex
from collections.abc import Sequence
from pathlib import Path

from console.config.checks import (
    COLOR,
    GRANT,
    NODE_NAME,
    host_problem,
    parse_database_url,
    url_problem,
)
from console.config.deploy import read_deploy
from console.config.lines import FieldPath, LineMap
from console.config.metrics import access_log_glob, manager_url_problem, read_metrics
from console.config.model import (
    BalancerConfig,
    BalancerKind,
    ClusterSettings,
    ConfigError,
    DatabaseConfig,
    Inventory,
    LicenseConfig,
    LogSource,
    Node,
    RemoteFile,
    SharedDir,
    SocketRef,
    SshSettings,
)
from console.config.profiles import DEFAULT_PROFILE, LICENSE_KINDS, PROFILES, Profile
from console.config.reader import Table, TableReader, type_name

_TOP = (
    "cluster",
    "ssh",
    "nodes",
    "balancers",
    "database",
    "shared_dir",
    "deploy",
    "license",
    "metrics",
)
_CLUSTER = ("name", "profile", "color")
_SSH = ("user", "port", "identity_file", "known_hosts", "connect_timeout", "accept_new")
_NODE = (
    "name",
    "host",
    "ssh_port",
    "ssh_user",
    "jvm_route",
    "catalina_base",
    "logs",
    "http",
    "manager_url",
    "access_log",
)
_NODE_ALL = (*_NODE, "start", "stop")
_PASSWORD = ("password_env", "password_file")
_BALANCER = (
    "name",
    "kind",
    "url",
    "socket",
    "balancer",
    "username",
    "ca_file",
    "host",
    "conf",
    "include",
    "config",
    "reload",
    "config_test",
    *_PASSWORD,
)
_DATABASE = ("url", *_PASSWORD, "required_grants")
_LICENSE = ("kind", "page", "adapter", "deploy")
_ADAPTERS = ("standin", "joget", "frevvo", "liferay")
_PROFILE_ADAPTER = {"joget": "joget", "frevvo": "frevvo", "liferay": "liferay"}
_BALANCER_KINDS: tuple[BalancerKind, ...] = ("apache", "haproxy", "nginx", "nginx-plus")
MAX_CONNECT_TIMEOUT = 300.0
"""Seconds: an SSH connection that needs longer is down for every practical purpose."""


class _Builder(TableReader):
    """Builds each section of the inventory from the parsed document."""

    def cluster(self, doc: Table) -> tuple[ClusterSettings, Profile]:
        table = self.table(doc, "cluster")
        if table is None:
            if "cluster" not in doc:
                self.error(("cluster",), 'missing; add a [cluster] table with name = "..."')
            return ClusterSettings("", DEFAULT_PROFILE), PROFILES[DEFAULT_PROFILE]
        path: FieldPath = ("cluster",)
        self.keys(table, path, _CLUSTER)
        name = self.string(table, path, "name", required=True, free_text=True) or ""
        profile = self.choice(table, path, "profile", tuple(PROFILES), "profile") or DEFAULT_PROFILE
        color = self.string(table, path, "color")
        if color is not None and not COLOR.fullmatch(color):
            self.error(
                (*path, "color"), f"expected '#rgb', '#rrggbb' or a colour word, got {color!r}"
            )
        return ClusterSettings(name, profile, color), PROFILES[profile]

    def ssh(self, doc: Table) -> SshSettings:
        path: FieldPath = ("ssh",)
        table = self.table(doc, "ssh")
        if table is None:
            return SshSettings()
        self.keys(table, path, _SSH)
        timeout = table.get("connect_timeout", 10.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            self.error((*path, "connect_timeout"), f"expected a number, got {type_name(timeout)}")
            timeout = 10.0
        elif not math.isfinite(timeout) or not 0 < timeout <= MAX_CONNECT_TIMEOUT:
            # inf or nan would let a stuck probe hang `status` for ever
            self.error(
                (*path, "connect_timeout"),
                f"must be a number of seconds greater than 0 and at most "
                f"{MAX_CONNECT_TIMEOUT:g}, got {timeout}",
            )
            timeout = 10.0
        accept_new = table.get("accept_new", False)
        if not isinstance(accept_new, bool):
            got = type_name(accept_new)
            self.error((*path, "accept_new"), f"expected true or false, got {got}")
            accept_new = False
        return SshSettings(
            user=self.string(table, path, "user"),
            port=self.port(table, path, "port"),
            identity_file=self.local_file(table, path, "identity_file"),
            known_hosts=self.local_file(table, path, "known_hosts"),
            connect_timeout=float(timeout),
            accept_new=accept_new,
        )

    def node(self, table: Table, path: FieldPath, ssh: SshSettings, profile: Profile) -> Node:
        self.keys(table, path, _NODE_ALL)
        name = self.string(table, path, "name", required=True)
        if name is not None and not NODE_NAME.fullmatch(name):
            self.error(
                (*path, "name"),
                f"invalid node name {name!r}; use up to 63 letters, digits, '_', '.' or '-',"
                " starting with a letter or digit",
            )
        host = self.string(table, path, "host", required=True)
        if host is not None and (problem := host_problem(host, ssh_alias=True)) is not None:
            self.error((*path, "host"), f"{host!r} {problem}")
        jvm_route = self.string(table, path, "jvm_route")
        if jvm_route is not None and any(char.isspace() for char in jvm_route):
            self.error((*path, "jvm_route"), f"{jvm_route!r} contains whitespace")
        base = self.absolute(table, path, "catalina_base", required=True) or "/"
        http = self.string(table, path, "http")
        hint = "credentials are not allowed in a node's URL"
        if http is not None and (problem := url_problem(http, password_hint=hint)) is not None:
            self.error((*path, "http"), problem)
        manager_url = self.string(table, path, "manager_url")
        if manager_url is not None and (problem := manager_url_problem(manager_url)) is not None:
            self.error((*path, "manager_url"), problem)
        logs = self.strings(table, path, "logs")
        if logs is None:
            logs = [((*path, "logs"), value) for value in profile.logs]
        sources = self.logs(logs, base)
        start = self.string(table, path, "start") or profile.start
        stop = self.string(table, path, "stop") or profile.stop
        # Quoted for the shell: a space in the path would split it, `$(...)` would run.
        quoted = shlex.quote(base)
        return Node(
            name=name or "",
            host=host or "",
            ssh_user=self.string(table, path, "ssh_user") or ssh.user,
            ssh_port=self.port(table, path, "ssh_port") or ssh.port,
            catalina_base=base,
            logs=sources,
            start=start.replace("{catalina_base}", quoted),
            stop=stop.replace("{catalina_base}", quoted),
            http=http,
            jvm_route=jvm_route,
            manager_url=manager_url,
            access_log=access_log_glob(self, table, path, profile.access_log),
        )

    def logs(self, items: Sequence[tuple[FieldPath, str]], base: str) -> tuple[LogSource, ...]:
        """Log entries as sources: ``journal:UNIT``, absolute, or relative to catalina_base;
        the same log twice (however written) is an error."""
        sources: list[LogSource] = []
        seen: dict[str, FieldPath] = {}
        for item_path, value in items:
            if value.startswith("journal:"):
                unit = value.removeprefix("journal:")
                if not unit.strip() or any(char.isspace() for char in unit):
                    self.error(item_path, f"{value!r}: write journal:UNIT with a systemd unit name")
                sources.append(LogSource("journal", unit))
            else:
                sources.append(LogSource("file", posixpath.normpath(posixpath.join(base, value))))
            self.unique(seen, str(sources[-1]), item_path, "log")
        return tuple(sources)

    def balancer(self, table: Table, path: FieldPath, nodes: set[str]) -> BalancerConfig:
        self.keys(table, path, _BALANCER)
        kind = self.choice(table, path, "kind", _BALANCER_KINDS, "kind") or "apache"
        hint = "use password_env or password_file"
        url = self.string(table, path, "url")
        if url is not None and (problem := url_problem(url, password_hint=hint)) is not None:
            self.error((*path, "url"), problem)
        socket = self.socket(table, path, nodes)
        if kind == "apache" and "url" not in table:
            self.error((*path, "url"), 'missing (required for kind = "apache")')
        if kind == "apache" and "socket" in table:
            self.error((*path, "socket"), 'only used with kind = "haproxy"')
        if kind == "haproxy" and "url" not in table and "socket" not in table:
            self.error((*path, "socket"), 'missing: kind = "haproxy" needs url or socket')
        if kind != "haproxy" and "socket" in table and kind != "apache":
            self.error((*path, "socket"), 'only used with kind = "haproxy"')
        if kind == "nginx-plus" and "url" not in table:
            self.error((*path, "url"), 'missing: kind = "nginx-plus" needs its API URL')
        host, conf, include = self.nginx(table, path, kind, nodes)
        return BalancerConfig(
            name=self.string(table, path, "name", required=True) or "",
            kind=kind,
            url=url,
            socket=socket,
            balancer=self.string(table, path, "balancer"),
            username=self.string(table, path, "username"),
            password=self.secret(table, path),
            ca_file=self.local_file(table, path, "ca_file"),
            host=host,
            conf=conf,
            include=include,
            config=self.remote_file(table, path, nodes),
            reload=self.string(table, path, "reload"),
            config_test=self.string(table, path, "config_test"),
        )

    def remote_file(self, table: Table, path: FieldPath, nodes: set[str]) -> RemoteFile | None:
        """``config = "HOST:/absolute/path"``: HOST an inventory node, else an SSH host."""
        value = self.string(table, path, "config")
        if value is None:
            return None
        host, _, remote = value.partition(":")
        if not host or not remote.startswith("/"):
            self.error((*path, "config"), f"{value!r}: write HOST:/absolute/path (HOST a node)")
            return None
        if host not in nodes and (problem := host_problem(host, ssh_alias=True)) is not None:
            self.error((*path, "config"), f"{host!r} {problem}")
        return RemoteFile(host, posixpath.normpath(remote), host if host in nodes else None)

    def nginx(
        self, table: Table, path: FieldPath, kind: str, nodes: set[str]
    ) -> tuple[str | None, str | None, str | None]:
        """host (an inventory node), conf and include (absolute paths there): nginx only."""
        host = self.string(table, path, "host")
        conf = self.string(table, path, "conf")
        include = self.string(table, path, "include")
        if kind != "nginx":
            for key in ("host", "conf", "include"):
                if key in table:
                    self.error((*path, key), 'only used with kind = "nginx"')
            return None, None, None
        if host is None:
            self.error((*path, "host"), 'missing: kind = "nginx" needs the node nginx runs on')
        elif host not in nodes:
            known = ", ".join(sorted(nodes)) or "none"
            self.error((*path, "host"), f"unknown node {host!r} (nodes: {known})")
        for key, value in (("conf", conf), ("include", include)):
            if value is not None and (
                not value.startswith("/") or ".." in value.split("/") or not value.isprintable()
            ):
                self.error((*path, key), f"{value!r}: write an absolute path on {host or 'host'}")
        return host, conf, include

    def socket(self, table: Table, path: FieldPath, nodes: set[str]) -> SocketRef | None:
        """A local socket path, or ``NODE:/path`` on an inventory node."""
        value = self.string(table, path, "socket")
        if value is None:
            return None
        if value.startswith(("/", "~", ".")) or ":" not in value:
            return SocketRef(str(self.local_path(value)))
        node, _, remote = value.partition(":")
        if node not in nodes:
            known = ", ".join(sorted(nodes)) or "none"
            self.error((*path, "socket"), f"unknown node {node!r} (nodes: {known})")
        elif not remote.startswith("/"):
            self.error((*path, "socket"), f"{value!r}: write NODE:/absolute/path")
        return SocketRef(posixpath.normpath(remote or "/"), node)

    def database(self, doc: Table, profile: Profile) -> DatabaseConfig | None:
        path: FieldPath = ("database",)
        table = self.table(doc, "database")
        if table is None:
            return None
        self.keys(table, path, _DATABASE)
        url = self.string(table, path, "url", required=True)
        parsed = parse_database_url(url) if url is not None else None
        if isinstance(parsed, str):
            self.error((*path, "url"), parsed)
        grants = set(profile.required_grants)
        listed = self.strings(table, path, "required_grants")
        if listed is not None:
            grants = {" ".join(value.upper().split()) for _, value in listed}
            for item_path, value in listed:
                if not GRANT.fullmatch(" ".join(value.upper().split())):
                    self.error(item_path, f"{value!r} is not a privilege name")
        password = self.secret(table, path)
        if url is None or parsed is None or isinstance(parsed, str):
            return None
        return DatabaseConfig(
            url=url,
            scheme=parsed.scheme,
            user=parsed.user,
            host=parsed.host,
            port=parsed.port,
            database=parsed.database,
            password=password,
            required_grants=frozenset(grants),
            unix_socket=parsed.unix_socket,
            tls=parsed.tls,
            ssl_ca=parsed.ssl_ca,
        )

    def shared_dir(self, doc: Table) -> SharedDir | None:
        path: FieldPath = ("shared_dir",)
        table = self.table(doc, "shared_dir")
        if table is None:
            return None
        self.keys(table, path, ("path",))
        return SharedDir(self.absolute(table, path, "path", required=True) or "/")

    def license(self, doc: Table, profile: Profile) -> LicenseConfig:
        path: FieldPath = ("license",)
        table = self.table(doc, "license")
        default_adapter = _PROFILE_ADAPTER.get(profile.name, "standin")
        if table is None:
            return LicenseConfig(profile.license_kind, adapter=default_adapter)
        self.keys(table, path, _LICENSE)
        kind = self.choice(table, path, "kind", LICENSE_KINDS, "licence kind")
        page = self.string(table, path, "page")
        if page is not None and not page.startswith("/"):
            self.error((*path, "page"), f"must be a path starting with '/', got {page!r}")
        adapter = self.choice(table, path, "adapter", _ADAPTERS, "license adapter")
        deploy = self.string(table, path, "deploy")
        return LicenseConfig(
            kind or profile.license_kind, page, adapter or default_adapter, deploy or "../deploy/"
        )


def build_inventory(doc: Table, lines: LineMap, *, file: str, path: Path) -> Inventory:
    """Validate the parsed document ``doc`` and return the Inventory, or raise ConfigError."""
    base_dir = Path(os.path.abspath(path.expanduser())).parent
    builder = _Builder(file, lines, base_dir)
    builder.secrets_in_clear(doc, ())
    builder.keys(doc, (), _TOP)
    cluster, profile = builder.cluster(doc)
    ssh = builder.ssh(doc)

    nodes: list[Node] = []
    names: dict[str, FieldPath] = {}
    routes: dict[str, FieldPath] = {}
    for node_path, table in builder.tables(doc, "nodes", required=True):
        node = builder.node(table, node_path, ssh, profile)
        nodes.append(node)
        builder.unique(names, node.name or None, (*node_path, "name"), "node name")
        builder.unique(routes, node.jvm_route, (*node_path, "jvm_route"), "jvm_route")
    node_names = set(names)

    balancers: list[BalancerConfig] = []
    balancer_names: dict[str, FieldPath] = {}
    for lb_path, table in builder.tables(doc, "balancers", required=False):
        balancer = builder.balancer(table, lb_path, node_names)
        balancers.append(balancer)
        builder.unique(balancer_names, balancer.name or None, (*lb_path, "name"), "balancer name")

    inventory = Inventory(
        path=path,
        cluster=cluster,
        profile=profile,
        ssh=ssh,
        nodes=tuple(nodes),
        balancers=tuple(balancers),
        database=builder.database(doc, profile),
        shared_dir=builder.shared_dir(doc),
        deploy=read_deploy(builder, doc, list(names), profile),
        license=builder.license(doc, profile),
        metrics=read_metrics(builder, doc),
    )
    if builder.issues:
        raise ConfigError(builder.issues)
    return inventory
