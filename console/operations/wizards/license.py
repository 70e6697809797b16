"""The per-node license wizard: read each node's license page on its own URL, write the request
for the vendor, take one key per node, activate each node and read it back.

Steps: ``read`` (every chosen node's page, the request files; refuses a page that is not a
license page, a node reached through a balancer, keys for unknown nodes), ``keys`` (asked per
node: the screen's masked prompt, the answers file's ``[keys]`` table or the vendor's file;
refuses an empty or malformed key before anything is activated), one ``NODE/activate`` step per
node (one node's refusal does not stop the others), ``report`` (fails when a node was not
activated). Keys are secrets: only their last five characters are shown or audited.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from console.license import memory as license_memory
from console.operations.compose import ClusterContext
from console.operations.engine import Change, Refused, Skip, Step, StepFailed, StepRun, Wizard
from console.operations.progress import Status
from console.operations.spec import Answer
from console.operations.wizards.license_file import (
    CONFIRM_TIMEOUT,
    COPY_TIMEOUT,
    KeyFile,
    activate_by_file,
    deploy_folder,
    key_paths,
    load_key_file,
)
from console.operations.wizards.license_request import (
    LicenseInputError,
    RequestRow,
    default_request_path,
    page_url,
    read_vendor_file,
    vendor_key_for,
    write_request,
)
from probes.license import ADAPTERS, LicenseAdapter, LicenseReading, NotALicensePage, masked
from probes.license.http import PageError, read, submit

QUESTIONS = (
    Answer(
        "keys",
        "text",
        {},
        "a [keys] table: node = the license key the vendor issued for its system key "
        "(Liferay: node = the path of its activation key XML file; asked in the screen when "
        "absent)",
        during_run=True,
        secret=True,
    ),
    Answer(
        "keys_file",
        "text",
        None,
        "the vendor's file instead of [keys]: the request CSV/JSON with a license_key column "
        "(Liferay: one activation key XML file for every node not in [keys])",
    ),
    Answer(
        "confirm_timeout",
        "seconds",
        CONFIRM_TIMEOUT,
        "Liferay: seconds to wait for a node's log to confirm (or refuse) its key file",
    ),
    Answer(
        "request_file",
        "text",
        None,
        "where the request is written (.csv and .json); default: the console's state "
        "directory, license-requests/CLUSTER-TIME",
    ),
)
HTTP_TIMEOUT = 15.0


@dataclass
class NodeLicense:
    url: str
    reading: LicenseReading | None
    error: str | None = None
    key: str | None = field(default=None, repr=False)
    outcome: str = ""
    """How the run left it: activated, already activated, failed (why), not read."""

    @property
    def todo(self) -> bool:
        return self.reading is not None and not self.reading.activated


def _adapter(ctx: ClusterContext) -> tuple[LicenseAdapter, str | None]:
    """The product's adapter and its page (None for a file activation: Liferay)."""
    config = ctx.inventory.license
    if config.kind == "none":
        raise Refused("the inventory's [license] kind is none: nothing to license")
    adapter = ADAPTERS[config.adapter]
    if adapter.activation == "deploy-file":
        return adapter, None
    page = config.page or adapter.default_page
    if not page:
        raise Refused("the inventory's [license] has no page")
    return adapter, page


def _licenses(ctx: ClusterContext) -> dict[str, NodeLicense]:
    found: dict[str, NodeLicense] = ctx.facts.setdefault("licenses", {})
    return found


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False)


