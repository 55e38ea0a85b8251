"""Sentences of README.md and docs/*.md, checked against the configs and the model.

Each test quotes the claim it checks; docs/claims.md lists every claim with its test or
the correction made to the text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sim.config import compose_config, load_params, with_updates
from sim.model.policies import enabled_policies
from sim.run import simulate

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
POLICIES_MD = (REPO / "docs" / "policies.md").read_text()


@pytest.fixture(scope="module")
def baseline():
    return load_params()


def _preset(name):
    return load_params([f"preset={name}"])


# --- README ---------------------------------------------------------------------------------


def test_readme_states_the_yearly_heroin_flow_the_baseline_uses(baseline):
    """README: "Each organisation receives its share of the day's heroin (about N t a year ...)"."""
    stated = re.search(r"about (\d+) t a year on\s+the route", README)
    assert stated, "README no longer states the yearly flow"
    assert int(stated.group(1)) == round(baseline.world.flow.heroin_kg_per_year / 1000)


def test_readme_number_of_organisations_and_patrols(baseline):
    assert sum(o.count for o in baseline.world.organisations.values()) == 35   # provenance A-POL-CD-2: "35 carry ..."
    assert baseline.world.patrols["south"].count == 6                            # docs/policies.md: "18 instead of 6"


def test_default_run_is_one_year_of_2009_with_eight_more_seeds():
    """README: "one simulated year of 2009"; "(seed 0) with a 5-95% interval over 8 more seeds"."""
    cfg = compose_config([])
    assert cfg.horizon_days == 365 and cfg.seed == 0 and cfg.regime.name == "two_sided"
    assert cfg.report.replications == 8


def test_run_directory_is_outputs_date_time():
    config = yaml.safe_load((REPO / "scenarios" / "config.yaml").read_text())
    assert config["hydra"]["run"]["dir"] == "outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}-${pid:}"   # README: <time>-<process id>


def test_event_codes_are_the_ones_the_readme_lists():
    """README: event (`dispatched`, `passed`, `inspected_cleared`, `bribed`, `seized`, `delivered`)."""
    from sim.model.ledger import EVENT_CODES

    listed = re.search(r"event \(([^)]*)\)", README).group(1)
    assert set(re.findall(r"`(\w+)`", listed)) == set(EVENT_CODES)


def test_summary_has_the_flat_keys_the_readme_names(baseline):
    s = simulate(with_updates(baseline, {"horizon_days": 60}), seed=0, keep_events=False).summary
    for key in ("kg_seized_kz", "share_entry_kz_kg", "couriers_arrested_KG"):
        assert key in s, key


def test_the_python_example_of_the_readme_runs():
    params = load_params(["regime=customs_union"])
    result = simulate(with_updates(params, {"horizon_days": 10}), seed=1)
    assert params.regime.name == "customs_union"
    assert "kg_seized_kz" in result.summary and len(result.shipments) > 0


def test_readme_budget_example_is_the_budget_policy():
    """README: `+policy=[budget_restored]  # budgets before the 2008 cuts` (the cut is in the
    2009 baseline; the README once said `world.inspection.funding_factor=0.07`, which cuts all
    capacity by 93%, not the 28% the budget mechanism models)."""
    assert "+policy=[budget_restored]" in README and "funding_factor=0.07" not in README
    assert (REPO / "scenarios" / "policy" / "budget_restored.yaml").is_file()


def test_readme_regimes_exist():
    """README: a Kazakh-Russian border regime/ (`two_sided` in 2009, `single_inspection`, `customs_union`)."""
    names = {p.stem for p in (REPO / "scenarios" / "regime").glob("*.yaml")}
    assert names == {"two_sided", "single_inspection", "customs_union"}


def test_policies_combine_with_any_regime_and_shock():
    """README: "Policies ... combine freely with any regime or shock"."""
    params = load_params(["+policy=[green_zone_kyrgyz,anti_corruption_unit,controlled_deliveries]",
                          "regime=customs_union", "+shock=supply_surge_2021"])
    assert {"green_zone", "anti_corruption_unit", "controlled_deliveries"} <= set(enabled_policies(params.world))
    assert params.regime.name == "customs_union" and params.world.flow.supply_multiplier == 1.5


def test_uncalibrated_world_is_one_override_away(baseline):
    """README: "The baseline uses the posterior medians ...; run the uncalibrated world with '~calibrated'"."""
    calibrated = yaml.safe_load((REPO / "scenarios" / "calibrated" / "baseline_2009.yaml").read_text())
    assert baseline.world.flow.heroin_kg_per_year == calibrated["world"]["flow"]["heroin_kg_per_year"]
    raw = load_params(["~calibrated"])
    assert raw.world.flow.heroin_kg_per_year == 90000
    assert raw.world.inspection.inspections_per_officer_day == 2


def test_calibrated_inspection_rate_is_the_one_docs_quote(baseline):
    """docs/calibration.md quotes the calibrated inspection rate ("**X** inspections per
    officer-day") and the southern patrols' stop chance ("stop chance is X"): the baseline's."""
    text = (REPO / "docs" / "calibration.md").read_text()
    rate = re.search(r"\*\*([\d.]+)\*\* inspections per officer-day", text)
    stop = re.search(r"southern patrols' stop chance is ([\d.]+)", text)
    assert rate and stop, "docs/calibration.md no longer quotes the rate and the stop chance"
    assert round(baseline.world.inspection.inspections_per_officer_day, 2) == float(rate.group(1))
    assert round(baseline.world.patrols["south"].intercept_prob, 2) == float(stop.group(1))


def test_country_outlines_ship_with_the_package():
    assert (REPO / "sim" / "data" / "country_outlines.geojson").stat().st_size > 10_000
    assert (REPO / "sim" / "data" / "ATTRIBUTION.md").exists()


def test_python_version_file_selects_3_12():
    assert (REPO / ".python-version").read_text().strip().startswith("3.12")


# --- docs/policies.md ---------------------------------------------------------------------------


def test_the_baseline_has_what_was_in_force_in_2009_and_nothing_else(baseline):
    """docs/model.md, docs/policies.md: the 2009 baseline holds what was in force then (the
    2008 budget cuts, controlled deliveries, the Russian UAVs, the Uzbek-border
    reinforcement, issue 9); every other mechanism is off."""
    assert set(enabled_policies(baseline.world)) == {"border_reinforcement", "uav_surveillance",
                                                     "controlled_deliveries", "budget"}


def test_policy_numbers_are_the_ones_the_table_gives(baseline):
    pol = baseline.world.policies
    assert pol.green_zone.detection_prob == 0.3 and pol.green_zone.corruption == 0.2
    assert pol.green_zone.cost_usd_per_year_per_segment == 5_000_000
    assert pol.anti_corruption_unit.deterrence_gain == 0.4 and pol.anti_corruption_unit.catch_prob_factor == 3
    assert pol.anti_corruption_unit.false_courier_detection == 0.5          # "half of the stagings are uncovered"
    assert _preset("reinforce_uzbek_border").world.policies.border_reinforcement.staff_factor == 5
    assert list(_preset("reinforce_uzbek_border").world.policies.border_reinforcement.borders) == ["kz_uz"]
    assert (pol.uav_surveillance.range_km, pol.uav_surveillance.spot_prob_per_unit, len(pol.uav_surveillance.bases)) == (500, 0.05, 3)
    cd = pol.controlled_deliveries
    assert (cd.let_run_prob, cd.success_prob, cd.disruption_days, list(cd.countries)) == (0.2, 0.8, 10, ["KZ"])
    assert _preset("controlled_deliveries").world.policies.controlled_deliveries.let_run_prob == 0.4   # twice the baseline's
    assert _preset("mobile_patrols_south").world.patrols["south"].count == 18
    budgets = [_preset(f"us_assistance_fy0{y}").world.policies.budget.us_assistance_usd for y in (5, 6, 7, 8)]
    assert budgets == [2_400_000, 2_100_000, 1_900_000, 1_010_000]
    assert _preset("supply_shock_2016").world.flow.supply_multiplier == 1.43
    assert _preset("supply_surge_2021").world.flow.supply_multiplier == 1.5


def test_budget_cut_is_seven_percent_of_the_programme_and_28_percent_of_capacity():
    """docs/policies.md: "funded at 1.2/16.8 = 7% of its level ... every post inspects 28% less"."""
    from sim.model.policies import funding_factor

    world = _preset("baseline_2009").world          # the August 2008 cut is in force in the 2009 baseline
    assert world.policies.budget.programme_funding == pytest.approx(1.2 / 16.8, abs=5e-4)
    assert 1 - funding_factor(world, "KNB border service") == pytest.approx(0.28, abs=0.005)
    assert funding_factor(world, "Russian border service") == world.inspection.funding_factor   # only Kazakh agencies lost it


def test_packages_hold_the_policies_the_table_lists():
    knb = _preset("package_knb_southern_border")
    in_force = set(enabled_policies(_preset("baseline_2009").world))           # each package is a change from 2009
    assert set(enabled_policies(knb.world)) - in_force == {"green_zone", "dedicated_checkpoints"}
    assert set(knb.world.policies.green_zone.segments) == {"kz_kg_chui", "kz_kg_talas", "kz_uz_steppe"}
    assert knb.world.patrols["south"].count == 18                               # "+ mobile patrols"
    integrity = _preset("package_integrity")
    assert set(enabled_policies(integrity.world)) - in_force == {"anti_corruption_unit", "inl_checkpoints"}
    safeguards = _preset("package_customs_union_safeguards")
    assert safeguards.regime.name == "customs_union"
    assert set(enabled_policies(safeguards.world)) - in_force == {"inl_checkpoints", "anti_corruption_unit"}


def test_policy_outcome_keys_are_present_and_zero_when_off(baseline):
    """docs/policies.md: "All keys are present in every run (zero when a mechanism is off)"."""
    s = simulate(with_updates(baseline, {"horizon_days": 20}), seed=0, keep_events=False).summary
    for key in ("controlled_deliveries", "controlled_deliveries_seized", "kg_seized_controlled_delivery",
                "organisation_days_disrupted", "kg_reassigned_disruption", "policy_cost_usd", "kg_reaching_eu",
                "kg_seized_true", "kg_seized_reported", "kg_staged_false_couriers", "reported_inflation"):
        assert key in s, key
    off = simulate(with_updates(baseline, {"horizon_days": 20, "world.policies.controlled_deliveries.enabled": False,
                                           "world.policies.uav_surveillance.enabled": False,
                                           "world.policies.border_reinforcement.enabled": False,
                                           "world.policies.budget.enabled": False}), seed=0, keep_events=False).summary
    for key in ("controlled_deliveries", "controlled_deliveries_seized", "policy_cost_usd"):
        assert off[key] == 0, key


def test_controlled_deliveries_run_about_as_often_as_in_2008():
    """docs/model.md: the 2009 baseline runs controlled deliveries about as often as in
    2008 (29 operations, 002 ¶11; the calibration's held-out check: 33 [19, 58])."""
    params = _preset("baseline_2009")                     # a full year
    yearly = [simulate(params, seed=s, keep_events=False).summary["controlled_deliveries"] for s in range(2)]
    assert 12 <= sum(yearly) / len(yearly) <= 60


def test_policies_doc_names_every_preset():
    from sim.brief import list_presets

    for name in list_presets():
        assert f"`{name}`" in POLICIES_MD, name
