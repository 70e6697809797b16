"""Reconnect backoff and the mapping of SSH failures to states and plain sentences."""

from __future__ import annotations

import random
from pathlib import Path

import asyncssh
import pytest

from probes.ssh.connect import connect_options, handshake_client
from probes.ssh.connection import Backoff, SshTarget
from probes.ssh.handshake import HandshakeClient, classify, lost_reason

TARGET = SshTarget("node1", "10.0.0.1", port=2222, connect_timeout=7)


def test_backoff_grows_then_stays_at_the_cap_without_jitter() -> None:
    backoff = Backoff(initial=1, cap=30, factor=2, jitter=0)
    assert [backoff.delay(n) for n in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_backoff_never_overflows() -> None:
    assert Backoff(jitter=0).delay(10_000) == 30
    assert Backoff(jitter=0).delay(-3) == 1


@pytest.mark.parametrize("attempt", [0, 1, 3, 6, 50])
def test_backoff_jitter_stays_within_bounds(attempt: int) -> None:
    backoff = Backoff(initial=1, cap=30, factor=2, jitter=0.2)
    base = min(30, 2**attempt)
    rng = random.Random(attempt)
    delays = [backoff.delay(attempt, rng) for _ in range(2000)]
    assert min(delays) >= base * 0.8
    assert max(delays) <= min(base * 1.2, 30)  # the cap is a promise: jitter never passes it
    assert max(delays) - min(delays) > base * 0.15  # really spread, not constant


def test_backoff_rejects_nonsense() -> None:
    for bad in ({"initial": 0}, {"cap": 0.5}, {"factor": 0.5}, {"jitter": 1.0}):
        with pytest.raises(ValueError, match="invalid backoff"):
            Backoff(**bad)


def test_classify_maps_each_failure() -> None:
    client = HandshakeClient()
    assert classify(asyncssh.PermissionDenied("x"), TARGET, client) == (
        "auth-failed",
        "permission denied",
    )
    assert classify(TimeoutError(), TARGET, client) == ("timeout", "no SSH answer within 7 s")
    assert classify(ConnectionRefusedError(111, "refused"), TARGET, client) == (
        "down",
        "connection refused",
    )
    state, reason = classify(OSError(113, "No route to host"), TARGET, client)
    assert (state, reason) == ("down", "no route to host")
    state, reason = classify(asyncssh.HostKeyNotVerifiable("x"), TARGET, client)
    assert state == "host-key-unknown"  # no known_hosts names it: unknown, not a mismatch
    assert "[10.0.0.1]:2222" in reason
    state, reason = classify(FileNotFoundError(2, "nope", "/keys/id"), TARGET, client)
    assert state == "auth-failed" and "/keys/id" in reason
    state, _ = classify(asyncssh.ConnectionLost("Login timeout expired"), TARGET, client)
    assert state == "timeout"


def test_lost_reason() -> None:
    assert lost_reason(None, TARGET) == ("down", "connection closed by the node")
    state, reason = lost_reason(
        asyncssh.ConnectionLost("Server not responding to keepalive"), TARGET
    )
    assert (state, reason) == ("timeout", "no answer within 4 s (keepalives every 2 s)")
    assert lost_reason(asyncssh.ConnectionLost("Connection lost"), TARGET) == (
        "down",
        "connection lost: connection lost",
    )


def test_host_keys_are_verified_against_a_file_even_without_one_in_the_inventory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~/.ssh/config cannot switch verification off: known_hosts is always passed explicitly,
    and with no file at all it trusts no key (every host is then "unknown")."""
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tmp_path / "config"
    config.write_text("StrictHostKeyChecking no\nUserKnownHostsFile none\n")
    target = SshTarget(node="n", host="127.0.9.9", port=2222, ssh_config=(str(config),))
    host = target.config()
    options = connect_options(target, host, handshake_client(target, host, "n"))
    known = options["known_hosts"]
    assert isinstance(known, asyncssh.SSHKnownHosts)
    assert known.match("127.0.9.9", "127.0.9.9", 2222)[0] == []
