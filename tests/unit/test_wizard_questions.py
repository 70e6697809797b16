"""Questions during a run: a step asks the operator for a value (per node, e.g. a license key for
the system key it shows); scripted, the value comes from the answers file, and a missing one is
known before anything changes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.commands.wizard import _ask_hook
from console.operations.engine import Outcome, Progress, Runner, Step, StepRun, Wizard
from console.operations.spec import Answer, AnswerError, WizardSpec

KEY = Answer("license_key", "text", None, "the license key for the node's system key", True)
SPEC = WizardSpec("license", "license", "cluster", (KEY,), lambda nodes: None)


def asking_wizard(nodes: list[str], got: dict[str, str]) -> Wizard[Any]:
    def step(node: str) -> Step[Any]:
        async def action(run: StepRun[Any]) -> None:
            got[node] = await run.ask(
                "license_key", f"the license key of {node} (system key X)", node
            )

        return Step(f"{node}/license", "ask", action=action)

    return Wizard("license", "license", tuple(step(node) for node in nodes))


def run(wizard: Wizard[Any], answers: dict[str, Any] | None) -> tuple[Outcome, list[Progress]]:
    events: list[Progress] = []
    ask = _ask_hook(answers) if answers is not None else None
    runner = Runner(wizard, object(), node="node1,node2", on_progress=events.append, ask=ask)
    return asyncio.run(runner.run()), events


def test_a_scripted_run_takes_each_node_s_answer_from_the_answers_file() -> None:
    got: dict[str, str] = {}
    answers = SPEC.check_answers({"license_key": {"node1": "K-1", "node2": "K-2"}})
    outcome, events = run(asking_wizard(["node1", "node2"], got), answers)
    assert outcome.status == "done" and got == {"node1": "K-1", "node2": "K-2"}
    waits = [e.waiting_for for e in events if e.kind == "waiting"]
    assert waits == [
        "the license key of node1 (system key X)",
        "the license key of node2 (system key X)",
    ]


def test_a_missing_answer_is_known_before_the_run_and_refused_during_it() -> None:
    given = {"license_key": {"node1": "K-1"}}
    assert SPEC.missing_during_run(given, ["node1", "node2"]) == ["license_key.node2"]
    assert SPEC.missing_during_run({}, ["node1"]) == ["license_key"]
    outcome, _ = run(asking_wizard(["node2"], {}), given)
    assert outcome.status == "refused" and "answers file has no license_key.node2" in outcome.text
    outcome, _ = run(asking_wizard(["node2"], {}), None)
    assert outcome.status == "refused" and "nobody to ask" in outcome.text


def test_a_per_node_answer_is_checked_value_by_value() -> None:
    with pytest.raises(AnswerError, match="one line of text"):
        SPEC.check_answers({"license_key": {"node1": "a\nb"}})
