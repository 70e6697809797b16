"""`clusterconsole events FILE...`: the JSON contract, the table, exit codes, hostile input."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from console import exitcodes
from console.commands import events as events_command

DATA = Path(__file__).parent / "data" / "logs"
T12 = DATA / "t12_tomcat6_serverfault_confirmed_dead_state_transfer_collapsed.log"
NODE1 = DATA / "sandbox_tomcat101_node1_peer_stop_and_crash.log"
NODE3 = DATA / "sandbox_tomcat101_node3_start_stop_crash.log"
KEYS = {
    *("schema_version", "file", "line", "time", "source", "kind", "member", "members"),
    *("text", "detail", "node"),
}


def run(
    *files: str | Path, as_json: bool = False, width: int = 160, **options: Any
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = events_command.run(
        [str(f) for f in files], as_json=as_json, out=out, err=err, width=width, **options
    )
    return code, out.getvalue(), err.getvalue()


def rows(*files: str | Path, **options: Any) -> list[dict[str, Any]]:
    code, out, err = run(*files, as_json=True, **options)
    assert (code, err) == (exitcodes.OK, "")
    return [json.loads(line) for line in out.splitlines()]


def test_kind_keeps_only_the_kinds_asked_for() -> None:
    everything = rows(NODE1)
    asked = rows(NODE1, kinds=["member-joined,member-left", "server-started"])
    wanted = {"member-joined", "member-left", "server-started"}
    assert asked == [row for row in everything if row["kind"] in wanted]
    assert {row["kind"] for row in asked} == wanted
    assert len(asked) < len(everything)


def test_since_and_until_keep_the_window_both_ends_included_at_their_precision() -> None:
    everything = rows(NODE1)
    minute = rows(NODE1, since="2026-11-22 13:34", until="2026-11-22T13:34")
    assert minute and minute == [
        row for row in everything if row["time"] and row["time"].startswith("2026-11-22T13:34")
    ]
    later = rows(NODE1, since="2026-11-22T13:35:11")
    assert later and all(row["time"] >= "2026-11-22T13:35:11" for row in later)
    assert rows(NODE1, until="2026-11-21") == []
    assert len(rows(NODE1, since="2026-11-22", until="2026-11-22")) == len(
        [row for row in everything if row["time"]]
    )


def test_node_names_each_file_in_json_and_table() -> None:
    both = rows(nodes=[f"node1={NODE1}", f"node3={NODE3}"], kinds=["member-joined"])
    assert {row["node"] for row in both} == {"node1", "node3"}
    assert next(row["file"] for row in both if row["node"] == "node3") == str(NODE3)
    assert [row["node"] for row in rows(NODE1)][:1] == [None]
    code, table, _ = run(nodes=[f"node3={NODE3}"], kinds=["member-joined"], width=200)
    assert code == exitcodes.OK
    assert table.splitlines()[1].startswith("node3:43 ")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"kinds": ["member-joined,members"]},
            "--kind: unknown kind members; kinds: member-joined",
        ),
        ({"since": "yesterday"}, "--since: 'yesterday' is not a time"),
        ({"until": "2026-11-22 10"}, None),
        ({"nodes": ["node1"]}, "--node: 'node1' should be NAME=FILE"),
    ],
)
def test_bad_options_are_usage_errors_and_nothing_is_scanned(
    options: dict[str, Any], message: str | None
) -> None:
    code, out, err = run(T12, as_json=True, **options)
    if message is None:  # a valid bound, as coarse as an hour
        assert code == exitcodes.OK
        return
    assert (code, out) == (exitcodes.USAGE, "")
    assert err.startswith(f"clusterconsole: events: {message}")


def test_no_file_at_all_is_a_usage_error() -> None:
    code, out, err = run()
    assert (code, out) == (exitcodes.USAGE, "")
    assert "FILE or --node NAME=FILE" in err


def test_json_lines_carry_exactly_the_contract_keys() -> None:
    code, out, err = run(T12, as_json=True)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == exitcodes.OK and err == ""
    assert [set(row) for row in rows] == [KEYS] * 3
    assert rows[0] == {
        "schema_version": 1,
        "file": str(T12),
        "line": 1,
        "time": "2014-05-08T11:00:25",
        "source": "tomcat",
        "kind": "member-left",
        "member": "10.2.1.69:5000",
        "members": [],
        "text": rows[0]["text"],
        "detail": "suspect",
        "node": None,
    }
    assert rows[1]["time"] is None and rows[1]["detail"] == "requested"


def test_json_membership_lists_every_member() -> None:
    _, out, _ = run(DATA / "hz05_hazelcast51_test_members_size3_ver27.log", as_json=True)
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["kind"] == "membership" and row["member"] is None
    assert row["members"] == ["127.0.0.1:5701", "127.0.0.1:5714", "127.0.0.1:5715"]


def test_table_shows_one_row_per_event_within_the_width() -> None:
    code, out, _ = run(
        T12, DATA / "hz09_hazelcast38_k8s_springboot_members_2_then_4.log", width=120
    )
    lines = out.splitlines()
    assert code == exitcodes.OK
    assert lines[0].split() == ["FILE:LINE", "TIME", "SOURCE", "KIND", "MEMBER", "TEXT"]
    assert len(lines) == 1 + 3 + 2
    assert all(len(line) <= 120 for line in lines)
    assert "member-left (suspect)" in lines[1] and "10.2.1.69:5000" in lines[1]
    assert "2014-05-08 11:00:25" in lines[1]
    assert "4 members" in lines[5] and lines[5].startswith("…")


def test_nothing_found_is_still_success() -> None:
    code, out, err = run(DATA / "w01_wso2ei650_broker_TID_layout_startup.log")
    assert (code, out, err) == (exitcodes.OK, "no events found\n", "")
    code, out, _ = run(DATA / "w01_wso2ei650_broker_TID_layout_startup.log", as_json=True)
    assert (code, out) == (exitcodes.OK, "")


def test_missing_file_and_directory_are_reported_and_other_files_still_scanned(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nope.log"
    code, out, err = run(missing, tmp_path, T12, as_json=True)
    assert code == exitcodes.USAGE
    assert err.splitlines() == [
        f"clusterconsole: events: {missing}: No such file or directory",
        f"clusterconsole: events: {tmp_path}: Is a directory",
    ]
    assert len(out.splitlines()) == 3


def test_unreadable_file_gives_one_sentence_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "catalina.out"
    locked.write_text("x\n")

    def refuse(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(events_command, "scan_file", refuse)
    code, out, err = run(locked)
    assert code == exitcodes.USAGE
    assert err == f"clusterconsole: events: {locked}: Permission denied\n"
    assert "Traceback" not in out + err


def test_a_read_error_in_the_middle_of_a_file_is_reported() -> None:
    code, _, err = run("/proc/self/mem")
    assert code == exitcodes.USAGE and err.startswith("clusterconsole: events: /proc/self/mem: ")


def test_binary_garbage_gives_no_events_and_success(tmp_path: Path) -> None:
    garbage = tmp_path / "core.bin"
    garbage.write_bytes(random.Random(3).randbytes(300_000))
    assert run(garbage) == (exitcodes.OK, "no events found\n", "")


def test_escape_sequences_never_reach_the_terminal(tmp_path: Path) -> None:
    evil = tmp_path / "evil\x1b[31m.log"
    evil.write_bytes(
        b"22-Nov-2026 11:59:01.358 SEVERE [main\x1b]0;pwned\x07] org.apache.x.Y.z "
        b"\x1b[2J\x9b31m boom \xe2\x80\xae [bold]markup[/bold]\n"
    )
    code, table, err = run(evil, width=400)
    _, as_json, _ = run(evil, as_json=True)
    assert code == exitcodes.OK and err == ""
    for output in (table, as_json):
        assert "\x1b" not in output and "\x07" not in output and "\x9b" not in output
    assert "\u202e" not in table and "[bold]markup[/bold]" in table
    assert json.loads(as_json)["kind"] == "error"


def test_what_is_not_a_regular_file_is_refused_at_once(tmp_path: Path) -> None:
    """A FIFO never ends (nobody writes), /dev/zero and /dev/urandom never end either: each is
    refused with one sentence and exit 2, and the regular file after them is still scanned."""
    fifo = tmp_path / "catalina.fifo"
    os.mkfifo(fifo)
    result: list[tuple[int, str, str]] = []
    worker = threading.Thread(
        target=lambda: result.append(run(fifo, "/dev/zero", "/dev/urandom", T12, as_json=True)),
        daemon=True,
    )
    worker.start()
    worker.join(60)
    assert result, "events kept reading something that never ends"
    code, out, err = result[0]
    assert code == exitcodes.USAGE
    assert err.splitlines() == [
        f"clusterconsole: events: {fifo}: not a regular file",
        "clusterconsole: events: /dev/zero: not a regular file",
        "clusterconsole: events: /dev/urandom: not a regular file",
    ]
    assert len(out.splitlines()) == 3  # T12's events


def test_the_command_line_takes_kind_window_and_nodes(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "events",
            "--json",
            "--kind",
            "member-left",
            "--since",
            "2026-11-22T13:35",
            "--node",
            f"node1={NODE1}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (exitcodes.OK, "")
    found = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(row["node"], row["line"], row["member"]) for row in found] == [
        ("node1", 59, "127.0.4.13:4000"),
        ("node1", 63, "127.0.4.13:4000"),
        ("node1", 64, "127.0.4.12:4000"),
    ]


def test_a_file_name_that_is_not_utf8_still_gives_json_lines(tmp_path: Path) -> None:
    name = os.fsdecode(bytes(tmp_path) + b"/catalina-\xff.out")  # carried as a surrogate
    Path(name).write_bytes(T12.read_bytes())
    found = rows(name)
    assert len(found) == 3 and found[0]["file"] == name
    assert found[0]["member"] == "10.2.1.69:5000"


def test_a_file_that_cannot_be_read_is_not_also_said_to_hold_no_events(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    code, out, err = run(missing)
    assert (code, out) == (exitcodes.USAGE, "")
    assert err == f"clusterconsole: events: {missing}: No such file or directory\n"
    quiet = DATA / "w01_wso2ei650_broker_TID_layout_startup.log"
    code, out, err = run(missing, quiet)
    assert (code, out) == (exitcodes.USAGE, "no events found in the rest\n")
