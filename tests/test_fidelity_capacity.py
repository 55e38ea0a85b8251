"""Inspection capacity meets the traffic a post sees; a seizure costs officer-time (issue 9, item 4)."""

from __future__ import annotations

import pytest

from sim.model import NorthernRouteModel


@pytest.fixture
def korday(short_params):
    model = NorthernRouteModel(short_params, rng=0)
    return model, model.posts[model.network.index["kz_korday"]].sides[0]


def test_a_seizure_reduces_the_seizing_posts_capacity_for_a_while(korday):
    model, side = korday
    days = model.world.inspection.seizure_officer_days
    full = side.inspection_chance(0, 10.0, 0)
    for _ in range(3):
        side.tie_up(10.0, days)
    busy = side.inspection_chance(0, 10.5, 0)
    assert busy == pytest.approx(full * (side.staff - 3) / side.staff)
    assert side.inspection_chance(0, 10.0 + days + 0.01, 0) == pytest.approx(full)   # the officers are back


def test_smuggled_loads_add_to_the_traffic_a_post_must_screen(korday):
    _, side = korday
    quiet = side.inspection_chance(0, 1.0, 0)
    busy = side.inspection_chance(0, 1.0, int(side.licit_traffic))      # as many loads as licit vehicles
    assert busy == pytest.approx(quiet / 2)
