"""Tests for cluster.toml discovery, loading and validation (console.config and helpers).

Every error test asserts the exact ``FILE:LINE: FIELD: MESSAGE`` line a user sees.
"""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path
from textwrap import dedent

import pytest

from console import config as config_module
from console.config import (
    MINIMAL_EXAMPLE,
    ConfigError,
    ConfigIssue,
    ConfigNotFound,
    Inventory,
    LogSource,
    Secret,
    SocketRef,
    find_config,
    load_inventory,
    load_inventory_text,
)
from console.config.lines import format_path, scan_lines
from console.config.profiles import JOGET_GRANTS, PROFILES
from console.paths import user_config_dir, user_state_dir

NODE = '[[nodes]]\nname = "node1"\nhost = "10.0.0.1"\ncatalina_base = "/opt/tomcat"\n'
"""A valid node table (4 lines) to append when a test is about something else."""


def write(tmp_path: Path, text: str, name: str = "cluster.toml") -> Path:
    path = tmp_path / name
    path.write_text(dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Inventory:
    return load_inventory(write(tmp_path, text), display_name="cluster.toml")


def errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return str(info.value).splitlines()


def secret_file(tmp_path: Path, name: str, mode: int, value: str = "s3cret-value\n") -> Path:
    path = tmp_path / name
    path.write_text(value, encoding="utf-8")
    path.chmod(mode)
    return path


# -- good inventories ----------------------------------------------------------------------


def test_minimal_example_loads_with_tomcat_defaults(tmp_path: Path) -> None:
    inv = load(tmp_path, MINIMAL_EXAMPLE)
    assert inv.cluster.name == "my-cluster"
    assert inv.profile is PROFILES["tomcat"]
    # No port or user in the inventory: ~/.ssh/config (or OpenSSH's defaults) decides them.
    assert inv.ssh.port is None and inv.ssh.user is None and inv.ssh.connect_timeout == 10.0
    assert inv.ssh.accept_new is False
    assert [n.name for n in inv.nodes] == ["node1", "node2"]
    node = inv.node("node1")
    assert node.logs == (LogSource("file", "/opt/tomcat/logs/catalina.out"),)
    assert node.start == "/opt/tomcat/bin/startup.sh"
    assert node.stop == "/opt/tomcat/bin/shutdown.sh"
    assert (node.ssh_user, node.ssh_port, node.http, node.jvm_route) == (None, None, None, None)
    assert inv.balancers == () and inv.database is None and inv.deploy is None
    assert inv.shared_dir is None and inv.license.kind == "none"


def test_full_inventory_resolves_every_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    secret_file(tmp_path, "lbpass", 0o600)
    inv = load(
        tmp_path,
        """\
        [cluster]
        name = "joget-prod"
        profile = "joget"
        color = "#d75f00"

        [ssh]
        user = "tomcat"
        port = 2200
        identity_file = "~/.ssh/id_ed25519"
        known_hosts = "keys/known_hosts"
        connect_timeout = 5

        [[nodes]]
        name = "node1"
        host = "192.168.1.10"
        ssh_port = 2222
        ssh_user = "root"
        jvm_route = "node01"
        catalina_base = "/opt/joget/apache-tomcat-8.5.41/"
        logs = ["logs/catalina.out", "/var/log/joget.log", "journal:tomcat10"]
        http = "http://192.168.1.10:8080/jw"
        start = "sudo systemctl start joget"

        [[nodes]]
        name = "node2"
        host = "db-2.example.com"
        jvm_route = "node02"
        catalina_base = "/opt/joget/tomcat"

        [[balancers]]
        name = "apache"
        url = "http://lb1/balancer-manager"
        balancer = "cluster"
        username = "admin"
        password_file = "lbpass"

        [[balancers]]
        name = "haproxy"
        kind = "haproxy"
        socket = "node2:/run/haproxy/admin.sock"

        [database]
        url = "mysql://joget@db1/jwdb"
        password_env = "JOGET_DB_PASSWORD"
        required_grants = ["select", "lock  tables"]

        [shared_dir]
        path = "/opt/joget/shared/wflow/"

        [deploy]
        source = "node1:webapps/"
        exclude = ["*.log"]

        [license]
        kind = "per-server"
        page = "/license/"
        """,
    )
    assert (inv.cluster.name, inv.cluster.profile, inv.cluster.color) == (
        "joget-prod",
        "joget",
        "#d75f00",
    )
    assert inv.ssh.user == "tomcat" and inv.ssh.port == 2200 and inv.ssh.connect_timeout == 5.0
    assert inv.ssh.identity_file == tmp_path / "home/.ssh/id_ed25519"
    assert inv.ssh.known_hosts == tmp_path / "keys/known_hosts"
    node1, node2 = inv.nodes
    assert (node1.ssh_user, node1.ssh_port, node1.jvm_route) == ("root", 2222, "node01")
    assert node1.catalina_base == "/opt/joget/apache-tomcat-8.5.41"
    assert node1.logs == (
        LogSource("file", "/opt/joget/apache-tomcat-8.5.41/logs/catalina.out"),
        LogSource("file", "/var/log/joget.log"),
        LogSource("journal", "tomcat10"),
    )
    assert node1.http == "http://192.168.1.10:8080/jw"
    assert node1.start == "sudo systemctl start joget"
    assert node1.stop == "/opt/joget/apache-tomcat-8.5.41/bin/shutdown.sh"
    assert (node2.ssh_user, node2.ssh_port) == ("tomcat", 2200)
    apache, haproxy = inv.balancers
    assert (apache.kind, apache.url, apache.balancer, apache.username) == (
        "apache",
        "http://lb1/balancer-manager",
        "cluster",
        "admin",
    )
    assert apache.password == Secret(file=tmp_path / "lbpass")
    assert haproxy.kind == "haproxy" and haproxy.url is None
    assert haproxy.socket == SocketRef("/run/haproxy/admin.sock", "node2")
    db = inv.database
    assert db is not None
    assert (db.scheme, db.user, db.host, db.port, db.database) == (
        "mysql",
        "joget",
        "db1",
        3306,
        "jwdb",
    )
    assert db.password == Secret(env="JOGET_DB_PASSWORD")
    assert db.required_grants == frozenset({"SELECT", "LOCK TABLES"})
    assert inv.shared_dir is not None and inv.shared_dir.path == "/opt/joget/shared/wflow"
    assert inv.deploy is not None
    assert (inv.deploy.source_node, inv.deploy.source_path, inv.deploy.target) == (
        "node1",
        "webapps/",
        "webapps/",
    )
    assert inv.deploy.exclude == ("*.log",)
    assert inv.deploy.target_on(node2) == "/opt/joget/tomcat/webapps"
    assert (inv.license.kind, inv.license.page) == ("per-server", "/license/")


@pytest.mark.parametrize(
    ("profile", "log", "start", "stop", "license_kind", "delay", "membership"),
    [
        ("tomcat", "logs/catalina.out", "startup.sh", "shutdown.sh", "none", 2000, "tribes"),
        ("joget", "logs/catalina.out", "startup.sh", "shutdown.sh", "per-node", 2000, "tribes"),
        (
            "wso2",
            "repository/logs/wso2carbon.log",
            "wso2server.sh start",
            "wso2server.sh stop",
            "none",
            2000,
            "hazelcast",
        ),
        (
            "frevvo",
            "logs/catalina.out",
            "startup.sh",
            "shutdown.sh",
            "per-server",
            40000,
            "jgroups",
        ),
        ("liferay", "logs/catalina.out", "startup.sh", "shutdown.sh", "per-node", 2000, "tribes"),
    ],
)
def test_each_profile_supplies_its_defaults(
    tmp_path: Path,
    profile: str,
    log: str,
    start: str,
    stop: str,
    license_kind: str,
    delay: int,
    membership: str,
) -> None:
    inv = load(
        tmp_path,
        f'[cluster]\nname = "c"\nprofile = "{profile}"\n'
        '[[nodes]]\nname = "n"\nhost = "h"\ncatalina_base = "/b"\n'
        '[database]\nurl = "mariadb://u@db:3307/app"\n',
    )
    node = inv.nodes[0]
    assert node.logs == (LogSource("file", f"/b/{log}"),)
    assert (node.start, node.stop) == (f"/b/bin/{start}", f"/b/bin/{stop}")
    assert inv.license.kind == license_kind
    assert inv.profile.expected_unload_delay_ms == delay
    assert inv.profile.membership == membership
    assert inv.database is not None and inv.database.required_grants == JOGET_GRANTS
    assert (inv.database.scheme, inv.database.port) == ("mariadb", 3307)


def test_profiles_document_joget_grants() -> None:
    assert {"SELECT", "CREATE TEMPORARY TABLES", "TRIGGER", "SHOW VIEW"} <= JOGET_GRANTS
    assert len(JOGET_GRANTS) == 17
    assert list(PROFILES) == ["tomcat", "joget", "wso2", "frevvo", "liferay"]


def test_logs_resolve_relative_absolute_and_journal(tmp_path: Path) -> None:
    inv = load(
        tmp_path,
        '[cluster]\nname = "c"\n[[nodes]]\nname = "n"\nhost = "h"\ncatalina_base = "/srv/t"\n'
        'logs = ["logs/a.log", "../common/b.log", "/var/log/c.log", "journal:tomcat10.service"]\n',
    )
    assert [str(source) for source in inv.nodes[0].logs] == [
        "/srv/t/logs/a.log",
        "/srv/common/b.log",
        "/var/log/c.log",
        "journal:tomcat10.service",
    ]
    assert inv.nodes[0].logs[3] == LogSource("journal", "tomcat10.service")


def test_custom_start_stop_substitute_catalina_base(tmp_path: Path) -> None:
    inv = load(
        tmp_path,
        '[cluster]\nname = "c"\n[[nodes]]\nname = "n"\nhost = "h"\ncatalina_base = "/t"\n'
        'start = "CATALINA_PID=${HOME}/pid {catalina_base}/bin/catalina.sh start"\n',
    )
    assert inv.nodes[0].start == "CATALINA_PID=${HOME}/pid /t/bin/catalina.sh start"


def test_hosts_accept_names_ipv4_and_ipv6(tmp_path: Path) -> None:
    hosts = ["localhost", "node-1.example.com", "10.0.0.1", "::1", "2001:db8::10", "fqdn.com."]
    text = '[cluster]\nname = "c"\n' + "".join(
        f'[[nodes]]\nname = "n{i}"\nhost = "{host}"\ncatalina_base = "/t"\n'
        for i, host in enumerate(hosts)
    )
    assert [node.host for node in load(tmp_path, text).nodes] == hosts


@pytest.mark.parametrize("color", ["#fff", "#d75f00", "dark-orange"])
def test_color_accepts_hex_and_words(tmp_path: Path, color: str) -> None:
    inv = load(tmp_path, f'[cluster]\nname = "c"\ncolor = "{color}"\n{NODE}')
    assert inv.cluster.color == color


def test_balancer_urls_and_local_socket(tmp_path: Path) -> None:
    inv = load(
        tmp_path,
        f'[cluster]\nname = "c"\n{NODE}'
        '[[balancers]]\nname = "a"\nurl = "https://[::1]:8443/balancer-manager"\n'
        '[[balancers]]\nname = "h"\nkind = "haproxy"\nsocket = "run/admin.sock"\n',
    )
    assert inv.balancers[0].url == "https://[::1]:8443/balancer-manager"
    assert inv.balancers[1].socket == SocketRef(str(tmp_path / "run/admin.sock"))


def test_deploy_from_local_absolute_path_defaults_target(tmp_path: Path) -> None:
    inv = load(tmp_path, f'[cluster]\nname = "c"\n{NODE}[deploy]\nsource = "/srv/build/webapps"\n')
    assert inv.deploy is not None
    assert (inv.deploy.source_node, inv.deploy.source_path) == (None, "/srv/build/webapps")
    assert inv.deploy.target_on(inv.nodes[0]) == "/srv/build/webapps"


def test_node_lookup_by_name(tmp_path: Path) -> None:
    inv = load(tmp_path, MINIMAL_EXAMPLE)
    assert inv.node("node2").host == "192.168.1.11"
    with pytest.raises(KeyError):
        inv.node("node9")


# -- secrets -------------------------------------------------------------------------------


def test_secret_repr_and_str_never_show_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LB_PASSWORD", "hunter2-very-secret")
    secret_file(tmp_path, "dbpass", 0o600, "file-secret-value\n")
    inv = load(
        tmp_path,
        f'[cluster]\nname = "c"\n{NODE}'
        '[[balancers]]\nname = "a"\nurl = "http://lb"\npassword_env = "LB_PASSWORD"\n'
        '[database]\nurl = "mysql://u@db/d"\npassword_file = "dbpass"\n',
    )
    lb_secret = inv.balancers[0].password
    db = inv.database
    assert lb_secret is not None and db is not None and db.password is not None
    assert repr(lb_secret) == "Secret(env='LB_PASSWORD')"
    assert str(lb_secret) == "$LB_PASSWORD"
    assert repr(db.password) == f"Secret(file='{tmp_path / 'dbpass'}')"
    dumped = repr(inv) + str(inv)
    assert "hunter2" not in dumped and "file-secret-value" not in dumped
    assert lb_secret.reveal() == "hunter2-very-secret"


def test_secret_reveal_reads_env_at_call_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = load(
        tmp_path,
        f'[cluster]\nname = "c"\n{NODE}[database]\nurl = "mysql://u@db/d"\n'
        'password_env = "DB_PW"\n',
    )
    assert inv.database is not None and inv.database.password is not None
    monkeypatch.delenv("DB_PW", raising=False)
    with pytest.raises(ConfigError) as info:
        inv.database.password.reveal()
    assert str(info.value) == (
        "cluster.toml:9: database.password_env: environment variable DB_PW is not set"
    )
    monkeypatch.setenv("DB_PW", "later")
    assert inv.database.password.reveal() == "later"


def test_secret_reveal_reads_first_line_of_0600_file(tmp_path: Path) -> None:
    path = secret_file(tmp_path, "pw", 0o600, "from-file\nignored\n")
    secret = Secret(file=path)
    assert secret.reveal() == "from-file"
    path.unlink()
    with pytest.raises(ConfigError) as info:
        secret.reveal()
    assert str(info.value) == f"<config>:1: password: cannot read {path}: No such file or directory"


# -- errors --------------------------------------------------------------------------------


def test_syntax_error_reports_line_and_column(tmp_path: Path) -> None:
    assert errors(tmp_path, '[cluster]\nname = "c"\nprofile = joget\n') == [
        "cluster.toml:3: syntax: Invalid value (column 11)"
    ]


def test_syntax_error_position_parsed_from_message_when_attributes_missing() -> None:
    class OldDecodeError(tomllib.TOMLDecodeError):
        def __init__(self, text: str) -> None:
            ValueError.__init__(self, text)

    issue = config_module._syntax_issue(
        "c.toml", OldDecodeError("Invalid value (at line 3, column 11)")
    )
    assert str(issue) == "c.toml:3: syntax: Invalid value (column 11)"


def test_empty_file_needs_cluster_and_nodes(tmp_path: Path) -> None:
    assert errors(tmp_path, "") == [
        'cluster.toml:1: cluster: missing; add a [cluster] table with name = "..."',
        "cluster.toml:1: nodes: at least one [[nodes]] table is required",
    ]


def test_missing_keys_point_at_their_table_header(tmp_path: Path) -> None:
    text = """\
        [cluster]
        profile = "joget"

        [[nodes]]
        name = "node1"
        host = "h"
        catalina_base = "/t"

        [[nodes]]
        name = "node2"
        """
    assert errors(tmp_path, text) == [
        "cluster.toml:1: cluster.name: missing",
        "cluster.toml:9: nodes[1].host: missing",
        "cluster.toml:9: nodes[1].catalina_base: missing",
    ]


def test_file_name_defaults_to_the_path_given(tmp_path: Path) -> None:
    path = write(tmp_path, '[cluster]\nname = "c"\n')
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    assert str(info.value) == f"{path}:1: nodes: at least one [[nodes]] table is required"


def test_unknown_fields_get_a_hint(tmp_path: Path) -> None:
    text = (
        f'[cluster]\nname = "c"\nnmae = "x"\n{NODE}jvmRoute = "r1"\nwhatever = 1\n[nodes_extra]\n'
    )
    assert errors(tmp_path, text) == [
        "cluster.toml:3: cluster.nmae: unknown field; did you mean 'name'?",
        "cluster.toml:8: nodes[0].jvmRoute: unknown field; did you mean 'jvm_route'?",
        "cluster.toml:9: nodes[0].whatever: unknown field; expected one of: name, host, ssh_port,"
        " ssh_user, jvm_route, catalina_base, logs, http, manager_url, access_log, start, stop",
        "cluster.toml:10: nodes_extra: unknown field; did you mean 'nodes'?",
    ]


def test_wrong_types_name_expected_and_actual(tmp_path: Path) -> None:
    text = """\
        [cluster]
        name = 42
        [ssh]
        port = true
        connect_timeout = "10"
        [[nodes]]
        name = "n"
        host = "h"
        catalina_base = "/t"
        logs = "logs/catalina.out"
        ssh_port = 22.0
        [[nodes]]
        name = "m"
        host = "h"
        catalina_base = "/t"
        logs = ["a", 1, ""]
        [database]
        url = "mysql://u@h/d"
        required_grants = "SELECT"
        [deploy]
        source = ["node1"]
        """
    assert errors(tmp_path, text) == [
        "cluster.toml:2: cluster.name: expected a string, got integer",
        "cluster.toml:4: ssh.port: expected an integer, got boolean",
        "cluster.toml:5: ssh.connect_timeout: expected a number, got string",
        "cluster.toml:10: nodes[0].logs: expected an array of strings, got string",
        "cluster.toml:11: nodes[0].ssh_port: expected an integer, got float",
        "cluster.toml:16: nodes[1].logs[1]: expected a string, got integer",
        "cluster.toml:16: nodes[1].logs[2]: must not be empty",
        "cluster.toml:19: database.required_grants: expected an array of strings, got string",
        "cluster.toml:21: deploy.source: expected a string, got array",
    ]


def test_tables_of_the_wrong_shape(tmp_path: Path) -> None:
    assert errors(tmp_path, 'cluster = "c"\nssh = 1\n[nodes]\nname = "n"\n') == [
        "cluster.toml:1: cluster: expected a table, got string",
        "cluster.toml:2: ssh: expected a table, got integer",
        "cluster.toml:3: nodes: expected an array of [[nodes]] tables, got table",
    ]


def test_duplicate_names_and_routes_point_at_second_and_name_first(tmp_path: Path) -> None:
    text = """\
        [cluster]
        name = "c"
        [[nodes]]
        name = "node1"
        host = "h1"
        jvm_route = "r1"
        catalina_base = "/t"
        [[nodes]]
        name = "node1"
        host = "h2"
        jvm_route = "r1"
        catalina_base = "/t"
        [[balancers]]
        name = "lb"
        url = "http://lb1/"
        [[balancers]]
        name = "lb"
        url = "http://lb2/"
        """
    assert errors(tmp_path, text) == [
        "cluster.toml:9: nodes[1].name: duplicate node name 'node1' (first used on line 4)",
        "cluster.toml:11: nodes[1].jvm_route: duplicate jvm_route 'r1' (first used on line 6)",
        "cluster.toml:17: balancers[1].name: duplicate balancer name 'lb' (first used on line 14)",
    ]


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("", "must not be empty"),
        ("a b", "'a b' contains whitespace"),
        ("http://x", "'http://x' is a URL or path; give only the host name or IP address"),
        ("node1:22", "'node1:22' contains a port; give the port in its own field"),
        ("192.168.1.300", "'192.168.1.300' is not a valid IPv4 address"),
        ("a" * 64, f"'{'a' * 64}' has a label longer than 63 characters (64)"),
        ("-node.lan", "'-node.lan' has a label that starts or ends with '-' ('-node')"),
        ("node-.lan", "'node-.lan' has a label that starts or ends with '-' ('node-')"),
        ("my_host.lan/", "'my_host.lan/' is a URL or path; give only the host name or IP address"),
        ("my host_1", "'my host_1' contains whitespace"),
        ("a..b", "'a..b' has an empty label (two dots in a row, or a leading dot)"),
        ("[::1]", "'[::1]' has brackets; write the IPv6 address without them"),
        ("fe80::1::2", "'fe80::1::2' is not a valid IPv6 address"),
    ],
)
def test_host_that_is_not_a_host(tmp_path: Path, host: str, message: str) -> None:
    text = f'[cluster]\nname = "c"\n[[nodes]]\nname = "n"\nhost = "{host}"\ncatalina_base = "/t"\n'
    assert errors(tmp_path, text) == [f"cluster.toml:5: nodes[0].host: {message}"]


