"""Cells and lines for a node's figures (sessions, heap, threads, requests/s, 5xx/s, latency).

The error column counts 5xx answers only, read from the node's access log (``5xx/s``); Tomcat's
own count (every status >= 400) and the 4xx rate are in the node view.

A figure that is not known shows as a dim ``-`` (the node view says why); a worrying one is in
the warning colour, a bad one in the error colour, with the same thresholds as the cross-checks
(`console.cluster.metrics_checks`). Sparklines are drawn with block characters, oldest left, and say
the
time they cover.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from console.cluster.metrics import MetricsPoint, NodeMetrics
from console.cluster.metrics_checks import HEAP_RATIO
from console.cluster.state import NodeView
from screens.cells import Palette, safe

METRIC_COLUMNS: tuple[tuple[str, str, int, int, int | None, int], ...] = (
    ("sessions", "sess", 4, 7, 0, 6),
    ("heap", "heap", 8, 12, 0, 7),
    ("threads", "threads", 7, 9, 0, 8),
    ("requests", "req/s", 5, 8, 0, 6),
    ("errors", "5xx/s", 5, 8, 0, 7),
    ("latency", "ms", 4, 7, 0, 9),
    ("trend", "req/s", 10, 10, 0, 10),
)
"""Dashboard columns (key, title, width, widest, narrowest, squeeze): all may be hidden (0) on a
narrow terminal, the least telling first (the requests/s sparkline, latency, threads, heap,
errors; then requests and sessions). The sparkline's title gets its time scale from the
inventory's interval (`trend_title`)."""

TREND_POINTS = 10
"""Reads a dashboard sparkline shows (the node view shows 40)."""


def trend_title(interval: float) -> str:
    """The sparkline column's title with the time it covers: "req/s 50s", "req/s 5m"."""
    seconds = TREND_POINTS * interval
    return f"req/s {seconds / 60:.0f}m" if seconds >= 120 else f"req/s {seconds:.0f}s"


BLOCKS = " ▁▂▃▄▅▆▇█"
_UNKNOWN = "-"


def _number(value: float) -> str:
    """A compact figure: 3, 12.5, 1.2k, 34k, 1.2M."""
    if value >= 999_500:
        return f"{value / 1e6:.1f}M"
    if value >= 9_995:
        return f"{value / 1e3:.0f}k"
    if value >= 999.5:
        return f"{value / 1e3:.1f}k"
    if value >= 99.5 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.1f}"


def mib(value: int) -> str:
    if value >= 10 << 30:
        return f"{value / (1 << 30):.0f}G"
    if value >= 1 << 30:
        return f"{value / (1 << 30):.1f}G"
    return f"{value / (1 << 20):.0f}M"


def _unknown(palette: Palette) -> Text:
    return Text(_UNKNOWN, style=palette.muted, end="")


def metric_cell(key: str, view: NodeView, palette: Palette) -> Text:
    """The dashboard cell `key` (a METRIC_COLUMNS key) of a node."""
    metrics = view.metrics
    if metrics is None:
        return _unknown(palette)
    point = metrics.point
    style = Style()
    if key == "trend":
        recent = metrics.history[-TREND_POINTS:]
        values = [p.requests_per_s for p in recent]
        if all(value is None for value in values):
            return _unknown(palette)
        return Text(sparkline(values, TREND_POINTS), end="")
    if key == "sessions":
        if point.sessions_active is None:
            return _unknown(palette)
        text = _number(point.sessions_active)
    elif key == "heap":
        if point.heap_used_bytes is None:
            return _unknown(palette)
        ratio = point.heap_ratio
        if ratio is None:
            text = mib(point.heap_used_bytes)
        else:
            text = f"{ratio:.0%} {mib(point.heap_max_bytes or 0)}"
            style = palette.warn if ratio > HEAP_RATIO else style
    elif key == "threads":
        if point.threads_busy is None or not point.threads_max:
            return _unknown(palette)
        text = f"{point.threads_busy}/{point.threads_max}"
        if point.threads_busy >= point.threads_max:
            style = palette.bad
        elif point.threads_busy >= 0.8 * point.threads_max:
            style = palette.warn
    elif key == "requests":
        if point.requests_per_s is None:
            return _unknown(palette)
        text = _number(point.requests_per_s)
    elif key == "errors":
        if point.errors_per_s is None:
            return _unknown(palette)
        text = _number(point.errors_per_s)
        if point.errors_per_s > metrics.max_errors_per_s:
            style = palette.warn
    else:
        if point.latency_ms is None:
            return _unknown(palette)
        text = _number(point.latency_ms)
    return Text(text, style=style, end="")


