"""Every number finite and in its admissible range, in the Python API as on the command
line; the summary table says what its interval is; calibration targets from any file."""

from __future__ import annotations

import math

import pytest

from sim.config import load_params, with_updates
from sim.outputs import summary_table
from sim.params import ConfigError, estimate_run_cost, schema_bounds
from sim.provenance import load_registry
from sim.run import simulate


def _numbers(data, prefix=""):
    """Every number in nested dicts and lists, as dotted keys (list items by index)."""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for k, v in items:
        if isinstance(v, (dict, list)):
            yield from _numbers(v, f"{prefix}{k}.")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield f"{prefix}{k}"


@pytest.fixture(scope="module")
def numeric_keys(baseline_params):
    return list(_numbers(baseline_params.model_dump(mode="json")))


def test_every_number_of_the_baseline_has_a_finite_lower_and_upper_bound(numeric_keys):
    unbounded = [key for key in numeric_keys
                 if schema_bounds(key) is None or None in schema_bounds(key)
                 or not all(math.isfinite(b) for b in schema_bounds(key))]
    assert len(numeric_keys) > 500 and "network.nodes.0.lat" in numeric_keys
    assert unbounded == []


def test_inf_and_nan_are_refused_for_every_number_naming_its_key(baseline_params, numeric_keys):
    for key in numeric_keys:
        for bad in (math.inf, -math.inf, math.nan):
            with pytest.raises(ConfigError) as err:
                with_updates(baseline_params, {key: bad})
            message = str(err.value)
            assert "\n" not in message
            assert key in message or "world.flow.heroin_kg_per_year" in message, (key, message)


def test_every_plausible_range_lies_inside_the_admissible_range():
    for entry in load_registry():
        if entry.range is None or "*" in entry.key:
            continue
        bounds = schema_bounds(entry.key)
        if bounds is None:
            continue
        low, high = bounds
        assert low <= entry.range[0] and entry.range[1] <= high, (entry.key, entry.range, bounds)


def test_the_cost_estimate_scales_with_flow_and_horizon():
    shipments, seconds, memory_mb = estimate_run_cost(365, 82_714.1)
    ten_years_double_flow = estimate_run_cost(3650, 82_714.1, 2.0)
    assert ten_years_double_flow[0] == pytest.approx(20 * shipments)
    assert ten_years_double_flow[1] == pytest.approx(20 * seconds)
    assert ten_years_double_flow[2] > memory_mb


@pytest.mark.parametrize("updates, message", [
    ({"horizon_days": 10**9}, r"[0-9.]+ billion shipments"),
    ({"world.flow.heroin_kg_per_year": 1e12}, "shipments"),
    ({"world.flow.supply_multiplier": 10, "world.flow.heroin_kg_per_year": 1e6, "horizon_days": 36_500}, "memory"),
])
def test_a_run_too_large_to_finish_is_refused_before_it_starts(baseline_params, updates, message):
    with pytest.raises(ConfigError, match=message):
        with_updates(baseline_params, updates)


def test_a_large_but_feasible_run_is_accepted(baseline_params):
    params = with_updates(baseline_params, {"horizon_days": 3650, "world.flow.supply_multiplier": 2.0})
    assert params.horizon_days == 3650


def test_editing_the_regime_name_directly_is_refused_with_the_way_to_choose_a_regime(baseline_params):
    with pytest.raises(ConfigError, match=r"regime=customs_union"):
        with_updates(baseline_params, {"regime.name": "customs_union"})


def test_choosing_the_regime_by_name_brings_its_rules(baseline_params):
    customs_union = load_params(["regime=customs_union"])
    assert customs_union.regime.name == "customs_union"
    assert customs_union.regime.sides_inspecting == 1
    assert baseline_params.regime.sides_inspecting == 2


def test_an_organisation_type_with_no_organisations_cannot_keep_its_share(baseline_params):
    with pytest.raises(ConfigError, match=r"world.organisations.tajik_networks.count: 0 organisations"):
        with_updates(baseline_params, {"world.organisations.tajik_networks.count": 0})
    shares = {"world.organisations.tajik_networks.count": 0, "world.organisations.tajik_networks.flow_share": 0.0,
              "world.organisations.kyrgyz_networks.flow_share": 0.6}
    assert with_updates(baseline_params, shares).world.organisations["tajik_networks"].count == 0


def test_an_unknown_nested_key_suggests_the_known_ones():
    with pytest.raises(ConfigError, match=r"world.flow.heroin_tonnes: unknown key \(known: heroin_kg_per_year"):
        load_params(["+world.flow.heroin_tonnes=5"])


def test_two_green_zones_combine_rather_than_contradict():
    params = load_params(["+policy=[green_zone_kyrgyz,green_zone_uzbek]"])
    segments = params.world.policies.green_zone.segments
    assert segments["kz_kg_chui"] and segments["kz_uz_steppe"]


def test_a_command_line_value_refines_a_chosen_policy():
    params = load_params(["+policy=[green_zone_kyrgyz]", "world.policies.green_zone.detection_prob=0.5"])
    assert params.world.policies.green_zone.enabled
    assert params.world.policies.green_zone.detection_prob == 0.5


def test_the_summary_table_shows_this_run_apart_from_the_median_and_interval_over_all_runs():
    table = summary_table({"kg_seized_kz": 4810.0}, seed=0,
                          spread={"kg_seized_kz": (6000.0, 5014.0, 7387.0)}, n_runs=9)
    header, _, row, *_rest, footer = table.splitlines()
    assert "This run (seed 0)" in header and "Median" in header and "5-95% interval" in header
    assert row.split()[-5:] == ["4,810", "6,000", "[5,014,", "7,387]", "kg"]
    assert "over 9 runs" in footer and "seed 0 and 8 other seeds" in footer


def test_the_summary_table_of_a_single_run_claims_no_interval():
    table = summary_table({"kg_seized_kz": 4810.0}, seed=3)
    assert "n/a (1 run)" in table and "one run" in table


def test_replications_give_the_median_and_interval_over_every_run_this_one_included(baseline_params):
    from sim.cli import _replicate

    params = with_updates(baseline_params, {"horizon_days": 3})
    this_run = {"kg_entered": 1e9}           # far above any replication: it must pull the 95% point up
    spread, n_runs = _replicate([], params, 2, "serial", this_run)
    median, low, high = spread["kg_entered"]
    assert n_runs == 3
    assert low <= median <= high
    assert high > 1e8 and median < 1e8


def test_calibration_targets_takes_a_file_path(tmp_path, capsys):
    from calibration.__main__ import main as calibration_main
    from calibration.targets import TARGETS_PATH

    mine = tmp_path / "my_targets.yaml"
    mine.write_text(TARGETS_PATH.read_text())
    assert calibration_main(["targets", str(mine)]) == 0
    assert "kz_heroin_seized_q1_2009" in capsys.readouterr().out
    assert calibration_main(["targets", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.yaml: no such file" in err[0]


def test_the_cost_estimate_matches_the_shipments_of_a_baseline_year():
    """The estimate's constants are measured on the model: a stale figure fails here."""
    params = load_params([])
    estimated, _, _ = estimate_run_cost(365, params.world.flow.heroin_kg_per_year)
    sent = simulate(params, seed=0, keep_events=False).summary["shipments"]
    assert estimated == pytest.approx(sent, rel=0.15)
