"""The license wizard's file activation (Liferay DXP) on the sandbox's three nodes, against a
stand-in of Liferay's auto-deploy scanner (tests/sandbox/liferay_standin.py): Liferay itself was
NOT tried, it cannot run here.

The wizard copies each node's activation key XML over the node's own SSH session into its deploy
folder and waits for the node's log (followed by the console's monitor) to confirm or refuse it.
Three nodes, one expired key: two activated, the third failed with the log's reason, the others
unharmed; a second run on that node with a good key finishes it. A node with no deploy folder and
a node whose scanner never takes the file each fail alone, with the reason; a file that is not an
activation key is refused before anything is copied. Key content never appears in the output or
the audit, only the last five characters of its SHA-256.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from console import exitcodes
from console.audit import AUDIT_ENV
from console.sandbox.layout import NodeLayout, SandboxLayout

from .liferay_standin import scanners

pytestmark = pytest.mark.sandbox
ROOT = Path(__file__).resolve().parents[2]
DEPLOY = "lr-deploy"
"""Each node's deploy folder, from its catalina_base: the sandbox's nodes share one parent, so
Liferay Home's default (../deploy/) would be one folder for all three."""
PRODUCT = "DXP Development"
SANDBOX_LICENSE = (
    'page = "/license/"\n'
    'adapter = "standin"  # the sandbox\'s own stand-in page, whatever the variant\n'
)
LIFERAY_LICENSE = f'adapter = "liferay"\ndeploy = "{DEPLOY}/"\n'


def _folder(node: NodeLayout) -> Path:
    return node.base / DEPLOY


def _key_file(path: Path, expires: str) -> tuple[Path, str]:
    """An activation key file of Liferay's shape with a fresh secret; (path, the secret)."""
    secret = secrets.token_hex(20)
    path.write_text(
        '<?xml version="1.0"?>\n<license>\n'
        "\t<account-name>Example Corp</account-name>\n\t<owner>Example Corp</owner>\n"
        f"\t<product-name>{PRODUCT}</product-name>\n\t<product-version>7.4</product-version>\n"
        f"\t<license-type>production</license-type>\n\t<expiration-date>{expires}"
        f"</expiration-date>\n\t<key>{secret}</key>\n</license>\n",
        encoding="utf-8",
    )
    return path, secret


GOOD = "Friday, January 1, 2100"
EXPIRED = "Wednesday, January 1, 2020"


def _inventory(layout: SandboxLayout, tmp_path: Path) -> Path:
    text = layout.inventory.read_text(encoding="utf-8")
    assert SANDBOX_LICENSE in text
    path = tmp_path / "cluster.toml"
    path.write_text(text.replace(SANDBOX_LICENSE, LIFERAY_LICENSE, 1), encoding="utf-8")
    for relative in ("secrets", "ssh"):  # the inventory's relative paths
        (tmp_path / relative).symlink_to(layout.inventory.parent / relative)
    return path


def _folders(layout: SandboxLayout, *, make: tuple[str, ...]) -> None:
    for node in layout.nodes:
        folder = _folder(node)
        if folder.exists():
            for item in folder.iterdir():
                item.unlink()
            folder.rmdir()
        if node.name in make:
            folder.mkdir()


