"""The scripted wizard runner: `clusterconsole --wizard NAME --node NODE [...]`.

One line per progress event on stdout (JSON lines with --json; `waiting` lines at most once a
second per step), the outcome and the state the cluster was left in at the end. Without --yes
and without a terminal to confirm on it changes nothing (exit 3). Ctrl-C cancels cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import signal
import sys
import time
import tomllib
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TextIO

from console import exitcodes
from console.audit import AuditError, AuditLog
from console.commands.output import GuardedOutput
from console.config.model import Inventory
from console.operations.catalog import PLANNED
from console.operations.engine import Ask, Change, Progress, Refused, Runner, Step
from console.operations.registry import (
    SPECS,
    WizardUsageError,
    check_answers,
    chosen_nodes,
    run_context,
    spec_named,
)
from console.operations.spec import WizardSpec
from console.operations.wizards.add_node_context import AddNodeUsageError, new_node
from console.textsafe import printable

CANCELLING_SIGNALS = {
    signal.SIGINT: "cancelled by the operator",
    signal.SIGTERM: "stopped by SIGTERM",
    signal.SIGHUP: "stopped by SIGHUP (the terminal was closed)",
}
"""Signals that cancel a run: the step in progress is cut short, the outcome and the state the
cluster was left in are reported and audited, as for any other ending."""
WAITING_EVERY = 1.0
"""Seconds between two printed `waiting` lines of the same step (unless what it waits for
changes)."""


def _read_answers(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with Path(path).open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise WizardUsageError(f"cannot read the answers file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise WizardUsageError(f"the answers file {path} is not valid TOML: {exc}") from None


class _Printer:
    """Renders progress events as lines of text or JSON."""

    def __init__(self, out: TextIO, *, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json
        self._last_wait: dict[str | None, tuple[float, str | None]] = {}

    def __call__(self, event: Progress) -> None:
        if event.kind == "waiting":
            now = time.monotonic()
            last = self._last_wait.get(event.step)
            if last is not None and now - last[0] < WAITING_EVERY and last[1] == event.waiting_for:
                return
            self._last_wait[event.step] = (now, event.waiting_for)
        if self.as_json:
            document = {"schema_version": 1, **event.to_json()}  # schemas/wizard-progress
            self.out.write(json.dumps(document, default=str) + "\n")
        else:
            for line in _text_lines(event):
                self.out.write(printable(line) + "\n")
        self.out.flush()


def _figures(figures: dict[str, Any]) -> str:
    shown = [f"{key.replace('_', ' ')} {value}" for key, value in figures.items()]
    return f" ({', '.join(shown)})" if shown else ""


def _text_lines(event: Progress) -> list[str]:
    where = f"[{event.index}/{event.total}] {event.step}" if event.step else event.wizard
    kind = event.kind
    if kind == "finished":
        lines = [f"{event.wizard} {event.node}: {event.status}: {event.text}"]
        if event.state:
            lines.append(f"state: {event.state}")
        return lines
    if kind == "waiting":
        return [f"{where}: {event.text}{_figures(dict(event.figures))}"]
    if kind == "plan":
        lines = [f"{where}: {event.text}"]
        if not event.changes:
            lines.append("    (changes nothing)")
        for change in event.changes:
            lines.append(f"    would {change.what}")
            lines.append(f"      request: {json.dumps(dict(change.request), default=str)}")
        return lines
    label = {"failed": "FAILED: ", "refused": "REFUSED: ", "warning": "warning: "}.get(kind, "")
    lines = [f"{where}: {label}{event.text}"]
    if kind in ("failed", "cancelled") and event.state:
        lines.append(f"    state: {event.state}")
    return lines


def _interactive(out: TextIO) -> bool:
    try:
        return sys.stdin.isatty() and out.isatty()
    except (AttributeError, ValueError):
        return False


def _confirm_hook(args: argparse.Namespace, out: TextIO) -> Any:
    yes = bool(args.yes)
    tty = _interactive(out)

    async def confirm(step: Step[Any], changes: list[Change]) -> bool:
        if yes:
            return True
        if not tty:
            raise Refused(
                "no terminal to confirm on and no --yes: nothing more was changed "
                "(use --yes to make the changes, or --dry-run to see them)"
            )
        for change in changes:
            out.write(printable(f"  about to {change.what}") + "\n")
        out.write(f"apply step {step.name}? [y/N] ")
        out.flush()
        reply = await asyncio.to_thread(sys.stdin.readline)
        return reply.strip().lower() in ("y", "yes")

    return confirm


def _nodes_given(args: argparse.Namespace) -> list[str]:
    text = getattr(args, "wizard_nodes", None) or ""
    return [name.strip() for name in text.split(",") if name.strip()]


def _context(
    inventory: Inventory,
    args: argparse.Namespace,
    spec: WizardSpec,
    audit: AuditLog,
    answers: dict[str, Any],
) -> tuple[str, AbstractAsyncContextManager[Any], Any]:
    """Who the run is about (for its lines), its context, and the wizard for it."""
    nodes: tuple[str, ...]
    if spec.scope == "cluster":
        nodes = chosen_nodes(inventory, _nodes_given(args))
    elif spec.scope == "new-node":
        answers = {**spec.defaults, **answers}
        if args.node:
            if answers.get("name") not in (None, args.node):
                raise WizardUsageError(
                    f"--node {args.node} and the answers file's name {answers['name']!r} differ"
                )
            answers["name"] = args.node
        try:
            node, _ = new_node(inventory, answers)
        except AddNodeUsageError as exc:
            raise WizardUsageError(str(exc)) from None
        nodes = (node.name,)
    else:
        nodes = (args.node,)
    context = run_context(inventory, spec.name, nodes, audit, answers)
    return ",".join(nodes), context, spec.build(nodes)


def _ask_hook(answers: dict[str, Any]) -> Ask:
    """A step's question answered from the answers file (per node where it is a table)."""

    async def ask(step: Step[Any], question: str, prompt: str, key: str | None) -> str | None:
        value = answers.get(question)
        if isinstance(value, dict):
            value = value.get(key) if key is not None else None
        if value is None:
            where = f"{question}.{key}" if key is not None else question
            raise Refused(f"{prompt}: the answers file has no {where}")
        return str(value)

    return ask


