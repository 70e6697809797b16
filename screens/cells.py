"""Cell renderers shared by the views: every state as words *and* colour, always as `Text`.

Nothing here interprets markup: remote text (host names, reasons, log lines, worker routes) goes
through `console.textsafe.printable` and into `Text` as it is, so ``[bold]`` or an ANSI escape in
a log shows literally. Colours come from a `Palette` built from the active theme.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.theme import Theme

from console.cluster.peers import peers_of
from console.cluster.rates import PoolWorker, elected_rate
from console.cluster.state import BalancerView, NodeView
from console.cluster.topology import NodeSpec, index_for
from console.textsafe import printable
from probes.balancer.model import Worker


@dataclass(frozen=True, slots=True)
class Palette:
    """Styles for good, worrying, bad and unknown states."""

    ok: Style
    warn: Style
    bad: Style
    muted: Style
    loud: bool = False
    """Wall screens: state words in capitals."""


def palette_for(theme: Theme | None, *, loud: bool = False) -> Palette:
    """The palette matching a Textual theme (its success/warning/error colours)."""
    if theme is None:
        return Palette(Style(color="green"), Style(color="yellow"), Style(color="red"), Style())
    bad = Style(color=theme.error or "red", bold=True)
    if loud:
        bad = Style(color=theme.background or "black", bgcolor=theme.error or "red", bold=True)
    return Palette(
        ok=Style(color=theme.success or "green", bold=loud),
        warn=Style(color=theme.warning or "yellow", bold=True),
        bad=bad,
        muted=Style(dim=True),
        loud=loud,
    )


def safe(text: str | None, limit: int = 200) -> str:
    """Remote text made printable and cut to ``limit`` characters."""
    if not text:
        return ""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def word(palette: Palette, words: str, style: Style) -> Text:
    """A state word in its colour (capitals on a wall screen)."""
    return Text(words.upper() if palette.loud else words, style=style, end="")


def plain(text: str | None, style: Style | None = None) -> Text:
    """Remote text, literally."""
    return Text(safe(text), style=style or "", end="")


def ssh_cell(view: NodeView, palette: Palette) -> Text:
    match view.ssh:
        case "up":
            return word(palette, "up", palette.ok)
        case "connecting":
            return word(palette, "connecting", palette.muted)
        case state:
            reason = f" {safe(view.ssh_reason, 60)}" if view.ssh_reason else ""
            return word(palette, f"{state}{reason}", palette.bad)


def tomcat_cell(view: NodeView, palette: Palette) -> Text:
    match view.tomcat:
        case "running":
            return word(palette, "running", palette.ok)
        case "stopped":
            return word(palette, "stopped", palette.bad)
        case _:
            return word(palette, "unknown", palette.muted)


def calm(palette: Palette) -> Palette:
    """The palette of a node in maintenance: its states keep their words, not the alarm."""
    return Palette(palette.ok, palette.muted, palette.muted, palette.muted, palette.loud)


def maintenance_cell(view: NodeView, palette: Palette) -> Text:
    """Tomcat of a node in maintenance: the word, and whether it runs (being brought back)."""
    text = word(palette, "maintenance", Style(color="cyan", bold=palette.loud))
    if view.tomcat == "running":
        text.append(word(palette, " (running)", palette.ok))
    return text


def http_cell(view: NodeView, palette: Palette) -> Text:
    """The direct HTTP answer and its latency: ``up 200 4ms``, ``down connection refused``."""
    check = view.http
    if check is None:
        return word(palette, "checking", palette.muted)
    if check.status is None:
        return word(palette, f"down {safe(check.error, 60)}".strip(), palette.bad)
    if check.ok:
        text = word(palette, f"up {check.status}", palette.ok)
    else:
        text = word(palette, f"error {check.status}", palette.bad)
    if check.ms is not None:
        text.append(f" {check.ms:.0f}ms", style=palette.warn if check.ms >= 1000 else "")
    return text


def workers_by_node(
    view: BalancerView, specs: tuple[NodeSpec, ...]
) -> dict[str, list[tuple[str, Worker]]]:
    """The workers of one balancer read with their pools, by the node each sends to (computed
    once per read; `topology.index_for` keeps the address index and each worker's answer)."""
    found: dict[str, list[tuple[str, Worker]]] = {}
    if view.page is None:
        return found
    index = index_for(specs)
    for balancer in view.page.balancers:
        for worker in balancer.workers:
            node = index.worker_node(worker)
            if node is not None:
                found.setdefault(node, []).append((balancer.name, worker))
    return found


def worker_words(worker: Worker) -> str:
    """The worker's state in one or two words."""
    if worker.usable is False:
        for flag, words in (("Err", "error"), ("Stop", "stopped"), ("Dis", "disabled")):
            if flag in worker.flags:
                return words
        return "unusable"
    if worker.draining:
        return "draining"
    if worker.disabled:
        return "disabled"
    if worker.standby:
        return "standby"
    return "ok"


def worker_cell(
    view: BalancerView,
    workers: list[tuple[str, Worker]],
    palette: Palette,
    previous: Mapping[PoolWorker, int] | None = None,
) -> Text:
    """A node's worker(s) on one balancer (with their pools): state, elected per second, busy.

    ``previous`` is `rates.previous_elected(view)`, for callers drawing many workers of one read.
    """
    if view.reachable is False:
        return word(palette, "lb unreachable", palette.bad)
    if view.page is None:
        return word(palette, "reading", palette.muted)
    if not workers:
        return word(palette, "absent", palette.warn)
    pool, worker = workers[0]
    words = worker_words(worker)
    style = {"ok": palette.ok, "draining": palette.warn, "standby": palette.muted}.get(
        words, palette.bad
    )
    text = word(palette, words, style)
    rate = elected_rate(view, pool, worker, previous)
    text.append(f" {rate:.1f}/s" if rate is not None else " -/s")
    text.append(f" busy {worker.busy}" if worker.busy is not None else "")
    if len(workers) > 1:
        text.append(f" +{len(workers) - 1}")
    return text


def peers_cell(
    view: NodeView, expected: int, specs: tuple[NodeSpec, ...], palette: Palette
) -> Text:
    """Peers the node's log says it sees, out of those expected (others not known stopped)."""
    peers = peers_of(view, expected, specs)
    if peers is None:
        return Text("-", style=palette.muted, end="")
    if peers.seen is None:
        return Text(peers.text, style=palette.muted, end="")
    style = palette.ok if peers.complete else palette.bad
    return Text(peers.text, style=style, end="")


_EVENT_STYLE = {"member-left": "bad", "error": "bad", "server-stopping": "warn"}


def event_cell(view: NodeView, palette: Palette, limit: int = 80) -> Text:
    """The node's last event: its time (HH:MM:SS), kind and member, literally."""
    record = view.last_event
    if record is None:
        return Text("-", style=palette.muted, end="")
    event = record.event
    when = event.time[11:19] if event.time and len(event.time) >= 19 else (event.time or "")
    style = getattr(palette, _EVENT_STYLE.get(event.kind, "ok"), palette.ok)
    text = Text(f"{safe(when, 20)} ", style=palette.muted, end="")
    text.append(event.kind, style=style)
    target = event.member or event.detail
    if target:
        text.append(f" {safe(target, limit)}")
    return text


__all__ = [
    "Palette",
    "calm",
    "event_cell",
    "http_cell",
    "maintenance_cell",
    "palette_for",
    "peers_cell",
    "plain",
    "safe",
    "ssh_cell",
    "tomcat_cell",
    "word",
    "worker_cell",
    "worker_words",
    "workers_by_node",
]
