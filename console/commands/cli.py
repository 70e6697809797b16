"""The `clusterconsole` command: every mode, one parser, documented exit codes.

User errors (bad flags, a broken cluster.toml, a sandbox that will not start) are printed as
plain sentences with the exit code the README documents; a traceback is never shown. An
unexpected internal error is written to a crash file and summarised in one line.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from console import exitcodes
from console.commands import sandbox as cli_sandbox
from console.commands.output import GuardedOutput, OutputClosed
from console.commands.parser import PROG, _version, build_parser
from console.config.errors import ConfigError, ConfigNotFound
from console.paths import user_state_dir
from console.sandbox.errors import SandboxError

if TYPE_CHECKING:
    from console.config.model import Inventory


class ScreenRunner(Protocol):
    """Runs the interactive session or the wall screen; returns the exit code.

    The command line never imports the screens: its entry point (`console.__main__`) hands it
    this, so `console/` stays free of Textual and `status`, `events` or a scripted wizard never
    load it."""

    def __call__(
        self, inventory: Inventory, *, theme: str | None, read_only: bool, cycle: float | None
    ) -> int: ...


# Heavier modules (the config model, the sandbox, the monitor) are imported where a mode needs
# them: `events` on a big file should not pay for the whole console before it starts scanning.
def _err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _inventory_path(args: argparse.Namespace) -> Path:
    """The inventory file the options point at: --sandbox, --context, --config or the search."""
    from console.config import find_config

    if getattr(args, "sandbox", False):
        from console.sandbox.layout import current_layout  # not the manager: a light import

        layout = current_layout()
        if not layout.inventory.exists():
            raise ConfigNotFound(cli_sandbox.no_sandbox(layout.root))
        return layout.inventory
    if getattr(args, "context", None):
        from console.config.contexts import context_path

        return context_path(args.context)
    return find_config(getattr(args, "config", None))


def _resolve_inventory(args: argparse.Namespace) -> Inventory:
    """The validated inventory the options point at (raises ConfigError/ConfigNotFound)."""
    from console.config import load_inventory

    inventory = load_inventory(_inventory_path(args))
    if getattr(args, "accept_new_host_keys", False):
        from dataclasses import replace

        inventory = replace(inventory, ssh=replace(inventory.ssh, accept_new=True))
    return inventory


def _run_config(args: argparse.Namespace) -> int:
    from console.commands import tools as cli_tools

    if args.config_command == "import":
        from console.config import ansible as ansible_import

        return ansible_import.run(args.ansible, group=args.group, out=sys.stdout, err=sys.stderr)
    path = Path(args.file) if args.file else _inventory_path(args)
    return cli_tools.config_check(path, sys.stdout, sys.stderr)


def _dispatch(args: argparse.Namespace, screen: ScreenRunner | None) -> int:
    from console.commands.tools import cycle_problem

    if (problem := cycle_problem(args.cycle, args.watch)) is not None:
        _err(problem)
        return exitcodes.USAGE
    if (args.serve or args.serve_public) and not args.watch:
        _err("--serve only applies to --watch (the wall screen in a browser)")
        return exitcodes.USAGE
    if args.serve_public and not args.serve:
        _err("--serve-public only applies to --serve ADDR:PORT")
        return exitcodes.USAGE
    if args.command == "sandbox":
        return cli_sandbox.run(args)
    if args.command == "config":
        return _run_config(args)
    if args.command in ("completion", "man"):
        from console.commands import docs as cli_docs

        if args.command == "man":
            sys.stdout.write(cli_docs.man_page(build_parser(), PROG, _version()))
            return exitcodes.OK
        if args.names:
            return cli_docs.names(args.names, getattr(args, "config", None), sys.stdout)
        if not args.shell:
            _err(
                "completion: name a shell (bash, zsh or fish), "
                "e.g. `source <(clusterconsole completion bash)`"
            )
            return exitcodes.USAGE
        sys.stdout.write(cli_docs.completion(args.shell, build_parser(), PROG))
        return exitcodes.OK
    if args.command == "events":
        from console.commands import events as events_command

        return events_command.run(
            args.files,
            as_json=getattr(args, "json", False),
            out=sys.stdout,
            err=sys.stderr,
            kinds=args.kind,
            since=args.since,
            until=args.until,
            nodes=args.node,
        )
    if args.command == "balancer":
        from console.commands import balancer as balancer_command

        return balancer_command.run(
            args.url, as_json=getattr(args, "json", False), out=sys.stdout, err=sys.stderr
        )
    if args.wizard and args.watch:
        _err("refused: --watch is read-only and cannot run a wizard")
        return exitcodes.REFUSED
    if args.wizard == "help":
        from console.commands import wizard as wizard_cli

        return wizard_cli.describe(sys.stdout)
    inventory = _resolve_inventory(args)
    if args.command == "doctor":
        from console.commands import doctor as doctor_command

        return doctor_command.run(inventory, as_json=getattr(args, "json", False), out=sys.stdout)
    if args.command == "deploy":
        from console.commands import deploy as deploy_command

        wanted = [n.strip() for n in (args.deploy_nodes or "").split(",") if n.strip()]
        return deploy_command.run(
            inventory, as_json=getattr(args, "json", False), out=sys.stdout, nodes=wanted
        )
    if args.command == "status":
        from console.commands import status as status_command

        return status_command.run(
            inventory,
            as_json=getattr(args, "json", False),
            out=sys.stdout,
            nagios=getattr(args, "nagios", False),
        )
    if args.wizard:
        from console.commands import wizard as wizard_cli

        return wizard_cli.run(inventory, args, out=sys.stdout, err=sys.stderr)
    if args.watch and args.serve:
        from console.commands import serve

        return serve.run(
            inventory, args.serve, public=args.serve_public, theme=args.theme, cycle=args.cycle
        )
    if screen is None:
        _err("this entry point draws no screen: run the clusterconsole command")
        return exitcodes.USAGE
    if args.watch:
        return screen(inventory, theme=args.theme, read_only=True, cycle=args.cycle)
    return screen(inventory, theme=args.theme, read_only=False, cycle=None)


def _crash_report(exc: BaseException) -> Path | None:
    """Write the traceback of an unexpected error to the state directory; None if impossible."""
    try:
        directory = user_state_dir()
        directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = directory / f"crash-{stamp}.txt"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return path
    except OSError:
        return None


def _changes_something(args: argparse.Namespace) -> bool:
    """Whether the mode may change a cluster or the sandbox: then output failing must not stop
    it halfway (it goes on without output); a read-only command just ends."""
    if args.command == "sandbox":
        return bool(args.sandbox_command in ("up", "down"))
    return args.command is None and bool(args.wizard)


def _screen(args: argparse.Namespace) -> bool:
    """The interactive session and watch mode own the terminal (Textual writes to it)."""
    return args.command is None and not args.wizard


def main(argv: Sequence[str] | None = None, *, screen: ScreenRunner | None = None) -> int:
    """Entry point of the `clusterconsole` console script; returns the exit code.

    Standard output and error are guarded (`console.commands.output`): a reader that goes away
    (`| head`, a closed terminal) ends a read-only command quietly with 0 and never stops a
    wizard or a sandbox change halfway, which then finish without output.
    """
    saved = sys.stdout, sys.stderr
    sys.stdout = GuardedOutput.wrap(sys.stdout, stop=True)
    sys.stderr = GuardedOutput.wrap(sys.stderr, stop=False)
    try:
        args = build_parser().parse_args(argv)
        if _screen(args):
            sys.stdout, sys.stderr = saved
        else:
            sys.stdout = GuardedOutput.wrap(sys.stdout, stop=not _changes_something(args))
            from console.commands import login_tty

            login_tty.install()  # one-time codes asked on a terminal (stderr), refused elsewhere
        return _main(args, screen)
    except OutputClosed as exc:
        if exc.gone:
            return exitcodes.OK
        _err(f"cannot write the output: {exc.reason}")
        return exitcodes.PROBLEMS
    finally:
        with contextlib.suppress(OutputClosed):
            sys.stdout.flush()
        sys.stdout, sys.stderr = saved


def _main(args: argparse.Namespace, screen: ScreenRunner | None) -> int:
    nagios = getattr(args, "nagios", False)
    try:
        return _dispatch(args, screen)
    except OutputClosed:
        raise
    except (ConfigNotFound, ConfigError) as exc:
        print(str(exc), file=sys.stderr)
        if nagios:  # a monitoring check that cannot run is UNKNOWN, with its one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no inventory"
            print(f"CLUSTERCONSOLE UNKNOWN - configuration: {first}")
            return 3
        if isinstance(exc, ConfigError):
            _err("the configuration has errors; nothing was done")
        return exitcodes.USAGE
    except SandboxError as exc:
        _err(f"sandbox: {exc}")
        return exitcodes.PROBLEMS
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Exception as exc:
        where = _crash_report(exc)
        detail = f" (details in {where})" if where else ""
        _err(f"internal error: {type(exc).__name__}: {exc}{detail}; please report it")
        return exitcodes.PROBLEMS


if __name__ == "__main__":
    sys.exit(main())
