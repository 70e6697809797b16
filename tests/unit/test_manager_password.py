"""The manager password is read for the polls at most once a second: 500 nodes' polls do not
open the file a hundred times a second, a changed password is used within a second, and a file
that cannot be read is the figures' reason (never the password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config import load_inventory_text
from console.config.model import Inventory
from console.monitor import metrics_poll


def _inventory(tmp_path: Path, secret: Path) -> Inventory:
    text = (
        "[cluster]\nname = 'c'\n[[nodes]]\nname = 'n1'\nhost = '10.0.0.1'\ncatalina_base = '/t'\n"
        f"[metrics]\nmanager_user = 'console'\npassword_file = '{secret}'\n"
    )
    return load_inventory_text(text, tmp_path / "cluster.toml")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr(metrics_poll, "_clock", lambda: now[0])
    monkeypatch.setattr(metrics_poll, "_revealed", {})
    return now


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "pw"
    path.write_text("first\n")
    path.chmod(0o600)
    return path


def test_read_once_a_second_and_a_change_used_after(
    tmp_path: Path, clock: list[float], secret: Path
) -> None:
    inventory = _inventory(tmp_path, secret)
    assert metrics_poll.manager_credentials(inventory) == ("console", "first")
    secret.write_text("second\n")
    clock[0] += 0.5
    assert metrics_poll.manager_credentials(inventory) == ("console", "first")  # not read again yet
    clock[0] += metrics_poll.SECRET_FRESH
    assert metrics_poll.manager_credentials(inventory) == ("console", "second")


def test_an_unreadable_file_is_the_reason(tmp_path: Path, clock: list[float], secret: Path) -> None:
    inventory = _inventory(tmp_path, secret)
    assert metrics_poll.manager_credentials(inventory) == ("console", "first")
    secret.unlink()
    clock[0] += metrics_poll.SECRET_FRESH
    reason = metrics_poll.manager_credentials(inventory)
    assert isinstance(reason, str) and reason.startswith("the manager password cannot be read")
    assert "first" not in reason
    assert metrics_poll._revealed == {}  # nothing of it kept
