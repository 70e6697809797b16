"""`clusterconsole sandbox ACTION` (up, down, status, spares, inventory, license-key)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from console import exitcodes
from console.commands.parser import PROG


def err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def no_sandbox(root: Path) -> str:
    """What to say when there is no sandbox to use."""
    return f"no sandbox in {root}: start one with `{PROG} sandbox up`"


def run(args: argparse.Namespace) -> int:
    from console.sandbox import manager
    from console.sandbox.layout import current_layout

    command = args.sandbox_command
    if command == "up":
        manager.up(args.nodes, report=print, variant=args.variant, spare_count=args.spare)
        print(f"open the console on it: {PROG} --sandbox")
        return exitcodes.OK
    if command == "down":
        manager.down(report=print)
        return exitcodes.OK
    if command == "license-key":
        from console.sandbox.vendor import print_license_key

        return print_license_key(args.system_key, out=sys.stdout, err=sys.stderr)
    layout = current_layout()
    if command == "inventory":
        if not layout.inventory.exists():
            err(no_sandbox(layout.root))
            return exitcodes.PROBLEMS
        print(layout.inventory)
        return exitcodes.OK
    if command == "spares":
        from console.sandbox.spares import print_spares

        return print_spares(layout, as_json=bool(getattr(args, "json", False)))
    rows = manager.status(layout)
    if getattr(args, "json", False):
        print(
            json.dumps(
                {
                    "dir": str(layout.root),
                    "inventory": str(layout.inventory),
                    "variant": layout.variant,
                    "components": [
                        {"name": r.name, "kind": r.kind, "listen": r.listen, "pid": r.pid}
                        for r in rows
                    ],
                }
            )
        )
    else:
        print(f"sandbox in {layout.root} (variant {layout.variant})")
        for row in rows:
            state = f"running (pid {row.pid})" if row.running else "stopped"
            print(f"  {row.name:<14} {row.kind:<9} {row.listen:<22} {state}")
    return exitcodes.OK if all(row.running for row in rows) else exitcodes.PROBLEMS
