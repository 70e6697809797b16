"""The JSON Schemas shipped in the package, validated against the commands' real output."""

from __future__ import annotations

import io
import json
from importlib.resources import files
from pathlib import Path

import pytest

from console.commands import balancer as balancer_command
from console.commands import events as events_command

from .schema_check import errors, schema
from .test_cli import GOOD, run

DATA = Path(__file__).parent / "data"
UNREACHABLE = GOOD + "[ssh]\nconnect_timeout = 1\nknown_hosts = 'kh'\n"
NAMES = ("status", "events", "balancer", "doctor", "wizard-progress")


def test_every_schema_is_package_data_and_names_its_version() -> None:
    shipped = files("console") / "schemas"
    for name in NAMES:
        loaded = json.loads((shipped / f"{name}.schema.json").read_text(encoding="utf-8"))
        assert loaded["properties"]["schema_version"]["const"] == 1
        assert "schema_version" in loaded["required"]


def test_the_validator_catches_a_broken_document() -> None:
    rules = schema("balancer")
    assert (
        errors({"schema_version": 1, "url": "u", "balancers": [], "server_version": None}, rules)
        == []
    )
    assert errors({"schema_version": 2, "url": 3, "balancers": [{}]}, rules) == [
        "$: 'server_version' is missing",
        "$.schema_version: 2 is not 1",
        "$.url: int is not string",
        "$.balancers[0]: 'name' is missing",
        "$.balancers[0]: 'nonce' is missing",
        "$.balancers[0]: 'workers' is missing",
        "$.balancers[0]: 'settings' is missing",
    ]


def _cluster(tmp_path: Path) -> None:
    (tmp_path / "cluster.toml").write_text(UNREACHABLE)
    (tmp_path / "kh").write_text("")


def test_status_json_matches_its_schema(tmp_path: Path) -> None:
    _cluster(tmp_path)
    result = run("status", "--json", cwd=tmp_path)
    document = json.loads(result.stdout)
    assert errors(document, schema("status")) == []
    assert document["problems"] and document["generated_at"][-6] in "+-"  # a zone, not naive


def test_doctor_json_matches_its_schema(tmp_path: Path) -> None:
    _cluster(tmp_path)
    result = run("doctor", "--json", cwd=tmp_path)
    assert errors(json.loads(result.stdout), schema("doctor")) == []


def test_wizard_progress_lines_match_their_schema(tmp_path: Path) -> None:
    _cluster(tmp_path)
    result = run("--wizard", "drain", "--node", "node1", "--dry-run", "--json", cwd=tmp_path)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines, result.stderr
    for line in lines:
        assert errors(line, schema("wizard-progress")) == [], line


def test_events_lines_match_their_schema() -> None:
    out = io.StringIO()
    log = DATA / "logs" / "sandbox_tomcat101_node1_peer_stop_and_crash.log"
    code = events_command.run([str(log)], as_json=True, out=out, err=io.StringIO())
    assert code == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines
    for line in lines:
        assert errors(line, schema("events")) == [], line


@pytest.mark.parametrize("page", ["real_2471_states.html", "real_2471_xml.xml"])
def test_balancer_json_matches_its_schema(page: str) -> None:
    out = io.StringIO()
    code = balancer_command.run(
        str(DATA / "balancer" / page), as_json=True, out=out, err=io.StringIO()
    )
    assert code == 0
    assert errors(json.loads(out.getvalue()), schema("balancer")) == []
