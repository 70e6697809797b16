"""The license wizard's file activation (Liferay DXP): copy each node's activation-key XML file
over the node's own SSH session into its auto-deploy folder, then wait for the node's log to
confirm it (``License registered for <product>``) or refuse it, within a timeout.

Where the files come from (decided here; the README says it): the answers' ``[keys]`` table maps
a node to the path of ITS key file (a per-server key), ``keys_file`` is one key file for every
node not in ``[keys]`` (a virtual cluster key); without either the screen asks for a path. The
file is read on the console's machine and checked to be a ``<license>`` document before
anything is copied. Where it goes: the inventory's ``[license] deploy`` folder on each node
(default ``../deploy/`` from catalina_base: Liferay Home's ``deploy/``). It is written under a
temporary name and renamed in, so the scanner never reads half a file.

Keys are secrets: the audit and the screen name the file and the last five characters of the
SHA-256 digest of its content, never the content.

NOT TRIED ON LIFERAY ITSELF: Liferay DXP cannot run here. The log lines are the documented ones
(docs/facts.md, "Liferay DXP"); the refusal line is an assumption (the adapter's pattern). The
sandbox test drives it against a stand-in that does what the auto-deploy scanner does with a key
file (takes it out of ``deploy/`` and writes those lines to the node's log).
"""

from __future__ import annotations

import asyncio
import hashlib
import posixpath
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from console.config.model import Node
from console.operations.compose import ClusterContext
from console.operations.wizards.license_request import LicenseInputError
from probes.license import LicenseReading, masked
from probes.license.liferay import confirmation, parse_key_file
from probes.license.model import NotALicensePage
from probes.ssh.connection import SshCommandError

CONFIRM_TIMEOUT = 120
"""Default seconds to wait for the log's confirmation (Liferay scans deploy/ every
auto.deploy.interval: 3 s in 7.x's defaults, 10 s in 6.x's)."""
COPY_TIMEOUT = 30.0
NO_FOLDER = 3
"""The copy command's exit status when the deploy folder is missing."""


@dataclass(frozen=True, slots=True)
class KeyFile:
    """One activation-key file as read on the console's machine."""

    name: str
    """Its file name (what it is called in deploy/)."""
    product: str
    text: str = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """What may be shown or audited: the last five characters of its SHA-256."""
        digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        return f"sha256 {masked(digest)}"


def load_key_file(path: Path) -> KeyFile:
    """The key file at `path`; LicenseInputError says why it cannot be one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LicenseInputError(f"cannot read the activation key file {path}: {exc}") from None
    try:
        key = parse_key_file(text)
    except NotALicensePage as exc:
        raise LicenseInputError(f"{path} is not an activation key file: {exc}") from None
    name = path.name if path.suffix == ".xml" else f"{path.name}.xml"
    return KeyFile(name, key.product, text)


def key_paths(
    nodes: Sequence[str], keys: Mapping[str, str], keys_file: str | None
) -> dict[str, Path]:
    """Each node's key file path: its own from ``[keys]``, else ``keys_file`` (one file for
    every node); a node with neither is absent (the screen asks)."""
    found: dict[str, Path] = {}
    for name in nodes:
        given = keys.get(name) or keys_file
        if given:
            found[name] = Path(given.strip()).expanduser()
    return found


def deploy_folder(node: Node, deploy: str) -> str:
    """The node's auto-deploy folder: `deploy` relative to its catalina_base, or absolute."""
    return node.resolve(deploy)


def copy_command(folder: str, name: str) -> str:
    """POSIX sh that writes stdin to ``folder/name`` under a temporary name first (exit
    NO_FOLDER when the folder does not exist)."""
    target = posixpath.join(folder, name)
    temp = posixpath.join(folder, f".{name}.clusterconsole.tmp")
    return (
        f"d={shlex.quote(folder)}; t={shlex.quote(temp)}; "
        f'[ -d "$d" ] || {{ echo "no folder $d" >&2; exit {NO_FOLDER}; }}; '
        "trap 'rm -f \"$t\"' EXIT; "
        f'cat > "$t" && mv -f "$t" {shlex.quote(target)}'
    )