def test_an_ssh_alias_with_underscore_is_a_host_and_accept_new_is_read(tmp_path: Path) -> None:
    """`Host app_node1` in ~/.ssh/config is what operators write; URLs stay strict."""
    text = (
        '[cluster]\nname = "c"\n[ssh]\naccept_new = true\n'
        '[[nodes]]\nname = "n"\nhost = "app_node1"\ncatalina_base = "/t"\n'
    )
    inv = load(tmp_path, text)
    assert inv.node("n").host == "app_node1" and inv.ssh.accept_new is True
    assert inv.node("n").ssh_port is None
    bad = text.replace("accept_new = true", 'accept_new = "yes"')
    assert errors(tmp_path, bad) == [
        "cluster.toml:4: ssh.accept_new: expected true or false, got string"
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x/", "'ftp://x/' is not a URL; it must start with http:// or https://"),
        (
            "lb1/balancer-manager",
            "'lb1/balancer-manager' is not a URL; it must start with http:// or https://",
        ),
        ("http://", "'http://' has no host"),
        ("http://lb 1/", "'http://lb 1/' contains whitespace"),
        (
            "http://lb_1/",
            "'http://lb_1/': host 'lb_1' contains '_', which is not allowed in a host name",
        ),
        ("http://lb1:0/", "'http://lb1:0/': port 0 is out of range 1-65535"),
        ("http://lb1:65536/", "'http://lb1:65536/': port 65536 is out of range 1-65535"),
        ("http://lb1:http/", "'http://lb1:http/': port 'http' is not a number"),
        ("http://admin:pw@lb1/", "password in the URL; use password_env or password_file"),
    ],
)
def test_balancer_url_that_is_not_a_url(tmp_path: Path, url: str, message: str) -> None:
    text = f'[cluster]\nname = "c"\n{NODE}[[balancers]]\nname = "lb"\nurl = "{url}"\n'
    assert errors(tmp_path, text) == [f"cluster.toml:9: balancers[0].url: {message}"]


