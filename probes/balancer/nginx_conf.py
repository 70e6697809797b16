"""NGINX's configuration as `nginx -T` prints it, tokenized and parsed (never grepped).

`nginx -T` tests the configuration, then prints every file it read, each after a line
``# configuration file PATH:``; an `include` is not expanded in place, so the parser puts each
included file's directives where the `include` stands (matching the glob against the files
printed, relative paths against the main file's directory, as NGINX resolves them).

Tokens follow NGINX's own reader (ngx_conf_file.c): words end at whitespace, `;`, `{` or `}`;
a `#` outside quotes starts a comment to the end of the line; `'...'` and `"..."` are one word
(a backslash escapes the next character). Anything else (an unterminated quote, a missing `}`, a
stray `}`) is a NginxConfError naming the file and line.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from probes.balancer.model import BalancerError

TEXT_LIMIT = 32 * 1024 * 1024
"""Characters of `nginx -T` output read at most."""
DEPTH_LIMIT = 64
"""Nested blocks and includes followed at most (an include of itself would never end)."""
_HEADER = re.compile(r"^# configuration file (?P<path>.+):\s*$", re.MULTILINE)
_SPECIALS = frozenset(";{}")


class NginxConfError(BalancerError):
    """`nginx -T` output that cannot be read; str() names the file and line."""


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    line: int
    quoted: bool = False


@dataclass(slots=True)
class Directive:
    """One directive: its name, arguments, where it stands, and its block (None: `;`)."""

    name: str
    args: list[str]
    file: str
    line: int
    block: list[Directive] | None = None


@dataclass(frozen=True, slots=True)
class UpstreamServer:
    """One `server ADDRESS [parameters];` of an upstream block."""

    address: str
    params: tuple[str, ...]
    file: str
    line: int

    @property
    def down(self) -> bool:
        return "down" in self.params

    @property
    def backup(self) -> bool:
        return "backup" in self.params

    @property
    def weight(self) -> int | None:
        for param in self.params:
            if param.startswith("weight="):
                value = param.removeprefix("weight=")
                return int(value) if value.isdigit() else None
        return None

    @property
    def route(self) -> str | None:
        """NGINX Plus's `route=` parameter (sticky route), if any."""
        for param in self.params:
            if param.startswith("route="):
                return param.removeprefix("route=") or None
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "params": list(self.params),
            "file": self.file,
            "line": self.line,
        }


@dataclass(frozen=True, slots=True)
class Upstream:
    """One `upstream NAME { ... }` block of the http context."""

    name: str
    method: str | None
    """The balancing directive as written (`ip_hash`, `hash $cookie_jsessionid consistent`,
    `least_conn`, `sticky cookie srv_id`); None: round robin."""
    servers: tuple[UpstreamServer, ...]
    file: str
    line: int

    def server(self, address: str) -> UpstreamServer | None:
        """The server whose address is exactly `address` (a URL's scheme is ignored)."""
        bare = address.split("://", 1)[-1].rstrip("/")
        for server in self.servers:
            if server.address == bare:
                return server
        return None


@dataclass(frozen=True, slots=True)
class NginxConf:
    """What the console uses of a configuration: its files and its http upstreams."""

    files: dict[str, str]
    """Each file `nginx -T` printed, path -> its text exactly as printed."""
    upstreams: tuple[Upstream, ...]
    stub_status: tuple[str, ...] = field(default=())
    """The locations that have `stub_status` (where the totals can be read)."""
    pid_file: str | None = None
    """The main context's `pid` (absolute paths only), where the master's pid is."""

    def upstream(self, name: str) -> Upstream | None:
        for upstream in self.upstreams:
            if upstream.name == name:
                return upstream
        return None


def split_dump(text: str) -> dict[str, str]:
    """path -> text of every ``# configuration file PATH:`` section, in the printed order."""
    if len(text) > TEXT_LIMIT:
        raise NginxConfError("`nginx -T` printed more than 32 MiB; not read")
    headers = list(_HEADER.finditer(text))
    if not headers:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        hint = f" (it starts {first[:80]!r})" if first else " (it is empty)"
        raise NginxConfError(f"not `nginx -T` output: no '# configuration file' line{hint}")
    files: dict[str, str] = {}
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        body = text[header.end() + 1 : end]
        # nginx -T adds one empty line after each file
        files.setdefault(header.group("path"), body[:-1] if body.endswith("\n\n") else body)
    return files


def tokenize(text: str, file: str) -> list[Token]:
    """NGINX's words, quoted strings and `;`, `{`, `}`, with their line numbers."""
    tokens: list[Token] = []
    line = 1
    index, size = 0, len(text)
    while index < size:
        char = text[index]
        if char == "\n":
            line += 1
            index += 1
        elif char.isspace():
            index += 1
        elif char == "#":
            end = text.find("\n", index)
            index = size if end < 0 else end
        elif char in _SPECIALS:
            tokens.append(Token(char, line))
            index += 1
        elif char in "'\"":
            start_line, chars = line, []
            index += 1
            while True:
                if index >= size:
                    raise NginxConfError(f"{file}:{start_line}: a {char} quote is never closed")
                current = text[index]
                if current == "\\" and index + 1 < size:
                    chars.append(text[index + 1])
                    line += text[index + 1] == "\n"
                    index += 2
                    continue
                if current == char:
                    index += 1
                    break
                line += current == "\n"
                chars.append(current)
                index += 1
            tokens.append(Token("".join(chars), start_line, quoted=True))
        else:
            start = index
            while index < size:
                current = text[index]
                if current.isspace() or current in _SPECIALS:
                    break
                if current == "\\" and index + 1 < size:
                    index += 2
                    continue
                index += 1
            tokens.append(Token(text[start:index], line))
    return tokens


