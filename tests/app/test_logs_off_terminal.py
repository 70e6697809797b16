"""While the console draws, log records never reach the terminal (Textual draws on stderr)."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from screens.app import logs_off_the_terminal


def test_a_logged_traceback_goes_to_a_private_file_not_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = logging.getLogger().handlers[:]
    target = tmp_path / "state" / "console.log"
    with logs_off_the_terminal(target) as path:
        assert path == target
        try:
            raise RuntimeError("a view failed")
        except RuntimeError:
            logging.getLogger("screens.app").exception("view %s failed", "DashboardScreen")
        logging.getLogger("probes.ssh.connection").warning("node2: connection refused")
    assert capsys.readouterr().err == ""
    text = target.read_text()
    assert "view DashboardScreen failed" in text and "RuntimeError: a view failed" in text
    assert "node2: connection refused" in text
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert logging.getLogger().handlers == before


def test_an_unwritable_place_drops_records_quietly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with logs_off_the_terminal(blocker / "console.log") as path:
        assert path is None
        logging.getLogger("screens.app").error("dropped")
    assert capsys.readouterr().err == ""
