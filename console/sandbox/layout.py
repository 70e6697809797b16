"""Where every piece of the sandbox lives: directories, addresses and ports.

One frozen description derived from the sandbox directory and the node count, so that `up`,
`down` and `status` agree on every path without passing them around.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from console.paths import user_state_dir
from console.sandbox.errors import SandboxError

CATALINA_HOME = Path("/usr/share/tomcat10")
MANAGER_APP = Path("/usr/share/tomcat10-admin/manager")
"""Tomcat's manager application, from Debian's tomcat10-admin package."""
MANAGER_USER = "console"
"""The read-only manager user every sandbox node has (roles manager-status, manager-jmx)."""
DEFAULT_NODES = 3
MAX_NODES = 20
MAX_SPARES = 5
"""Spare hosts `up --spare N` may prepare (bare hosts for the add-node wizard)."""
FIRST_NODE_OCTET = 11
DEFAULT_NET = "127.0.0"
BALANCER_PORT = 8000
DATABASE_PORT = 3306
SSH_PORT = 2222
TRIBES_PORT = 4000
HTTP_PORT = 8080
AJP_PORT = 8009
HAPROXY_STATS_PORT = 8001
JGROUPS_PORT = 7800
DATABASE_NAME = "jwdb"
DATABASE_USER = "joget"
DEFAULT_VARIANT = "joget"
VARIANTS: dict[str, str] = {
    "joget": "httpd over HTTP (balancer-manager), Tribes replication",
    "liferay": "HAProxy 2.6 (admin socket, stats CSV), JSESSIONID route stickiness, Tribes",
    "frevvo": "httpd over AJP (balancer-manager), unloadDelay 40000, a JGroups channel, Tribes",
    "wso2": "NGINX (upstream, hash on JSESSIONID), wso2carbon.log layout, Tribes",
}
"""The sandbox variants, each the cluster one of the clustering guides describes."""
PROFILES = {"joget": "tomcat", "liferay": "liferay", "frevvo": "frevvo", "wso2": "wso2"}
"""The inventory profile each variant's cluster is described with."""


def check_variant(variant: str) -> str:
    """`variant` if it is one the sandbox can build, else a SandboxError naming them."""
    if variant not in VARIANTS:
        raise SandboxError(f"unknown sandbox variant {variant!r}: one of {', '.join(VARIANTS)}")
    return variant


def sandbox_net() -> str:
    """The loopback /24 the sandbox lives in: `$CLUSTERCONSOLE_SANDBOX_NET` (e.g. 127.0.2), else
    127.0.0. A second sandbox (the test suite's) in another /24 never collides with the demo's."""
    net = os.environ.get("CLUSTERCONSOLE_SANDBOX_NET", DEFAULT_NET)
    parts = net.split(".")
    if len(parts) != 3 or parts[0] != "127" or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise SandboxError(f"CLUSTERCONSOLE_SANDBOX_NET must look like 127.X.Y, got {net!r}")
    return net


def sandbox_dir() -> Path:
    """The sandbox's directory: `$CLUSTERCONSOLE_SANDBOX_DIR`, else the user state directory."""
    override = os.environ.get("CLUSTERCONSOLE_SANDBOX_DIR")
    if override:
        return Path(override).expanduser().absolute()
    return user_state_dir() / "sandbox"


@dataclass(frozen=True, slots=True)
class NodeLayout:
    """One Tomcat node: its name, loopback address and CATALINA_BASE."""

    index: int
    name: str
    address: str
    base: Path
    ssh_dir: Path

    @property
    def jvm_route(self) -> str:
        return self.name

    @property
    def unique_id(self) -> str:
        """The Tribes member id: fifteen zero bytes and the node number."""
        return "{" + ",".join(["0"] * 15 + [str(self.index)]) + "}"

    @property
    def catalina_out(self) -> Path:
        return self.base / "logs" / "catalina.out"

    @property
    def pid_file(self) -> Path:
        return self.base / "temp" / "catalina.pid"

    @property
    def sshd_config(self) -> Path:
        return self.ssh_dir / "sshd_config"

    @property
    def sshd_pid_file(self) -> Path:
        return self.ssh_dir / "sshd.pid"

    @property
    def host_key(self) -> Path:
        return self.ssh_dir / "ssh_host_ed25519_key"

    @property
    def http_url(self) -> str:
        return f"http://{self.address}:{HTTP_PORT}"


@dataclass(frozen=True, slots=True)
class SpareLayout:
    """One bare spare host (for the add-node wizard): an sshd on the next loopback address after
    the nodes, nothing else. Java, Tomcat's CATALINA_HOME and the shared directory are the
    machine's, so they are reachable from it; it has no CATALINA_BASE, is in no balancer and
    not in cluster.toml."""

    index: int
    name: str
    address: str
    ssh_dir: Path

    @property
    def sshd_config(self) -> Path:
        return self.ssh_dir / "sshd_config"

    @property
    def sshd_pid_file(self) -> Path:
        return self.ssh_dir / "sshd.pid"

    @property
    def host_key(self) -> Path:
        return self.ssh_dir / "ssh_host_ed25519_key"


SshHost = NodeLayout | SpareLayout
"""A sandbox host with an sshd of its own: a node or a spare."""


