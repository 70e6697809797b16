"""Sorting a table by any of its columns, k9s and htop style, remembered per view.

`shift+letter` sorts by the column whose title starts with that letter (again: the other way,
then the next column with that initial); `>` and `<` move the sort to the next or previous
column; `=` goes back to the view's own order. Cells compare by their text as shown, numbers by
value ("10" after "9", "1.5k" by its figure is not guessed: digits only), and cells without a
value ("-", empty, "unknown") go last either way. The choice is kept per view (screen class and
table id) for the app's lifetime, so a view opened again keeps its order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from weakref import WeakKeyDictionary

from rich.text import Text

_DIGITS = re.compile(r"(\d+(?:\.\d+)?)")
_NO_VALUE = frozenset({"", "-", "—", "?", "unknown", "n/a"})


@dataclass(frozen=True, slots=True)
class SortOrder:
    """Sorted by the column ``column`` (its key), descending when ``reverse``."""

    column: str
    reverse: bool = False


def cell_key(text: str) -> tuple[Any, ...]:
    """A natural sort key for a cell's text: numbers by value, words case-insensitively."""
    parts: list[tuple[int, float | str]] = []
    for index, piece in enumerate(_DIGITS.split(text.strip().casefold())):
        if index % 2:
            parts.append((0, float(piece)))
        elif piece:
            parts.append((1, piece))
    return tuple(parts)


def has_value(text: str) -> bool:
    return text.strip().casefold() not in _NO_VALUE


def sorted_keys(
    keys: Sequence[str], cell: Callable[[str], Text | str], order: SortOrder | None
) -> list[str]:
    """``keys`` ordered by each one's cell (stable: equal cells keep the given order); keys
    whose cell has no value stay last whichever way the sort goes."""
    if order is None:
        return list(keys)
    valued: list[tuple[tuple[Any, ...], str]] = []
    empty: list[str] = []
    for key in keys:
        value = cell(key)
        plain = value.plain if isinstance(value, Text) else value
        if has_value(plain):
            valued.append((cell_key(plain), key))
        else:
            empty.append(key)
    valued.sort(key=lambda item: item[0], reverse=order.reverse)
    return [key for _, key in valued] + empty


def next_order(
    current: SortOrder | None, columns: Sequence[tuple[str, str]], key: str
) -> SortOrder | bool | None:
    """The order after pressing ``key`` over columns (key, title): a `SortOrder`, None for the
    view's own order, or False when ``key`` is not a sort key here."""
    keys = [column for column, _ in columns]
    if not keys:
        return False
    if key == "equals_sign":
        return None
    if key in ("greater_than_sign", "less_than_sign"):
        step = 1 if key == "greater_than_sign" else -1
        if current is None or current.column not in keys:
            return SortOrder(keys[0 if step > 0 else -1])
        at = (keys.index(current.column) + step) % len(keys)
        return SortOrder(keys[at])
    if len(key) == 1 and key.isalpha() and key.isupper():
        initial = key.casefold()
        same = [column for column, title in columns if title.strip().casefold()[:1] == initial]
        if not same:
            return False
        if current is None or current.column not in same:
            return SortOrder(same[0])
        if not current.reverse:
            return SortOrder(current.column, reverse=True)
        at = (same.index(current.column) + 1) % len(same)
        return SortOrder(same[at]) if len(same) > 1 else SortOrder(current.column)
    return False


def arrow(order: SortOrder | None, column: str) -> str:
    """The mark after a sorted column's title."""
    if order is None or order.column != column:
        return ""
    return "▼" if order.reverse else "▲"


class SortMemory:
    """Each view's sort order, kept per app (a view opened again sorts the same way)."""

    _by_app: ClassVar[WeakKeyDictionary[object, dict[str, SortOrder | None]]] = WeakKeyDictionary()

    @classmethod
    def get(cls, app: object, view: str) -> SortOrder | None:
        return cls._by_app.get(app, {}).get(view)

    @classmethod
    def put(cls, app: object, view: str, order: SortOrder | None) -> None:
        cls._by_app.setdefault(app, {})[view] = order


SORT_HELP = (
    "Tables: shift+letter sorts by the column whose title starts with it (again: reversed, then "
    "the next such column); > and < move the sort column; = back to the view's own order."
)

__all__ = [
    "SORT_HELP",
    "SortMemory",
    "SortOrder",
    "arrow",
    "cell_key",
    "has_value",
    "next_order",
    "sorted_keys",
]
