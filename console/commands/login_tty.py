"""Keyboard-interactive logins (one-time codes) answered on the terminal by a command (`status`).

On a terminal, a node's challenge is asked on stderr and read from stdin, a secret question
(no echo) with the terminal's echo off, like `getpass`; stdout stays the command's own (its JSON
or table). The server's texts are untrusted: control characters are shown escaped. Questions
come one at a time. Without a terminal (a pipe, cron, a monitoring check) nothing is asked and
the node's reason says so.

The read blocks, so it runs in a daemon thread: a command ending (its deadline, Ctrl-C) never
waits for an answer that will not come, and the terminal's echo is restored at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

from console.textsafe import printable
from probes.ssh.prompt import set_kbdint_prompt

NO_TERMINAL = (
    "needs a terminal to prompt on (stdin is not one): run the command on a terminal, "
    "or log in with a key"
)


class TerminalPrompt:
    """Asks keyboard-interactive challenges on a terminal (`probes.ssh.prompt.KbdintPrompt`)."""

    def __init__(self, stdin: TextIO, out: TextIO) -> None:
        self.stdin = stdin
        self.out = out
        self._lock: asyncio.Lock | None = None

    async def ask(
        self, node: str, name: str, instructions: str, prompts: Sequence[tuple[str, bool]]
    ) -> list[str] | None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            return await _in_thread(lambda: self._ask(node, name, instructions, prompts))

    def _ask(
        self, node: str, name: str, instructions: str, prompts: Sequence[tuple[str, bool]]
    ) -> list[str] | None:
        out = self.out
        out.write(f"{printable(node)}: keyboard-interactive login\n")
        for text in (name, instructions):
            if text.strip():
                out.write(f"  {printable(text.strip())}\n")
        answers = []
        for question, echo in prompts:
            line = self._read(echo, f"  {printable(question) or 'answer: '}")
            if line is None:
                out.write("\n")
                out.flush()
                return None
            answers.append(line)
        return answers

    def _read(self, echo: bool, question: str) -> str | None:
        """Ask `question` and read one line, without echo for a secret (turned off before the
        question shows, as getpass does: a code typed at once is never echoed); None at end of
        input."""
        with contextlib.ExitStack() as undo:
            if not echo:
                undo.enter_context(_echo_off(self.stdin))
            self.out.write(question)
            self.out.flush()
            line = self.stdin.readline()
        if not echo:
            self.out.write("\n")  # the Enter typed was not echoed either
        if not line:
            return None
        return line.rstrip("\r\n")


@contextlib.contextmanager
def _echo_off(stream: TextIO) -> Iterator[None]:
    import termios

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    quiet = list(saved)
    quiet[3] = quiet[3] & ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
    restore = _restorer(fd, saved)
    atexit.register(restore)  # the thread may be abandoned mid-read (deadline, Ctrl-C)
    try:
        yield
    finally:
        restore()
        atexit.unregister(restore)


def _restorer(fd: int, saved: list[Any]) -> Callable[[], None]:
    def restore() -> None:
        import termios

        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSAFLUSH, saved)

    return restore


async def _in_thread(work: Callable[[], list[str] | None]) -> list[str] | None:
    """``work()`` in a daemon thread (never joined at exit, unlike asyncio.to_thread's)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[list[str] | None] = loop.create_future()

    def run() -> None:
        try:
            result = work()
        except (OSError, ValueError, EOFError):
            result = None

        def settle() -> None:
            if not future.done():
                future.set_result(result)

        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle)

    threading.Thread(target=run, name="kbdint-prompt", daemon=True).start()
    return await future


def install(stdin: TextIO | None = None, out: TextIO | None = None) -> bool:
    """Answer keyboard-interactive logins on the terminal when stdin is one; else refuse them
    with a reason saying a terminal is needed. True when a prompt was installed."""
    stdin = sys.stdin if stdin is None else stdin
    out = sys.stderr if out is None else out
    try:
        terminal = stdin.isatty()
    except (ValueError, OSError):  # closed stdin
        terminal = False
    if not terminal:
        set_kbdint_prompt(None, why=NO_TERMINAL)
        return False
    set_kbdint_prompt(TerminalPrompt(stdin, out).ask)
    return True


__all__ = ["NO_TERMINAL", "TerminalPrompt", "install"]
