"""Pure parts of the node probes: database grants, shared-dir, process and reach answers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from console.cluster.topology import NodeSpec, member_node, split_host_port, worker_node
from console.config.profiles import JOGET_GRANTS
from probes.balancer.model import make_worker
from probes.database import granted_on
from probes.files import PROBE_PREFIX, parse_shared_dir, shared_dir_command
from probes.privileges import ALL_PRIVILEGES
from probes.process import parse_processes
from probes.reach import parse_reach, reach_command

MARIADB_GRANTS = [
    "GRANT USAGE ON *.* TO `joget`@`127.%` IDENTIFIED BY PASSWORD '*ABC'",
    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, "
    "CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, "
    "ALTER ROUTINE, TRIGGER ON `jwdb`.* TO `joget`@`127.%`",
]


def test_grants_from_mariadb_cover_the_joget_list() -> None:
    assert granted_on(MARIADB_GRANTS, "jwdb") >= JOGET_GRANTS


def test_grants_on_another_database_or_a_single_table_do_not_count() -> None:
    lines = [
        "GRANT ALL PRIVILEGES ON `other`.* TO 'joget'@'%'",
        "GRANT SELECT, INSERT ON `jwdb`.`app_user` TO 'joget'@'%'",
    ]
    assert granted_on(lines, "jwdb") == frozenset()


def test_all_privileges_and_wildcard_database_patterns() -> None:
    assert (
        granted_on(["GRANT ALL PRIVILEGES ON *.* TO 'root'@'localhost'"], "jwdb") == ALL_PRIVILEGES
    )
    assert "SELECT" in granted_on(["GRANT SELECT ON `jw%`.* TO 'u'@'%'"], "jwdb")
    # `\_` is a literal underscore, `_` alone a one-character wildcard
    assert granted_on(["GRANT SELECT ON `jw\\_db`.* TO 'u'@'%'"], "jwxdb") == frozenset()
    assert "SELECT" in granted_on(["GRANT SELECT ON `jw_db`.* TO 'u'@'%'"], "jwxdb")


def test_column_level_privileges_keep_their_name_only() -> None:
    held = granted_on(["GRANT SELECT (id, name), UPDATE (name) ON `jwdb`.* TO 'u'@'%'"], "jwdb")
    assert held == {"SELECT", "UPDATE"}


def _sh(command: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["sh", "-c", command], capture_output=True, check=False, timeout=10)


def test_shared_dir_check_writes_reads_back_and_removes(tmp_path: Path) -> None:
    answer = _sh(shared_dir_command(str(tmp_path), "node1", write=True))
    health = parse_shared_dir(answer.stdout, answer.returncode)
    assert health.ok and health.written and health.fstype
    assert not any(path.name.startswith(PROBE_PREFIX) for path in tmp_path.iterdir())


def test_read_only_shared_dir_check_writes_nothing(tmp_path: Path) -> None:
    before = tmp_path.stat().st_mtime_ns
    answer = _sh(shared_dir_command(str(tmp_path), "node1", write=False))
    health = parse_shared_dir(answer.stdout, answer.returncode)
    assert health.ok and not health.written
    assert tmp_path.stat().st_mtime_ns == before


def test_shared_dir_missing_or_hostile_path(tmp_path: Path) -> None:
    hostile = str(tmp_path / "x'; touch pwned; echo '")
    answer = _sh(shared_dir_command(hostile, "node1", write=True))
    health = parse_shared_dir(answer.stdout, answer.returncode)
    assert not health.ok and "does not exist" in (health.reason or "")
    assert not (Path.cwd() / "pwned").exists()


def test_shared_dir_garbage_answer_is_a_failure_with_a_reason() -> None:
    health = parse_shared_dir(b"\x1b[31mwhatever", 127)
    assert not health.ok and "exit status 127" in (health.reason or "")


JAVA = b"/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
BOOT = b"-Dcatalina.home=/usr/share/tomcat10 org.apache.catalina.startup.Bootstrap start"
PS = b"\n".join(
    [
        b"    1 /sbin/init",
        b"  812 " + JAVA + b" -Dcatalina.base=/srv/node10 " + BOOT,
        b"  900 " + JAVA + b" -Dcatalina.base=/srv/node1 " + BOOT,
        b"  901 vim -Dcatalina.base=/srv/node2",
    ]
)


def test_tomcat_process_is_matched_on_its_exact_catalina_base() -> None:
    assert parse_processes(PS, "/srv/node1").pid == 900
    assert parse_processes(PS, "/srv/node10/").pid == 812
    assert parse_processes(PS, "/srv/node2").state == "stopped"  # not a Tomcat JVM
    assert parse_processes(b"", "/srv/node1").state == "stopped"


def test_reach_command_answers_refused_for_a_closed_port() -> None:
    reach = parse_reach(_sh(reach_command("127.0.0.1", 1)).stdout)
    assert reach.ok is False and reach.reason == "connection refused"
    assert parse_reach(b"UNKNOWN\n").ok is None


SPECS = (
    NodeSpec("node1", "10.0.0.2", frozenset({"10.0.0.2"}), "r1", 8080),
    NodeSpec("node2", "10.0.0.20", frozenset({"10.0.0.20", "app2.example"}), "r2", 8080),
    NodeSpec("a", "10.0.0.9", frozenset({"10.0.0.9"}), "ra", 8080),
    NodeSpec("b", "10.0.0.9", frozenset({"10.0.0.9"}), "rb", 8081),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.1:4000", ("10.0.0.1", 4000)),
        ("[::1]:5701", ("::1", 5701)),
        ("App2.Example:4000", ("app2.example", 4000)),
        ("keycloak-1", ("keycloak-1", None)),
    ],
)
def test_split_host_port(text: str, expected: tuple[str, int | None]) -> None:
    assert split_host_port(text) == expected


def test_members_and_workers_map_to_nodes_exactly() -> None:
    assert member_node("10.0.0.2:4000", SPECS) == "node1"
    assert member_node("10.0.0.20:4000", SPECS) == "node2"
    assert member_node("app2.example:4000", SPECS) == "node2"
    assert member_node("10.0.0.200:4000", SPECS) is None
    assert member_node("10.0.0.9:4000", SPECS) is None  # two nodes share that host
    assert worker_node(make_worker("http://10.0.0.2:8080"), SPECS) == "node1"
    assert worker_node(make_worker("ajp://10.0.0.20:8009"), SPECS) == "node2"
    assert worker_node(make_worker("http://10.0.0.9:8081"), SPECS) == "b"
    assert worker_node(make_worker("http://10.9.9.9:8080", route="r2"), SPECS) == "node2"
    assert worker_node(make_worker("http://[bad"), SPECS) is None
