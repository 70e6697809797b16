"""`clusterconsole config import --ansible FILE`: an Ansible inventory as a cluster.toml to review.

Reads the three forms operators have: an INI inventory, `ansible-inventory --list` JSON, and a YAML
inventory (only when PyYAML is installed; it is not a dependency). Each host becomes a node:
``ansible_host`` its host, ``ansible_port`` its ssh_port, ``ansible_user`` its ssh_user (group
vars apply, host vars win); ``catalina_base`` from a ``catalina_base``/``catalina_home`` var when
one is set, else a placeholder marked for review. The text is printed, never written over a file:
the operator reviews it, then saves it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from console import exitcodes
from console.config.checks import NODE_NAME

PLACEHOLDER_BASE = "/opt/tomcat"
_RANGE = re.compile(r"\[([0-9]+|[a-z]):([0-9]+|[a-z])(?::([0-9]+))?\]")
_BASE_VARS = ("catalina_base", "catalina_home", "tomcat_home", "tomcat_base")


class ImportProblem(Exception):
    """The inventory cannot be read or holds no host: one sentence."""


@dataclass
class Parsed:
    """Hosts with their own vars, groups with their hosts, vars and children."""

    hostvars: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)

    def group(self, name: str) -> dict[str, Any]:
        return self.groups.setdefault(name, {"hosts": [], "vars": {}, "children": []})

    def add_host(self, group: str, host: str, variables: Mapping[str, Any]) -> None:
        if host not in self.group(group)["hosts"]:
            self.group(group)["hosts"].append(host)
        self.hostvars.setdefault(host, {}).update(variables)


def expand(pattern: str) -> list[str]:
    """Ansible's host ranges: ``web[01:03].lan`` -> web01.lan, web02.lan, web03.lan."""
    match = _RANGE.search(pattern)
    if match is None:
        return [pattern]
    start, end, step = match.group(1), match.group(2), int(match.group(3) or 1)
    head, tail = pattern[: match.start()], pattern[match.end() :]
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") else 0
        values = [str(n).zfill(width) for n in range(int(start), int(end) + 1, step)]
    else:
        values = [chr(n) for n in range(ord(start), ord(end) + 1, step)]
    return [name for value in values for name in expand(f"{head}{value}{tail}")]


