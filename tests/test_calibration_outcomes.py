"""The outcomes the calibration targets read: Kazakh statistics as Kazakh agencies count them."""

from __future__ import annotations

import math

import pytest

from sim.model import NorthernRouteModel
from sim.model.outcomes import summarise
from sim.run import simulate


@pytest.fixture(scope="module")
def summary(short_params):
    return simulate(short_params, keep_events=False).summary


def test_kazakh_seizures_by_agency_add_up_and_exclude_the_russian_side(summary):
    agencies = [k for k in summary if k.startswith("kg_seized_kz_agency_")]
    assert agencies, "no agency keys"
    assert sum(summary[k] for k in agencies) == pytest.approx(summary["kg_seized_kz_national"])
    counts = [k for k in summary if k.startswith("seizures_kz_agency_")]
    assert sum(summary[k] for k in counts) == pytest.approx(summary["seizures_kz_national"])
    assert "kg_seized_kz_agency_russian_fsb_border_service" not in summary
    assert summary["kg_seized_kz_national"] <= summary["kg_seized_kz"] + 1e-9
    assert summary["seizures_kz_national"] > 0


def test_seizure_shares_by_border_sum_to_one_and_sizes_are_ordered(summary):
    shares = [v for k, v in summary.items() if k.startswith("share_seizures_kz_border_")]
    assert sum(shares) + summary["share_seizures_kz_inland"] == pytest.approx(1.0)
    assert 0 < summary["seizure_kg_q25_kz"] <= summary["seizure_kg_median_kz"] <= summary["seizure_kg_q75_kz"]
    foreign = [v for k, v in summary.items() if k.startswith("share_foreign_arrested_kz_")]
    assert sum(foreign) == pytest.approx(1.0)
    assert "share_foreign_arrested_kz_KZ" not in summary


def test_the_keys_targets_name_exist_before_anything_happens(baseline_params):
    empty = summarise(NorthernRouteModel(baseline_params, keep_events=False))
    for key in ("kg_seized_kz_national", "kg_seized_kz_agency_knb_border_service", "seizures_kz_agency_mvd_police",
                "share_seizures_kz_border_kz_ru", "share_foreign_arrested_kz_RU", "seizure_kg_median_kz"):
        assert key in empty
    assert empty["kg_seized_kz_national"] == 0.0
    assert math.isnan(empty["seizure_kg_median_kz"])   # no seizure, no size to report
