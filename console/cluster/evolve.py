"""`evolve`: `dataclasses.replace` for the snapshot's frozen, slotted dataclasses, about three
times faster.

The reducer makes a new node view and a new snapshot for every observation: with 500 nodes that
is over a thousand of each a second, and `dataclasses.replace` (a generic walk over the fields,
then `__init__` setting each one through `object.__setattr__`) was most of the reducer's time
(`tests/bench/dashboard.py`, BENCHMARKS.md round 5). `evolve` copies every slot of the old
object into a new one with a function generated once per class (as `dataclasses` generates
`__init__`), setting what `changes` names. It skips `__init__`, so it serves only classes
whose `__init__` does nothing more than set the fields: frozen, slotted, every field in
`__init__`, no `__post_init__` — checked when the class is first evolved (TypeError otherwise).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_COPIERS: dict[type, Callable[[Any, dict[str, object]], Any]] = {}


def _copier(cls: type) -> Callable[[Any, dict[str, object]], Any]:
    if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        raise TypeError(f"evolve serves frozen dataclasses, not {cls.__name__}")
    if "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"evolve serves slotted dataclasses without __post_init__: {cls.__name__}")
    fields = dataclasses.fields(cls)
    if any(not field.init for field in fields):
        raise TypeError(f"{cls.__name__} has a field outside __init__: use dataclasses.replace")
    names = [field.name for field in fields]
    lines = ["def copy(old, changes):", "    new = make(cls)"]
    for name in names:
        lines.append(
            f"    set_{name}(new, changes.pop({name!r}) if {name!r} in changes else old.{name})"
        )
    lines += [
        "    if changes:",
        "        raise TypeError(f'{cls.__name__} has no field {next(iter(changes))!r}')",
        "    return new",
    ]
    scope: dict[str, Any] = {"make": object.__new__, "cls": cls}
    scope.update({f"set_{name}": cls.__dict__[name].__set__ for name in names})
    exec("\n".join(lines), scope)  # generated from the class's own field names, nothing else
    copier: Callable[[Any, dict[str, object]], Any] = scope["copy"]
    _COPIERS[cls] = copier
    return copier


def evolve(obj: T, **changes: object) -> T:
    """A copy of `obj` with `changes` set (`dataclasses.replace` without running `__init__`)."""
    copier = _COPIERS.get(type(obj)) or _copier(type(obj))
    result: T = copier(obj, changes)
    return result
