"""The base of the app shell's parts (`screens/app_*.py`), each a mixin of one concern that
`ClusterConsoleApp` inherits.

To the type checker a part is a Textual ``App[int]`` (it may call ``notify``, ``run_worker``,
``push_screen`` ...); at run time it is a plain class, so the app's MRO, CSS type names and
bindings are the App's own. Each part declares the app's attributes it reads and, under
``TYPE_CHECKING``, the methods of other parts it calls: mypy checks those declarations against
the definitions where the parts meet in `ClusterConsoleApp`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[int]
else:
    _Base = object


class AppPart(_Base):
    """One concern of the app shell (views, schedules, inventory, chrome, the wall)."""
