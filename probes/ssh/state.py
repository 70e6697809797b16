"""The words for a node's SSH state, in a module of their own so the state and the screens can
name them without loading asyncssh (which costs a quarter of a second at start)."""

from __future__ import annotations

from typing import Literal

SshState = Literal[
    "connecting",
    "up",
    "down",
    "auth-failed",
    "host-key-mismatch",
    "host-key-unknown",
    "timeout",
]
"""host-key-mismatch: known_hosts has another key for the node (reinstalled, or someone in the
middle); host-key-unknown: no known_hosts file names the node yet."""