@dataclass(frozen=True, slots=True)
class SandboxLayout:
    """All paths of one sandbox with `count` nodes rooted at `root`."""

    root: Path
    count: int = DEFAULT_NODES
    net: str = DEFAULT_NET
    variant: str = DEFAULT_VARIANT
    spares: int = 0

    @property
    def balancer_kind(self) -> str:
        """`haproxy` for the liferay variant, `nginx` for wso2, else `httpd`."""
        return {"liferay": "haproxy", "wso2": "nginx"}.get(self.variant, "httpd")

    @property
    def nginx_dir(self) -> Path:
        return self.root / "nginx"

    @property
    def nginx_conf(self) -> Path:
        return self.nginx_dir / "nginx.conf"

    @property
    def nginx_include(self) -> Path:
        """The upstream's server lines: the include file the console owns."""
        return self.nginx_dir / "upstream-cluster.conf"

    @property
    def nginx_pid_file(self) -> Path:
        return self.run / "nginx.pid"

    @property
    def nginx_status_url(self) -> str:
        """NGINX's stub_status page (on the port HAProxy's stats use in the liferay variant)."""
        return f"http://{self.balancer_address}:{HAPROXY_STATS_PORT}/nginx_status"

    @property
    def haproxy_dir(self) -> Path:
        return self.root / "haproxy"

    @property
    def haproxy_cfg(self) -> Path:
        return self.haproxy_dir / "haproxy.cfg"

    @property
    def haproxy_pid_file(self) -> Path:
        return self.run / "haproxy.pid"

    @property
    def haproxy_socket(self) -> Path:
        """HAProxy's runtime API (admin level, mode 600)."""
        return self.run / "haproxy.sock"

    @property
    def haproxy_stats_url(self) -> str:
        """HAProxy's stats page (`;csv` gives the CSV)."""
        return f"http://{self.balancer_address}:{HAPROXY_STATS_PORT}/stats"

    @property
    def balancer_address(self) -> str:
        return f"{self.net}.1"

    @property
    def database_address(self) -> str:
        return f"{self.net}.10"

    @property
    def inventory(self) -> Path:
        return self.root / "cluster.toml"

    @property
    def state_file(self) -> Path:
        return self.root / "sandbox.json"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def shared(self) -> Path:
        return self.root / "shared"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def db_password_file(self) -> Path:
        return self.secrets / "db_password"

    @property
    def manager_password_file(self) -> Path:
        """The password of the nodes' read-only manager user (roles manager-status and
        manager-jmx), generated once, mode 600; the inventory's [metrics] refers to it."""
        return self.secrets / "manager_password"

    @property
    def client_key(self) -> Path:
        return self.root / "ssh" / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.root / "ssh" / "known_hosts"

    @property
    def authorized_keys(self) -> Path:
        return self.root / "ssh" / "authorized_keys"

    @property
    def httpd_dir(self) -> Path:
        return self.root / "httpd"

    @property
    def httpd_conf(self) -> Path:
        return self.httpd_dir / "httpd.conf"

    @property
    def httpd_pid_file(self) -> Path:
        return self.run / "httpd.pid"

    @property
    def mariadb_dir(self) -> Path:
        return self.root / "mariadb"

    @property
    def mariadb_cnf(self) -> Path:
        return self.mariadb_dir / "my.cnf"

    @property
    def mariadb_pid_file(self) -> Path:
        return self.run / "mariadb.pid"

    @property
    def mariadb_socket(self) -> Path:
        return self.run / "mariadb.sock"

    @property
    def balancer_url(self) -> str:
        return f"http://{self.balancer_address}:{BALANCER_PORT}/balancer-manager"

    @property
    def app_url(self) -> str:
        return f"http://{self.balancer_address}:{BALANCER_PORT}/app/"

    @property
    def nodes(self) -> tuple[NodeLayout, ...]:
        return tuple(self.node(i) for i in range(1, self.count + 1))

    def node(self, index: int) -> NodeLayout:
        name = f"node{index}"
        return NodeLayout(
            index=index,
            name=name,
            address=f"{self.net}.{FIRST_NODE_OCTET + index - 1}",
            base=self.root / "nodes" / name,
            ssh_dir=self.root / "ssh" / name,
        )

    @property
    def spare_hosts(self) -> tuple[SpareLayout, ...]:
        return tuple(self.spare(i) for i in range(1, self.spares + 1))

    def spare(self, index: int) -> SpareLayout:
        """Spare `index` (from 1): the address after the last node's and the previous spare's."""
        name = f"spare{index}"
        return SpareLayout(
            index=index,
            name=name,
            address=f"{self.net}.{FIRST_NODE_OCTET + self.count + index - 1}",
            ssh_dir=self.root / "ssh" / name,
        )

    @property
    def ssh_hosts(self) -> tuple[SshHost, ...]:
        """Every host with an sshd: the nodes, then the spares."""
        return (*self.nodes, *self.spare_hosts)


def recorded_layout() -> SandboxLayout | None:
    """The layout of the sandbox last brought up in this directory, if any."""
    root = sandbox_dir()
    try:
        state = json.loads((root / "sandbox.json").read_text())
        variant = str(state.get("variant", DEFAULT_VARIANT))
        spares = int(state.get("spares", 0))
        return SandboxLayout(root, int(state["nodes"]), str(state["net"]), variant, spares)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def current_layout() -> SandboxLayout:
    """The layout of the sandbox recorded on disk (the default one when there is none)."""
    return recorded_layout() or SandboxLayout(sandbox_dir(), DEFAULT_NODES, sandbox_net())
