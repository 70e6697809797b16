"""The dependency rules of docs/design.md, checked on the source: probes never import Textual."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Top-level module names imported anywhere in a Python file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["probes", "themes"])
def test_probes_and_themes_import_nothing_of_ours_nor_textual(package: str) -> None:
    for path in sources(package):
        forbidden = imported_modules(path) & {"textual", "console", "screens"}
        if package == "themes":
            forbidden -= {"textual"}  # themes are Textual Theme objects
        assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


def test_console_core_stays_free_of_textual_and_screens() -> None:
    allowed = {"app.py", "cli.py"}
    for path in sources("console"):
        if path.name in allowed and path.parent.name == "console":
            continue
        bad = imported_modules(path) & {"textual", "screens"}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_screens_do_not_reach_into_the_sandbox_or_cli() -> None:
    for path in sources("screens"):
        text = path.read_text(encoding="utf-8")
        assert "console.cli" not in text and "console.sandbox" not in text, path


def test_the_first_frame_does_not_wait_for_the_network_libraries() -> None:
    """asyncssh, httpx and pymysql load after the dashboard's first frame, not before it."""
    import subprocess
    import sys

    code = (
        "import asyncio, sys, tempfile\n"
        "from pathlib import Path\n"
        "from console.app import ClusterConsoleApp\n"
        "from tests.app import recorded\n"
        "async def first_frame():\n"
        "    app = ClusterConsoleApp(recorded.inventory(Path(tempfile.mkdtemp())), monitor=False)\n"
        "    async with app.run_test(size=(120, 40)):\n"
        "        pass\n"
        "asyncio.run(first_frame())\n"
        "print(sorted(m for m in ('asyncssh', 'httpx', 'pymysql') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
