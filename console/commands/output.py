"""Standard output that survives its reader going away (``clusterconsole ... | head -5``).

Python ignores SIGPIPE, so a write to a pipe whose reader has exited fails with
BrokenPipeError; a closed terminal (SIGHUP) makes writes fail with EIO. Neither is the fault of
the file being scanned or of the cluster, and neither may stop a wizard halfway through a change.

`GuardedOutput` wraps a text stream. On the first failed write it points the stream's file
descriptor at /dev/null (what the Python documentation recommends for SIGPIPE, so that the
interpreter's last flush at exit does not complain either) and from then on:

- in ``stop`` mode (read-only commands) the write raises `OutputClosed`: the command ends
  quietly, exit 0 for a reader that went away;
- otherwise (wizards, anything that changes a cluster) every write is silently dropped and the
  work goes on to its end, audited as usual.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
from typing import BinaryIO, TextIO, cast

GONE = frozenset({errno.EPIPE, errno.ECONNRESET, errno.EIO, errno.ENXIO})
"""Write errors meaning the reader (pipe, terminal) is gone, not that something is wrong."""


class OutputClosed(Exception):
    """Output can no longer be written. `gone`: the reader went away (a closed pipe or terminal),
    which is no error; otherwise `reason` says what failed (e.g. a full disk)."""

    def __init__(self, reason: str, *, gone: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.gone = gone


class GuardedOutput:
    """A text stream whose write failures never surface as OSError (see the module docstring)."""

    def __init__(self, inner: TextIO, *, stop: bool) -> None:
        self.inner = inner
        self.stop = stop
        """True: raise OutputClosed once output fails; False: drop the output, go on."""
        self.failed: OutputClosed | None = None
        self._bytes: BinaryIO | None = None  # the byte stream under a UTF-8 text stream
        self._looked_up = False
        self._text_written = False  # text that may wait in the text layer's buffer

    @classmethod
    def wrap(cls, stream: TextIO, *, stop: bool) -> TextIO:
        """`stream` guarded (a guarded stream is returned as it is, with `stop` set)."""
        if isinstance(stream, GuardedOutput):
            stream.stop = stop
            return cast(TextIO, stream)
        return cast(TextIO, cls(stream, stop=stop))

    def _fail(self, exc: OSError) -> None:
        if self.failed is None:
            gone = isinstance(exc, BrokenPipeError) or exc.errno in GONE
            self.failed = OutputClosed(exc.strerror or str(exc), gone=gone)
            _to_devnull(self.inner)
        if self.stop:
            raise self.failed

    def write(self, text: str) -> int:
        if self.failed is not None:
            if self.stop:
                raise self.failed
            return len(text)
        try:
            self._text_written = True
            return self.inner.write(text)
        except OSError as exc:
            self._fail(exc)
            return len(text)

    def write_utf8(self, data: bytes) -> None:
        """Text encoded as UTF-8 (JSON lines): into the byte stream under a UTF-8 text stream as
        it is, else decoded and written as text. A busy log's 123 MB of JSON lines decoded and
        encoded again cost 0.4 s (an ellipsis makes the text no ASCII string, and the encoder
        takes its slow road)."""
        binary = self._byte_stream()
        if binary is None:
            self.write(data.decode())
            return
        if self.failed is not None:
            if self.stop:
                raise self.failed
            return
        try:
            if self._text_written:
                self._text_written = False
                self.inner.flush()  # what was written as text comes first
            binary.write(data)
        except OSError as exc:
            self._fail(exc)

    def _byte_stream(self) -> BinaryIO | None:
        if not self._looked_up:
            self._looked_up = True
            buffer = getattr(self.inner, "buffer", None)
            try:
                utf8 = codecs.lookup(getattr(self.inner, "encoding", "") or "").name == "utf-8"
            except LookupError:
                utf8 = False
            if utf8 and callable(getattr(buffer, "write", None)):
                self._bytes = cast(BinaryIO, buffer)
        return self._bytes

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.failed is not None:
            if self.stop:
                raise self.failed
            return
        try:
            self.inner.flush()
        except OSError as exc:
            self._fail(exc)
        except ValueError:  # the stream was closed under us: nobody can read it anyway
            pass

    def isatty(self) -> bool:
        if self.failed is not None:
            return False
        try:
            return self.inner.isatty()
        except (AttributeError, ValueError, OSError):
            return False

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.inner, "encoding", "utf-8") or "utf-8"

    @property
    def errors(self) -> str | None:
        return getattr(self.inner, "errors", None)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def _to_devnull(stream: TextIO) -> None:
    """Point the stream's descriptor at /dev/null and drop what its buffer still holds."""
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)
    with contextlib.suppress(OSError, ValueError):
        stream.flush()  # to /dev/null now: the buffered rest is dropped, not re-raised at exit
