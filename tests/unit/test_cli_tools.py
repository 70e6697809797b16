"""The command line as scripts and monitoring use it: --version on stdout, options that do not
apply refused, `config check`, `status --nagios`, `--context`, `config import --ansible`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from console import exitcodes
from console.cluster.crosschecks import Problem
from console.commands.status import NO_ANSWER
from console.commands.tools import nagios
from console.config import load_inventory_text
from console.config.ansible import expand

from .test_cli import GOOD, run


def test_version_goes_to_stdout_with_the_libraries_and_the_config_in_use(tmp_path: Path) -> None:
    (tmp_path / "cluster.toml").write_text(GOOD)
    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("clusterconsole ")
    words = dict(line.split(" ", 1) for line in lines)
    for library in ("python", "textual", "asyncssh", "httpx", "pymysql"):
        assert words[library][0].isdigit(), words
    assert words["config"] == str(tmp_path / "cluster.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    nothing = run("--version", cwd=elsewhere)
    assert nothing.stdout.splitlines()[-1].startswith("config none found")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--cycle", "5"), "--cycle only applies to --watch"),
        (("--watch", "--cycle", "-1"), "--cycle must be a number of seconds greater than 0"),
        (("--watch", "--cycle", "nan"), "--cycle must be a number of seconds greater than 0"),
    ],
)
def test_options_that_do_not_apply_are_refused(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "cluster.toml").write_text(GOOD)
    result = run(*args, cwd=tmp_path)
    assert result.returncode == exitcodes.USAGE
    assert message in result.stderr and "Traceback" not in result.stderr


def test_config_check_validates_only(tmp_path: Path) -> None:
    (tmp_path / "cluster.toml").write_text(GOOD)
    ok = run("config", "check", cwd=tmp_path)
    assert ok.returncode == 0
    assert ok.stdout.strip() == (
        f"{tmp_path / 'cluster.toml'}: OK (cluster 'test', 1 node, 0 balancers, profile tomcat)"
    )
    (tmp_path / "bad.toml").write_text(GOOD.replace('host = "127.0.9.1"', 'host = "a b"'))
    bad = run("config", "check", "bad.toml", cwd=tmp_path)
    assert bad.returncode == exitcodes.USAGE and bad.stdout == ""
    assert "bad.toml:6: nodes[0].host: 'a b' contains whitespace" in bad.stderr


def test_context_picks_an_inventory_of_the_config_directory(tmp_path: Path) -> None:
    clusters = tmp_path / "config" / "clusterconsole" / "clusters"
    clusters.mkdir(parents=True)
    (clusters / "prod.toml").write_text(GOOD.replace('"test"', '"prod"'))
    result = run("--context", "prod", "config", "check", cwd=tmp_path)
    assert result.returncode == 0 and "cluster 'prod'" in result.stdout
    missing = run("--context", "stage", "status", cwd=tmp_path)
    assert missing.returncode == exitcodes.USAGE
    assert "no context 'stage'" in missing.stderr and "prod" in missing.stderr


def test_nagios_codes_follow_the_worst_severity() -> None:
    down = Problem("critical", "ssh-down", "node2", "node2 is down")
    slow = Problem("warning", "heap-high", "node1", "heap")
    unknown = Problem("warning", NO_ANSWER, "node3", "no answer")
    assert nagios([], frozenset({NO_ANSWER}), "c") == (
        0,
        "CLUSTERCONSOLE OK - cluster c: no problems | critical=0 warning=0 unknown=0",
    )
    assert nagios([slow], frozenset({NO_ANSWER}), "c")[0] == 1
    assert nagios([slow, unknown], frozenset({NO_ANSWER}), "c")[0] == 3
    code, line = nagios([down, slow, unknown], frozenset({NO_ANSWER}), "c")
    assert code == 2
    assert line == (
        "CLUSTERCONSOLE CRITICAL - cluster c: 1 critical, 1 warning, 1 unknown: "
        "node2 ssh-down; node3 no-answer; node1 heap-high | critical=1 warning=1 unknown=1"
    )


def test_nagios_without_a_config_is_unknown_with_one_line(tmp_path: Path) -> None:
    result = run("status", "--nagios", cwd=tmp_path)
    assert result.returncode == 3
    assert result.stdout.startswith("CLUSTERCONSOLE UNKNOWN - configuration: no cluster.toml")
    assert len(result.stdout.splitlines()) == 1


def test_status_nagios_on_an_unreachable_node_is_critical(tmp_path: Path) -> None:
    (tmp_path / "cluster.toml").write_text(
        GOOD + "[ssh]\nconnect_timeout = 1\nknown_hosts = 'kh'\n"
    )
    (tmp_path / "kh").write_text("")
    result = run("status", "--nagios", cwd=tmp_path)  # 127.0.9.1:22: nothing listens
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.startswith("CLUSTERCONSOLE CRITICAL - cluster test: ")
    assert len(result.stdout.splitlines()) == 1


INI = """\
# the operator's real inventory shape
[tomcat]
app[01:02].example.lan ansible_user=deploy
app03.example.lan ansible_host=10.0.0.13 ansible_port=2222 catalina_base=/srv/joget/tomcat

