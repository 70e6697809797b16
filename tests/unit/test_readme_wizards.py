"""The README's wizard table is the catalog's: a wizard added to the catalog without the README
(or a changed default) fails here; `python -m console.operations.catalog_readme README.md`
regenerates it."""

from __future__ import annotations

from pathlib import Path

from console.operations.catalog import CATALOG
from console.operations.catalog_readme import BEGIN, END, block, replaced

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lists_every_wizard_of_the_catalog_as_generated() -> None:
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    shown = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert shown == block(), "regenerate: python -m console.operations.catalog_readme README.md"
    for entry in CATALOG:
        assert f"| `{entry.name}` |" in shown


def test_regenerating_keeps_the_rest_of_the_readme() -> None:
    text = "# title\n\nbefore\n\n" + BEGIN + "\nold table\n" + END + "\n\nafter\n"
    out = replaced(text)
    assert out.startswith("# title\n\nbefore\n\n") and out.endswith("\n\nafter\n")
    assert "old table" not in out and "| `drain` |" in out
