"""What the doctor knows about the cluster after gathering: plain data the checks read.

Recorded configuration (tests/unit/data/doctor/) builds these the same way a live run does
(`node_facts` over the files a node returned), so every check is tested on real file formats.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from console.config.model import Inventory, Node
from console.operations.wizards.unload import (
    UnloadDelay,
    candidate_files,
    context_name,
    context_path,
)
from console.operations.wizards.unload import effective as effective_unload
from probes.balancer.model import BalancerPage
from probes.database import DatabaseHealth
from probes.doctor import parse
from probes.doctor.remote import RawNode, artifacts, jvm_arguments, resolved_addresses
from probes.files import SharedDirHealth, parse_shared_dir

WSO2_AXIS2 = "repository/conf/axis2/axis2.xml"
WSO2_CARBON = "repository/conf/carbon.xml"
WSO2_DATASOURCES = "repository/conf/datasources/master-datasources.xml"


@dataclass(frozen=True, slots=True)
class LicenseFacts:
    """The node's license page as read from this machine."""

    url: str
    status: str | None = None
    """``activated``, ``not activated`` or None when the page could not be understood."""
    system_key: str | None = None
    error: str | None = None


@dataclass
class NodeFacts:
    """One node, as read over its SSH session (plus its license page over HTTP)."""

    name: str
    host: str
    addresses: frozenset[str]
    error: str | None = None
    """Why the node could not be read (then every other field is empty)."""
    files: dict[str, str] = field(default_factory=dict)
    server_path: str = ""
    server: parse.ServerFacts | None = None
    web_path: str = ""
    web: parse.WebXml | None = None
    contexts: list[tuple[str, parse.ContextFacts]] = field(default_factory=list)
    unload: UnloadDelay | None = None
    hostname: str | None = None
    resolves: tuple[str, ...] = ()
    hosts_file: str | None = None
    """The hosts file the node's lookup read (the sandbox's own), None for getent."""
    jvm_args: tuple[str, ...] | None = None
    artifacts: dict[str, str] = field(default_factory=dict)
    shared: SharedDirHealth | None = None
    shared_wrote: bool = False
    """Whether this node left its marker in the shared directory."""
    shared_seen: frozenset[str] | None = None
    """The other nodes whose markers this node sees there (None: not looked)."""
    clock_offset: float | None = None
    """Seconds the node's clock is ahead of this machine's, round trip taken out."""
    clock_error: float = 0.0
    """Half the round trip of the clock read: the offset is known to +- this."""
    datasources: list[parse.DataSource] = field(default_factory=list)
    datasource_errors: list[str] = field(default_factory=list)
    wso2: parse.Wso2Clustering | None = None
    wso2_path: str = ""
    task_mode: parse.Located | None = None
    carbon_path: str = ""
    license: LicenseFacts | None = None

    @property
    def reachable(self) -> bool:
        return self.error is None


@dataclass
class BalancerFacts:
    name: str
    page: BalancerPage | None
    error: str | None = None


@dataclass
class ClusterFacts:
    inventory: Inventory
    nodes: list[NodeFacts]
    balancers: list[BalancerFacts] = field(default_factory=list)
    database: DatabaseHealth | None = None
    remembered_keys: dict[str, str] = field(default_factory=dict)
    """node -> the system key seen when its license was last seen activated."""

    @property
    def reachable(self) -> list[NodeFacts]:
        return [facts for facts in self.nodes if facts.reachable]


def app_context(node: Node) -> str:
    return context_path(node.http)


def paths_for(inventory: Inventory, node: Node) -> dict[str, str]:
    """Every file the doctor reads on `node`, by role."""
    base = node.catalina_base.rstrip("/") or "/"
    name = context_name(app_context(node))
    paths = {
        "server": posixpath.join(base, "conf/server.xml"),
        "web": posixpath.join(base, "webapps", name, "WEB-INF/web.xml"),
    }
    for index, path in enumerate(candidate_files(base, app_context(node))):
        paths[f"context{index}"] = path
    if inventory.profile.name == "wso2":
        paths["axis2"] = posixpath.join(base, WSO2_AXIS2)
        paths["carbon"] = posixpath.join(base, WSO2_CARBON)
        paths["wso2-datasources"] = posixpath.join(base, WSO2_DATASOURCES)
    return paths


