"""Comparing interventions: paired statistics and the results folder."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.compare import compare, format_headline, main_compare, outcome_statistics, t_interval


def test_t_interval_matches_the_textbook():
    mean, low, high = t_interval(np.array([1.0, 2.0, 3.0]))
    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)
    assert mean == 2.0 and low == pytest.approx(2 - half) and high == pytest.approx(2 + half)
    assert math.isnan(t_interval(np.array([5.0]))[1])


def test_paired_differences_see_what_unpaired_intervals_miss():
    """Common random numbers: replication r of both scenarios shares a seed, so pairing
    removes the noise they share."""
    base = np.array([100.0, 140.0, 80.0, 120.0, 95.0])
    runs = pd.DataFrame({
        "scenario": ["base"] * 5 + ["policy"] * 5,
        "replication": list(range(5)) * 2,
        "status": "ok",
        "kg": np.concatenate([base, base + np.array([4.0, 5.0, 6.0, 5.0, 5.0])]),
    })
    table = outcome_statistics(runs, "base", ["kg"]).set_index("scenario")
    policy = table.loc["policy"]
    assert policy["diff"] == pytest.approx(5.0)
    assert policy["diff_ci_low"] > 0 and policy["significant"]
    assert policy["ci_low"] < table.loc["base", "mean"] < policy["ci_high"]   # unpaired: overlapping
    assert table.loc["base", "diff"] == 0 and not table.loc["base", "significant"]
    assert policy["pct_diff"] == pytest.approx(100 * 5.0 / base.mean())


def test_failed_runs_are_left_out_of_the_pairs():
    runs = pd.DataFrame({"scenario": ["b", "b", "p", "p"], "replication": [0, 1, 0, 1],
                         "status": ["ok", "ok", "ok", "failed"], "kg": [1.0, 2.0, 3.0, np.nan]})
    row = outcome_statistics(runs, "b", ["kg"]).set_index("scenario").loc["p"]
    assert row["n"] == 1 and row["diff"] == 2.0


@pytest.fixture(scope="module")
def small_comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    return compare(["green_zone_kyrgyz"], replications=2, horizon_days=20, engine="serial", out_dir=out,
                   progress=False)


def test_compare_runs_every_scenario_with_the_same_seeds(small_comparison):
    runs = small_comparison.runs
    assert small_comparison.scenarios == ["baseline_2009", "green_zone_kyrgyz"]
    assert (runs["status"] == "ok").all() and len(runs) == 4
    seeds = runs.pivot(index="replication", columns="scenario", values="seed")
    assert (seeds["baseline_2009"] == seeds["green_zone_kyrgyz"]).all()
    assert seeds["baseline_2009"].nunique() == 2


def test_compare_writes_tables_charts_and_a_brief(small_comparison):
    out = small_comparison.out_dir
    for name in ("outcomes.parquet", "outcomes.csv", "headline.csv", "runs.parquet", "runs.csv", "brief.md",
                 "comparison.json", "diff_from_baseline.png", "entry_by_border.png", "seizures_by_place.png",
                 "crossings_change.png", "maps/baseline_2009.png", "maps/green_zone_kyrgyz.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    table = pd.read_parquet(out / "outcomes.parquet")
    for key in ("kg_entering_kz", "kg_seized_true", "kg_seized_reported", "kg_reaching_russia", "kg_reaching_eu",
                "interdiction_rate", "revenue_usd", "losses_usd", "bribes_usd", "share_entry_kz_kg",
                "kg_seized_border_kz_ru", "kg_seized_reported_border_kz_ru", "kg_crossing_kz_korday"):
        assert key in set(table["outcome"]), key
    assert any(table["outcome"].str.startswith("kg_seized_agency_"))
    assert any(table["outcome"].str.startswith("couriers_arrested_"))
    base = table[table["scenario"] == "baseline_2009"]
    assert (base["diff"].fillna(0) == 0).all()
    brief = (out / "brief.md").read_text()
    assert "Green zone on the Kazakh-Kyrgyz border" in brief and "| `baseline_2009` |" in brief
    settings = json.loads((out / "comparison.json").read_text())
    assert settings["replications"] == 2 and settings["horizon_days"] == 20
    assert "baseline_2009" in format_headline(small_comparison.outcomes, small_comparison.scenarios)


def test_compare_refuses_unknown_presets(capsys, tmp_path):
    assert main_compare(["atlantis", "--replications", "2", "--out", str(tmp_path)]) == 2
    assert "unknown preset(s) 'atlantis'" in capsys.readouterr().err
