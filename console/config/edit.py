"""Add or remove a ``[[nodes]]`` table in cluster.toml, keeping every other byte of the file.

The wizards (add-node, remove-node) write the inventory through these two functions:

- ``add_node(path, fields)`` inserts a new ``[[nodes]]`` table after the last one;
- ``remove_node(path, name)`` cuts the named node's table (with the comment lines directly above
  its header, which describe it) and nothing else.

Both build the whole candidate text first, validate it with the inventory loader (the same checks
as ``clusterconsole`` runs at start), and only then replace the file atomically (temporary file in
the same directory, fsync, rename; the file's mode is kept). The file is read again just before
the rename: if someone changed it meanwhile, nothing is written. Every refusal is an
``InventoryEditError`` whose text says what is wrong and where; the file is then untouched.

Why text splicing and not tomlkit's own array-of-tables editing: tomlkit (0.15) files the comment
lines above a table header under the table before it, so deleting a node through its document
model drops the next table's comment and keeps the removed node's, and appending puts the next
table's comment above the new node. The console therefore cuts and inserts whole lines, and uses
tomlkit to render the new table's values (strings, arrays, numbers with TOML's exact escaping)
and to check that the rest of the document reads back unchanged.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

import tomlkit
import tomlkit.exceptions

from console.config import ConfigError, Inventory, load_inventory_text
from console.config.lines import FieldPath, scan_lines

__all__ = [
    "InventoryEditError",
    "add_node",
    "node_table_text",
    "remove_node",
    "with_node_text",
]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class InventoryEditError(Exception):
    """An inventory edit was refused; the file was not changed."""


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InventoryEditError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InventoryEditError(f"{path}: cannot read: not UTF-8 text") from None


def _load(text: str, path: Path, what: str) -> Inventory:
    try:
        return load_inventory_text(text, path, display_name=f"{path} ({what})")
    except ConfigError as exc:
        raise InventoryEditError(str(exc)) from None


def node_table_text(fields: Mapping[str, object]) -> str:
    """The ``[[nodes]]`` table for ``fields`` as TOML text (values rendered by tomlkit)."""
    out = ["[[nodes]]"]
    for key, value in fields.items():
        if not _BARE_KEY.fullmatch(key):
            raise InventoryEditError(f"node field {key!r}: not a field name")
        try:
            rendered = tomlkit.item(value).as_string()
        except (TypeError, ValueError, tomlkit.exceptions.TOMLKitError) as exc:
            message = f"node field {key!r}: cannot be written as TOML: {exc}"
            raise InventoryEditError(message) from None
        out.append(f"{key} = {rendered}")
    return "\n".join(out) + "\n"


def _headers(text: str) -> list[tuple[int, FieldPath]]:
    """(0-based line index, table path) of every table header, in order."""
    lines = text.splitlines()
    found: dict[int, FieldPath] = {}
    for field_path, lineno in scan_lines(text).lines.items():
        index = lineno - 1
        if lines[index].lstrip(" \t").startswith("[") and len(field_path) > len(
            found.get(index, ())
        ):
            found[index] = field_path  # the longest: [[nodes]] records ("nodes",) and ("nodes", 0)
    return sorted(found.items())


def _is_comment(line: str) -> bool:
    return line.lstrip(" \t").startswith("#")


def _attached_start(lines: list[str], header: int) -> int:
    """First line of the comment lines directly above ``header`` (no blank line between)."""
    start = header
    while start > 0 and _is_comment(lines[start - 1]):
        start -= 1
    return start


def _node_block(text: str, index: int) -> tuple[int, int]:
    """[start, end) line span of node ``index``: its attached comments, header and keys
    (and its sub-tables), without the blank lines and comments that lead to the next table."""
    lines = text.splitlines()
    headers = _headers(text)
    own = [line for line, where in headers if where[:2] == ("nodes", index)]
    header = own[0]
    later = [line for line, where in headers if line > header and where[:2] != ("nodes", index)]
    end = _attached_start(lines, later[0]) if later else len(lines)
    while end > header + 1 and not lines[end - 1].strip():
        end -= 1
    return _attached_start(lines, header), end


def _check_rest(before: str, after: str, expected: list[dict[str, object]]) -> None:
    """The candidate reads back as the original with only the nodes array changed."""
    old = tomlkit.parse(before).unwrap()
    new = tomlkit.parse(after).unwrap()
    old["nodes"] = expected
    if old != new:
        raise InventoryEditError("internal check failed: the edit changed more than the node")


def _replace(path: Path, original: str, candidate: str) -> None:
    """Write ``candidate`` over ``path`` atomically, unless the file no longer holds
    ``original``."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InventoryEditError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(candidate)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        if _read(path) != original:
            raise InventoryEditError(
                f"{path}: the file changed while the edit was prepared; nothing written "
                "(run the wizard again to start from the new file)"
            )
        os.replace(temp, path)
    except OSError as exc:
        raise InventoryEditError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    try:
        directory = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def with_node_text(text: str, fields: Mapping[str, object], count: int) -> str:
    """``text`` (valid TOML with ``count`` >= 1 node tables) with a ``[[nodes]]`` table for
    ``fields`` inserted after the last node; not validated (``add_node`` validates)."""
    lines = text.splitlines(keepends=True)
    _, end = _node_block(text, count - 1)
    head = "".join(lines[:end])
    if head and not head.endswith("\n"):
        head += "\n"
    return head + "\n" + node_table_text(fields) + "".join(lines[end:])