def test_node_http_url_is_checked(tmp_path: Path) -> None:
    text = f'[cluster]\nname = "c"\n{NODE}http = "http://u:p@10.0.0.1:99999/jw"\n'
    assert errors(tmp_path, text) == [
        "cluster.toml:7: nodes[0].http: password in the URL; credentials are not allowed in a"
        " node's URL"
    ]


def test_ports_out_of_range(tmp_path: Path) -> None:
    text = f'[cluster]\nname = "c"\n[ssh]\nport = 0\n{NODE}ssh_port = 70000\n'
    assert errors(tmp_path, text) == [
        "cluster.toml:4: ssh.port: must be between 1 and 65535, got 0",
        "cluster.toml:9: nodes[0].ssh_port: must be between 1 and 65535, got 70000",
    ]


def test_unknown_profile_kind_and_licence_list_allowed_values(tmp_path: Path) -> None:
    text = (
        f'[cluster]\nname = "c"\nprofile = "jboss"\n{NODE}'
        '[[balancers]]\nname = "lb"\nkind = "traefik"\nurl = "http://lb/"\n'
        '[license]\nkind = "site"\n'
    )
    assert errors(tmp_path, text) == [
        "cluster.toml:3: cluster.profile: unknown profile 'jboss'; expected one of: tomcat, joget,"
        " wso2, frevvo, liferay",
        "cluster.toml:10: balancers[0].kind: unknown kind 'traefik'; expected one of: apache,"
        " haproxy, nginx, nginx-plus",
        "cluster.toml:13: license.kind: unknown licence kind 'site'; expected one of: none,"
        " per-node, per-server",
    ]


