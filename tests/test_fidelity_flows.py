"""Where the flow goes (issue 9, item 1): corridors by who works them; route variants do not outvote routes."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import with_updates
from sim.model.routing import Route, RouteMenu
from sim.run import simulate


def _route(nodes, conveyance="car"):
    return Route(conveyance=conveyance, nodes=tuple(nodes), arrival_days=tuple(float(i) for i in range(len(nodes))),
                 km=1000.0, cost_per_kg=100.0, crossings="")


def test_many_variants_of_one_corridor_weigh_as_one_distinct_route():
    """Path-size logit: ten near-copies of corridor A against one route B of equal value."""
    variants = [_route([0, 1, 2, 3, 4, 10 + i, 9]) for i in range(10)]
    other = _route([0, 5, 6, 7, 8, 9])
    menu = RouteMenu([*variants, other], market_price=25000.0, n_conveyances=5)
    p_pass = np.ones(20 * 5)
    picks = [menu.choose(p_pass, 600.0, u)[0] for u in np.linspace(0, 1, 2000, endpoint=False)]
    share_other = np.mean([r is other for r in picks])
    assert 2.5 / 11 < share_other < 0.7       # a plain logit gives B one pick in eleven


def test_routes_beyond_the_loss_tolerance_are_dropped_while_any_is_within_it():
    safe, risky = _route([0, 1, 2]), _route([0, 3, 2])
    menu = RouteMenu([safe, risky], market_price=25000.0, n_conveyances=5)
    p_pass = np.ones(4 * 5)
    p_pass[3 * 5 + 2] = 0.7          # a 30% chance of loss at node 3 for cars (conveyance index 2)
    picks = {menu.choose(p_pass, 1e9, u, tolerance=0.2)[0] is safe for u in np.linspace(0, 1, 50, endpoint=False)}
    assert picks == {True}


@pytest.fixture(scope="module")
def year(baseline_params):
    return [simulate(with_updates(baseline_params, {"horizon_days": 240}), seed=s, keep_events=False).summary for s in (0, 1)]


def test_the_turkmen_border_carries_about_the_turkmen_networks_share(year, baseline_params):
    turkmen = baseline_params.world.organisations["turkmen_networks"].flow_share
    for s in year:
        assert s["share_entry_kz_tm"] < turkmen + 0.03      # it was 16-36% (issue 9)


def test_rail_carries_a_real_share_and_the_semey_barnaul_exit_is_used(year):
    for s in year:
        assert s["share_kg_rail"] > 0.07                   # 002 ¶6: "heavily relying on the rail system"
        assert s["share_exit_kz_ru_altai"] > 0.06          # ¶15: Almaty - Karaganda - Semey - Barnaul
        assert s["share_kg_truck_tir"] < 0.25              # TIR use only suspected to grow (¶6)
