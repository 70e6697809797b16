"""Facts from configuration files: server.xml, web.xml, context files, datasources, WSO2's
axis2.xml and carbon.xml, Joget's datasource properties, and a JVM's arguments.

Every function takes text and returns facts with file lines; none raises on bad input (a file
that cannot be parsed becomes an ``error`` the doctor reports).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from probes.doctor.xmltree import Element, XmlRefused, parse

MCAST_DEFAULT = ("228.0.0.4", 45564)
"""Tomcat's McastService address and port when server.xml does not set them."""
RECEIVER_DEFAULT_PORT = 4000
CLUSTER_MANAGERS = ("DeltaManager", "BackupManager")


@dataclass(frozen=True, slots=True)
class Located:
    """A value and the line of the file it was read from."""

    value: str
    line: int


@dataclass(frozen=True, slots=True)
class DataSource:
    """A database the node is configured to use: where it is written and what it says."""

    file: str
    line: int
    url: str
    user: str | None

    @property
    def target(self) -> str:
        """What identifies the database: host:port/name and user, from the JDBC URL."""
        return f"{jdbc_target(self.url)} as {self.user or '?'}"


@dataclass(frozen=True, slots=True)
class Membership:
    """The Tribes membership a server.xml configures."""

    kind: str
    """``multicast``, ``static`` or ``multicast+static`` (McastService with static members)."""
    line: int
    mcast: tuple[str, int] | None
    members: tuple[tuple[str, int], ...]
    """Static members (host, port), the local member excluded."""
    members_line: int | None = None
    """The line of the element listing the static members."""


@dataclass(frozen=True, slots=True)
class ServerFacts:
    """What server.xml says about clustering."""

    error: str | None = None
    jvm_route: Located | None = None
    engine_line: int | None = None
    cluster_line: int | None = None
    """None: no ``<Cluster>`` element (commented out or missing)."""
    cluster_manager: Located | None = None
    membership: Membership | None = None
    receiver: tuple[str, int, int] | None = None
    """(address, port, line) of the Receiver."""
    datasources: tuple[DataSource, ...] = ()


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _short(class_name: str) -> str:
    return class_name.rsplit(".", 1)[-1]


def _datasources(root: Element, path: str) -> list[DataSource]:
    found = []
    for resource in root.iter("Resource"):
        kind = resource.get("type") or ""
        if kind.endswith("DataSource") and resource.get("url"):
            found.append(
                DataSource(path, resource.line, resource.get("url") or "", resource.get("username"))
            )
    return found


def server_facts(text: str, path: str = "conf/server.xml") -> ServerFacts:
    try:
        root = parse(text)
    except XmlRefused as exc:
        return ServerFacts(error=f"{path}: {exc}")
    engine = root.find("Engine")
    route = engine.get("jvmRoute") if engine is not None else None
    cluster = engine.find("Cluster") if engine is not None else None
    datasources = tuple(_datasources(root, path))
    if cluster is None:
        cluster = root.find("Cluster")  # a Cluster under a Host replicates that host's apps
    if cluster is None:
        return ServerFacts(
            jvm_route=Located(route, engine.line) if route and engine is not None else None,
            engine_line=engine.line if engine is not None else None,
            datasources=datasources,
        )
    manager = cluster.child("Manager")
    membership_el = cluster.find("Membership")
    holders = [
        parent
        for parent in [*cluster.iter("Membership"), *cluster.iter("Interceptor")]
        if any(m.tag == "Member" for m in parent.children)
    ]
    static = [m for parent in holders for m in parent.children if m.tag == "Member"]
    members = tuple(
        (m.get("host") or "", _int(m.get("port"), RECEIVER_DEFAULT_PORT)) for m in static
    )
    mcast_class = membership_el.get("className", "") if membership_el is not None else ""
    multicast = membership_el is None or "McastService" in (mcast_class or "")
    mcast = None
    if multicast:
        mcast = (
            (membership_el.get("address") if membership_el is not None else None)
            or MCAST_DEFAULT[0],
            _int(
                membership_el.get("port") if membership_el is not None else None, MCAST_DEFAULT[1]
            ),
        )
    kind = "multicast+static" if multicast and members else "multicast" if multicast else "static"
    receiver_el = cluster.find("Receiver")
    receiver = (
        (
            receiver_el.get("address") or "auto",
            _int(receiver_el.get("port"), RECEIVER_DEFAULT_PORT),
            receiver_el.line,
        )
        if receiver_el is not None
        else ("auto", RECEIVER_DEFAULT_PORT, cluster.line)
    )
    return ServerFacts(
        jvm_route=Located(route, engine.line) if route and engine is not None else None,
        engine_line=engine.line if engine is not None else None,
        cluster_line=cluster.line,
        cluster_manager=Located(manager.get("className") or "", manager.line)
        if manager is not None
        else None,
        membership=Membership(
            kind,
            membership_el.line if membership_el is not None else cluster.line,
            mcast,
            members,
            holders[0].line if holders else None,
        ),
        receiver=receiver,
        datasources=datasources,
    )


@dataclass(frozen=True, slots=True)
class WebXml:
    error: str | None
    distributable: bool
    line: int


