"""A reader that goes away (`clusterconsole ... | head`) ends a read-only command quietly with
exit 0, never as "Broken pipe" blamed on a file, nor as an internal error and a crash file; output
failing never stops the work of a command that changes something."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.commands.output import GuardedOutput, OutputClosed

LOG = Path(__file__).parent / "data" / "logs" / "sandbox_tomcat101_node1_peer_stop_and_crash.log"


def big_log(tmp_path: Path) -> Path:
    """A log with far more events than a pipe buffer holds."""
    path = tmp_path / "catalina.out"
    text = LOG.read_text(encoding="utf-8")
    path.write_text(text * max(1, (2 << 20) // len(text)), encoding="utf-8")
    return path


def run_into_head(tmp_path: Path, *args: str) -> tuple[int, str, list[Path]]:
    """Run `python -m console ARGS | head -1`: the exit status, stderr, and crash files."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "console", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    assert first, "no output at all"
    process.stdout.close()  # what `head -1` does once it has its line
    errors = process.stderr.read().decode()
    status = process.wait(timeout=120)
    crashes = list((tmp_path / "state").rglob("crash-*.txt"))
    return status, errors, crashes


@pytest.mark.parametrize("as_json", [False, True])
def test_events_into_a_closed_pipe_ends_quietly_with_0(tmp_path: Path, as_json: bool) -> None:
    log = big_log(tmp_path)
    args = ["events", str(log), str(log), str(log)] + (["--json"] if as_json else [])
    status, errors, crashes = run_into_head(tmp_path, *args)
    assert status == 0, errors
    assert errors == ""  # no "catalina.out: Broken pipe", once per file
    assert crashes == []


class Broken(io.StringIO):
    """A stream whose reader has gone: every write and flush fails like a closed pipe."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_guarded_output_stops_a_read_only_command_and_never_raises_oserror() -> None:
    out = GuardedOutput.wrap(Broken(), stop=True)
    with pytest.raises(OutputClosed) as caught:
        out.write("a line\n")
    assert caught.value.gone
    with pytest.raises(OutputClosed):
        out.flush()
    assert not isinstance(caught.value, OSError)


def test_guarded_output_lets_a_change_go_on_without_output() -> None:
    out = GuardedOutput.wrap(Broken(), stop=False)
    for _ in range(3):
        assert out.write("progress\n") == len("progress\n")
        out.flush()
    assert out.isatty() is False


def test_a_full_disk_is_not_a_reader_going_away() -> None:
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    out = GuardedOutput.wrap(Full(), stop=True)
    with pytest.raises(OutputClosed) as caught:
        out.write("x")
    assert not caught.value.gone and "No space" in caught.value.reason


def test_a_wizard_whose_output_closes_goes_on_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `--wizard drain --yes | head -5` does once head has gone: the run finishes, the
    outcome is audited (the real drain wizard, against a fake balancer and node)."""
    from tests.unit.test_operations_drain import maintenance, read_entries, run_drain

    printed: list[str] = []

    class GoneAfterFive(io.StringIO):
        def write(self, text: str) -> int:
            if len(printed) >= 5:
                raise BrokenPipeError(32, "Broken pipe")
            printed.append(text)
            return len(text)

    monkeypatch.setenv(maintenance.STATE_ENV, str(tmp_path / "state"))
    run = run_drain(tmp_path, out=GuardedOutput.wrap(GoneAfterFive(), stop=False))
    assert len(printed) == 5
    assert run.outcome.status == "done", run.outcome.text
    entries = read_entries(run.audit)
    assert entries[-1]["step"] == "run" and entries[-1]["result"]["status"] == "done"
