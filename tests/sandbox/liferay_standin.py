"""A stand-in for Liferay DXP's auto-deploy scanner with activation keys, beside the sandbox's
nodes (Liferay itself cannot run here).

What it does with each ``*.xml`` file that appears in a watched node's deploy folder is what the
public sources say Liferay does (docs/facts.md, "Liferay DXP"): log ``Processing <file>``, then
``<product> license validation passed`` and ``License registered for <product>`` in the node's
log, and take the file out of ``deploy/``. A key whose ``<expiration-date>`` is past is refused
with a ``License validation failed ...`` line (Liferay's exact refusal wording is not public; the
line is the shape the adapter looks for). Files starting with a dot (a copy in progress) are
left alone, as Liferay's scanner leaves unknown extensions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from xml.etree import ElementTree

SCAN_INTERVAL = 0.2
"""Seconds between two scans (Liferay's auto.deploy.interval: 3 s in 7.x, 10 s in 6.x)."""
_EXPIRY_FORMAT = "%A, %B %d, %Y"


def _line(where: str, text: str) -> str:
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return f"{stamp} INFO  [{where}] {text}\n"


def verdict(text: str) -> tuple[str, str | None]:
    """(product, why it is refused, or None when it is accepted)."""
    root = ElementTree.fromstring(text)
    product = (root.findtext("product-name") or "").strip()
    expires = (root.findtext("expiration-date") or "").strip()
    if expires and datetime.strptime(expires, _EXPIRY_FORMAT).date() < date.today():
        return product, f"the key expired on {expires}"
    return product, None


def process(folder: Path, log: Path) -> int:
    """Process every key file in `folder` once, as Liferay would; how many it took."""
    taken = 0
    for path in sorted(folder.glob("*.xml")):
        if path.name.startswith("."):
            continue
        text = path.read_text(encoding="utf-8")
        product, refused = verdict(text)
        lines = [_line("AutoDeployDir:212", f"Processing {path.name}")]
        if refused:
            lines.append(
                _line("LicenseManager:?", f"License validation failed for {product}: {refused}")
            )
        else:
            lines.append(_line("LicenseManager:?", f"{product} license validation passed"))
            lines.append(_line("LicenseManager:?", f"License registered for {product}"))
        path.unlink()
        with log.open("a", encoding="utf-8") as handle:
            handle.writelines(lines)
        taken += 1
    return taken


@contextmanager
def scanners(watched: Mapping[str, tuple[Path, Path]]) -> Iterator[dict[str, int]]:
    """Scan each node's (deploy folder, log) until the block ends; yields node -> files taken."""
    taken = dict.fromkeys(watched, 0)
    stop = threading.Event()

    def scan() -> None:
        while True:
            for node, (folder, log) in watched.items():
                if folder.is_dir():
                    taken[node] += process(folder, log)
            if stop.wait(SCAN_INTERVAL):
                return

    thread = threading.Thread(target=scan, name="liferay-standin", daemon=True)
    thread.start()
    try:
        yield taken
    finally:
        stop.set()
        thread.join(timeout=10)