async def _read(run: StepRun[ClusterContext]) -> None:
    ctx = run.ctx
    adapter, page = _adapter(ctx)
    keys = ctx.answer("keys", {})
    if isinstance(keys, dict):
        names = {node.name for node in ctx.inventory.nodes}
        unknown = sorted(set(keys) - names)
        if unknown:
            raise Refused(
                f"the answers file's [keys] names {', '.join(unknown)}, not in the inventory "
                f"(nodes: {', '.join(sorted(names))})"
            )
    licenses = _licenses(ctx)
    if page is None:  # a file activation: no page to read, every chosen node gets the file
        for name in ctx.nodes:
            folder = deploy_folder(ctx.inventory.node(name), ctx.inventory.license.deploy)
            licenses[name] = NodeLicense(folder, LicenseReading(None, False))
    urls: dict[str, str] = {}
    for name in ctx.nodes:
        try:
            if page is not None:
                urls[name] = page_url(ctx.inventory, ctx.inventory.node(name), page)
        except LicenseInputError as exc:
            raise Refused(str(exc)) from None
    async with _client() as client:
        for name, url in urls.items():
            try:
                licenses[name] = NodeLicense(url, await read(client, adapter, url))
            except NotALicensePage as exc:
                raise Refused(f"{name}: {url} is not a license page: {exc}") from None
            except PageError as exc:
                licenses[name] = NodeLicense(url, None, str(exc), outcome=f"not read: {exc}")
                run.warn(f"{name}: the license page could not be read: {exc}")
    rows = []
    for name in ctx.nodes:
        entry = licenses[name]
        reading = entry.reading
        status = (
            entry.outcome
            if reading is None
            else ("activated" if reading.activated else "to activate")
        )
        rows.append(RequestRow(name, reading.system_key if reading else None, status))
        shown = rows[-1].system_key or "-"
        where = f"key file to {entry.url}" if page is None else f"system key {shown}"
        run.observed(f"{name}: {where}: {status}")
    given = ctx.answer("request_file", None)
    base = Path(given) if given else default_request_path(ctx.inventory.cluster.name)
    try:
        csv_path, json_path = write_request(rows, base)
    except OSError as exc:
        raise Refused(f"cannot write the license request to {base}: {exc}") from None
    ctx.facts["request"] = (csv_path, json_path)
    run.observed(f"request for the vendor written to {csv_path} and {json_path}")


async def _keys(run: StepRun[ClusterContext]) -> None:
    ctx = run.ctx
    adapter, _ = _adapter(ctx)
    licenses = _licenses(ctx)
    todo = [name for name in ctx.nodes if licenses[name].todo]
    if not todo:
        raise Skip("every node read is already activated: no key needed")
    given = ctx.answer("keys_file", None)
    if adapter.activation == "deploy-file":
        await _key_files(run, todo, given)
        return
    try:
        vendor = read_vendor_file(Path(given)) if given else []
    except LicenseInputError as exc:
        raise Refused(str(exc)) from None
    problems = []
    for name in todo:
        entry = licenses[name]
        system_key = entry.reading.system_key if entry.reading else None
        key = vendor_key_for(vendor, name, system_key) if vendor else None
        if key is None:
            prompt = f"license key for {name} (system key {system_key or '-'})"
            key = await run.ask("keys", prompt, name)
        problem = adapter.key_problem(key)
        if problem:
            problems.append(f"{name}: {problem}")
        else:
            entry.key = key.strip()
    if problems:
        raise Refused("; ".join(problems) + " (no node was activated)")


async def _key_files(run: StepRun[ClusterContext], todo: list[str], keys_file: str | None) -> None:
    """Each node's activation key file, read and checked before any is copied."""
    keys = run.ctx.answer("keys", {})
    paths = key_paths(todo, keys if isinstance(keys, dict) else {}, keys_file)
    files: dict[str, KeyFile] = run.ctx.facts.setdefault("key_files", {})
    problems = []
    for name in todo:
        path = paths.get(name)
        if path is None:
            path = Path(await run.ask("keys", f"activation key file (path) for {name}", name))
        try:
            files[name] = load_key_file(path)
        except LicenseInputError as exc:
            problems.append(f"{name}: {exc}")
            continue
        _licenses(run.ctx)[name].key = files[name].fingerprint
    if problems:
        raise Refused("; ".join(problems) + " (no key file was copied)")