def _answers(tmp_path: Path, name: str, keys: dict[str, Path], timeout: float) -> Path:
    path = tmp_path / name
    lines = [f"confirm_timeout = {timeout}", f'request_file = "{tmp_path / "request"}"', "[keys]"]
    lines += [f"{node} = {json.dumps(str(key))}" for node, key in keys.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _wizard(
    tmp_path: Path, inventory: Path, answers: Path, *extra: str
) -> tuple[int, list[dict[str, Any]], str]:
    command = [sys.executable, "-m", "console", "--config", str(inventory), "--wizard"]
    command += ["license", "--yes", "--json", "--answers", str(answers), *extra]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            AUDIT_ENV: str(tmp_path / "audit.jsonl"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "PYTHONPATH": str(ROOT),
        },
        cwd=ROOT,
        timeout=400,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, events, done.stdout + done.stderr


def _texts(events: list[dict[str, Any]], kind: str) -> list[str]:
    return [str(event["text"]) for event in events if event["event"] == kind]


def _registered(node: NodeLayout) -> int:
    text = node.catalina_out.read_text(encoding="utf-8", errors="replace")
    return text.count(f"License registered for {PRODUCT}")


def test_two_keys_activate_an_expired_one_fails_and_a_second_run_finishes(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    nodes = sandbox.nodes
    inventory = _inventory(sandbox, tmp_path)
    _folders(sandbox, make=tuple(node.name for node in nodes))
    keys = {
        "node1": _key_file(tmp_path / "activation-key-node1.xml", GOOD),
        "node2": _key_file(tmp_path / "activation-key-node2.xml", GOOD),
        "node3": _key_file(tmp_path / "activation-key-node3.xml", EXPIRED),
    }
    before = {node.name: _registered(node) for node in nodes}
    answers = _answers(tmp_path, "answers.toml", {n: path for n, (path, _) in keys.items()}, 90)
    watched = {node.name: (_folder(node), node.catalina_out) for node in nodes}

    with scanners(watched) as taken:
        code, events, output = _wizard(tmp_path, inventory, answers)

    assert code == exitcodes.PROBLEMS, output
    assert taken == {"node1": 1, "node2": 1, "node3": 1}, "each node got its one file"
    assert all(not any(_folder(node).iterdir()) for node in nodes), "a file or temporary is left"
    changed = _texts(events, "change")
    for name in ("node1", "node2"):
        assert any(c.startswith(f"{name}: activated") for c in changed), changed
    warnings = _texts(events, "warning")
    refusal = f"License validation failed for {PRODUCT}: the key expired on {EXPIRED}"
    assert any(w.startswith("node3: not activated") and refusal in w for w in warnings), warnings
    state = events[-1]["state"]
    assert "node1 activated" in state and "node2 activated" in state, state
    assert "node3 failed" in state and refusal in state, state
    after = {node.name: _registered(node) for node in nodes}
    assert after == {**before, "node1": before["node1"] + 1, "node2": before["node2"] + 1}
    audit = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    for path, secret in keys.values():
        assert secret not in output + audit, f"the content of {path.name} was shown"
    entries = [json.loads(line) for line in audit.splitlines()]
    copied = [e for e in entries if e.get("step") == "activate" and e["phase"] == "before"]
    assert sorted(e["node"] for e in copied) == ["node1", "node2", "node3"]
    assert all(e["request"]["key"].startswith("sha256 ...") for e in copied), copied
    outcomes = {
        e["node"]: e["result"]["ok"]
        for e in entries
        if e.get("step") == "activate" and e["phase"] == "after"
    }
    assert outcomes == {"node1": True, "node2": True, "node3": False}

    renewed, _ = _key_file(tmp_path / "activation-key-node3-renewed.xml", GOOD)
    again = _answers(tmp_path, "again.toml", {"node3": renewed}, 90)
    with scanners(watched) as taken:
        code, events, output = _wizard(tmp_path, inventory, again, "--nodes", "node3")

    assert code == exitcodes.OK, output
    assert taken == {"node1": 0, "node2": 0, "node3": 1}, "only node3 was given a file"
    assert "node3 activated" in events[-1]["state"], events[-1]
    assert _registered(nodes[2]) == before["node3"] + 1


def test_each_nodes_trouble_fails_it_alone_and_a_bad_file_copies_nothing(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    node1, node2, node3 = sandbox.nodes
    inventory = _inventory(sandbox, tmp_path)
    good, _ = _key_file(tmp_path / "activation-key.xml", GOOD)
    not_a_key = tmp_path / "license.txt"
    not_a_key.write_text("CB4E9-B55B0-E1FE1-732AB-8376F\n", encoding="utf-8")

    _folders(sandbox, make=("node1", "node2", "node3"))
    refused = _answers(tmp_path, "bad.toml", {"node1": good, "node2": not_a_key}, 30)
    code, _, output = _wizard(tmp_path, inventory, refused, "--nodes", "node1,node2")
    assert code == exitcodes.REFUSED, output
    assert f"node2: {not_a_key} is not an activation key file: not XML" in output, output
    assert "no key file was copied" in output
    assert all(not any(_folder(node).iterdir()) for node in sandbox.nodes), "a file was copied"

    # node2 has no deploy folder; node3's is there but no scanner takes the file.
    _folders(sandbox, make=("node1", "node3"))
    answers = tmp_path / "cluster-key.toml"
    answers.write_text(f'confirm_timeout = 20\nkeys_file = "{good}"\n', encoding="utf-8")
    with scanners({node1.name: (_folder(node1), node1.catalina_out)}) as taken:
        code, events, output = _wizard(tmp_path, inventory, answers)

    assert code == exitcodes.PROBLEMS, output
    assert taken == {"node1": 1}
    warnings = _texts(events, "warning")
    assert any(
        w.startswith("node2: not activated") and f"no deploy folder {_folder(node2)}" in w
        for w in warnings
    ), warnings
    assert any(
        w.startswith("node3: not activated")
        and "no confirmation in the log within 20 s" in w
        and f"{_folder(node3) / good.name} is still there" in w
        for w in warnings
    ), warnings
    assert "node1 activated" in events[-1]["state"], events[-1]
    assert [p.name for p in _folder(node3).iterdir()] == [good.name], "left for the scanner"
    _folders(sandbox, make=())
