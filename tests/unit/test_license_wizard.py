"""The license wizard's plain parts: the node's own page URL (never the balancer's), the request
files for the vendor, the vendor's key file, the dashboard's license cross-check, the one memory
of system keys, and the sandbox vendor's command."""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from console.cluster.crosschecks import problems
from console.cluster.observations import LicenseObserved
from console.cluster.state import ClusterState
from console.license import memory as license_memory
from console.operations.wizards.license_request import (
    LicenseInputError,
    RequestRow,
    page_url,
    read_vendor_file,
    vendor_key_for,
    write_request,
)
from console.sandbox.vendor import print_license_key
from probes.license import LicenseReading
from probes.license.standin import vendor_key
from tests.inventories import BALANCER_URL, three_nodes

LICENSE = '\n[license]\nkind = "per-node"\npage = "/license/"\nadapter = "standin"\n'


def test_the_page_is_read_on_the_node_itself(tmp_path: Path) -> None:
    inventory = three_nodes(tmp_path, extra=LICENSE)
    assert page_url(inventory, inventory.node("node1"), "/license/") == (
        "http://10.0.0.1:8080/license/"
    )


def test_a_node_whose_url_is_the_balancers_is_refused(tmp_path: Path) -> None:
    inventory = three_nodes(tmp_path, extra=LICENSE)
    front = BALANCER_URL.rsplit("/", 1)[0]
    node = inventory.node("node2")
    through = replace(node, http=front + "/app/")
    with pytest.raises(LicenseInputError, match="never through the balancer"):
        page_url(inventory, through, "/license/")


def test_the_request_is_a_csv_and_a_json_of_node_key_status(tmp_path: Path) -> None:
    rows = [RequestRow("node1", "1A2B-3C4D-5E6F-7A8B", "to activate"), RequestRow("n2", None, "x")]
    csv_path, json_path = write_request(rows, tmp_path / "req" / "license.csv")
    assert (csv_path.name, json_path.name) == ("license.csv", "license.json")
    assert list(csv.DictReader(io.StringIO(csv_path.read_text()))) == [
        {"node": "node1", "system_key": "1A2B-3C4D-5E6F-7A8B", "status": "to activate"},
        {"node": "n2", "system_key": "", "status": "x"},
    ]
    assert json.loads(json_path.read_text())[1] == {"node": "n2", "system_key": None, "status": "x"}


def test_the_vendors_file_is_matched_by_system_key_then_node(tmp_path: Path) -> None:
    answered = tmp_path / "answer.csv"
    answered.write_text(
        "node,system_key,status,license_key\n"
        "node1,AAAA-0000-0000-0000,to activate,KEY-ONE\n"
        "elsewhere,BBBB-0000-0000-0000,to activate,KEY-TWO\n"
    )
    keys = read_vendor_file(answered)
    assert vendor_key_for(keys, "node2", "BBBB-0000-0000-0000") == "KEY-TWO"
    assert vendor_key_for(keys, "node1", "AAAA-0000-0000-0000") == "KEY-ONE"
    assert vendor_key_for(keys, "node1", "CCCC-0000-0000-0000") is None, "issued for another key"
    as_json = tmp_path / "answer.json"
    as_json.write_text(json.dumps({"node3": "KEY-THREE"}))
    assert vendor_key_for(read_vendor_file(as_json), "node3", "DDDD") == "KEY-THREE"
    broken = tmp_path / "broken.csv"
    broken.write_text("node,system_key\nnode1,AAAA\n")
    with pytest.raises(LicenseInputError, match="entry 1 has no license_key"):
        read_vendor_file(broken)


def _seen(node: str, key: str, activated: bool, remembered: str | None) -> LicenseObserved:
    reading = LicenseReading(key, activated)
    return LicenseObserved(node, f"http://{node}/license/", reading, remembered, None, time.time())


def test_the_dashboard_shows_a_node_whose_system_key_changed(tmp_path: Path) -> None:
    state = ClusterState.initial(three_nodes(tmp_path, extra=LICENSE))
    state = state.apply(_seen("node1", "AAAA", True, "AAAA"))
    state = state.apply(_seen("node2", "BBBB", False, None))  # never activated: the doctor's
    assert not [p for p in problems(state) if p.code == "license-changed"]
    state = state.apply(_seen("node1", "CCCC", False, "AAAA"))
    changed = [p for p in problems(state) if p.code == "license-changed"]
    assert [(p.node, p.severity) for p in changed] == [("node1", "critical")]
    assert "was AAAA, now CCCC" in changed[0].text


def test_one_memory_for_the_wizard_and_the_doctor(tmp_path: Path) -> None:
    memory = tmp_path / "state" / "licenses.json"
    license_memory.remember("prod", {"node1": "AAAA"}, memory)
    license_memory.remember("prod", {"node2": "BBBB"}, memory)
    license_memory.remember("test", {"node1": "ZZZZ"}, memory)
    assert license_memory.remembered("prod", memory) == {"node1": "AAAA", "node2": "BBBB"}
    memory.write_text("not json")
    assert license_memory.remembered("prod", memory) == {}


def test_the_sandbox_vendor_prints_the_key_the_page_checks() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert print_license_key("1A2B-3C4D-5E6F-7A8B", out=out, err=err) == 0
    assert out.getvalue().strip() == vendor_key("1A2B-3C4D-5E6F-7A8B")
    out, err = io.StringIO(), io.StringIO()
    assert print_license_key("\x1b[31mred", out=out, err=err) == 2
    assert "not a stand-in system key" in err.getvalue() and "\x1b" not in err.getvalue()
