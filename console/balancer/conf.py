"""Edit a balancer's configuration text: add or remove one member of one pool (pure functions).

- httpd: ``BalancerMember`` lines inside ``<Proxy "balancer://POOL">`` ... ``</Proxy>``;
- HAProxy: ``server NAME ADDR:PORT ...`` lines inside ``backend POOL`` (or ``listen POOL``), and
  the ``use-server NAME ...`` rules that name the server (haproxy -c refuses a rule naming a
  server that no longer exists).

A member the console adds goes into a console-owned block, placed after the pool's last member::

    # BEGIN clusterconsole members (added by clusterconsole's add-node wizard)
    BalancerMember "http://10.0.0.4:8080" route=node4 retry=5 ttl=10
    # END clusterconsole members

A member is removed by its exact line, inside or outside that block. A new line copies the
options of the pool's first member (``retry=5 ttl=10``, ``check inter 1s``) so that it is
configured like its peers. Every function returns the new text and the lines it added or
removed; a text that already is as asked comes back unchanged with no lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BEGIN", "END", "ConfEditError", "Member", "add_member", "member_line", "remove_member"]

BEGIN = "# BEGIN clusterconsole members (added by clusterconsole's add-node wizard)"
END = "# END clusterconsole members"

_HAPROXY_SECTIONS = re.compile(
    r"^(global|defaults|frontend|backend|listen|peers|resolvers|userlist|mailers|program|cache|"
    r"ring|http-errors|crt-store|traces)\b"
)


class ConfEditError(Exception):
    """The configuration text cannot be edited as asked (no such pool section...)."""


@dataclass(frozen=True, slots=True)
class Member:
    """One balancer member: its route (httpd; the HAProxy server name) and its URL."""

    route: str
    url: str
    """``http://ADDR:PORT`` (httpd BalancerMember URL; HAProxy takes its ADDR:PORT)."""
    options: tuple[str, ...] = ()
    """Written after the peers' options (``status=+D`` / ``disabled``: added disabled)."""

    @property
    def address(self) -> str:
        return self.url.split("://", 1)[-1].rstrip("/")


def _section(lines: list[str], kind: str, pool: str) -> tuple[int, int]:
    """[first body line, end) of the pool's section."""
    if kind == "apache":
        opening = re.compile(rf'^\s*<Proxy\s+"?balancer://{re.escape(pool)}/?"?\s*>', re.I)
        for index, line in enumerate(lines):
            if opening.match(line):
                for end in range(index + 1, len(lines)):
                    if re.match(r"^\s*</Proxy\s*>", lines[end], re.I):
                        return index + 1, end
                raise ConfEditError(f'<Proxy "balancer://{pool}"> has no </Proxy>')
        raise ConfEditError(f'no <Proxy "balancer://{pool}"> section')
    header = re.compile(rf"^(backend|listen)\s+{re.escape(pool)}\s*(#.*)?$")
    for index, line in enumerate(lines):
        if header.match(line):
            end = index + 1
            while end < len(lines) and not _HAPROXY_SECTIONS.match(lines[end]):
                end += 1
            return index + 1, end
    raise ConfEditError(f"no backend {pool} section")


def _is_member(line: str, kind: str) -> bool:
    word = "BalancerMember" if kind == "apache" else "server"
    return re.match(rf"^\s*{word}\s", line, re.I if kind == "apache" else 0) is not None


def _same(line: str, kind: str, member: Member) -> bool:
    words = line.split()
    if kind == "apache":
        url = words[1].strip('"').rstrip("/") if len(words) > 1 else ""
        return url == member.url.rstrip("/") or f"route={member.route}" in words[2:]
    return len(words) > 1 and words[1] == member.route


def member_line(text: str, kind: str, pool: str, member: Member) -> str:
    """The line for ``member``, indented and optioned like the pool's first member."""
    lines = text.splitlines()
    start, end = _section(lines, kind, pool)
    first = next((line for line in lines[start:end] if _is_member(line, kind)), None)
    indent = re.match(r"^\s*", first).group() if first else "  "  # type: ignore[union-attr]
    options: list[str] = []
    if first is not None:
        words = first.split()[3 if kind == "haproxy" else 2 :]
        skip = False
        for word in words:
            if skip:
                skip = False
            elif kind == "haproxy" and word in ("cookie", "id"):
                skip = True
            elif not word.startswith("route="):
                options.append(word)
    if kind == "apache":
        return " ".join(
            [
                f'{indent}BalancerMember "{member.url}"',
                f"route={member.route}",
                *options,
                *member.options,
            ]
        )
    return " ".join([f"{indent}server {member.route} {member.address}", *options, *member.options])


def add_member(text: str, kind: str, pool: str, member: Member) -> tuple[str, list[str]]:
    """``text`` with ``member`` in the console's block of the pool (made when missing)."""
    lines = text.splitlines(keepends=True)
    start, end = _section([line.rstrip("\n") for line in lines], kind, pool)
    if any(_is_member(line, kind) and _same(line, kind, member) for line in lines[start:end]):
        return text, []
    new = member_line(text, kind, pool, member)
    indent = re.match(r"^\s*", new).group()  # type: ignore[union-attr]
    block_end = next((i for i in range(start, end) if lines[i].strip() == END), None)
    if block_end is not None:
        lines.insert(block_end, new + "\n")
    else:
        members = [i for i in range(start, end) if _is_member(lines[i], kind)]
        at = members[-1] + 1 if members else end
        lines[at:at] = [f"{indent}{BEGIN}\n", new + "\n", f"{indent}{END}\n"]
    return "".join(lines), [new.strip()]


def remove_member(text: str, kind: str, pool: str, member: Member) -> tuple[str, list[str]]:
    """``text`` without ``member``'s line in the pool (and, for HAProxy, without the
    ``use-server`` rules naming it); an emptied console block goes too."""
    lines = text.splitlines(keepends=True)
    start, end = _section([line.rstrip("\n") for line in lines], kind, pool)
    rule = re.compile(rf"^\s*use-server\s+{re.escape(member.route)}\s")
    gone = [
        index
        for index in range(start, end)
        if (_is_member(lines[index], kind) and _same(lines[index], kind, member))
        or (kind == "haproxy" and rule.match(lines[index]))
    ]
    removed = [lines[index].strip() for index in gone]
    kept = [line for index, line in enumerate(lines) if index not in set(gone)]
    for index in range(len(kept) - 1):
        if kept[index].strip() == BEGIN and kept[index + 1].strip() == END:
            del kept[index : index + 2]
            break
    return "".join(kept), removed
