"""The license wizard's file activation (Liferay), its plain parts: reading and checking a key
file, where each node's file comes from, the copy command (run here with the real sh), and the
log lines that confirm or refuse it. The whole flow over SSH is proven on the sandbox
(tests/sandbox/test_license_file.py); Liferay itself never ran here."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from pathlib import Path

import pytest

from console.operations.wizards.license import NodeLicense, not_activated
from console.operations.wizards.license_file import (
    NO_FOLDER,
    LogLines,
    copy_command,
    deploy_folder,
    key_paths,
    load_key_file,
)
from console.operations.wizards.license_request import LicenseInputError
from probes.license import LicenseReading
from tests.inventories import three_nodes

DATA = Path(__file__).parent / "data" / "license"
KEY = DATA / "liferay-activation-key.xml"
REGISTERED = DATA / "liferay-activated.log"


def test_a_key_file_is_named_by_its_digest_never_its_content() -> None:
    key = load_key_file(KEY)
    assert (key.name, key.product) == ("liferay-activation-key.xml", "DXP Development")
    digest = hashlib.sha256(KEY.read_bytes()).hexdigest()
    assert key.fingerprint == f"sha256 ...{digest[-5:]}"
    assert "0000000000" not in repr(key), "the key's content is in its repr"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("CB4E9-B55B0-E1FE1-732AB-8376F", "not XML"),
        ("<html><body>license</body></html>", "root element is <html>"),
        ("<license><owner>x</owner></license>", "no <product-name>"),
    ],
)
def test_a_file_that_is_not_an_activation_key_is_refused_with_where_and_why(
    tmp_path: Path, text: str, why: str
) -> None:
    path = tmp_path / "key.xml"
    path.write_text(text)
    with pytest.raises(LicenseInputError, match=why) as caught:
        load_key_file(path)
    assert str(path) in str(caught.value)
    with pytest.raises(LicenseInputError, match="cannot read"):
        load_key_file(tmp_path / "missing.xml")


def test_a_nodes_own_file_wins_over_the_cluster_key() -> None:
    nodes = ("node1", "node2", "node3")
    paths = key_paths(nodes, {"node2": "/keys/node2.xml"}, "/keys/cluster.xml")
    assert paths == {
        "node1": Path("/keys/cluster.xml"),
        "node2": Path("/keys/node2.xml"),
        "node3": Path("/keys/cluster.xml"),
    }
    assert key_paths(nodes, {"node1": "/k/1.xml"}, None) == {"node1": Path("/k/1.xml")}


def test_the_deploy_folder_is_liferay_homes_by_default(tmp_path: Path) -> None:
    inventory = three_nodes(tmp_path)
    node = inventory.node("node1")
    assert deploy_folder(node, inventory.license.deploy) == str(
        Path(node.catalina_base).parent / "deploy"
    )
    assert deploy_folder(node, "/srv/liferay/deploy/") == "/srv/liferay/deploy"
    moved = three_nodes(tmp_path, extra='\n[license]\nadapter = "liferay"\ndeploy = "lr/deploy/"\n')
    assert moved.license.deploy == "lr/deploy/"
    assert deploy_folder(node, moved.license.deploy) == f"{node.catalina_base}/lr/deploy"


def _sh(command: str, data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["sh", "-c", command], input=data, capture_output=True, check=False)


def test_the_copy_lands_whole_under_its_name_and_leaves_no_temporary(tmp_path: Path) -> None:
    folder = tmp_path / "deploy it's here"
    folder.mkdir()
    done = _sh(copy_command(str(folder), "activation-key.xml"), KEY.read_bytes())
    assert done.returncode == 0, done.stderr
    assert [p.name for p in folder.iterdir()] == ["activation-key.xml"]
    assert (folder / "activation-key.xml").read_bytes() == KEY.read_bytes()


def test_a_missing_deploy_folder_is_its_own_exit_status(tmp_path: Path) -> None:
    done = _sh(copy_command(str(tmp_path / "nowhere"), "k.xml"), b"<license/>")
    assert done.returncode == NO_FOLDER
    assert b"no folder" in done.stderr
    assert not (tmp_path / "nowhere").exists()


def _feed(lines: LogLines, text: str, size: int = 7) -> None:
    data = text.encode()
    for start in range(0, len(data), size):
        lines("catalina.out", data[start : start + size])


def test_lines_split_across_chunks_confirm_the_registration() -> None:
    async def main() -> None:
        lines = LogLines()
        waiting = asyncio.create_task(lines.confirmation("DXP Development", 30.0))
        await asyncio.sleep(0)
        assert not waiting.done()
        _feed(lines, REGISTERED.read_text())
        verdict = await waiting
        assert verdict is not None and verdict.activated

    asyncio.run(main())


def test_a_refusal_line_is_the_nodes_reason() -> None:
    async def main() -> None:
        lines = LogLines()
        _feed(lines, "INFO Processing activation-key.xml\n")
        _feed(lines, "ERROR [LicenseManager] License validation failed: the key has expired\n")
        verdict = await lines.confirmation("DXP Development", 30.0)
        assert verdict is not None and not verdict.activated
        assert verdict.reason == "License validation failed: the key has expired"

    asyncio.run(main())


def test_no_verdict_in_time_is_none_and_keeps_what_the_log_said() -> None:
    async def main() -> None:
        lines = LogLines()
        _feed(lines, "INFO DXP Development license validation passed\nhalf a li")
        assert await lines.confirmation("DXP Development", 0.05) is None
        assert lines.last.reason == "validation passed, not registered yet"
        assert lines.lines[-1].endswith("validation passed"), "a partial line was taken whole"

    asyncio.run(main())


def test_a_failure_whose_reason_ends_in_activated_is_still_a_failure() -> None:
    licenses = {
        "node1": NodeLicense("u", LicenseReading(None, True), outcome="activated"),
        "node2": NodeLicense("u", LicenseReading(None, True), outcome="already activated"),
        "node3": NodeLicense(
            "u", LicenseReading(None, False), outcome="failed: the page still says not activated"
        ),
    }
    assert not_activated(("node1", "node2", "node3", "node4"), licenses) == ["node3", "node4"]