def parse_file(text: str, file: str) -> list[Directive]:
    """The directives of one file (blocks nested), without following includes."""
    tokens = tokenize(text, file)
    position = 0

    def block(depth: int, opened: int | None) -> list[Directive]:
        nonlocal position
        if depth > DEPTH_LIMIT:
            raise NginxConfError(f"{file}: blocks nested more than {DEPTH_LIMIT} deep")
        out: list[Directive] = []
        words: list[Token] = []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            special = not token.quoted and token.text in _SPECIALS
            if not special:
                words.append(token)
                continue
            if token.text == "}":
                if words:
                    raise NginxConfError(
                        f"{file}:{token.line}: unexpected '}}' after {words[0].text!r} "
                        "(a ';' is missing)"
                    )
                if opened is None:
                    raise NginxConfError(f"{file}:{token.line}: unexpected '}}'")
                return out
            if not words:
                raise NginxConfError(f"{file}:{token.line}: unexpected {token.text!r}")
            name, args = words[0].text, [word.text for word in words[1:]]
            directive = Directive(name, args, file, words[0].line)
            words = []
            if token.text == "{":
                directive.block = block(depth + 1, token.line)
            out.append(directive)
        if words:
            raise NginxConfError(
                f"{file}:{words[0].line}: {words[0].text!r} is not ended by ';' or '{{'"
            )
        if opened is not None:
            raise NginxConfError(f"{file}:{opened}: a '{{' is never closed")
        return out

    return block(0, None)


def _included(pattern: str, base: str, files: dict[str, str]) -> list[str]:
    """The printed files an `include PATTERN` names, in sorted order (as glob() gives them)."""
    full = pattern if pattern.startswith("/") else posixpath.join(base, pattern)
    full = posixpath.normpath(full)
    if not any(char in full for char in "*?["):
        return [full] if full in files else []
    return sorted(path for path in files if fnmatch.fnmatchcase(path, full))


def expand(files: dict[str, str]) -> list[Directive]:
    """The main (first printed) file's directives with every include put in place."""
    if not files:
        raise NginxConfError("`nginx -T` printed no configuration file")
    main = next(iter(files))
    base = posixpath.dirname(main)
    parsed: dict[str, list[Directive]] = {}

    def load(path: str, depth: int) -> list[Directive]:
        if depth > DEPTH_LIMIT:
            raise NginxConfError(f"{path}: includes nested more than {DEPTH_LIMIT} deep")
        if path not in parsed:
            parsed[path] = parse_file(files[path], path)
        return inline(parsed[path], depth)

    def inline(directives: list[Directive], depth: int) -> list[Directive]:
        out: list[Directive] = []
        for directive in directives:
            if directive.name == "include" and directive.block is None and directive.args:
                for path in _included(directive.args[0], base, files):
                    out.extend(load(path, depth + 1))
                continue
            if directive.block is not None:
                directive = Directive(
                    directive.name,
                    directive.args,
                    directive.file,
                    directive.line,
                    inline(directive.block, depth + 1),
                )
            out.append(directive)
        return out

    return load(main, 0)


_METHODS = ("ip_hash", "hash", "least_conn", "least_time", "random", "sticky", "ntlm")


def _upstream(directive: Directive) -> Upstream:
    name = directive.args[0] if directive.args else ""
    servers: list[UpstreamServer] = []
    method: str | None = None
    for inner in directive.block or []:
        if inner.name == "server" and inner.args:
            servers.append(
                UpstreamServer(inner.args[0], tuple(inner.args[1:]), inner.file, inner.line)
            )
        elif inner.name in _METHODS:
            method = " ".join([inner.name, *inner.args])
    return Upstream(name, method, tuple(servers), directive.file, directive.line)


def parse_dump(text: str) -> NginxConf:
    """`nginx -T` output to its files, http upstreams and stub_status locations."""
    files = split_dump(text)
    tree = expand(files)
    upstreams: list[Upstream] = []
    stub: list[str] = []

    def walk(directives: list[Directive], context: tuple[str, ...]) -> None:
        for directive in directives:
            if directive.name == "upstream" and context == ("http",) and directive.block:
                upstreams.append(_upstream(directive))
                continue
            if directive.name == "stub_status" and context and context[-1] == "location":
                stub.append(f"{directive.file}:{directive.line}")
            if directive.block is not None:
                walk(directive.block, (*context, directive.name))

    walk(tree, ())
    pids = [d.args[0] for d in tree if d.name == "pid" and d.args and d.args[0].startswith("/")]
    return NginxConf(files, tuple(upstreams), tuple(stub), pids[-1] if pids else None)


def server_line(address: str, params: tuple[str, ...]) -> str:
    """`server ADDRESS PARAMS;` as the console writes it into the include file it owns."""
    words = [address, *params]
    for word in words:
        if not word or any(char.isspace() or char in ";{}#'\"\\$" for char in word):
            raise NginxConfError(f"{word!r} cannot stand in a server line the console writes")
    return f"server {' '.join(words)};"