[tomcat:vars]
ansible_user=tomcat
catalina_base=/opt/joget/apache-tomcat

[db]
db1.example.lan

[prod:children]
tomcat
db
"""


def test_an_ini_inventory_becomes_a_valid_cluster_toml(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text(INI)
    result = run("config", "import", "--ansible", "hosts.ini", "--group", "tomcat", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    inventory = load_inventory_text(result.stdout, tmp_path / "cluster.toml")
    rows = [(n.name, n.host, n.ssh_port, n.ssh_user, n.catalina_base) for n in inventory.nodes]
    assert rows == [
        ("app01", "app01.example.lan", None, "deploy", "/opt/joget/apache-tomcat"),
        ("app02", "app02.example.lan", None, "deploy", "/opt/joget/apache-tomcat"),
        ("app03", "10.0.0.13", 2222, "tomcat", "/srv/joget/tomcat"),
    ]
    assert inventory.cluster.name == "tomcat"
    everything = run("config", "import", "--ansible", "hosts.ini", cwd=tmp_path)
    doc = tomllib.loads(everything.stdout)
    assert [node["name"] for node in doc["nodes"]] == ["app01", "app02", "app03", "db1"]
    assert "REVIEW" in everything.stdout  # db1 has no catalina_base: a marked guess


def test_ansible_inventory_list_json_and_yaml_without_pyyaml(tmp_path: Path) -> None:
    listed = {
        "_meta": {"hostvars": {"web1": {"ansible_host": "10.1.0.1", "ansible_user": "ops"}}},
        "all": {"children": ["ungrouped", "web"]},
        "web": {"hosts": ["web1", "web2"], "vars": {"ansible_port": 2200}},
    }
    (tmp_path / "list.json").write_text(json.dumps(listed))
    result = run("config", "import", "--ansible", "list.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    nodes = tomllib.loads(result.stdout)["nodes"]
    assert [(n["name"], n["host"], n.get("ssh_port"), n.get("ssh_user")) for n in nodes] == [
        ("web1", "10.1.0.1", 2200, "ops"),
        ("web2", "web2", 2200, None),
    ]
    (tmp_path / "hosts.yml").write_text("all:\n  hosts:\n    web1:\n")
    yaml = run("config", "import", "--ansible", "hosts.yml", cwd=tmp_path)
    try:
        import yaml as _  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        assert yaml.returncode == exitcodes.USAGE
        assert "PyYAML is not installed" in yaml.stderr and "--list" in yaml.stderr
    else:
        assert yaml.returncode == 0 and 'host = "web1"' in yaml.stdout


def test_host_ranges_expand_like_ansible() -> None:
    assert expand("web[01:03].lan") == ["web01.lan", "web02.lan", "web03.lan"]
    assert expand("db-[a:c]") == ["db-a", "db-b", "db-c"]


def test_accept_new_host_keys_reaches_every_node_s_ssh_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.commands.cli import _resolve_inventory, build_parser
    from console.monitor.node_watch import ssh_target

    (tmp_path / "cluster.toml").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLUSTERCONSOLE_CONFIG", raising=False)
    plain = _resolve_inventory(build_parser().parse_args(["status"]))
    assert not ssh_target(plain, plain.nodes[0]).accept_new
    args = build_parser().parse_args(["--accept-new-host-keys", "status"])
    inventory = _resolve_inventory(args)
    target = ssh_target(inventory, inventory.nodes[0])
    assert target.accept_new and target.port is None  # the port is ~/.ssh/config's