def web_xml(text: str, path: str = "WEB-INF/web.xml") -> WebXml:
    try:
        root = parse(text)
    except XmlRefused as exc:
        return WebXml(f"{path}: {exc}", False, 1)
    found = root.child("distributable")
    return WebXml(None, found is not None, found.line if found is not None else root.line)


@dataclass(frozen=True, slots=True)
class ContextFacts:
    error: str | None = None
    manager: Located | None = None
    datasources: tuple[DataSource, ...] = ()


def context_facts(text: str, path: str) -> ContextFacts:
    try:
        root = parse(text)
    except XmlRefused as exc:
        return ContextFacts(error=f"{path}: {exc}")
    manager = root.child("Manager")
    return ContextFacts(
        manager=Located(manager.get("className") or "", manager.line)
        if manager is not None
        else None,
        datasources=tuple(_datasources(root, path)),
    )


def is_cluster_manager(class_name: str) -> bool:
    return _short(class_name) in CLUSTER_MANAGERS


_JDBC = re.compile(r"^jdbc:(?P<kind>[a-z0-9]+):(?P<rest>.*)$", re.IGNORECASE)


def jdbc_target(url: str) -> str:
    """``jdbc:mysql://DB1:3306/jwdb?x=y`` -> ``db1:3306/jwdb`` (the port defaulted to 3306)."""
    match = _JDBC.match(url.strip())
    if not match or not match["rest"].startswith("//"):
        return url.strip()
    try:
        parts = urlsplit(match["rest"])
        host = (parts.hostname or "").lower()
        port = parts.port or 3306
    except ValueError:
        return url.strip()
    database = parts.path.strip("/").split("/")[0]
    return f"{host}:{port}/{database}"


def properties(text: str) -> dict[str, Located]:
    """A Java .properties file (one key per line, ``\\`` escapes, # and ! comments)."""
    found: dict[str, Located] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        match = re.match(r"((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$", line)
        if match is None:
            continue
        key = re.sub(r"\\(.)", r"\1", match[1])
        value = re.sub(r"\\(.)", r"\1", match[2])
        found[key] = Located(value, number)
    return found


def joget_datasource(profile_text: str, path: str) -> DataSource | None:
    """Joget's ``app_datasource-PROFILE.properties``: workflowUrl and workflowUser."""
    props = properties(profile_text)
    url = props.get("workflowUrl")
    if url is None:
        return None
    user = props.get("workflowUser")
    return DataSource(path, url.line, url.value, user.value if user else None)


def wso2_datasources(text: str, path: str) -> tuple[str | None, list[DataSource]]:
    """WSO2's master-datasources.xml: every RDBMS datasource's url and username."""
    try:
        root = parse(text)
    except XmlRefused as exc:
        return f"{path}: {exc}", []
    found = []
    for source in root.iter("datasource"):
        url = source.find("url")
        user = source.find("username")
        if url is not None and url.text.strip():
            found.append(
                DataSource(
                    path,
                    url.line,
                    url.text.strip(),
                    user.text.strip() if user is not None else None,
                )
            )
    return None, found


@dataclass(frozen=True, slots=True)
class Wso2Clustering:
    """axis2.xml's clustering section and carbon.xml's task server mode."""

    error: str | None = None
    enabled: bool = False
    line: int = 1
    scheme: str | None = None
    members: tuple[tuple[str, int], ...] = ()
    members_line: int | None = None
    local_host: str | None = None


def axis2_clustering(text: str, path: str) -> Wso2Clustering:
    try:
        root = parse(text)
    except XmlRefused as exc:
        return Wso2Clustering(error=f"{path}: {exc}")
    clustering = root.find("clustering")
    if clustering is None:
        return Wso2Clustering()
    params = {
        p.get("name", ""): p.text.strip() for p in clustering.children if p.tag == "parameter"
    }
    members_el = clustering.child("members")
    members = []
    if members_el is not None:
        for member in members_el.children:
            host, port = member.child("hostName"), member.child("port")
            if host is not None:
                members.append(
                    (host.text.strip(), _int(port.text.strip() if port is not None else None, 4000))
                )
    return Wso2Clustering(
        enabled=(clustering.get("enable") or "").lower() == "true",
        line=clustering.line,
        scheme=(params.get("membershipScheme") or "").lower() or None,
        members=tuple(members),
        members_line=members_el.line if members_el is not None else None,
        local_host=params.get("localMemberHost"),
    )


def task_server_mode(text: str, path: str) -> tuple[str | None, Located | None]:
    """carbon.xml's ``<Tasks><taskServerMode>``: (error, value with its line)."""
    try:
        root = parse(text)
    except XmlRefused as exc:
        return f"{path}: {exc}", None
    mode = root.find("taskServerMode")
    if mode is None:
        return None, None
    return None, Located(mode.text.strip().upper(), mode.line)


def jvm_property(args: tuple[str, ...], name: str) -> str | None:
    prefix = f"-D{name}="
    for arg in reversed(jvm_options(args)):
        if arg.startswith(prefix):
            return arg[len(prefix) :]
    return None


def jvm_options(args: tuple[str, ...]) -> tuple[str, ...]:
    """The JVM's own options: everything before the main class (program arguments follow)."""
    for index, arg in enumerate(args[1:], 1):
        if not arg.startswith("-"):
            previous = args[index - 1]
            if previous in ("-cp", "-classpath", "--class-path", "-jar"):
                continue
            return args[1:index]
    return args[1:]