def joget_files(node: Node, jvm_args: tuple[str, ...] | None) -> tuple[str, str]:
    """Joget's wflow directory: ``-Dwflow.home``, else the default beside CATALINA_BASE."""
    home = parse.jvm_property(jvm_args, "wflow.home") if jvm_args else None
    if not home:
        home = posixpath.join(posixpath.dirname(node.catalina_base.rstrip("/")), "wflow")
    return home, posixpath.join(home, "app_datasource.properties")


def node_facts(
    inventory: Inventory, node: Node, raw: RawNode, addresses: frozenset[str]
) -> NodeFacts:
    """Parse what a node returned (pure: the same for recorded files)."""
    paths = paths_for(inventory, node)
    facts = NodeFacts(node.name, node.host, addresses, files=dict(raw.files))
    facts.server_path = paths["server"]
    if paths["server"] in raw.files:
        facts.server = parse.server_facts(raw.files[paths["server"]], paths["server"])
        facts.datasources.extend(facts.server.datasources)
    facts.web_path = paths["web"]
    if paths["web"] in raw.files:
        facts.web = parse.web_xml(raw.files[paths["web"]], paths["web"])
    files = candidate_files(node.catalina_base.rstrip("/") or "/", app_context(node))
    own_host_file = files[-1]
    for path in files:
        if path not in raw.files:
            continue
        if path.endswith("/META-INF/context.xml") and own_host_file in raw.files:
            continue  # the host's APP.xml replaces the app's own context.xml
        context = parse.context_facts(raw.files[path], path)
        facts.contexts.append((path, context))
        facts.datasources.extend(context.datasources)
    facts.unload = effective_unload(files, raw.files)
    facts.hostname = raw.sections.get("hostname", "").strip() or None
    facts.hosts_file, facts.resolves = resolved_addresses(raw)
    facts.jvm_args = jvm_arguments(raw, node.catalina_base)
    facts.artifacts = artifacts(raw)
    if "shared" in raw.sections:
        facts.shared = parse_shared_dir(raw.sections["shared"].encode(), 0)
    facts.shared_wrote = raw.sections.get("marker", "").strip() == "written"
    if "axis2" in paths and paths["axis2"] in raw.files:
        facts.wso2_path = paths["axis2"]
        facts.wso2 = parse.axis2_clustering(raw.files[paths["axis2"]], paths["axis2"])
    if "carbon" in paths and paths["carbon"] in raw.files:
        facts.carbon_path = paths["carbon"]
        error, facts.task_mode = parse.task_server_mode(raw.files[paths["carbon"]], paths["carbon"])
        if error:
            facts.datasource_errors.append(error)
    if "wso2-datasources" in paths and paths["wso2-datasources"] in raw.files:
        error, found = parse.wso2_datasources(
            raw.files[paths["wso2-datasources"]], paths["wso2-datasources"]
        )
        facts.datasources.extend(found)
        if error:
            facts.datasource_errors.append(error)
    if inventory.profile.name == "joget":
        _joget_datasource(facts, node, raw)
    return facts


def _joget_datasource(facts: NodeFacts, node: Node, raw: RawNode) -> None:
    home, current = joget_files(node, facts.jvm_args)
    if current not in raw.files:
        return
    profile = parse.properties(raw.files[current]).get("currentProfile")
    name = profile.value if profile else "default"
    path = posixpath.join(home, f"app_datasource-{name}.properties")
    if path in raw.files:
        found = parse.joget_datasource(raw.files[path], path)
        if found is not None:
            facts.datasources.append(found)