def test_value_shapes_checked(tmp_path: Path) -> None:
    text = """\
        [cluster]
        name = "c"
        color = "Orange!"
        [ssh]
        connect_timeout = 0
        [[nodes]]
        name = "bad name"
        host = "h"
        catalina_base = "opt/tomcat"
        jvm_route = "a b"
        logs = ["journal:"]
        [shared_dir]
        path = "shared"
        [license]
        page = "license"
        """
    assert errors(tmp_path, text) == [
        "cluster.toml:3: cluster.color: expected '#rgb', '#rrggbb' or a colour word, got 'Orange!'",
        "cluster.toml:5: ssh.connect_timeout: must be a number of seconds greater than 0 and at"
        " most 300, got 0",
        "cluster.toml:7: nodes[0].name: invalid node name 'bad name'; use up to 63 letters,"
        " digits, '_', '.' or '-', starting with a letter or digit",
        "cluster.toml:9: nodes[0].catalina_base: must be an absolute path, got 'opt/tomcat'",
        "cluster.toml:10: nodes[0].jvm_route: 'a b' contains whitespace",
        "cluster.toml:11: nodes[0].logs[0]: 'journal:': write journal:UNIT with a systemd unit"
        " name",
        "cluster.toml:13: shared_dir.path: must be an absolute path, got 'shared'",
        "cluster.toml:15: license.page: must be a path starting with '/', got 'license'",
    ]