class LogLines:
    """Whole lines of one node's logs as the monitor's followers read them (a log tap)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._partial: dict[str, str] = {}
        self.changed = asyncio.Event()
        self.last = LicenseReading(None, False)
        """The latest reading of the lines (activated, refused, passed but not registered)."""

    def __call__(self, log: str, data: bytes) -> None:
        text = self._partial.get(log, "") + data.decode("utf-8", "replace")
        *whole, self._partial[log] = text.split("\n")
        if whole:
            self.lines += [line.rstrip("\r") for line in whole]
            self.changed.set()

    async def confirmation(self, product: str, timeout: float) -> LicenseReading | None:
        """The log's verdict (activated, or refused with the line), or None when it did not
        give one within `timeout` seconds; the last reading stays in `last`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.changed.clear()
            self.last = confirmation(self.lines, product)
            pending = self.last.reason is None or self.last.reason.startswith("validation passed")
            if self.last.activated or not pending:
                return self.last
            try:
                async with asyncio.timeout_at(deadline):
                    await self.changed.wait()
            except TimeoutError:
                return None


async def activate_by_file(
    ctx: ClusterContext, name: str, key: KeyFile, timeout: float
) -> tuple[bool, str]:
    """Copy `key` into node `name`'s deploy folder and wait for its log: (activated, what
    happened). Audited before the copy and after the verdict; never raises for the node's
    trouble (one node's failure does not stop the others)."""
    node = ctx.inventory.node(name)
    folder = deploy_folder(node, ctx.inventory.license.deploy)
    target = posixpath.join(folder, key.name)
    audit = ctx.audit.begin(
        node=name,
        step="activate",
        request={"file": target, "key": key.fingerprint, "product": key.product},
        wizard=ctx.wizard,
        state_before={"deploy": folder, "status": "not activated"},
    )
    lines = LogLines()
    try:
        untap = ctx.monitor.tap_log(name, lines)
    except KeyError:
        why = f"the console does not follow {name}'s log, so it cannot see the confirmation"
        audit.failed(why)
        return False, why
    try:
        session = ctx.node_context(name).open_session()
        try:
            result = await session.exec(
                copy_command(folder, key.name), timeout=COPY_TIMEOUT, input=key.text.encode()
            )
        except SshCommandError as exc:
            audit.failed(f"not copied: {exc}")
            return False, f"the key file was not copied: {exc}"
        if result.exit_status != 0:
            said = result.stderr.decode("utf-8", "replace").strip()[-200:]
            why = (
                f"{name} has no deploy folder {folder} (set [license] deploy to Liferay's "
                "auto.deploy.deploy.dir)"
                if result.exit_status == NO_FOLDER
                else f"copying the key file failed (exit {result.exit_status}: {said})"
            )
            audit.failed(why)
            return False, why
        verdict = await lines.confirmation(key.product, timeout)
    finally:
        untap()
    if verdict is None:
        why = await _no_verdict(ctx, name, target, lines.last, timeout)
        audit.failed(why, {"status": "unknown"})
        return False, why
    if verdict.activated:
        audit.done({"status": "activated", "log": f"License registered for {key.product}"})
        return True, f"{target} copied; the log says License registered for {key.product}"
    why = verdict.reason or "refused"
    audit.failed(why, {"status": "not activated"})
    return False, f"the log says: {why}"


async def _no_verdict(
    ctx: ClusterContext, name: str, target: str, last: LicenseReading, timeout: float
) -> str:
    said = f" ({last.reason})" if last.reason else ""
    try:
        result = (
            await ctx.node_context(name)
            .open_session()
            .exec(f"test -e {shlex.quote(target)}", timeout=COPY_TIMEOUT)
        )
    except SshCommandError:
        return f"no confirmation in the log within {timeout:g} s{said}"
    if result.exit_status == 0:
        return (
            f"no confirmation in the log within {timeout:g} s: {target} is still there "
            "(left for the node's auto-deploy scanner: is Liferay running?)"
        )
    return f"no confirmation in the log within {timeout:g} s{said}; the file was picked up"
