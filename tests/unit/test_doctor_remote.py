"""The doctor's remote command, run here with sh on a CATALINA_BASE of files (no SSH): files come
back whole with their line numbers, the host name lookup honours the node's hosts file, the JVM
arguments and artifacts are read; and the `doctor` command's exit codes and JSON."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from console.commands import cli
from console.commands import doctor as doctor_command
from console.doctor.model import DoctorReport
from console.doctor.run import run_checks
from probes.doctor.parse import server_facts
from probes.doctor.remote import (
    artifacts,
    gather_command,
    parse_seen,
    resolved_addresses,
    seen_command,
    split,
)

DATA = Path(__file__).parent / "data" / "doctor"


def _run(command: str, env: dict[str, str] | None = None) -> bytes:
    return subprocess.run(
        ["sh", "-c", command], capture_output=True, check=True, timeout=30, env=env
    ).stdout


@pytest.fixture
def base(tmp_path: Path) -> Path:
    base = tmp_path / "tomcat"
    (base / "conf").mkdir(parents=True)
    (base / "webapps" / "jw" / "WEB-INF").mkdir(parents=True)
    (base / "conf" / "server.xml").write_text((DATA / "tomcat/server-multicast.xml").read_text())
    (base / "webapps" / "jw" / "WEB-INF" / "web.xml").write_text("<web-app><distributable/>")
    (base / "webapps" / "jw.war").write_bytes(b"PK\x03\x04 not really a war")
    return base


def test_files_come_back_whole_with_their_lines(base: Path, tmp_path: Path) -> None:
    server, web = str(base / "conf/server.xml"), str(base / "webapps/jw/WEB-INF/web.xml")
    shared = tmp_path / "shared"
    shared.mkdir()
    command = gather_command([server, web, str(base / "nope.xml")], str(base), str(shared), "n1")
    raw = split(_run(command))
    assert raw.files[server] == (base / "conf/server.xml").read_text().rstrip("\n")
    assert raw.files[web] == "<web-app><distributable/>", "no newline at the end: kept as is"
    assert str(base / "nope.xml") not in raw.files
    facts = server_facts(raw.files[server], server)
    assert facts.jvm_route is not None and (facts.jvm_route.value, facts.jvm_route.line) == (
        "node01",
        12,
    )
    assert set(artifacts(raw)) == {"jw", "jw.war"}
    assert raw.sections["shared"].splitlines()[-1] == "OK written"
    assert list(shared.iterdir()) == [], "the probe file is removed"


def test_markers_are_left_and_seen_by_node_number(base: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared dir"
    shared.mkdir()
    for number in (1, 3):
        command = gather_command([], str(base), str(shared), f"n{number}", marker=("t0k", number))
        assert split(_run(command)).sections["marker"].strip() == "written"
    (shared / ".clusterconsole-doctor-other-2").write_text("another run's")
    assert parse_seen(_run(seen_command(str(shared), "t0k"))) == {1, 3}
    read_only = gather_command([], str(base), str(shared), "n4", marker=("t0k", 4), write=False)
    assert "marker" not in split(_run(read_only)).sections
    assert parse_seen(_run(seen_command(str(shared), "t0k"))) == {1, 3}


def test_the_host_name_lookup_reads_the_nodes_hosts_file(base: Path, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n# 10.9.9.9 node7\n127.0.1.1 node7.example node7\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "CLUSTERCONSOLE_HOSTNAME": "node7",
        "CLUSTERCONSOLE_HOSTS_FILE": str(hosts),
    }
    raw = split(_run(gather_command([], str(base), None, "n7"), env))
    assert raw.sections["hostname"].strip() == "node7"
    assert resolved_addresses(raw) == (str(hosts), ("127.0.1.1",))


def test_a_path_with_quotes_and_spaces_is_quoted(tmp_path: Path) -> None:
    odd = tmp_path / "it's a $(dir)"
    (odd / "conf").mkdir(parents=True)
    (odd / "conf" / "server.xml").write_text("<Server/>")
    raw = split(_run(gather_command([str(odd / "conf/server.xml")], str(odd), None, "n")))
    assert raw.files[str(odd / "conf/server.xml")] == "<Server/>"


def _report(findings: bool) -> DoctorReport:
    from tests.unit.test_doctor import facts, inventory

    files: dict[str, dict[str, str]] | None = {"node1": {}} if findings else None
    return DoctorReport("t", run_checks(facts(inventory(), files)), 0.5)


@pytest.mark.parametrize("with_findings", [False, True])
def test_the_command_exits_1_with_findings_and_0_without(
    monkeypatch: pytest.MonkeyPatch, with_findings: bool
) -> None:
    async def fake(*_: object, **__: object) -> DoctorReport:
        return _report(with_findings)

    monkeypatch.setattr(doctor_command, "run_doctor", fake)
    from tests.unit.test_doctor import inventory

    out = io.StringIO()
    code = doctor_command.run(inventory(), as_json=True, out=out)
    document = json.loads(out.getvalue())
    assert code == (1 if with_findings else 0)
    assert bool(document["findings"]) is with_findings
    text = io.StringIO()
    doctor_command.run(inventory(), as_json=False, out=text)
    assert ("no findings" in text.getvalue()) is not with_findings
    assert "jvm-route" in text.getvalue(), "every check is listed, passed ones too"


def test_a_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "cluster.toml"
    bad.write_text("[cluster]\nname = 1\n")
    assert cli.main(["doctor", "--config", str(bad)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_an_artifact_edited_in_place_has_another_fingerprint(base: Path) -> None:
    context = base / "webapps" / "jw" / "META-INF" / "context.xml"
    context.parent.mkdir()
    context.write_text('<Context unloadDelay="3000"/>')
    before = artifacts(split(_run(gather_command([], str(base), None, "n"))))
    context.write_text('<Context unloadDelay="2000"/>')  # the same size
    after = artifacts(split(_run(gather_command([], str(base), None, "n"))))
    assert before["jw"] != after["jw"]
    assert before["jw.war"] == after["jw.war"]