def test_deploy_source_must_name_a_node_or_absolute_path(tmp_path: Path) -> None:
    unknown = f'[cluster]\nname = "c"\n{NODE}[deploy]\nsource = "node9:webapps/"\n'
    assert errors(tmp_path, unknown) == [
        "cluster.toml:8: deploy.source: unknown node 'node9' (nodes: node1)"
    ]
    relative = f'[cluster]\nname = "c"\n{NODE}[deploy]\nsource = "webapps"\n'
    assert errors(tmp_path, relative) == [
        "cluster.toml:8: deploy.source: expected NODE:PATH, a node name or an absolute local "
        "path, got 'webapps'"
    ]


def test_balancer_endpoints_required_and_checked(tmp_path: Path) -> None:
    text = """\
        [cluster]
        name = "c"
        [[nodes]]
        name = "node1"
        host = "10.0.0.1"
        catalina_base = "/opt/tomcat"
        [[balancers]]
        name = "apache"

        [[balancers]]
        name = "hap"
        kind = "haproxy"

        [[balancers]]
        name = "hap2"
        kind = "haproxy"
        socket = "lb9:/run/haproxy/admin.sock"

        [[balancers]]
        name = "a2"
        url = "http://lb/"
        socket = "/run/x.sock"
        """
    assert errors(tmp_path, text) == [
        'cluster.toml:7: balancers[0].url: missing (required for kind = "apache")',
        'cluster.toml:10: balancers[1].socket: missing: kind = "haproxy" needs url or socket',
        "cluster.toml:17: balancers[2].socket: unknown node 'lb9' (nodes: node1)",
        'cluster.toml:22: balancers[3].socket: only used with kind = "haproxy"',
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://joget:pw@db1/jwdb", "password in the URL; use password_env or password_file"),
        ("postgres://u@db/d", "'postgres://u@db/d' must start with mysql:// or mariadb://"),
        (
            "mysql://db1/jwdb",
            "'mysql://db1/jwdb' has no user; write mysql://USER@HOST[:PORT]/DATABASE",
        ),
        (
            "mysql://u@db1",
            "'mysql://u@db1' has no database name; write mysql://USER@HOST[:PORT]/DATABASE",
        ),
        ("mysql://u@db1:0/d", "'mysql://u@db1:0/d': port 0 is out of range 1-65535"),
        (
            "mysql://u@db_1/d",
            "'mysql://u@db_1/d': host 'db_1' contains '_', which is not allowed in a host name",
        ),
    ],
)
def test_database_url_problems(tmp_path: Path, url: str, message: str) -> None:
    text = f'[cluster]\nname = "c"\n{NODE}[database]\nurl = "{url}"\n'
    assert errors(tmp_path, text) == [f"cluster.toml:8: database.url: {message}"]


