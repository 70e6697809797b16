"""What a scripted wizard accepts as answers and --timeout: finite seconds only, refused with one
sentence and exit 2 before anything is connected to or changed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from console import exitcodes
from console.commands import cli
from console.commands import wizard as wizard_cli
from console.config import load_inventory
from console.operations.registry import WizardUsageError, check_answers

INVENTORY = """\
[cluster]
name = "t"

[[nodes]]
name = "node2"
host = "127.0.4.250"
catalina_base = "/opt/tomcat"
"""


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), -1])
def test_an_answer_that_is_not_a_finite_number_of_seconds_is_refused(value: float) -> None:
    with pytest.raises(WizardUsageError, match="idle_timeout must be a finite number"):
        check_answers("drain", {"idle_timeout": value})


def test_a_timeout_answer_of_zero_is_refused_but_a_zero_wait_is_allowed() -> None:
    with pytest.raises(WizardUsageError, match="more than 0"):
        check_answers("drain", {"drain_timeout": 0})
    assert check_answers("drain", {"drain_seconds": 0, "idle_timeout": 1.5}) == {
        "drain_seconds": 0,
        "idle_timeout": 1.5,
    }


@pytest.mark.parametrize("given", ["inf", "nan", "0", "-5"])
def test_a_timeout_that_is_not_finite_and_positive_is_a_usage_error(
    tmp_path: Path, given: str
) -> None:
    path = tmp_path / "cluster.toml"
    path.write_text(INVENTORY, encoding="utf-8")
    args = cli.build_parser().parse_args(
        ["--wizard", "drain", "--node", "node2", "--dry-run", "--timeout", given]
    )
    out, err = io.StringIO(), io.StringIO()
    code = wizard_cli.run(load_inventory(path), args, out, err)
    assert code == exitcodes.USAGE
    assert err.getvalue() == ("clusterconsole: --timeout must be a positive number of seconds\n")
    assert out.getvalue() == ""
