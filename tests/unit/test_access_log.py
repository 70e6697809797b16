"""A node's access log counted by status class: common, combined and the sandbox's lines, garbage
and a line from hell never crash nor count as 5xx; the remote read (run here by the same sh the
nodes run) follows the newest file of the glob, across a rotation and a truncation, and says why
when there is no log; the inventory field; the poll's reader (off, SSH not up, SSH failing)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from console.cluster.observations import SshObserved
from console.cluster.state import ClusterState
from console.config import load_inventory_text
from console.config.errors import ConfigError
from console.config.model import Node
from console.monitor.metrics_poll import AccessLogPoll
from probes.metrics.access_log import MAX_LINE, AccessCounts, AccessLogParser, count_lines
from probes.metrics.access_tail import TailState, access_command, parse_output
from probes.ssh.connection import SshCommandError

SANDBOX = b'127.0.0.1 - - [06/Dec/2026:14:00:01 +0000] "GET /app/ HTTP/1.1" 200 31 4\n'
COMMON_500 = b'10.1.2.3 - - [06/Dec/2026:14:00:02 +0000] "POST /app/save HTTP/1.1" 500 812\n'
COMBINED_404 = (
    b'10.1.2.3 - alice [06/Dec/2026:14:00:03 +0000] "GET /nothing HTTP/1.1" 404 - '
    b'"https://example.test/from" "Mozilla/5.0 (X11; Linux x86_64) \\"quoted\\""\n'
)
COMBINED_503 = (
    b'10.1.2.3 - - [06/Dec/2026:14:00:04 +0000] "GET /busy HTTP/2.0" 503 0 "-" "curl/8.5"\n'
)


def test_status_classes_of_common_combined_and_sandbox_lines() -> None:
    block = SANDBOX + COMMON_500 + COMBINED_404 + COMBINED_503
    assert count_lines(block) == AccessCounts(requests=4, status_4xx=1, status_5xx=2)


def test_an_escaped_quote_in_the_request_line_does_not_end_it() -> None:
    # Tomcat writes a quote inside %r as \" : the status is after the real closing quote
    line = b'1.2.3.4 - - [06/Dec/2026:14:00:05 +0000] "GET /a\\" 500 x HTTP/1.1" 200 5\n'
    assert count_lines(line) == AccessCounts(requests=1)


@pytest.mark.parametrize(
    "line",
    [
        b"\n",
        b"not an access log line at all 500\n",
        b'1.2.3.4 - - [06/Dec/2026:14:00:06 +0000] "POST /token HTTP/1.1" - 125\n',  # no status
        b'1.2.3.4 - - [06/Dec/2026:14:00:07 +0000] "GET / HTTP/1.1" 5000 1\n',
        b'1.2.3.4 - - [06/Dec/2026:14:00:08 +0000] "GET / HTTP/1.1" 099 1\n',
        b'1.2.3.4 - - [06/Dec/2026:14:00:09 +0000] "GET / HTTP/1.1 500 1\n',  # quote never closed
        b"\x00\xff\xfe 503 \x1b[31m\xc3\x28\n",
        b'\x1b]0;owned\x07 - - [x] "GET / HTTP/1.1\x1b[2J" 50x 1\n',
    ],
)
def test_a_line_that_does_not_read_is_unreadable_never_a_5xx(line: bytes) -> None:
    assert count_lines(line) == AccessCounts(unreadable=1)


def test_a_line_from_hell_huge_binary_and_escapes() -> None:
    hell = b'\x1b[2J\x00"' + b"\\" * 300_001 + os.urandom(200_000).replace(b"\n", b"?") + b"\n"
    parser = AccessLogParser()
    counts = AccessCounts()
    for start in range(0, len(hell), 4096):  # arrives in pieces, as a read would cut it
        counts += parser.feed(hell[start : start + 4096])
    counts += parser.feed(COMMON_500)
    assert counts == AccessCounts(requests=1, status_5xx=1, unreadable=1)
    assert len(hell) > MAX_LINE
    assert count_lines(hell + SANDBOX).status_5xx == 0


def test_a_line_cut_across_two_reads_counts_once() -> None:
    parser = AccessLogParser()
    cut = len(COMMON_500) // 2
    first = parser.feed(SANDBOX + COMMON_500[:cut])
    second = parser.feed(COMMON_500[cut:])
    assert first == AccessCounts(requests=1)
    assert second == AccessCounts(requests=1, status_5xx=1)


def _read(base: Path, glob: str, state: TailState) -> bytes:
    command = access_command(str(base), glob, state)
    return subprocess.run(["sh", "-c", command], capture_output=True, check=True).stdout


GLOB = "logs/localhost_access_log.*.txt"


def test_the_read_follows_the_newest_file_across_a_rotation_and_a_truncation(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    today = logs / "localhost_access_log.2026-12-06.txt"
    today.write_bytes(COMMON_500 * 3)
    state = TailState()
    first = parse_output(_read(tmp_path, GLOB, state), state)
    assert first.counts is None and first.missing is None  # counting starts at the end
    assert state.name == "logs/localhost_access_log.2026-12-06.txt"
    with today.open("ab") as out:
        out.write(SANDBOX + COMMON_500 + COMBINED_404[:30])
    read = parse_output(_read(tmp_path, GLOB, state), state)
    assert read.counts == AccessCounts(requests=2, status_5xx=1)
    # midnight: the rest of today's file is written, then tomorrow's starts
    with today.open("ab") as out:
        out.write(COMBINED_404[30:] + COMMON_500)
    tomorrow = logs / "localhost_access_log.2026-12-07.txt"
    tomorrow.write_bytes(COMBINED_503 + SANDBOX)
    later = os.stat(today).st_mtime + 5
    os.utime(tomorrow, (later, later))
    read = parse_output(_read(tmp_path, GLOB, state), state)
    assert read.rotated and read.file == "logs/localhost_access_log.2026-12-07.txt"
    assert read.counts == AccessCounts(requests=4, status_4xx=1, status_5xx=2)
    # the same file truncated, then written again: read from its start
    tomorrow.write_bytes(COMMON_500)
    os.utime(tomorrow, (later + 1, later + 1))
    read = parse_output(_read(tmp_path, GLOB, state), state)
    assert read.counts == AccessCounts(requests=1, status_5xx=1)
    assert parse_output(_read(tmp_path, GLOB, state), state).counts == AccessCounts()


def test_no_log_says_why_and_bad_output_never_raises(tmp_path: Path) -> None:
    state = TailState()
    read = parse_output(_read(tmp_path, GLOB, state), state)
    assert read.counts is None and read.missing == f"no file matches {GLOB}"
    gone = parse_output(_read(tmp_path / "absent", GLOB, state), state)
    assert gone.missing is not None and "cannot enter catalina_base" in gone.missing
    for output in (b"D 1 0 99 logs/x\nshort", b"Z what\n", b"O 1\n", b"D 1 0 5 x"):
        bad = parse_output(output, state)
        assert bad.counts is None and bad.missing is not None and "unreadable" in bad.missing
    assert state.name is None  # nothing half-applied


def _nodes(tmp_path: Path, profile: str, extra: str) -> list[str | None]:
    text = f'[cluster]\nname = "c"\nprofile = "{profile}"\n' + "".join(
        f'[[nodes]]\nname = "n{i}"\nhost = "10.0.0.{i}"\ncatalina_base = "/opt/t"\n{line}\n'
        for i, line in enumerate(("", extra), 1)
    )
    inventory = load_inventory_text(text, tmp_path / "cluster.toml")
    return [node.access_log for node in inventory.nodes]


def test_the_inventory_field_defaults_per_profile_and_turns_off(tmp_path: Path) -> None:
    assert _nodes(tmp_path, "tomcat", 'access_log = ""') == [GLOB, None]
    assert _nodes(tmp_path, "wso2", "access_log = false") == [
        "repository/logs/http_access_*.log",
        None,
    ]
    own = 'access_log = "/var/log/tomcat/access.*.log"'
    assert _nodes(tmp_path, "joget", own) == [GLOB, "/var/log/tomcat/access.*.log"]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("true", "expected a glob (a string) or false, got boolean"),
        ('"logs/a b.txt"', "may not hold whitespace"),
        ('"logs/$(reboot).txt"', "may not hold whitespace or '$' '(' ')'"),
        ('"logs/"', "must name files"),
    ],
)
def test_a_bad_access_log_says_what_and_where(tmp_path: Path, value: str, said: str) -> None:
    with pytest.raises(ConfigError) as info:
        _nodes(tmp_path, "tomcat", f"access_log = {value}")
    message = str(info.value)
    assert "nodes[1].access_log" in message and said in message


def _poll_node(tmp_path: Path, extra: str = "") -> tuple[Node, ClusterState]:
    text = (
        '[cluster]\nname = "c"\n[[nodes]]\nname = "n1"\nhost = "10.0.0.1"\n'
        f'catalina_base = "{tmp_path}"\n{extra}\n'
    )
    inventory = load_inventory_text(text, tmp_path / "cluster.toml")
    return inventory.nodes[0], ClusterState.initial(inventory)


async def test_the_poll_reads_over_ssh_once_up_and_says_why_not_otherwise(tmp_path: Path) -> None:
    node, state = _poll_node(tmp_path)
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "localhost_access_log.2026-12-06.txt"
    log.write_bytes(SANDBOX)
    ran: list[str] = []

    async def run(command: str, timeout: float) -> bytes:
        ran.append(command)
        done = subprocess.run(["sh", "-c", command], capture_output=True, check=True)
        return done.stdout

    current = [state]
    poll = AccessLogPoll(node, run, lambda: current[0])
    read, since = await poll.read()  # SSH still connecting, no patience: not read
    assert read.missing == "not read: SSH to the node is connecting" and since is None
    assert not ran
    current[0] = state.apply(SshObserved("n1", "up", None, 1.0))
    first, since = await poll.read()
    assert first.counts is None and first.missing is None and since is None
    with log.open("ab") as out:
        out.write(COMMON_500 * 2 + COMBINED_404)
    second, since = await poll.read()
    assert second.counts == AccessCounts(requests=3, status_4xx=1, status_5xx=2)
    assert since is not None  # the first read's time: the rate's window starts there

    async def broken(command: str, timeout: float) -> bytes:
        raise SshCommandError("n1: `sh` timed out after 10 s and was killed")

    failing = AccessLogPoll(node, broken, lambda: current[0])
    read, since = await failing.read()
    assert (
        read.missing == "could not be read over SSH: n1: `sh` timed out after 10 s and was killed"
    )
    (tmp_path / "off").mkdir()
    off, _ = _poll_node(tmp_path / "off", 'access_log = ""')
    read, _ = await AccessLogPoll(off, run, lambda: current[0]).read()
    assert read.missing == "access_log is off for this node (cluster.toml)"


def test_a_log_renamed_away_under_a_fixed_name_is_read_to_its_end_first(tmp_path: Path) -> None:
    # logrotate's way with a valve of rotatable="false": access.txt -> access.txt.1, a new one
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "access.txt"
    log.write_bytes(SANDBOX)
    state = TailState()
    parse_output(_read(tmp_path, "logs/access.txt", state), state)
    with log.open("ab") as out:
        out.write(COMMON_500)
    log.rename(logs / "access.txt.1")
    with (logs / "access.txt.1").open("ab") as out:  # the writer still had it open
        out.write(COMBINED_503)
    log.write_bytes(COMBINED_404)
    read = parse_output(_read(tmp_path, "logs/access.txt", state), state)
    assert read.rotated and read.file == "logs/access.txt"
    assert read.counts == AccessCounts(requests=3, status_4xx=1, status_5xx=2)
    assert state.offset == len(COMBINED_404)
