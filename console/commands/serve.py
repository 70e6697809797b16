"""`--watch --serve ADDR:PORT`: the wall screen in a browser, through textual-serve.

Each browser that connects gets its own process running ``clusterconsole --watch`` on the same
inventory: the read-only wall (no audit log, no wizard, no worker action, no export exists in it),
so nothing a viewer types can change the cluster. The server listens on loopback unless
``--serve-public`` is given: anyone who reaches the port sees the cluster's state and each viewer
costs one monitor (its own SSH connections), so exposing it is a choice made out loud. Put it
behind an authenticating reverse proxy (or an SSH tunnel to the loopback port) to share it.
"""

from __future__ import annotations

import ipaddress
import shlex
import sys
from collections.abc import Callable
from typing import TextIO

from console import exitcodes
from console.config.model import Inventory
from console.textsafe import printable


def parse_address(text: str) -> tuple[str, int]:
    """``ADDR:PORT``, ``[V6]:PORT`` or ``:PORT`` (loopback) as (host, port); ValueError if not."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"--serve wants ADDR:PORT (like 127.0.0.1:8080), got {text!r}")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"--serve: port {port} is not between 1 and 65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "127.0.0.1", port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: only "localhost" is known to stay on this machine
        return False


def wall_command(inventory: Inventory, *, theme: str | None, cycle: float | None) -> list[str]:
    """The command each browser's session runs: always the read-only wall."""
    command = [sys.executable, "-m", "console", "--config", str(inventory.path), "--watch"]
    if theme:
        command += ["--theme", theme]
    if cycle:
        command += ["--cycle", f"{cycle:g}"]
    return command


def run(
    inventory: Inventory,
    address: str,
    *,
    public: bool = False,
    theme: str | None = None,
    cycle: float | None = None,
    err: TextIO = sys.stderr,
    serve: Callable[[str, str, int, str], None] | None = None,
) -> int:
    """Serve the wall until interrupted; the exit code."""
    try:
        host, port = parse_address(address)
    except ValueError as error:
        print(f"clusterconsole: {error}", file=err)
        return exitcodes.USAGE
    if not public and not is_loopback(host):
        print(
            f"clusterconsole: refused: --serve {printable(host)} is not a loopback address; "
            "anyone who reaches it would see the cluster. Add --serve-public to mean it, or "
            "serve on 127.0.0.1 and reach it through an SSH tunnel.",
            file=err,
        )
        return exitcodes.REFUSED
    command = shlex.join(wall_command(inventory, theme=theme, cycle=cycle))
    title = f"clusterconsole --watch · {inventory.cluster.name}"
    try:
        (serve or _serve)(command, host, port, title)
    except OSError as error:  # the port is taken, the address is not ours
        print(f"clusterconsole: cannot serve on {printable(address)}: {error}", file=err)
        return exitcodes.PROBLEMS
    return exitcodes.OK


def _serve(command: str, host: str, port: int, title: str) -> None:
    from textual_serve.server import Server

    print(f"serving the read-only wall on http://{host}:{port}/ (Ctrl+C stops)", flush=True)
    Server(command, host=host, port=port, title=title).serve()


__all__ = ["is_loopback", "parse_address", "run", "wall_command"]
