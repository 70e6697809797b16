"""Configuration XML parsed safely, with the line of every element.

Files come from the nodes, so they are untrusted: a DOCTYPE (and with it every entity
declaration, internal or external) is refused before any entity could be expanded, and the
parser never fetches anything. Comments are dropped, so a commented-out ``<Cluster>`` is absent,
exactly as Tomcat sees it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

MAX_DEPTH = 64
"""Deeper documents are refused: no server.xml nests that far."""


class XmlRefused(ValueError):
    """The text is not well-formed XML or uses something we refuse (DOCTYPE, entities)."""


@dataclass(slots=True)
class Element:
    """One element: local tag name (namespace dropped), attributes, line, children, text."""

    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def iter(self, tag: str | None = None) -> Iterator[Element]:
        """This element and every descendant (document order), optionally only `tag`."""
        stack = [self]
        while stack:
            element = stack.pop()
            if tag is None or element.tag == tag:
                yield element
            stack.extend(reversed(element.children))

    def find(self, tag: str) -> Element | None:
        """The first descendant (or self) called `tag`."""
        return next(self.iter(tag), None)

    def child(self, tag: str) -> Element | None:
        return next((c for c in self.children if c.tag == tag), None)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)


def _local(name: str) -> str:
    """`{ns}tag`, `ns tag` (expat's namespace form) or `prefix:tag` -> `tag`."""
    return name.rsplit(" ", 1)[-1].rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def parse(text: str) -> Element:
    """The document's root element; XmlRefused for bad or refused XML (with the line)."""
    parser = expat.ParserCreate(namespace_separator=" ")
    root: list[Element] = []
    stack: list[Element] = []

    def refuse(*_: object) -> None:
        raise XmlRefused(f"line {parser.CurrentLineNumber}: DOCTYPE or entity declarations refused")

    def start(name: str, attrs: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise XmlRefused(f"line {parser.CurrentLineNumber}: nested deeper than {MAX_DEPTH}")
        element = Element(
            _local(name), {_local(k): v for k, v in attrs.items()}, parser.CurrentLineNumber
        )
        if stack:
            stack[-1].children.append(element)
        else:
            root.append(element)
        stack.append(element)

    def end(_: str) -> None:
        stack.pop()

    def data(chunk: str) -> None:
        if stack:
            stack[-1].text += chunk

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise XmlRefused(f"line {exc.lineno}: {expat.ErrorString(exc.code)}") from None
    if not root:
        raise XmlRefused("no root element")
    return root[0]
