"""Posterior draws in comparisons and sweeps (sim/posterior.py, issue 12)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.compare import compare, main_compare, t_interval
from sim.params import ConfigError
from sim.posterior import (POSTERIOR_FILE, draw_posterior, load_posterior, nested_interval, posterior_keys,
                           posterior_statistics, robustness_table)
from sim.sweep.design import build_experiments, load_sweep

KEY_A, KEY_B = "world.flow.heroin_kg_per_year", "world.corruption.deterrence"


def write_posterior(path, weights, a_values, b_values=None):
    """A small posterior file with the columns `python -m calibration run` writes."""
    frame = pd.DataFrame({"particle": range(len(weights)), KEY_A: a_values,
                          KEY_B: b_values if b_values is not None else [0.3] * len(weights),
                          "weight": weights, "distance": 0.5, "generation": 4, "seed": 1, "target:kz": 200.0})
    frame.to_parquet(path, index=False)
    return path


def test_draws_follow_the_posterior_weights(tmp_path):
    path = write_posterior(tmp_path / "post.parquet", [0.9, 0.1], [70000.0, 110000.0])
    draws = draw_posterior(4000, seed=3, path=path)
    share_heavy = float((draws["particle"] == 0).mean())
    assert 0.87 < share_heavy < 0.93            # binomial sd 0.005: a margin of 6 sd
    assert set(draws[KEY_A]) == {70000.0, 110000.0}
    assert list(draws.columns) == ["particle", KEY_A, KEY_B]   # target figures and weights are not parameters


def test_same_seed_gives_the_same_draws_and_another_seed_others(tmp_path):
    path = write_posterior(tmp_path / "post.parquet", [0.25] * 4, [60000.0, 80000.0, 100000.0, 120000.0])
    first = draw_posterior(30, seed=5, path=path)
    pd.testing.assert_frame_equal(first, draw_posterior(30, seed=5, path=path))
    assert not first["particle"].equals(draw_posterior(30, seed=6, path=path)["particle"])


def test_the_committed_posterior_has_the_calibrated_parameters():
    frame = load_posterior()
    keys = posterior_keys(frame)
    assert "world.inspection.inspections_per_officer_day" in keys
    assert not any(k.startswith("target:") for k in keys)
    assert abs(frame["weight"].sum() - 1) < 1e-6


@pytest.mark.parametrize("n", [0, -2, 1.5, True])
def test_a_draw_count_below_one_or_not_an_integer_is_refused(n):
    with pytest.raises(ConfigError, match="--posterior must be a positive number of draws"):
        draw_posterior(n)


def test_a_posterior_with_negative_weights_is_refused(tmp_path):
    path = write_posterior(tmp_path / "bad.parquet", [1.2, -0.2], [70000.0, 80000.0])
    with pytest.raises(ConfigError, match="weights must be finite, non-negative"):
        draw_posterior(3, path=path)


def test_a_posterior_file_that_is_not_parquet_is_one_line(tmp_path):
    path = tmp_path / "post.parquet"
    path.write_text("particle,weight\n0,1\n")
    with pytest.raises(ConfigError, match="cannot read it as Parquet") as err:
        draw_posterior(2, path=path)
    assert "\n" not in str(err.value)


def test_nested_interval_with_one_draw_is_the_t_interval_over_replications():
    reps = np.array([[1.0, 3.0, 2.0, 6.0]])
    got = nested_interval(reps)
    mean, low, high = t_interval(reps[0])
    assert (got["mean"], got["low"], got["high"]) == pytest.approx((mean, low, high))
    assert math.isnan(got["param_share"])


def test_parameter_share_is_high_when_draws_differ_and_low_when_only_seeds_do():
    rng = np.random.default_rng(0)
    draw_effects = rng.normal(0, 10, size=(40, 1))
    worlds_differ = draw_effects + rng.normal(0, 1, size=(40, 5))
    seeds_only = rng.normal(0, 10, size=(40, 5))
    assert nested_interval(worlds_differ)["param_share"] > 0.9
    assert nested_interval(seeds_only)["param_share"] < 0.3


def test_interval_combining_both_sources_is_wider_than_the_seeds_alone():
    rng = np.random.default_rng(1)
    values = rng.normal(5, 4, size=(20, 1)) + rng.normal(0, 1, size=(20, 5))
    combined = nested_interval(values)
    within = values - values.mean(axis=1, keepdims=True) + values.mean()   # the same runs without the draw effects
    seeds = nested_interval(within)
    assert combined["high"] - combined["low"] > 3 * (seeds["high"] - seeds["low"])
    assert combined["low"] < 5 < combined["high"]


def runs_table(effect_by_draw, draws=4, reps=3):
    """A comparison's runs: baseline level varies by draw and seed; the policy adds a draw-dependent effect."""
    rng = np.random.default_rng(2)
    rows = []
    for d in range(draws):
        for r in range(reps):
            base = 100 + 20 * d + rng.normal(0, 5)
            rows.append({"scenario": "base", "draw": d, "replication": r, "status": "ok", "kg_reaching_russia": base})
            rows.append({"scenario": "policy", "draw": d, "replication": r, "status": "ok",
                         "kg_reaching_russia": base + effect_by_draw(d)})
    return pd.DataFrame(rows)