async def _run(inventory: Inventory, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    name = args.wizard
    spec = spec_named(name)
    answers = check_answers(name, _read_answers(args.answers))
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
        raise WizardUsageError("--timeout must be a positive number of seconds")
    audit = AuditLog.from_env("scripted", inventory.cluster.name)
    if not args.dry_run:
        audit.check_writable()
    node, context, wizard = _context(inventory, args, spec, audit, answers)
    missing = spec.missing_during_run(answers, node.split(","))
    if missing:
        err.write(
            printable(
                f"clusterconsole: refused: the {name} wizard asks during the run for "
                f"{', '.join(missing)}; a scripted run takes them from the answers file "
                "(--answers), so nothing was changed"
            )
            + "\n"
        )
        return exitcodes.REFUSED
    printer = _Printer(out, as_json=bool(args.json))
    async with context as ctx:
        runner = Runner(
            wizard,
            ctx,
            node=node,
            on_progress=printer,
            confirm=_confirm_hook(args, out),
            dry_run=bool(args.dry_run),
            force=bool(args.force),
            timeout=args.timeout,
            audit=audit,
            ask=_ask_hook(answers),
        )
        loop = asyncio.get_running_loop()
        for sig, reason in CANCELLING_SIGNALS.items():
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, runner.cancel, reason)
        try:
            outcome = await runner.run()
        finally:
            for sig in CANCELLING_SIGNALS:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
    if outcome.exit_code != exitcodes.OK:
        err.write(printable(f"clusterconsole: {name} {node}: {outcome.text}") + "\n")
    return outcome.exit_code


def describe(out: TextIO) -> int:
    """`--wizard help`: every wizard, where it acts and the questions it asks (with defaults),
    from the wizards' own declarations."""
    lines = ["wizards (answers go in the --answers TOML file, by name):"]
    for spec in SPECS.values():
        lines += ["  " + line for line in spec.help_lines()]
    if PLANNED:
        lines.append(f"later issues: {', '.join(PLANNED)} (not yet available)")
    out.write("\n".join(lines) + "\n")
    return exitcodes.OK


def run(inventory: Inventory, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the wizard the flags name; the exit code (0 done, 1 failed, 2 usage, 3 refused).

    Output that fails (a closed pipe or terminal) is dropped: the run goes on to its end."""
    out = GuardedOutput.wrap(out, stop=False)
    err = GuardedOutput.wrap(err, stop=False)
    if args.wizard in PLANNED:
        err.write(
            f"clusterconsole: --wizard {args.wizard}: not yet available in this version of "
            f"clusterconsole (available: {', '.join(SPECS)})\n"
        )
        return exitcodes.USAGE
    try:
        spec = spec_named(args.wizard)
    except WizardUsageError as exc:
        err.write(printable(f"clusterconsole: {exc}") + "\n")
        return exitcodes.USAGE
    given = _nodes_given(args)
    if spec.scope == "cluster" and args.node:
        err.write(
            f"clusterconsole: --wizard {spec.name} acts on the cluster: choose nodes with "
            "--nodes A,B (default: every node), not --node\n"
        )
        return exitcodes.USAGE
    if spec.scope != "cluster" and given:
        err.write(
            f"clusterconsole: --wizard {spec.name} acts on one node: give --node NODE, "
            "not --nodes\n"
        )
        return exitcodes.USAGE
    if spec.scope == "node" and not args.node:
        err.write("clusterconsole: --wizard needs --node NODE (the node it acts on)\n")
        return exitcodes.USAGE
    try:
        return asyncio.run(_run(inventory, args, out, err))
    except WizardUsageError as exc:
        err.write(printable(f"clusterconsole: {exc}") + "\n")
        return exitcodes.USAGE
    except AuditError as exc:
        err.write(printable(f"clusterconsole: {exc}; nothing was changed") + "\n")
        return exitcodes.USAGE