def test_database_url_required_in_section(tmp_path: Path) -> None:
    text = f'[cluster]\nname = "c"\n{NODE}[database]\nrequired_grants = ["SELEC T!"]\n'
    assert errors(tmp_path, text) == [
        "cluster.toml:7: database.url: missing",
        "cluster.toml:8: database.required_grants[0]: 'SELEC T!' is not a privilege name",
    ]


@pytest.mark.parametrize("key", ["password", "pass", "secret", "Password"])
def test_secrets_in_clear_are_refused_anywhere(tmp_path: Path, key: str) -> None:
    text = f'[cluster]\nname = "c"\n{key} = "x"\n{NODE}[extra.deep]\n{key} = "y"\n'
    assert errors(tmp_path, text) == [
        f"cluster.toml:3: cluster.{key}: secrets are never stored in the file; use password_env"
        " or password_file",
        "cluster.toml:8: extra: unknown field; expected one of: cluster, ssh, nodes, balancers,"
        " database, shared_dir, deploy, license, metrics",
        f"cluster.toml:9: extra.deep.{key}: secrets are never stored in the file; use"
        " password_env or password_file",
    ]


def test_password_env_and_file_are_exclusive_and_checked(tmp_path: Path) -> None:
    secret_file(tmp_path, "open", 0o644)
    secret_file(tmp_path, "ok", 0o600)
    text = """\
        [cluster]
        name = "c"
        [[nodes]]
        name = "node1"
        host = "10.0.0.1"
        catalina_base = "/opt/tomcat"
        [[balancers]]
        name = "a"
        url = "http://lb/"
        password_env = "LB_PW"
        password_file = "ok"

        [[balancers]]
        name = "b"
        url = "http://lb/"
        password_file = "missing"

        [[balancers]]
        name = "c"
        url = "http://lb/"
        password_file = "open"

        [database]
        url = "mysql://u@db/d"
        password_env = "not a name"
        """
    assert errors(tmp_path, text) == [
        "cluster.toml:11: balancers[0].password_file: give either password_env or password_file,"
        " not both",
        f"cluster.toml:16: balancers[1].password_file: {tmp_path / 'missing'} does not exist",
        f"cluster.toml:21: balancers[2].password_file: {tmp_path / 'open'} is world-readable"
        " (mode 0644); chmod 600 it",
        "cluster.toml:25: database.password_env: 'not a name' is not an environment variable name",
    ]


def test_all_errors_collected_and_sorted_by_line(tmp_path: Path) -> None:
    text = f'[cluster]\nname = ""\n{NODE}host2 = "x"\n[license]\nkind = "x"\n[ssh]\nport = -1\n'
    lines = errors(tmp_path, text)
    assert [line.split(":")[1] for line in lines] == ["2", "7", "9", "11"]


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_inventory(tmp_path / "nope.toml", display_name="nope.toml")
    assert str(info.value) == "nope.toml:1: file: cannot read: No such file or directory"
    path = tmp_path / "bin.toml"
    path.write_bytes(b'[cluster]\nname = "\xff"\n')
    with pytest.raises(ConfigError) as info:
        load_inventory(path, display_name="bin.toml")
    assert str(info.value) == "bin.toml:2: file: cannot read: not UTF-8 text (byte 0xff)"


def test_config_issue_and_error_format() -> None:
    issue = ConfigIssue("c.toml", 7, "nodes[1].host", "missing")
    error = ConfigError([ConfigIssue("c.toml", 9, "a", "x"), issue])
    assert str(issue) == "c.toml:7: nodes[1].host: missing"
    assert str(error) == "c.toml:7: nodes[1].host: missing\nc.toml:9: a: x"
    assert error.errors[0] is issue