def _activate_step(name: str) -> Step[ClusterContext]:
    def entry_of(ctx: ClusterContext) -> NodeLicense | None:
        found = _licenses(ctx).get(name)
        return found if found is not None and found.todo and found.key else None

    async def check(run: StepRun[ClusterContext]) -> None:
        if entry_of(run.ctx) is None and not run.dry_run:
            found = _licenses(run.ctx).get(name)
            raise Skip(f"{name}: {found.outcome or 'already activated' if found else 'not read'}")

    async def plan(run: StepRun[ClusterContext]) -> list[Change]:
        entry = entry_of(run.ctx)
        if entry is None or entry.reading is None or entry.key is None:
            return []
        key_file: KeyFile | None = run.ctx.facts.get("key_files", {}).get(name)
        if key_file is not None:
            return [
                Change(
                    f"copy {key_file.name} ({key_file.fingerprint}) into {name}'s {entry.url} "
                    "and wait for its log to confirm",
                    {"folder": entry.url, "key": key_file.fingerprint},
                )
            ]
        return [
            Change(
                f"activate the license of {name} (system key {entry.reading.system_key}, "
                f"key {masked(entry.key)})",
                {"url": entry.url, "key": masked(entry.key)},
            )
        ]

    async def action(run: StepRun[ClusterContext]) -> None:
        ctx = run.ctx
        entry = entry_of(ctx)
        if entry is None or entry.key is None or entry.reading is None:
            raise Skip(f"{name}: nothing to activate")
        key_file: KeyFile | None = ctx.facts.get("key_files", {}).get(name)
        if key_file is not None:
            wait = float(ctx.answer("confirm_timeout", CONFIRM_TIMEOUT))
            done, what = await activate_by_file(ctx, name, key_file, wait)
            entry.key = None
            entry.outcome = "activated" if done else f"failed: {what}"
            if done:
                run.changed(f"{name}: activated: {what}", [])
            else:
                run.warn(f"{name}: not activated: {what}")
            return
        adapter, _ = _adapter(ctx)
        before = entry.reading
        audit = ctx.audit.begin(
            node=name,
            step="activate",
            request={"url": entry.url, "key": masked(entry.key)},
            wizard=ctx.wizard,
            state_before={"system_key": before.system_key, "status": before.status},
        )
        try:
            async with _client() as client:
                answer = await submit(client, adapter, entry.url, adapter.form(entry.key))
                after = await read(client, adapter, entry.url)
        except (PageError, NotALicensePage) as exc:
            audit.failed(str(exc))
            entry.outcome = f"failed: {exc}"
            run.warn(f"{name}: activation failed: {exc}")
            return
        finally:
            entry.key = None  # not kept longer than needed
        result = {"system_key": after.system_key, "status": after.status}
        if after.activated and after.system_key == before.system_key:
            audit.done(result)
            entry.reading, entry.outcome = after, "activated"
            if after.system_key:
                with contextlib.suppress(OSError):
                    license_memory.remember(ctx.inventory.cluster.name, {name: after.system_key})
            run.changed(f"{name}: activated for system key {after.system_key} (read back)", [])
            return
        why = answer.reason or "the page still says not activated"
        audit.failed(why, result)
        entry.reading, entry.outcome = after, f"failed: {why}"
        run.warn(f"{name}: not activated: {why}")

    return Step(
        f"{name}/activate",
        f"submit {name}'s license key on its own page, then read the page back",
        check=check,
        plan=plan,
        action=action,
        timeout=_activate_timeout,
        node=name,
    )


def _activate_timeout(ctx: ClusterContext) -> float:
    if ADAPTERS[ctx.inventory.license.adapter].activation == "deploy-file":
        return float(ctx.answer("confirm_timeout", CONFIRM_TIMEOUT)) + 3 * COPY_TIMEOUT
    return 2 * HTTP_TIMEOUT + 5


def _state(ctx: ClusterContext) -> str:
    licenses = _licenses(ctx)
    parts = []
    for name in ctx.nodes:
        entry = licenses.get(name)
        if entry is None:
            parts.append(f"{name} not read")
        elif entry.outcome:
            parts.append(f"{name} {entry.outcome}")
        elif entry.reading is not None and entry.reading.activated:
            parts.append(f"{name} already activated")
        else:
            parts.append(f"{name} not activated")
    return "; ".join(parts)


def not_activated(nodes: Sequence[str], licenses: Mapping[str, NodeLicense]) -> list[str]:
    """The nodes the run did not leave activated (a failure's text may end in "activated":
    "failed: the page still says not activated")."""
    done = ("activated", "already activated")
    return [name for name in nodes if (e := licenses.get(name)) is None or e.outcome not in done]


async def _report(run: StepRun[ClusterContext]) -> None:
    licenses = _licenses(run.ctx)
    for name in run.ctx.nodes:
        entry = licenses.get(name)
        if entry is not None and not entry.outcome and entry.reading and entry.reading.activated:
            entry.outcome = "already activated"
        run.observed(f"{name}: {entry.outcome if entry else 'not read'}")
    failed = not_activated(run.ctx.nodes, licenses)
    if failed:
        raise StepFailed(f"not activated: {', '.join(failed)} ({_state(run.ctx)})")


async def _conclude(ctx: ClusterContext, status: Status) -> str:
    del status
    return _state(ctx)


def build(nodes: Sequence[str]) -> Wizard[ClusterContext]:
    return Wizard(
        name="license",
        title="request and activate each node's license",
        steps=(
            Step(
                "read",
                "read each node's license page on its own URL; write the request for the vendor",
                check=_read,
                timeout=HTTP_TIMEOUT * max(1, len(nodes)) + 5,
            ),
            Step(
                "keys",
                "take one license key per node to activate (nothing is activated yet)",
                action=_keys,
                timeout=24 * 3600.0,
            ),
            *(_activate_step(name) for name in nodes),
            Step("report", "each node's license as read back", verify=_report),
        ),
        conclude=_conclude,
    )
