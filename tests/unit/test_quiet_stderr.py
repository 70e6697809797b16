"""A command says what it has to say and nothing else: no library warnings on stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_a_command_that_loads_the_ssh_probes_prints_no_library_warning(tmp_path: Path) -> None:
    # cryptography 47+ warned about DSA ten lines long whenever asyncssh was imported.
    script = "import warnings; warnings.simplefilter('default'); import probes.ssh.connection"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