def _value(text: str) -> Any:
    """An INI var value as Ansible reads it: a number, a quoted string or the text."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.isdigit():
        return int(text)
    return text


def _pairs(words: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if sep:
            found[key] = _value(value)
    return found


def parse_ini(text: str) -> Parsed:
    import shlex

    parsed = Parsed()
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section, _, kind = line[1:-1].partition(":")
            kind = kind or "hosts"
            parsed.group(section)
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise ImportProblem(f"line {number}: {exc}") from None
        if not words:
            continue
        if kind == "vars":
            key, _, value = line.partition("=")
            parsed.group(section)["vars"][key.strip()] = _value(value.strip())
        elif kind == "children":
            parsed.group(section)["children"].append(words[0])
            parsed.group(words[0])
        else:
            for host in expand(words[0]):
                parsed.add_host(section, host, _pairs(words[1:]))
    return parsed


def parse_list_json(doc: Mapping[str, Any]) -> Parsed:
    """`ansible-inventory --list` output."""
    parsed = Parsed()
    meta = doc.get("_meta", {})
    hostvars = meta.get("hostvars", {}) if isinstance(meta, dict) else {}
    for name, body in doc.items():
        if name == "_meta" or not isinstance(body, dict):
            continue
        group = parsed.group(name)
        group["vars"].update(body.get("vars") or {})
        group["children"].extend(body.get("children") or [])
        for host in body.get("hosts") or []:
            parsed.add_host(name, str(host), {})
    for host, variables in hostvars.items():
        if isinstance(variables, dict):
            parsed.hostvars.setdefault(str(host), {}).update(variables)
    return parsed


def parse_yaml_doc(doc: Mapping[str, Any]) -> Parsed:
    """A YAML inventory: groups with `hosts` (a mapping), `vars` and `children` (a mapping)."""
    parsed = Parsed()

    def walk(name: str, body: Any) -> None:
        group = parsed.group(name)
        if not isinstance(body, dict):
            return
        group["vars"].update(body.get("vars") or {})
        for pattern, variables in (body.get("hosts") or {}).items():
            for host in expand(str(pattern)):
                parsed.add_host(name, host, variables if isinstance(variables, dict) else {})
        for child, child_body in (body.get("children") or {}).items():
            if child not in group["children"]:
                group["children"].append(child)
            walk(str(child), child_body)

    for name, body in doc.items():
        walk(str(name), body)
    return parsed


def parse(text: str) -> Parsed:
    """Any of the three forms, told apart by their first character and markers."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise ImportProblem(f"not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise ImportProblem("the JSON is not an object (`ansible-inventory --list` output)")
        return parse_list_json(doc)
    first = next((line for line in stripped.splitlines() if not line.startswith("#")), "")
    if first.startswith("[") or "=" in first or not first.rstrip().endswith(":"):
        return parse_ini(text)
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        raise ImportProblem(
            "this looks like a YAML inventory, and PyYAML is not installed: install it "
            "(pip install pyyaml), or give `ansible-inventory -i FILE --list` JSON instead"
        ) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportProblem(f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ImportProblem("the YAML is not a mapping of groups")
    return parse_yaml_doc(doc)


def _members(parsed: Parsed, group: str, seen: set[str] | None = None) -> Iterator[str]:
    seen = set() if seen is None else seen
    if group in seen or group not in parsed.groups:
        return
    seen.add(group)
    yield from parsed.groups[group]["hosts"]
    for child in parsed.groups[group]["children"]:
        yield from _members(parsed, child, seen)


def _host_vars(parsed: Parsed, host: str) -> dict[str, Any]:
    """Group vars (``all`` first, then groups by name), then the host's own: the host wins."""
    merged: dict[str, Any] = dict(parsed.groups.get("all", {}).get("vars", {}))
    for name in sorted(parsed.groups):
        if name != "all" and host in set(_members(parsed, name)):
            merged.update(parsed.groups[name]["vars"])
    merged.update(parsed.hostvars.get(host, {}))
    return merged


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _node_name(host: str, taken: set[str]) -> str:
    base = host.split(".")[0] if not host.replace(".", "").isdigit() else host.replace(".", "-")
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", base).strip("-._")[:63] or "node"
    if not NODE_NAME.fullmatch(name):
        name = f"n{name}"[:63]
    unique, number = name, 2
    while unique in taken:
        unique, number = f"{name}-{number}", number + 1
    taken.add(unique)
    return unique


def to_cluster_toml(parsed: Parsed, *, source: str, group: str | None, cluster: str) -> str:
    if group is not None:
        if group not in parsed.groups:
            known = ", ".join(sorted(parsed.groups)) or "none"
            raise ImportProblem(f"no group {group!r} in the inventory (groups: {known})")
        hosts = list(dict.fromkeys(_members(parsed, group)))
    else:
        hosts = list(
            dict.fromkeys(
                [*parsed.hostvars, *(h for g in parsed.groups for h in _members(parsed, g))]
            )
        )
    if not hosts:
        raise ImportProblem("the inventory names no host")
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [
        f"# Imported from the Ansible inventory {source} on {stamp}.",
        "# Review it before use: every catalina_base marked REVIEW is a guess, and balancers,",
        "# the database and the shared directory are not in an Ansible inventory.",
        "",
        "[cluster]",
        f"name = {_toml(cluster)}",
        "",
    ]
    taken: set[str] = set()
    for host in hosts:
        variables = _host_vars(parsed, host)
        lines.append("[[nodes]]")
        lines.append(f"name = {_toml(_node_name(host, taken))}")
        lines.append(f"host = {_toml(str(variables.get('ansible_host', host)))}")
        port = variables.get("ansible_port", variables.get("ansible_ssh_port"))
        if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
            lines.append(f"ssh_port = {int(port)}")
        user = variables.get("ansible_user", variables.get("ansible_ssh_user"))
        if isinstance(user, str) and user:
            lines.append(f"ssh_user = {_toml(user)}")
        base = next(
            (variables[key] for key in _BASE_VARS if isinstance(variables.get(key), str)), None
        )
        if base and str(base).startswith("/"):
            lines.append(f"catalina_base = {_toml(str(base))}")
        else:
            lines.append(
                f"catalina_base = {_toml(PLACEHOLDER_BASE)}  # REVIEW: not in the inventory"
            )
        lines.append("")
    return "\n".join(lines)


def run(source: str, *, group: str | None, out: TextIO, err: TextIO) -> int:
    """Print the cluster.toml for ``source`` ('-': stdin); 2 when it cannot be imported."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"clusterconsole: cannot read {source}: {exc}", file=err)
        return exitcodes.USAGE
    name = group or (Path(source).stem if source != "-" else "imported")
    try:
        toml = to_cluster_toml(parse(text), source=source, group=group, cluster=name)
    except ImportProblem as exc:
        print(f"clusterconsole: {source}: {exc}", file=err)
        return exitcodes.USAGE
    out.write(toml)
    return exitcodes.OK
