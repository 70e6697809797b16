"""`events --json` writes the helper's JSON lines to the byte stream under a UTF-8 text stream
(`GuardedOutput.write_utf8`): in order with what was written as text, the same text as through
the text layer, and a reader that goes away still ends the command quietly."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from console.commands import events
from console.commands.output import GuardedOutput, OutputClosed
from tests.bench.events_scan import generate


def _guarded(stream: io.TextIOBase) -> GuardedOutput:
    out = GuardedOutput.wrap(stream, stop=True)  # type: ignore[arg-type]
    assert isinstance(out, GuardedOutput)
    return out


def test_bytes_come_in_order_with_the_text_written_before_and_after() -> None:
    raw = io.BytesIO()
    text = io.TextIOWrapper(raw, encoding="utf-8")
    out = _guarded(text)
    out.write("first\n")
    out.write_utf8("second …\n".encode())
    out.write("third\n")
    out.write_utf8(b"fourth\n")
    out.flush()
    assert raw.getvalue().decode() == "first\nsecond …\nthird\nfourth\n"


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
def test_a_stream_in_another_encoding_gets_text_as_before(encoding: str) -> None:
    raw = io.BytesIO()
    out = _guarded(io.TextIOWrapper(raw, encoding=encoding, errors="replace"))
    out.write_utf8("cut …\n".encode())
    out.flush()
    assert raw.getvalue() == "cut …\n".encode(encoding, errors="replace")


def test_a_stream_without_bytes_under_it_gets_text() -> None:
    text = io.StringIO()
    out = _guarded(text)
    out.write_utf8("a …\n".encode())
    assert text.getvalue() == "a …\n"


class _GoneReader(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_gone_stops_a_stop_mode_stream_quietly() -> None:
    out = _guarded(io.TextIOWrapper(io.BufferedWriter(_GoneReader(), 16), encoding="utf-8"))
    with pytest.raises(OutputClosed) as closed:
        out.write_utf8(b"x" * 64 + b"\n")  # more than the buffer: written through
    assert closed.value.gone


def test_events_json_through_bytes_is_the_text_path_output(tmp_path: Path) -> None:
    path = tmp_path / "catalina.out"
    generate(path, 1, seed=3, profile="busy")
    as_text = io.StringIO()
    assert events.run([str(path)], as_json=True, out=as_text, err=io.StringIO()) == 0
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8")
    assert events.run([str(path)], as_json=True, out=stream, err=io.StringIO()) == 0
    stream.flush()
    assert as_text.getvalue().count("\n") > 500
    assert raw.getvalue().decode() == as_text.getvalue()
