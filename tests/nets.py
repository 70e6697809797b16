"""Which loopback /24 a test run may use: one per pytest-xdist worker.

`make test` runs two workers (`-n 2`); each gets its own network, so the sandbox of one and the
variant sandboxes or servers of the other never share an address: worker gwN adds N to the third
octet of the base ($CLUSTERCONSOLE_TEST_NET or the caller's default).
"""

from __future__ import annotations

import os


def worker_net(default: str) -> str:
    base = os.environ.get("CLUSTERCONSOLE_TEST_NET", default)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    offset = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    if offset == 0:
        return base
    first, second, third = base.split(".")
    return f"{first}.{second}.{int(third) + offset}"
