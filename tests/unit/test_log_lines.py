"""The newline count behind every line number: compiled and fallback agree with bytes.count."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from probes.logs import lines

ROOT = Path(__file__).resolve().parents[2]


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


def _first_of(data: bytes, start: int, end: int, needles: tuple[bytes, ...]) -> int:
    found = [at for needle in needles if (at := data.find(needle, start, end)) >= 0]
    return min(found) if found else -1


def test_one_pass_search_finds_the_first_needle_like_bytes_find() -> None:
    """Every needle length and guard (one byte, a rare pair at any offset), needles at the
    buffer's ends and across the 16-byte blocks, overlapping needles, bounds like a slice's;
    few needles (a compare per needle) and many (the Teddy filter, 8 buckets shared)."""
    if lines.find_any is None:
        pytest.skip("not built")
    rng = random.Random(18)
    alphabet = b"ab{|V.Ce \n"
    for _ in range(400):
        needles = tuple(
            bytes(rng.choice(alphabet) for _ in range(rng.choice((1, 2, 3, 5, 17))))
            for _ in range(rng.randrange(1, 30))  # from 4: the Teddy filter, buckets shared
        )
        spec = lines.needle_spec(needles)
        sizes = (0, 1, 15, 16, 17, 31, 32, 33, 34, 64, 65, 700)  # SSE2 16- and AVX2 32-byte blocks
        data = bytes(rng.choice(alphabet) for _ in range(rng.choice(sizes)))
        for buffer in (data, bytearray(data)):
            start = rng.randrange(0, len(data) + 1)
            end = rng.randrange(start, len(data) + 1)
            at, which = lines.find_any(buffer, start, end, spec)
            assert at == _first_of(data, start, end, needles), (needles, data, start, end)
            assert which == -1 if at < 0 else data.startswith(needles[which], at)
            assert at < 0 or at + len(needles[which]) <= end


def test_candidate_lines_are_the_same_with_and_without_the_one_pass_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pathlib import Path

    from probes.logs import needles
    from probes.logs.scanner import scan_file

    if lines.find_any is None:
        pytest.skip("not built")
    logs = sorted((Path(__file__).parent / "data" / "logs").glob("*.log"))
    with_helper = [list(scan_file(path)) for path in logs]
    monkeypatch.setattr(needles, "find_any", None)
    assert [list(scan_file(path)) for path in logs] == with_helper


def test_a_rebuilt_helper_replaces_the_old_file_instead_of_rewriting_it(tmp_path: Path) -> None:
    # A process that had the old helper loaded crashed when the file was rewritten in place.
    import importlib.util

    from setuptools import Distribution

    spec = importlib.util.spec_from_file_location("cc_setup", ROOT / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built, installed = tmp_path / "built.so", tmp_path / "_lines.so"
    built.write_bytes(b"new")
    installed.write_bytes(b"old")
    loaded = installed.stat().st_ino
    module.AtomicBuildExt(Distribution()).copy_file(str(built), str(installed))
    assert installed.read_bytes() == b"new"
    assert installed.stat().st_ino != loaded  # a new file: the old one stays whole for its users
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_lines.so", "built.so"]
