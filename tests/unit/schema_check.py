"""A small JSON Schema validator for the schemas the package ships (the keywords they use:
type, properties, required, items, enum, const, pattern), so the tests need no jsonschema."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def schema(name: str) -> dict[str, Any]:
    """A schema shipped in the package (console/schemas/NAME.schema.json)."""
    text = (files("console") / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _is(value: object, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def errors(value: object, rules: dict[str, Any], where: str = "$") -> list[str]:
    """Every way ``value`` breaks ``rules``, as ``path: reason`` lines (empty: valid)."""
    found: list[str] = []
    kinds = rules.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, kind) for kind in kinds):
            return [f"{where}: {type(value).__name__} is not {'/'.join(kinds)}"]
    if "const" in rules and value != rules["const"]:
        found.append(f"{where}: {value!r} is not {rules['const']!r}")
    if "enum" in rules and value not in rules["enum"]:
        found.append(f"{where}: {value!r} is not one of {rules['enum']}")
    if "pattern" in rules and isinstance(value, str) and not re.search(rules["pattern"], value):
        found.append(f"{where}: {value!r} does not match {rules['pattern']}")
    if isinstance(value, dict):
        for key in rules.get("required", []):
            if key not in value:
                found.append(f"{where}: {key!r} is missing")
        for key, sub in rules.get("properties", {}).items():
            if key in value:
                found.extend(errors(value[key], sub, f"{where}.{key}"))
    if isinstance(value, list) and "items" in rules:
        for index, item in enumerate(value):
            found.extend(errors(item, rules["items"], f"{where}[{index}]"))
    return found