def test_load_inventory_text_uses_path_for_messages() -> None:
    with pytest.raises(ConfigError) as info:
        load_inventory_text("[cluster]\n", Path("/etc/cc/cluster.toml"))
    assert str(info.value).splitlines()[0] == "/etc/cc/cluster.toml:1: cluster.name: missing"


# -- line scanner --------------------------------------------------------------------------


def test_scanner_skips_multiline_strings_and_arrays() -> None:
    text = dedent(
        '''\
        # [not-a-table]
        [cluster]
        name = "x"  # [nodes]
        desc = """
        [[nodes]]
        fake = 1
        """
        lit = \'\'\'
        key = 2 \'\'\'
        arr = [
          "a", # ]
          [1, 2],
        ]
        "quoted key".sub = 1
        [[nodes]]
        name = 'a'
        [ [nodes] ]
        'name' = "b"
        [nodes.extra]
        x = 1
        '''
    )
    tomllib.loads(text.replace("[ [nodes] ]", "[[nodes]]"))  # the fixture itself is valid TOML
    lines = scan_lines(text.replace("[ [nodes] ]", "[[ nodes ]]")).lines
    assert lines == {
        ("cluster",): 2,
        ("cluster", "name"): 3,
        ("cluster", "desc"): 4,
        ("cluster", "lit"): 8,
        ("cluster", "arr"): 10,
        ("cluster", "quoted key"): 14,
        ("cluster", "quoted key", "sub"): 14,
        ("nodes",): 15,
        ("nodes", 0): 15,
        ("nodes", 0, "name"): 16,
        ("nodes", 1): 17,
        ("nodes", 1, "name"): 18,
        ("nodes", 1, "extra"): 19,
        ("nodes", 1, "extra", "x"): 20,
    }


def test_scanner_line_of_falls_back_to_table_then_line_one() -> None:
    line_map = scan_lines('a = 1\n\n[[nodes]]\nname = "x"\n')
    assert line_map.line_of(("nodes", 0, "host")) == 3
    assert line_map.line_of(("nodes", 0, "name")) == 4
    assert line_map.line_of(("cluster", "name")) == 1


def test_format_path() -> None:
    assert format_path(("nodes", 1, "logs", 0)) == "nodes[1].logs[0]"
    assert format_path(("extra", "a b")) == 'extra."a b"'


# -- discovery -----------------------------------------------------------------------------


def test_find_config_order(tmp_path: Path) -> None:
    home = tmp_path / "home"
    xdg = home / ".config/clusterconsole/cluster.toml"
    xdg.parent.mkdir(parents=True)
    xdg.write_text(MINIMAL_EXAMPLE)
    env = {"HOME": str(home)}
    assert find_config(None, env=env, cwd=tmp_path) == xdg
    local = write(tmp_path, MINIMAL_EXAMPLE)
    assert find_config(None, env=env, cwd=tmp_path) == local
    from_env = write(tmp_path, MINIMAL_EXAMPLE, "env.toml")
    env["CLUSTERCONSOLE_CONFIG"] = str(from_env)
    assert find_config(None, env=env, cwd=tmp_path) == from_env
    explicit = write(tmp_path, MINIMAL_EXAMPLE, "explicit.toml")
    assert find_config("explicit.toml", env=env, cwd=tmp_path) == explicit


def test_find_config_explicit_or_env_path_must_exist(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL_EXAMPLE)  # must not be used as a fallback
    with pytest.raises(ConfigNotFound) as info:
        find_config("/no/such.toml", env={}, cwd=tmp_path)
    assert str(info.value) == "/no/such.toml: config file not found (given with --config)"
    with pytest.raises(ConfigNotFound) as info:
        find_config(None, env={"CLUSTERCONSOLE_CONFIG": "/no/env.toml"}, cwd=tmp_path)
    assert str(info.value) == "/no/env.toml: config file not found (from $CLUSTERCONSOLE_CONFIG)"
    with pytest.raises(ConfigNotFound) as info:
        find_config(str(tmp_path), env={}, cwd=tmp_path)
    assert str(info.value) == f"{tmp_path}: is not a file (given with --config)"


