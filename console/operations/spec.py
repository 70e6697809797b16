"""What a wizard says about itself, in one declaration: its name, title, key, scope, the questions
it asks (typed, with defaults and help) and how its steps are built.

The registry, the CLI's help and answers-file validation, and the screens' bindings and palette
entries are all read from these declarations, so that adding a wizard touches one place.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Scope = Literal["node", "cluster", "new-node"]
"""Where a wizard acts: one existing node (``--node``), the whole cluster or a subset
(``--nodes a,b``, default every node in inventory order), or a node not in the inventory yet."""

AnswerKind = Literal["seconds", "wait", "path", "text", "port"]
"""``seconds``: a timeout, finite and > 0; ``wait``: a duration, finite and >= 0; ``path``: an
absolute URL path such as ``/app``; ``text``: any one line; ``port``: a TCP port (1-65535)."""


class AnswerError(ValueError):
    """An answer the wizard cannot use; str() is one sentence."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One question a wizard asks: in the answers file, or in the screen's prompt."""

    name: str
    kind: AnswerKind
    default: Any
    """None: no default (the wizard works it out, or a missing answer refuses the run)."""
    help: str
    during_run: bool = False
    """Asked while the wizard runs (shown what it needs, e.g. a node's system key): the screen
    prompts; a scripted run must have it in the answers file (per node: a table of node = value),
    else it is refused before anything changes."""
    secret: bool = False
    """A secret (a license key): the screen's prompt masks what is typed, and it is never shown
    or recorded in full."""

    def describe(self) -> str:
        shown = "" if self.default is None or self.default == {} else f" ({self.default})"
        return f"{self.help}{shown}"

    def check(self, value: Any) -> Any:
        """The value, checked against the kind; AnswerError says what is expected. A question
        asked during the run may be a table of one value per node."""
        if self.during_run and isinstance(value, dict):
            return {str(key): self.check(item) for key, item in value.items()}
        if self.kind == "port":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
                raise AnswerError(f"{self.name} must be a TCP port number (1 to 65535)")
            return value
        if self.kind in ("seconds", "wait"):
            least = "more than 0" if self.kind == "seconds" else "0 or more"
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise AnswerError(f"{self.name} must be a number of seconds ({least})")
            if not math.isfinite(value) or value < 0 or (self.kind == "seconds" and value == 0):
                raise AnswerError(
                    f"{self.name} must be a finite number of seconds ({least}): {value}"
                )
            return value
        if not isinstance(value, str) or "\n" in value or not value.isprintable():
            raise AnswerError(f"{self.name} must be one line of text")
        if self.kind == "path" and not value.startswith("/"):
            raise AnswerError(f'{self.name} must be a context path such as "/app"')
        return value


@dataclass(frozen=True, slots=True)
class WizardSpec:
    """One wizard, as everything else sees it."""

    name: str
    title: str
    scope: Scope
    answers: tuple[Answer, ...]
    build: Callable[[Sequence[str]], Any]
    """The wizard (`console.operations.engine.Wizard`) for the nodes it acts on: one name for
    a node wizard, the chosen nodes in order for a cluster wizard."""
    key: str | None = None
    """The dashboard key that opens it on the selected node (None: no key)."""
    summary: str = ""
    """One line for help texts and the palette."""

    def answer(self, name: str) -> Answer:
        for answer in self.answers:
            if answer.name == name:
                return answer
        raise KeyError(name)

    @property
    def defaults(self) -> Mapping[str, Any]:
        return {a.name: a.default for a in self.answers if a.default is not None}

    def check_answers(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The answers, validated (names and kinds); AnswerError names what the wizard asks."""
        known = {answer.name: answer for answer in self.answers}
        checked: dict[str, Any] = {}
        for key, value in given.items():
            answer = known.get(key)
            if answer is None:
                names = ", ".join(sorted(known)) or "nothing"
                raise AnswerError(
                    f"the {self.name} wizard has no question {key!r}; it asks: {names}"
                )
            checked[key] = answer.check(value)
        return checked

    def missing_during_run(self, given: Mapping[str, Any], nodes: Sequence[str]) -> list[str]:
        """Questions asked during the run that a scripted run's answers do not answer (for
        every node it acts on, where the answer is per node)."""
        missing: list[str] = []
        for answer in self.answers:
            if not answer.during_run or answer.default is not None:
                continue
            value = given.get(answer.name)
            if value is None:
                missing.append(answer.name)
            elif isinstance(value, dict):
                missing += [f"{answer.name}.{node}" for node in nodes if node not in value]
        return missing

    def help_lines(self) -> list[str]:
        """The wizard and its questions, for `--help` and the README table."""
        where = {
            "node": "--node NODE",
            "cluster": "[--nodes A,B]",
            "new-node": "--node NEW",
        }[self.scope]
        lines = [f"{self.name} {where}: {self.title}"]
        lines += [f"    {answer.name}: {answer.describe()}" for answer in self.answers]
        return lines


def merged(*groups: Sequence[Answer]) -> tuple[Answer, ...]:
    """The questions of composed wizards, each once (the first declaration wins)."""
    seen: dict[str, Answer] = {}
    for group in groups:
        for answer in group:
            seen.setdefault(answer.name, answer)
    return tuple(seen.values())