def test_differences_pair_runs_within_a_draw_so_a_constant_effect_has_no_spread():
    table = posterior_statistics(runs_table(lambda d: -7.0), "base", ["kg_reaching_russia"])
    row = table.set_index("scenario").loc["policy"]
    assert row["diff"] == pytest.approx(-7.0)
    assert row["diff_ci_low"] == pytest.approx(-7.0) and row["diff_ci_high"] == pytest.approx(-7.0)
    assert row["significant"] and row["draws_same_sign"] == 1.0 and row["draws"] == 4


def test_an_effect_whose_sign_depends_on_the_world_is_not_called_robust():
    runs = runs_table(lambda d: [-30.0, -20.0, -10.0, 15.0][d], draws=4)
    table = posterior_statistics(runs, "base", ["kg_reaching_russia"])
    row = table.set_index("scenario").loc["policy"]
    assert row["draws_same_sign"] == 0.75
    assert row["param_share"] == pytest.approx(1.0)        # paired within a draw: no seed noise in the differences
    verdict = robustness_table(table.assign(outcome="kg_reaching_russia"), ["base", "policy"])["verdict"].iloc[0]
    assert verdict == "no clear effect"


def test_compare_with_posterior_gives_every_scenario_the_same_draws_and_seeds(tmp_path):
    result = compare(["green_zone_kyrgyz"], replications=2, posterior=2, horizon_days=10, engine="serial",
                     out_dir=tmp_path / "cmp", maps=False, progress=False)
    runs = result.runs
    assert len(runs) == 2 * 2 * 2 and (runs["status"] == "ok").all()
    by = runs.set_index(["scenario", "draw", "replication"]).sort_index()
    base, policy = by.loc["baseline_2009"], by.loc["green_zone_kyrgyz"]
    assert (base["seed"] == policy["seed"]).all()
    assert by["seed"].nunique() == 4                               # a fresh seed for every (draw, replication)
    draws = pd.read_csv(tmp_path / "cmp" / "posterior_draws.csv")
    key = "world.inspection.inspections_per_officer_day"
    assert len(draws) == 2 and draws[key].nunique() >= 1
    for frame in (base, policy):
        assert np.allclose(frame[key].groupby(level="draw").first().to_numpy(), draws[key].to_numpy())
    assert {"param_share", "draws_same_sign"} <= set(result.outcomes.columns)
    assert "--posterior 2" in (tmp_path / "cmp" / "comparison.json").read_text()


@pytest.mark.parametrize("argv, message", [
    (["--posterior", "0"], "--posterior must be a positive number of draws (got 0)"),
    (["--posterior", "3", "--posterior-file", "/nonexistent/post.parquet"], "posterior file /nonexistent/post.parquet: not found"),
    (["--posterior", "3", "--override", "world.corruption.deterrence=0.5"], "world.corruption.deterrence: set by every posterior draw"),
    (["--posterior-file", str(POSTERIOR_FILE)], "--posterior-file is read only with --posterior N"),
])
def test_bad_posterior_arguments_are_one_line_exit_2_and_write_nothing(capsys, tmp_path, argv, message):
    out = tmp_path / "cmp"
    assert main_compare(["green_zone_kyrgyz", *argv, "--engine", "serial", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()


def test_a_sweep_with_posterior_crosses_every_sample_with_the_same_draws():
    sweep = {"levers": {"baseline": [], "gz": ["+policy=[green_zone_kyrgyz]"]},
             "uncertainties": {"world.flow.supply_multiplier": {"values": [1.0, 1.3]}}, "posterior": 3}
    experiments = build_experiments(sweep, validate=False)
    assert len(experiments) == 2 * 2 * 3
    key = "world.inspection.inspections_per_officer_day"
    by_draw = {}
    for e in experiments:
        by_draw.setdefault(e.inputs["draw"], set()).add(e.updates[key])
    assert all(len(values) == 1 for values in by_draw.values())          # one world per draw, in every lever and sample
    assert {e.updates["world.flow.supply_multiplier"] for e in experiments} == {1.0, 1.3}


@pytest.mark.parametrize("extra, message", [
    ({"posterior": 0}, "posterior: must be a positive number of draws"),
    ({"posterior": 2, "design": "saltelli", "n_samples": 4,
      "uncertainties": {"world.flow.supply_multiplier": {"low": 1, "high": 2}}}, "not part of a Saltelli sample"),
    ({"posterior": 2, "uncertainties": {KEY_B: {"values": [0.2, 0.4]}}}, f"uncertainties.{KEY_B}: is set by every posterior draw"),
    ({"posterior": 2, "levers": {"b": [f"{KEY_B}=0.5"]}}, f"levers.b: {KEY_B}: set by every posterior draw"),
])
def test_bad_posterior_settings_of_a_sweep_are_one_line(extra, message):
    with pytest.raises(ConfigError, match="sweep error: ") as err:
        load_sweep({"levers": {"baseline": []}, **extra})
    assert message in str(err.value) and "\n" not in str(err.value)