def add_node(path: Path, fields: Mapping[str, object]) -> None:
    """Append a ``[[nodes]]`` table holding ``fields`` after the last node of ``path``.

    ``fields`` are the keys of a node table (name, host, jvm_route, catalina_base, http, ...).
    Refused (InventoryEditError, file untouched) when the file is invalid, the name or jvm_route
    is already used, the result would not load, or the file changed meanwhile.
    """
    original = _read(path)
    inventory = _load(original, path, "before the edit")
    name = str(fields.get("name", ""))
    route = str(fields.get("jvm_route", "") or "")
    for node in inventory.nodes:
        if node.name == name:
            raise InventoryEditError(f"{path}: a node named {name!r} is already in the inventory")
        if route and node.jvm_route == route:
            raise InventoryEditError(
                f"{path}: jvm_route {route!r} is already used by node {node.name!r}"
            )
    table = node_table_text(fields)
    candidate = with_node_text(original, fields, len(inventory.nodes))
    _load(candidate, path, f"after adding node {name}")
    added = tomlkit.parse(table).unwrap()["nodes"][0]
    expected = [*tomlkit.parse(original).unwrap()["nodes"], added]
    _check_rest(original, candidate, expected)
    _replace(path, original, candidate)


def remove_node(path: Path, name: str) -> None:
    """Remove node ``name``'s ``[[nodes]]`` table (and the comment lines directly above it).

    Refused (InventoryEditError, file untouched) when the node is unknown, it is the only node,
    something else still names it (a balancer's socket, deploy's source...), or the file changed
    meanwhile.
    """
    original = _read(path)
    inventory = _load(original, path, "before the edit")
    names = [node.name for node in inventory.nodes]
    if name not in names:
        known = ", ".join(names)
        raise InventoryEditError(f"{path}: no node named {name!r} (nodes: {known})")
    if len(names) == 1:
        raise InventoryEditError(f"{path}: {name!r} is the only node; an inventory needs one")
    index = names.index(name)
    lines = original.splitlines(keepends=True)
    start, end = _node_block(original, index)
    # Drop the blank line that separated the node from what came before.
    if start > 0 and not lines[start - 1].strip():
        start -= 1
    candidate = "".join(lines[:start] + lines[end:])
    _load(candidate, path, f"after removing node {name}")
    expected = list(tomlkit.parse(original).unwrap()["nodes"])
    del expected[index]
    _check_rest(original, candidate, expected)
    _replace(path, original, candidate)
