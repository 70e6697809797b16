"""The license wizard's plain parts: where each node's page is, the request it writes for the
vendor (CSV and JSON: node, system key, status) and the vendor's key file it reads back."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from console.config.model import Inventory, Node
from console.paths import user_state_dir


class LicenseInputError(ValueError):
    """A page, URL or file the wizard cannot use; str() says what and where."""


@dataclass(frozen=True, slots=True)
class RequestRow:
    node: str
    system_key: str | None
    status: str
    """``activated``, ``not activated``, ``to activate`` or why the page could not be read."""


def page_url(inventory: Inventory, node: Node, page: str) -> str:
    """The node's license page on its own direct HTTP URL; LicenseInputError when the node has
    none, or when that URL is a balancer's (the page must never be read through it)."""
    if not node.http:
        raise LicenseInputError(f"{node.name} has no http URL in the inventory")
    parts = urlsplit(node.http)
    origin = (parts.scheme, parts.netloc.lower())
    for balancer in inventory.balancers:
        if balancer.url is None:
            continue
        theirs = urlsplit(balancer.url)
        if (theirs.scheme, theirs.netloc.lower()) == origin:
            raise LicenseInputError(
                f"{node.name}'s http URL {node.http} is the balancer {balancer.name}'s "
                f"({balancer.url}): a license page must be read on the node itself, "
                "never through the balancer"
            )
    return f"{parts.scheme}://{parts.netloc}/{page.lstrip('/')}"


def default_request_path(cluster: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return user_state_dir() / "license-requests" / f"{cluster}-{stamp}"


def write_request(rows: Sequence[RequestRow], base: Path) -> tuple[Path, Path]:
    """`base`.csv and `base`.json (a suffix given is dropped); OSError when they cannot be
    written."""
    stem = base.with_suffix("") if base.suffix in (".csv", ".json") else base
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = stem.with_name(stem.name + ".csv"), stem.with_name(stem.name + ".json")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["node", "system_key", "status"])
    for row in rows:
        writer.writerow([row.node, row.system_key or "", row.status])
    csv_path.write_text(text.getvalue(), encoding="utf-8")
    document = [
        {"node": row.node, "system_key": row.system_key, "status": row.status} for row in rows
    ]
    json_path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return csv_path, json_path


@dataclass(frozen=True, slots=True)
class VendorKey:
    node: str | None
    system_key: str | None
    license_key: str


def _rows(path: Path, text: str) -> list[Mapping[str, object]]:
    if path.suffix == ".json" or text.lstrip().startswith(("[", "{")):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise LicenseInputError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(data, dict):
            data = [{"node": node, "license_key": key} for node, key in data.items()]
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise LicenseInputError(f"{path}: expected a list of objects or node = key pairs")
        return data
    return list(csv.DictReader(io.StringIO(text)))


def read_vendor_file(path: Path) -> list[VendorKey]:
    """The vendor's answer: the request file with a ``license_key`` column (CSV or JSON), or a
    JSON object node -> key. Rows are matched to nodes by system key, else by node name."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LicenseInputError(f"cannot read the vendor's key file {path}: {exc}") from None
    keys = []
    for number, row in enumerate(_rows(path, text), start=1):
        key = row.get("license_key")
        if not isinstance(key, str) or not key.strip():
            raise LicenseInputError(f"{path}: entry {number} has no license_key")
        node, system_key = row.get("node"), row.get("system_key")
        keys.append(
            VendorKey(
                str(node) if node else None,
                str(system_key) if system_key else None,
                key.strip(),
            )
        )
    return keys


def vendor_key_for(keys: Sequence[VendorKey], node: str, system_key: str | None) -> str | None:
    for key in keys:
        if system_key and key.system_key == system_key:
            return key.license_key
    for key in keys:
        if key.node == node and (key.system_key is None or key.system_key == system_key):
            return key.license_key
    return None
