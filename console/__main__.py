"""The `clusterconsole` command's entry point (`python -m console` too).

The one module that joins the command line (`console.commands.cli`) to the screens: it hands the CLI
a
function that starts the Textual app, imported only when a screen is asked for.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from console.commands.cli import main as cli_main

if TYPE_CHECKING:
    from console.config.model import Inventory


def run_screen(
    inventory: Inventory, *, theme: str | None, read_only: bool, cycle: float | None
) -> int:
    """Start the interactive session, or the wall screen when read-only."""
    from screens.app import run_interactive

    return run_interactive(inventory, theme=theme, read_only=read_only, cycle=cycle)


def main() -> int:
    return cli_main(screen=run_screen)


if __name__ == "__main__":
    sys.exit(main())
