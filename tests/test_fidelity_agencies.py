"""Who seizes (issue 9, item 2): each seizure credited to the agency that made it; the KNB investigates."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import with_updates
from sim.model import NorthernRouteModel
from sim.run import simulate


@pytest.fixture(scope="module")
def year(baseline_params):
    return simulate(with_updates(baseline_params, {"horizon_days": 180}), seed=4, keep_events=False)


def test_mobile_patrols_are_run_by_border_guards_customs_and_police(baseline_params):
    model = NorthernRouteModel(baseline_params, rng=0)
    agencies = [p.officer.agency for p in model.patrols]
    assert sorted(set(agencies)) == ["KNB border service", "KZ customs", "MVD police"]     # 002 ¶6
    assert max(agencies.count(a) for a in set(agencies)) - min(agencies.count(a) for a in set(agencies)) <= 1


def test_every_seizure_is_credited_to_a_real_agency(year):
    seized = year.shipments[year.shipments["outcome"] == "seized"]
    agencies = set(seized["agency"].astype(str))
    assert "mobile patrol" not in agencies and "police" not in agencies
    assert {"KNB border service", "KZ customs", "MVD police"} <= agencies


def test_the_mvd_seizes_at_internal_checkpoints_in_cities_and_on_patrol(year, baseline_params):
    nodes = {n.id: n for n in year.network.nodes}
    patrolled = set(baseline_params.world.patrols["south"].area)
    seized = year.shipments[year.shipments["outcome"] == "seized"]
    where = set(seized.loc[seized["agency"].astype(str) == "MVD police", "outcome_node"].astype(str))
    assert year.summary["seizures_kz_agency_mvd_police"] >= 3      # 002 ¶3, ¶21, ¶24: a real seizer
    assert all(nodes[n].kind in ("internal_checkpoint", "city", "market") or n in patrolled for n in where)


def test_the_knb_shuts_routes_and_groups_after_seizures(year):
    assert year.summary["routes_shut_knb"] > 0 and year.summary["groups_shut_knb"] > 0
    assert year.summary["kg_reassigned_disruption"] > 0          # a shut group's heroin passes to rivals


def test_a_shut_route_is_avoided_until_it_reopens(short_params):
    model = NorthernRouteModel(short_params, rng=1)
    org = next(o for o in model.organisations if o.org_type == "kyrgyz_networks")
    korday = model.network.index["kz_korday"]

    def share_via_korday():
        return np.mean([korday in org.choose_route("kz_almaty")[0].nodes for _ in range(300)])

    before = share_via_korday()
    org.shut_channel(korday, 30)
    assert before > 0.05 and share_via_korday() < 0.01
    model.day = 31
    assert share_via_korday() > 0.05 and korday not in org.shut_until


def test_knb_targets_count_the_knb_border_service_and_its_patrols(year):
    """The KNB's 150 kg (002 ¶3) maps to the agency that holds the border posts and runs a third of the patrols."""
    s = year.summary
    seized = year.shipments[year.shipments["outcome"] == "seized"]
    kz = seized[seized["outcome_node"].astype(str).str.startswith("kz_")]
    knb = kz.loc[kz["agency"].astype(str) == "KNB border service", "kg"].sum()
    assert s["kg_seized_kz_agency_knb_border_service"] == pytest.approx(knb)
