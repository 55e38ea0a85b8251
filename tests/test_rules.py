"""Each rule of inspection and economics, on its own."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from sim.model import inspection
from sim.model.corruption import Integrity, bribe_acceptance_probability, bribe_offer_usd
from sim.model.economics import mean_load_kg, trip_cost_per_kg, trip_cost_usd
from sim.params import Regime

probabilities = st.floats(0, 1)


def test_inspection_is_capacity_against_traffic():
    p = inspection.inspection_probability(staff=10, inspections_per_officer_day=2, funding_factor=1,
                                          traffic_per_day=2000, n_crossings=1, targeting=1)
    assert p == pytest.approx(0.01)


def test_budget_cut_of_93_percent_cuts_inspection_in_proportion():
    # 002 ¶7: counter-narcotics funding cut by 93% in August 2008
    full = inspection.inspection_probability(10, 2, 1.0, 2000, 1, 1.5)
    cut = inspection.inspection_probability(10, 2, 0.07, 2000, 1, 1.5)
    assert cut == pytest.approx(full * 0.07)


def test_inspection_never_exceeds_certainty():
    assert inspection.inspection_probability(1000, 50, 1, 10, 1, 3.0) == 1.0


def test_a_cluster_of_crossings_spreads_the_guards_thin():
    one = inspection.inspection_probability(2, 2, 1, 4, 1, 1)
    many = inspection.inspection_probability(2, 2, 1, 4, 41, 1)
    assert many == pytest.approx(one / 41)


def test_detection_methods_combine_as_independent_chances():
    assert inspection.detection_probability([0.5, 0.5]) == pytest.approx(0.75)
    assert inspection.detection_probability([]) == 0.0


@given(probabilities, probabilities, st.floats(0, 1e6), st.floats(0, 1e6))
def test_bribes_tempt_more_when_larger_and_less_when_deterred(c, d, b1, b2):
    low, high = sorted((b1, b2))
    p_low = bribe_acceptance_probability(c, d, low, 4000)
    p_high = bribe_acceptance_probability(c, d, high, 4000)
    assert 0 <= p_low <= p_high <= c * (1 - d) + 1e-12


def test_deterrence_lowers_bribe_taking():
    weak = bribe_acceptance_probability(0.5, 0.1, 5000, 4000)
    strong = bribe_acceptance_probability(0.5, 0.8, 5000, 4000)
    assert strong < weak


def test_patrols_add_up_without_passing_certainty():
    one = inspection.patrol_encounter_probability(1, 0.5, 1)
    two = inspection.patrol_encounter_probability(2, 0.5, 1)
    assert one == pytest.approx(0.5) and two == pytest.approx(0.75)
    assert inspection.patrol_encounter_probability(0, 0.5, 1) == 0.0


def test_customs_union_opens_cargo_rarely_but_still_checks_people(baseline_params):
    world = baseline_params.world
    union = Regime(name="cu", sides_inspecting=1, cargo_inspection_factor=0.1, person_inspection_factor=0.5,
                   tir_inspection_factor=0.5)
    assert inspection.regime_factor(union, world.conveyances["truck"]) == pytest.approx(0.1)
    assert inspection.regime_factor(union, world.conveyances["truck_tir"]) == pytest.approx(0.05)
    assert inspection.regime_factor(union, world.conveyances["body_packer"]) == pytest.approx(0.5)


def test_prices_and_pay_follow_the_sources(baseline_params):
    world = baseline_params.world
    prices = world.economics.price_usd_per_kg
    # 002 ¶16: 700 -> 1,500 -> 4,000 -> 20,000 -> 25,000 -> 30,000
    ladder = [prices[z] for z in ("afghanistan", "afghan_tajik_border", "kazakhstan", "kz_ru_border", "russia", "europe")]
    assert ladder == [700, 1500, 4000, 20000, 25000, 30000]
    truck = world.conveyances["truck"]
    # 002 ¶18: $10,000 to drive a load to Moscow (~4,000 km)
    assert 8000 <= truck.courier_pay_usd_per_km * 4000 <= 12000
    assert trip_cost_per_kg(truck, 4000) == pytest.approx(trip_cost_usd(truck, 4000) / mean_load_kg(truck))
    assert mean_load_kg(truck) == pytest.approx(truck.size.median_kg * math.exp(truck.size.sigma ** 2 / 2))



def test_a_bribe_is_months_of_pay_capped_by_what_the_load_is_worth():
    # six months of a $500 wage, unless 15% of the load's local value is less
    assert bribe_offer_usd(10, 4000, 0.15, 500, 6) == pytest.approx(3000)
    assert bribe_offer_usd(1, 4000, 0.15, 500, 6) == pytest.approx(600)
    assert bribe_offer_usd(1000, 25000, 0.15, 500, 6) == pytest.approx(3000)


def test_inspection_share_counts_smuggled_loads_as_traffic():
    assert inspection.share_inspected(20, 2000, 1.0) == pytest.approx(0.01)
    assert inspection.share_inspected(20, 2000 + 2000, 1.0) == pytest.approx(0.005)
    assert inspection.share_inspected(0, 2000, 1.0) == 0.0


def test_corruption_cases_raise_deterrence_for_a_while():
    integrity = Integrity(base=0.2, per_case=0.1, memory_days=90)
    assert integrity.deterrence(0) == pytest.approx(0.2)
    integrity.note_case(10)
    integrity.note_case(20)
    assert integrity.deterrence(30) == pytest.approx(1 - 0.8 * 0.9 ** 2)
    assert integrity.deterrence(105) == pytest.approx(1 - 0.8 * 0.9)    # the first case is forgotten
    assert integrity.deterrence(200) == pytest.approx(0.2)
