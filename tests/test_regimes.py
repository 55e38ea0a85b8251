"""Customs-union rules on the Kazakh-Russian border change who inspects and where loads are found."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import load_params, with_updates
from sim.model import NorthernRouteModel
from sim.run import simulate

REGIMES = ("two_sided", "single_inspection", "customs_union")


@pytest.fixture(scope="module")
def regime_params():
    return {r: with_updates(load_params([f"regime={r}"]), {"horizon_days": 120}) for r in REGIMES}


def _kz_ru_posts(model):
    return [p for p, n in zip(model.posts, model.network.nodes)
            if p is not None and n.border == "kz_ru" and n.kind == "border_checkpoint"]


def test_two_sided_border_has_both_sides_inspecting_except_simplified_posts(regime_params):
    model = NorthernRouteModel(regime_params["two_sided"], rng=0)
    for post in _kz_ru_posts(model):
        node = model.network.nodes[post.node]
        assert len(post.sides) == 2
        assert post.both_sides_inspect is (not node.simplified)


def test_single_inspection_has_the_sides_take_turns(regime_params):
    model = NorthernRouteModel(regime_params["single_inspection"], rng=0)
    assert all(len(p.sides) == 2 and not p.both_sides_inspect for p in _kz_ru_posts(model))


def test_customs_union_opens_cargo_less_at_the_border(regime_params):
    two = NorthernRouteModel(regime_params["two_sided"], rng=0)
    union = NorthernRouteModel(regime_params["customs_union"], rng=0)
    truck = 0  # CONVEYANCES index of "truck"
    for a, b in zip(_kz_ru_posts(two), _kz_ru_posts(union)):
        assert b.sides[0].p_inspect[truck] < a.sides[0].p_inspect[truck]


def _inspections_and_seizures(params, seeds):
    rows = []
    for seed in seeds:
        model = NorthernRouteModel(params, rng=seed, keep_events=False)
        model.run()
        inspections = sum(p.inspections for p in _kz_ru_posts(model))
        summary = simulate(params, seed=seed, keep_events=False).summary
        rows.append((inspections, summary["kg_seized_border_kz_ru"], summary["kg_seized"]))
    return np.array(rows)


def test_customs_union_moves_seizures_away_from_the_kazakh_russian_border(regime_params):
    """Fewer inspections and seizures at the KZ-RU border; its share of all seizures falls.

    (Where the seized kilos go instead is not asserted: the regime's TIR factor also opens
    fewer sealed trucks at the EU border, so seizures there need not rise.)
    """
    seeds = range(3)
    two = _inspections_and_seizures(regime_params["two_sided"], seeds)
    union = _inspections_and_seizures(regime_params["customs_union"], seeds)
    assert union[:, 0].mean() < 0.6 * two[:, 0].mean()          # fewer inspections at the KZ-RU border
    assert union[:, 1].mean() < two[:, 1].mean()                # fewer kg seized there
    assert union[:, 1].sum() / union[:, 2].sum() < two[:, 1].sum() / two[:, 2].sum()


def test_more_licit_traffic_at_the_kazakh_russian_border_means_fewer_loads_inspected_there(regime_params):
    """The regime's licit traffic meets the crews' capacity: three times the vehicles, fewer loads inspected.

    Paired seeds, the same regime otherwise; inspections counted at the Kazakh-Russian posts.
    """
    base = regime_params["two_sided"]
    busy = with_updates(base, {"regime.licit_traffic_factor": 3.0})
    quiet_model, busy_model = NorthernRouteModel(base, rng=0), NorthernRouteModel(busy, rng=0)
    for a, b in zip(_kz_ru_posts(quiet_model), _kz_ru_posts(busy_model)):
        assert b.sides[0].licit_traffic == pytest.approx(3 * a.sides[0].licit_traffic)
    seeds = range(4)
    quiet, many = _inspections_and_seizures(base, seeds), _inspections_and_seizures(busy, seeds)
    assert many[:, 0].sum() < 0.7 * quiet[:, 0].sum()
