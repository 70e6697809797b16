"""The monitor's license poll: each node's license page on its own URL, with the system key
remembered at activation, so the dashboard shows a node whose license no longer matches
(its system key changed: a new MAC address, a restored database) within one poll.

Read-only: it reads the pages and the console's license memory, never writes either.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from console.cluster.observations import LicenseObserved, Observation
from console.config.model import Inventory, Node
from console.license import memory as license_memory
from console.monitor.tasks import Pacer
from console.operations.wizards.license_request import LicenseInputError, page_url
from probes.license import ADAPTERS, NotALicensePage
from probes.license.http import PageError, read


def license_page(inventory: Inventory, node: Node) -> str | None:
    """The URL the poll reads for `node` (None: nothing to poll: no license, no page, a file
    activation, or a URL that is not the node's own)."""
    config = inventory.license
    adapter = ADAPTERS[config.adapter]
    page = config.page or adapter.default_page
    if config.kind == "none" or adapter.activation != "form" or not page:
        return None
    try:
        return page_url(inventory, node, page)
    except LicenseInputError:
        return None


async def license_poll(
    inventory: Inventory,
    node: Node,
    url: str,
    observe: Callable[[Observation], None],
    pacer: Pacer,
    client: httpx.AsyncClient,
    *,
    interval: float,
) -> None:
    """Read the node's page forever, every `interval` seconds, with the monitor's HTTP client
    (its timeouts bound each read; the monitor closes it)."""
    adapter = ADAPTERS[inventory.license.adapter]
    cluster = inventory.cluster.name
    while True:
        remembered = license_memory.remembered(cluster).get(node.name)
        try:
            reading = await read(client, adapter, url)
        except (PageError, NotALicensePage) as exc:
            observe(LicenseObserved(node.name, url, None, remembered, str(exc), time.time()))
        else:
            observe(LicenseObserved(node.name, url, reading, remembered, None, time.time()))
        await pacer.sleep(interval)
