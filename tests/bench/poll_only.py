"""The metrics benchmark's poll alone (500 nodes, with the access log), for before/after runs in
turns: run it with each tree as the working directory, alternating, e.g.
``(cd /tmp/old-tree && /path/to/tests/bench/poll_only.py)``; it imports the benchmark of the tree
it runs in and prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import socket
import sys


def main() -> None:
    sys.path.insert(0, ".")
    from tests.bench import metrics

    context = multiprocessing.get_context("spawn")
    here, there = context.Pipe()
    server = context.Process(target=metrics._serve, args=(there, metrics.NODES), daemon=True)
    server.start()
    try:
        port = int(here.recv())
        with socket.create_connection((metrics.address(metrics.NODES - 1), port), timeout=5):
            pass
        seconds = metrics.POLL_SECONDS
        poll = asyncio.run(metrics._poll(port, metrics.NODES, seconds, access_log=True))
    finally:
        server.terminate()
        server.join(5)
    keys = ("cpu_percent_of_one_core", "cpu_percent_per_window", "rss_mb", "nodes_with_rates")
    print(json.dumps({key: poll[key] for key in keys}))


if __name__ == "__main__":
    main()
