"""Sweep designs from config: the right runs, common random numbers, clear errors; the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.params import ConfigError
from sim.provenance import lookup
from sim.sweep import replication_seeds, summarise_results
from sim.sweep.design import build_experiments, load_sweep, sobol_indices

REPO = Path(__file__).resolve().parents[1]


def config(**changes):
    cfg = {
        "name": "t",
        "levers": {"baseline": [], "customs_union": ["regime=customs_union"]},
        "uncertainties": {
            "world.flow.supply_multiplier": {"low": 0.5, "high": 1.5},
            "world.corruption.deterrence": {"values": [0.1, 0.2, 0.4]},
        },
        "design": "lhs",
        "n_samples": 5,
        "replications": 3,
        "seed": 11,
    }
    cfg.update(changes)
    return cfg


def by_lever(exps):
    out = {}
    for e in exps:
        out.setdefault(e.inputs["lever"], []).append(e)
    return out


def test_grid_is_every_combination_for_every_lever_and_replication():
    cfg = config(design="grid", n_samples=None, uncertainties={
        "world.flow.supply_multiplier": {"low": 0.5, "high": 1.5, "levels": 3},
        "world.corruption.deterrence": {"values": [0.1, 0.4]},
    })
    exps = build_experiments(cfg, validate=False)
    assert len(exps) == 2 * (3 * 2) * 3
    combos = {(e.updates["world.flow.supply_multiplier"], e.updates["world.corruption.deterrence"]) for e in exps}
    assert combos == {(m, d) for m in (0.5, 1.0, 1.5) for d in (0.1, 0.4)}
    assert len({e.run_id for e in exps}) == len(exps)


def test_latin_hypercube_puts_one_sample_in_each_stratum_of_each_parameter():
    exps = build_experiments(config(n_samples=5, replications=1), validate=False)
    base = by_lever(exps)["baseline"]
    assert len(exps) == 2 * 5
    m = np.array([e.updates["world.flow.supply_multiplier"] for e in base])
    assert ((m >= 0.5) & (m <= 1.5)).all()
    assert sorted(np.floor((m - 0.5) / 1.0 * 5).astype(int)) == [0, 1, 2, 3, 4]
    assert {e.updates["world.corruption.deterrence"] for e in base} <= {0.1, 0.2, 0.4}


@pytest.mark.parametrize("second_order, per_sample", [(True, 2 * 2 + 2), (False, 2 + 2)])
def test_saltelli_gives_n_times_the_sobol_block_size(second_order, per_sample):
    exps = build_experiments(config(design="saltelli", n_samples=8, replications=2, second_order=second_order),
                             validate=False)
    assert len(exps) == 2 * 8 * per_sample * 2


def test_common_random_numbers_replication_r_has_one_seed_across_levers_and_samples():
    exps = build_experiments(config(), validate=False)
    seeds = replication_seeds(11, 3)
    assert len(set(seeds)) == 3
    for e in exps:
        assert e.seed == seeds[e.inputs["replication"]]
    levers = by_lever(exps)
    strip = lambda es: [(e.inputs["sample"], e.inputs["replication"], e.seed, tuple(sorted(e.updates.items()))) for e in es]
    assert strip(levers["baseline"]) == strip(levers["customs_union"])  # same samples, same seeds
    assert build_experiments(config(), validate=False) == exps  # deterministic
    assert build_experiments(config(seed=12), validate=False)[0].seed != exps[0].seed


def test_range_provenance_takes_the_plausible_range_from_the_registry():
    sweep = load_sweep(config(uncertainties={"world.flow.supply_multiplier": {"range": "provenance"}}))
    low, high = lookup("world.flow.supply_multiplier").range
    assert (sweep.uncertainties[0].low, sweep.uncertainties[0].high) == (low, high)


def test_the_example_sweeps_build_and_validate():
    exps = build_experiments(REPO / "scenarios/sweep/example.yaml")
    assert len(exps) == 2 * 8 * 3 and all(e.updates["horizon_days"] == 365 for e in exps)
    quick = build_experiments(REPO / "scenarios/sweep/sobol_example.yaml", quick=True, validate=False)
    assert len(quick) == 2 * (3 + 2) and all(e.updates["horizon_days"] == 30 for e in quick)


@pytest.mark.parametrize("changes, message", [
    ({"uncertainties": {"world.flow.bogus": {"low": 0, "high": 1}}}, "world.flow.bogus"),
    ({"uncertainties": {"world.flow.supply_multiplier": {"low": 2, "high": 1}}}, r"world.flow.supply_multiplier: low \(2\) > high \(1\)"),
    ({"uncertainties": {"world.corruption.deterrence": {"low": 0.5, "high": 1.7}}}, "world.corruption.deterrence: value 1.7"),
    ({"uncertainties": {"world.flow.supply_multiplier": {"low": 0, "hgih": 1}}}, "hgih"),
    ({"uncertainties": {"world.flow.supply_multiplier": {"range": "provenance"},
                        "world.flow.heroin_kg_per_year": {"values": []}}}, "heroin_kg_per_year.values"),
    ({"design": "sobol"}, "design: unknown design 'sobol'"),
    ({"design": "saltelli", "n_samples": 6}, "n_samples: .*power of 2"),
    ({"design": "grid"}, "supply_multiplier.levels"),
    ({"replications": 0}, "replications"),
    ({"levers": {"cu": ["regime=nope"]}}, "levers.cu"),
    ({"lever": {}}, "lever: unknown key"),
])
def test_bad_sweep_configs_fail_with_a_message_naming_the_key(changes, message):
    with pytest.raises(ConfigError, match=message):
        build_experiments(config(**changes))


def test_summary_gives_mean_spread_and_intervals_by_group():
    table = pd.DataFrame({"run_id": [f"r{i}" for i in range(8)], "lever": ["a"] * 4 + ["b"] * 4,
                          "status": ["ok"] * 7 + ["failed"], "sim_s": 0.1,
                          "kg_seized": [1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, np.nan]})
    out = summarise_results(table, by=["lever"]).set_index("lever")
    assert list(out.loc["a", ["n", "mean", "p50"]]) == [4, 2.5, 2.5]
    assert out.loc["b", "n"] == 3 and out.loc["b", "mean"] == 20.0  # the failed run does not count
    assert out.loc["a", "p5"] == pytest.approx(np.quantile([1, 2, 3, 4], 0.05))
    assert out.loc["a", "mean_lo"] < 2.5 < out.loc["a", "mean_hi"]
    assert out.loc["a", "std"] == pytest.approx(np.std([1, 2, 3, 4], ddof=1))


def test_sobol_indices_find_the_parameter_that_drives_the_outcome():
    cfg = config(design="saltelli", n_samples=256, replications=1, second_order=False,
                 levers={"baseline": []},
                 uncertainties={"world.flow.supply_multiplier": {"low": 0.5, "high": 1.5},
                                "world.corruption.deterrence": {"low": 0.0, "high": 0.8}})
    exps = build_experiments(cfg, validate=False)
    rows = [{"run_id": e.run_id, "status": "ok", **e.inputs, **e.updates} for e in exps]
    table = pd.DataFrame(rows)
    table["y"] = 10 * table["world.flow.supply_multiplier"] + 0.5 * table["world.corruption.deterrence"]
    idx = sobol_indices(table, cfg, "y").set_index("parameter")
    assert idx.loc["world.flow.supply_multiplier", "ST"] > 0.9
    assert idx.loc["world.corruption.deterrence", "ST"] < 0.1


def test_cli_runs_a_quick_sweep_and_resumes_it(tmp_path):
    cfg = tmp_path / "mini.yaml"
    cfg.write_text("levers: {baseline: [], customs_union: ['regime=customs_union']}\n"
                   "uncertainties: {world.flow.supply_multiplier: {values: [0.8, 1.2]}}\n"
                   "design: grid\nreplications: 1\nseed: 3\nhorizon_days: 10\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim.sweep", str(cfg), "--engine", "serial", "--out", str(out), "--no-progress"]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert first.returncode == 0, first.stderr
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 4 and (table["status"] == "ok").all()
    assert set(pd.read_csv(out / "summary.csv")["lever"]) == {"baseline", "customs_union"}
    assert "kg_reaching_russia" in first.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert again.returncode == 0 and len(list((out / "parts").glob("part-*.parquet"))) == 1  # nothing re-run

    bad = tmp_path / "bad.yaml"
    bad.write_text("design: lhs\nuncertainties: {world.flow.supply_multiplier: {low: 2, high: 1}}\nn_samples: 2\n")
    failed = subprocess.run([sys.executable, "-m", "sim.sweep", str(bad), "--engine", "serial", "--out", str(tmp_path / "b")],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert failed.returncode == 2 and "low (2) > high (1)" in failed.stderr
