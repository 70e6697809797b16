"""Elected per second: one rule for the dashboard, the balancer view and the cross-checks."""

from __future__ import annotations

from console.cluster.rates import elected_before, elected_rate, previous_elected
from console.cluster.state import BalancerView
from probes.balancer.model import Balancer, BalancerPage, Worker

SHARED = "http://10.0.0.1:8080"  # one backend in two pools


def _worker(url: str, elected: int | None) -> Worker:
    return Worker(
        url, None, None, 1.0, 0, "Init Ok", ("Ok",), True, False, False, False, elected, 0, 0,
        0, 0,
    )  # fmt: skip


def _page(app: int | None, api: int | None) -> BalancerPage:
    return BalancerPage(
        "http://lb/balancer-manager",
        (
            Balancer("app", "n1", (_worker(SHARED, app),)),
            Balancer("api", "n2", (_worker(SHARED, api),)),
        ),
    )


def _view(before: BalancerPage | None, now: BalancerPage, interval: float | None) -> BalancerView:
    return BalancerView("httpd", "apache", "http://lb/", True, None, now, before, interval)


def test_a_rate_compares_the_same_worker_in_the_same_pool() -> None:
    view = _view(_page(100, 5000), _page(120, 5002), 2.0)
    now = view.page
    assert now is not None
    app, api = now.balancers[0].workers[0], now.balancers[1].workers[0]
    assert elected_rate(view, "app", app) == 10.0
    assert elected_rate(view, "api", api) == 1.0  # not (5002 - 100) / 2 from the other pool
    previous = previous_elected(view)
    assert previous == {("app", SHARED): 100, ("api", SHARED): 5000}
    assert elected_rate(view, "app", app, previous) == 10.0
    assert elected_rate(view, "api", api, previous) == 1.0
    assert elected_before(view, "api", SHARED) == 5000


def test_no_rate_when_it_cannot_be_told() -> None:
    first = _view(None, _page(100, 100), None)
    reset = _view(_page(100, 100), _page(3, 100), 2.0)  # httpd restarted, or a factor re-posted
    missing = _view(_page(None, 100), _page(7, 100), 2.0)
    for view in (first, reset, missing):
        page = view.page
        assert page is not None
        worker = page.balancers[0].workers[0]
        assert elected_rate(view, "app", worker) is None
        assert elected_rate(view, "app", worker, previous_elected(view)) is None
    assert elected_rate(_view(_page(1, 1), _page(2, 2), 0.0), "app", _worker(SHARED, 2)) is None
    assert elected_rate(_view(_page(1, 1), _page(2, 2), 1.0), "gone", _worker(SHARED, 2)) is None