def test_find_config_nothing_found_explains_what_to_do(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    with pytest.raises(ConfigError) as info:
        find_config(None, env=env, cwd=tmp_path)
    text = str(info.value)
    assert isinstance(info.value, ConfigNotFound)
    assert f"  {tmp_path / 'cluster.toml'}\n" in text
    assert f"  {tmp_path / 'xdg/clusterconsole/cluster.toml'}\n" in text
    assert '  [[nodes]]\n  name = "node1"\n' in text
    assert "run `clusterconsole sandbox up`, then `clusterconsole --sandbox`" in text


def test_xdg_paths(tmp_path: Path) -> None:
    env = {"HOME": "/home/op", "XDG_CONFIG_HOME": "/cfg", "XDG_STATE_HOME": "relative/ignored"}
    assert user_config_dir(env) == Path("/cfg/clusterconsole")
    assert user_state_dir(env) == Path("/home/op/.local/state/clusterconsole")
    assert user_config_dir({"HOME": "/home/op"}) == Path("/home/op/.config/clusterconsole")
    assert isinstance(user_config_dir(), Path) and not os.path.exists(tmp_path / "clusterconsole")


# -- hardening (issue 11) --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "-1.5", "1e9"])
def test_connect_timeout_must_be_a_finite_positive_bound(tmp_path: Path, value: str) -> None:
    """An infinite timeout let a stuck probe hang `status` for ever."""
    assert errors(tmp_path, f'[cluster]\nname = "c"\n[ssh]\nconnect_timeout = {value}\n{NODE}') == [
        "cluster.toml:4: ssh.connect_timeout: must be a number of seconds greater than 0 and at"
        f" most 300, got {float(value)}"
    ]


def test_a_log_listed_twice_for_one_node_is_refused(tmp_path: Path) -> None:
    """However it is written: relative, absolute or with `..`, it is one file followed twice."""
    text = (
        '[cluster]\nname = "c"\n[[nodes]]\nname = "n"\nhost = "h"\ncatalina_base = "/t"\n'
        'logs = [\n  "logs/catalina.out",\n  "/t/logs/../logs/catalina.out",\n'
        '  "journal:tomcat10",\n  "journal:tomcat10",\n]\n'
    )
    assert errors(tmp_path, text) == [
        "cluster.toml:7: nodes[0].logs[1]: duplicate log '/t/logs/catalina.out' (first used on"
        " line 7)",
        "cluster.toml:7: nodes[0].logs[3]: duplicate log 'journal:tomcat10' (first used on line 7)",
    ]


def test_control_characters_in_paths_and_commands_are_refused(tmp_path: Path) -> None:
    """A NUL cuts a shell line short, a newline starts another command, ESC drives terminals."""
    text = (
        '[cluster]\nname = "c"\n[[nodes]]\nname = "n"\nhost = "h"\n'
        'catalina_base = "/opt/t\\tx"\n'
        'logs = ["logs/a\\u0000.log"]\n'
        'start = "bin/startup.sh\\nrm -rf /"\n'
        'stop = "bin/shutdown.sh\\u0000; reboot"\n'
        'http = "http://h/\\u001b[2J"\n'
        '[shared_dir]\npath = "/srv/\\u007fshared"\n'
    )
    assert errors(tmp_path, text) == [
        "cluster.toml:6: nodes[0].catalina_base: contains a control character (\\x09 at"
        " character 7); write it without one",
        "cluster.toml:7: nodes[0].logs[0]: contains a control character (\\x00 at character 7);"
        " write it without one",
        "cluster.toml:8: nodes[0].start: contains a control character (\\x0a at character 15);"
        " write it without one",
        "cluster.toml:9: nodes[0].stop: contains a control character (\\x00 at character 16);"
        " write it without one",
        "cluster.toml:10: nodes[0].http: contains a control character (\\x1b at character 10);"
        " write it without one",
        "cluster.toml:12: shared_dir.path: contains a control character (\\x7f at character 6);"
        " write it without one",
    ]


def test_an_inventory_over_1_mib_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    """150 MB took 2.4 GB of memory and a minute to parse."""
    path = tmp_path / "cluster.toml"
    path.write_text(f'[cluster]\nname = "c"\n{NODE}' + "# padding\n" * 120_000)
    with pytest.raises(ConfigError) as info:
        load_inventory(path, display_name="cluster.toml")
    assert str(info.value) == (
        "cluster.toml:1: file: is 1.1 MiB, more than the 1 MiB an inventory may have (a cluster"
        " of hundreds of nodes takes a few hundred KiB); not read"
    )
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError) as info:
        load_inventory(fifo, display_name="fifo.toml")
    assert str(info.value) == "fifo.toml:1: file: cannot read: not a regular file"


def test_catalina_base_is_quoted_in_start_and_stop(tmp_path: Path) -> None:
    """A space split the path and `$(...)` ran: now the command starts the right script."""
    base = tmp_path / "my tomcat $(touch pwned)"
    (base / "bin").mkdir(parents=True)
    (base / "bin" / "startup.sh").write_text('#!/bin/sh\necho "started $0"\n')
    (base / "bin" / "startup.sh").chmod(0o755)
    inv = load(
        tmp_path,
        f'[cluster]\nname = "c"\n[[nodes]]\nname = "n"\nhost = "h"\ncatalina_base = "{base}"\n'
        'stop = "cd {catalina_base} && ./bin/shutdown.sh"\n',
    )
    node = inv.nodes[0]
    assert node.start == f"'{base}'/bin/startup.sh"
    assert node.stop == f"cd '{base}' && ./bin/shutdown.sh"
    ran = subprocess.run(
        ["sh", "-c", node.start], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert (ran.returncode, ran.stdout) == (0, f"started {base}/bin/startup.sh\n")
    assert not (tmp_path / "pwned").exists()


def test_profile_defaults_keep_a_plain_path_as_it_is(tmp_path: Path) -> None:
    inv = load(tmp_path, f'[cluster]\nname = "c"\nprofile = "wso2"\n{NODE}')
    assert inv.nodes[0].start == "/opt/tomcat/bin/wso2server.sh start"
    assert inv.nodes[0].stop == "/opt/tomcat/bin/wso2server.sh stop"


def test_the_readme_example_validates(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    inv = load_inventory_text(example, tmp_path / "cluster.toml")
    assert inv.nodes[0].start == "/opt/joget/apache-tomcat-8.5.41/bin/startup.sh"
    assert inv.nodes[0].stop == "/opt/joget/apache-tomcat-8.5.41/bin/shutdown.sh"
