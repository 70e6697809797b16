"""The wizard engine with fake steps: progress order, dry run, confirmation, timeouts,
cancellation, force, and the state every ending describes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from console import exitcodes
from console.operations.engine import (
    Change,
    Progress,
    Refused,
    Runner,
    Skip,
    Step,
    StepFailed,
    StepRun,
    Wizard,
)


@dataclass
class Fake:
    """A fake cluster: what was done to it."""

    calls: list[str] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)


def change_step(name: str, *, left: str = "") -> Step[Fake]:
    async def plan(run: StepRun[Fake]) -> list[Change]:
        run.ctx.calls.append(f"plan {name}")
        return [Change(f"change {name}", {"command": f"do {name}"})]

    async def action(run: StepRun[Fake]) -> None:
        run.ctx.calls.append(f"act {name}")

    async def verify(run: StepRun[Fake]) -> None:
        run.ctx.calls.append(f"verify {name}")

    return Step(name, f"{name} the node", plan=plan, action=action, verify=verify, left=left)


def waiting_step(name: str, *, timeout: float = 60.0) -> Step[Fake]:
    async def action(run: StepRun[Fake]) -> None:
        run.ctx.calls.append(f"wait {name}")
        run.waiting("the gate to open", {"busy": 3})
        await run.ctx.gate.wait()

    return Step(name, f"wait for {name}", action=action, timeout=timeout, interrupted="halfway")


def run_wizard(
    steps: tuple[Step[Fake], ...], **options: object
) -> tuple[Fake, list[Progress], object]:
    fake = Fake()
    events: list[Progress] = []

    async def yes(step: Step[object], changes: list[Change]) -> bool:
        return True

    options.setdefault("confirm", yes)
    wizard = Wizard("demo", "demo wizard", steps, initial="untouched")

    async def main() -> object:
        runner = Runner(wizard, fake, node="node2", on_progress=events.append, **options)  # type: ignore[arg-type]
        return await runner.run()

    outcome = asyncio.run(main())
    return fake, events, outcome


def kinds(events: list[Progress]) -> list[tuple[str, str | None]]:
    return [(event.kind, event.step) for event in events]


def test_steps_run_in_order_with_started_change_done_and_a_final_state() -> None:
    fake, events, outcome = run_wizard(
        (change_step("drain", left="drained"), change_step("stop", left="stopped"))
    )
    assert fake.calls == [
        "plan drain",
        "act drain",
        "verify drain",
        "plan stop",
        "act stop",
        "verify stop",
    ]
    assert kinds(events) == [
        ("started", "drain"),
        ("done", "drain"),
        ("started", "stop"),
        ("done", "stop"),
        ("finished", None),
    ]
    assert events[0].index == 1 and events[0].total == 2
    assert outcome.status == "done" and outcome.exit_code == exitcodes.OK  # type: ignore[attr-defined]
    assert events[-1].state == "stopped"


def test_dry_run_plans_every_step_and_changes_nothing() -> None:
    fake, events, outcome = run_wizard(
        (change_step("drain"), waiting_step("wait"), change_step("stop")), dry_run=True
    )
    assert not any(call.startswith(("act", "verify", "wait")) for call in fake.calls)
    plans = [event for event in events if event.kind == "plan"]
    assert [event.step for event in plans] == ["drain", "wait", "stop"]
    assert plans[0].changes[0].request == {"command": "do drain"}
    assert outcome.status == "planned" and outcome.exit_code == 0  # type: ignore[attr-defined]


def test_a_declined_confirmation_stops_before_the_change() -> None:
    async def no(step: Step[object], changes: list[Change]) -> bool:
        return False

    fake, events, outcome = run_wizard((change_step("drain"),), confirm=no)
    assert "act drain" not in fake.calls
    assert outcome.status == "declined" and outcome.exit_code == 1  # type: ignore[attr-defined]
    assert events[-1].state == "untouched"


def test_a_refusal_ends_the_run_with_exit_3_and_force_overrides_a_forceable_one() -> None:
    async def last_worker(run: StepRun[Fake]) -> None:
        raise Refused("node2 is the last usable worker", forceable=True)

    steps = (Step("check", "check", check=last_worker), change_step("drain"))
    fake, events, outcome = run_wizard(steps)
    assert outcome.exit_code == exitcodes.REFUSED  # type: ignore[attr-defined]
    assert "act drain" not in fake.calls
    assert any(e.kind == "refused" and "last usable" in e.text for e in events)

    fake, events, outcome = run_wizard(steps, force=True)
    assert outcome.exit_code == exitcodes.OK  # type: ignore[attr-defined]
    assert "act drain" in fake.calls
    assert any(e.kind == "warning" and e.text.startswith("forced past") for e in events)


def test_a_refusal_that_force_cannot_override() -> None:
    async def never(run: StepRun[Fake]) -> None:
        raise Refused("read-only mode")

    _, _, outcome = run_wizard((Step("check", "check", check=never),), force=True)
    assert outcome.exit_code == exitcodes.REFUSED  # type: ignore[attr-defined]


def test_a_failing_step_says_why_and_in_which_state_it_left_the_cluster() -> None:
    async def broken(run: StepRun[Fake]) -> None:
        raise StepFailed("the balancer did not apply the change")

    steps = (
        change_step("drain", left="drained"),
        Step("stop", "stop", action=broken),
        change_step("after"),
    )
    fake, events, outcome = run_wizard(steps)
    assert "act after" not in fake.calls
    failed = [event for event in events if event.kind == "failed"]
    assert failed[0].text == "the balancer did not apply the change"
    assert failed[0].state == "drained"
    assert outcome.exit_code == 1  # type: ignore[attr-defined]


def test_a_step_that_raises_a_bug_fails_cleanly() -> None:
    async def bug(run: StepRun[Fake]) -> None:
        raise KeyError("oops")

    _, events, outcome = run_wizard((Step("x", "x", action=bug),))
    assert outcome.status == "failed"  # type: ignore[attr-defined]
    assert events[-1].kind == "finished"


def test_a_step_times_out_after_its_own_timeout() -> None:
    fake, events, outcome = run_wizard((waiting_step("busy", timeout=0.2), change_step("next")))
    assert outcome.status == "timed-out" and outcome.exit_code == 1  # type: ignore[attr-defined]
    assert "act next" not in fake.calls
    waiting = [event for event in events if event.kind == "waiting"]
    assert waiting and waiting[0].figures["busy"] == 3
    assert waiting[0].waiting_for == "the gate to open"
    assert "timed out after 0.2 s" in events[-1].text
    assert events[-1].state == "halfway"


def test_the_overall_timeout_cuts_a_long_step() -> None:
    _, events, outcome = run_wizard((waiting_step("busy", timeout=60),), timeout=0.2)
    assert outcome.status == "timed-out"  # type: ignore[attr-defined]
    assert "whole run" in events[-1].text


def test_skip_reports_and_goes_on() -> None:
    async def nothing(run: StepRun[Fake]) -> None:
        raise Skip("Tomcat is already stopped")

    fake, events, outcome = run_wizard(
        (Step("stop", "stop", check=nothing, action=None), change_step("next"))
    )
    assert ("skipped", "stop") in kinds(events)
    assert "act next" in fake.calls
    assert outcome.status == "done"  # type: ignore[attr-defined]


def test_cancellation_halfway_stops_the_run_and_describes_the_state() -> None:
    fake = Fake()
    events: list[Progress] = []

    async def yes(step: Step[object], changes: list[Change]) -> bool:
        return True

    wizard = Wizard(
        "demo",
        "demo",
        (change_step("drain", left="drained"), waiting_step("wait"), change_step("stop")),
    )

    async def main() -> object:
        runner = Runner(wizard, fake, node="node2", on_progress=events.append, confirm=yes)

        def on_progress(event: Progress) -> None:
            events.append(event)
            if event.kind == "waiting":
                runner.cancel("cancelled by the operator")

        runner.on_progress = on_progress
        return await runner.run()

    outcome = asyncio.run(main())
    assert outcome.status == "cancelled" and outcome.exit_code == 1  # type: ignore[attr-defined]
    assert "act stop" not in fake.calls
    cancelled = [event for event in events if event.kind == "cancelled"]
    assert cancelled and cancelled[0].step == "wait"
    assert cancelled[0].state == "halfway"
    assert "cancelled by the operator" in events[-1].text


def test_progress_is_json_serialisable() -> None:
    _, events, _ = run_wizard((change_step("drain"),), dry_run=True)
    import json

    for event in events:
        json.dumps(event.to_json())