def sparkline(values: list[float | None], width: int) -> str:
    """The last `width` values as block characters scaled to their own maximum; an unknown
    value is a space."""
    shown = values[-width:]
    top = max((v for v in shown if v is not None), default=0.0)
    out = []
    for value in shown:
        if value is None:
            out.append(" ")
        elif top <= 0:
            out.append(BLOCKS[1])
        else:
            out.append(BLOCKS[max(1, round(value / top * (len(BLOCKS) - 1)))])
    return "".join(out)


def span_text(metrics: NodeMetrics, width: int) -> str:
    """How much time the last `width` points cover, in words ("last 4 min")."""
    points = metrics.history[-width:]
    if len(points) < 2:
        return "one read"
    seconds = points[-1].at - points[0].at
    if seconds >= 90:
        return f"last {seconds / 60:.0f} min"
    return f"last {seconds:.0f} s"


_FIGURES: tuple[tuple[str, str], ...] = (
    ("sessions_active", "sessions"),
    ("heap_used_bytes", "heap"),
    ("threads_busy", "threads busy"),
    ("requests_per_s", "requests/s"),
    ("errors_per_s", "5xx/s (log)"),
    ("errors_4xx_per_s", "4xx/s (log)"),
    ("errors_4xx_5xx_per_s", "400+/s Tomcat"),
    ("latency_ms", "latency ms"),
)


def _figure_text(point: MetricsPoint, name: str) -> str:
    value = point.figure(name)
    if value is None:
        return _UNKNOWN
    if name == "heap_used_bytes":
        most = f" of {mib(point.heap_max_bytes)}" if point.heap_max_bytes else ""
        return f"{mib(int(value))}{most}"
    if name == "threads_busy":
        return f"{value} of {point.threads_max or '?'}"
    return _number(float(value))


def metric_lines(view: NodeView, width: int = 40) -> list[Text]:
    """The node view's figures: each with its value, a sparkline of its history (with the
    time it covers) or why it is unknown, then each application's sessions."""
    metrics = view.metrics
    if metrics is None:
        return [Text("figures: not read yet")]
    point = metrics.point
    source = "Tomcat's manager" if metrics.source == "manager" else "SSH (no manager)"
    lines = [Text(f"figures from {source}, {span_text(metrics, width)}:")]
    for name, label in _FIGURES:
        line = Text(f"  {label:<13}{_figure_text(point, name):>14}  ")
        reason = metrics.missing.get(name)
        if reason is not None and point.figure(name) is None:
            line.append(safe(reason, 160), style="dim")  # may quote a node's answer: made printable
        else:
            line.append(sparkline(metrics.series(name), width))
        lines.append(line)
    for app in metrics.apps:
        parts = [
            f"active {_number(app.active) if app.active is not None else _UNKNOWN}",
            f"created {app.created if app.created is not None else _UNKNOWN}",
            f"expired {app.expired if app.expired is not None else _UNKNOWN}",
            f"rejected {app.rejected if app.rejected is not None else _UNKNOWN}",
        ]
        if app.replicated:
            parts.append(f"created here {app.sent_created}, from peers {app.received_created}")
        manager = safe(app.manager or "?", 20)
        lines.append(Text(f"  {safe(app.context, 40)} ({manager}): " + ", ".join(parts)))
    if metrics.jvm is not None:
        jvm = metrics.jvm
        rss = mib(jvm.rss_bytes) if jvm.rss_bytes is not None else _UNKNOWN
        cpu = f"{jvm.cpu_seconds:.0f} s" if jvm.cpu_seconds is not None else _UNKNOWN
        age = f"{jvm.age_seconds / 60:.0f} min" if jvm.age_seconds is not None else _UNKNOWN
        lines.append(Text(f"  process {jvm.pid}: RSS {rss}, CPU {cpu}, up {age}"))
    access = metrics.access
    if access is not None and access.file is not None:
        counts = access.counts
        read = (
            f"{counts.requests} requests, {counts.unreadable} unreadable lines in the last read"
            if counts is not None
            else "counting from its end"
        )
        lines.append(Text(f"  access log {safe(access.file, 80)}: {read}"))
    return lines
