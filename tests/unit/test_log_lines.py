"""The newline count behind every line number: compiled and fallback agree with bytes.count."""

from __future__ import annotations

import random

import pytest

from probes.logs import lines


def _cases() -> list[tuple[bytes, int, int]]:
    rng = random.Random(20261122)
    cases: list[tuple[bytes, int, int]] = [
        (b"", 0, 0),
        (b"\n", 0, 1),
        (b"\n" * 1000, 0, 1000),  # blocks of 255 full of newlines: the byte-wide sum at its limit
        (b"\n" * 1000, 3, 997),
        (b"a\nb\n", -3, -1),  # negative bounds, as in a slice
        (b"a\nb\n", -100, 100),  # out-of-range bounds are clamped
        (b"a\nb\n", 3, 1),  # an empty range
    ]
    for _ in range(200):
        size = rng.choice((1, 254, 255, 256, 511, 4096, 70_000))
        data = bytes(rng.choice(b"ab\n\r\x00\xff") for _ in range(size))
        start = rng.randrange(-size - 2, size + 2)
        end = rng.randrange(-size - 2, size + 2)
        cases.append((data, start, end))
    return cases


@pytest.mark.parametrize("count", [lines.count_newlines, lines.python_count])
def test_counts_like_bytes_count_for_any_bounds(count: object) -> None:
    for data, start, end in _cases():
        for buffer in (data, bytearray(data)):
            assert count(buffer, start, end) == data.count(b"\n", start, end), (start, end)  # type: ignore[operator]


def test_the_compiled_count_is_built_by_the_install() -> None:
    # `make venv` installs gcc and builds it; without it the scanner is a quarter slower.
    assert lines.ACCELERATED, "probes/logs/_lines.c was not compiled (is gcc installed?)"


def test_the_compiled_count_refuses_what_is_not_a_buffer() -> None:
    if not lines.ACCELERATED:
        pytest.skip("not built")
    with pytest.raises(TypeError):
        lines.count_newlines("text\n", 0, 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        lines.count_newlines(b"x", 0)  # type: ignore[call-arg]
