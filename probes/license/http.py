"""Reading a node's license page and submitting a key to it, over the node's own HTTP URL."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from probes.license.model import LicenseAdapter, LicenseReading

MAX_PAGE = 200_000
"""Characters of a page read (a license page is small; a huge answer is not one)."""


class PageError(Exception):
    """The page could not be read (connection, status); str() says why."""


async def read(client: httpx.AsyncClient, adapter: LicenseAdapter, url: str) -> LicenseReading:
    """The page's reading; PageError when it cannot be fetched, NotALicensePage when it is not
    the product's page."""
    try:
        response = await client.get(url)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        raise PageError(f"{url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise PageError(f"{url}: HTTP {response.status_code}")
    return adapter.parse(response.text[:MAX_PAGE], response.status_code)


async def submit(
    client: httpx.AsyncClient, adapter: LicenseAdapter, url: str, form: Mapping[str, str]
) -> LicenseReading:
    """Post the form and read the answer (a refusal is a reading with its reason)."""
    try:
        response = await client.post(url, data=dict(form))
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        raise PageError(f"{url}: {type(exc).__name__}") from None
    if response.status_code >= 500:
        raise PageError(f"{url}: HTTP {response.status_code}")
    return adapter.parse(response.text[:MAX_PAGE], response.status_code)
