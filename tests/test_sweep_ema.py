"""The EMA workbench adapter: a sweep file becomes an EMA ReplicatorModel that gives the sweep's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

ema = pytest.importorskip("ema_workbench", reason='the EMA workbench is not installed (pip install -e ".[ema]")')

from sim.params import ConfigError  # noqa: E402
from sim.sweep import Experiment, replication_seeds, run_experiments  # noqa: E402
from sim.sweep.ema import ema_model, lever_policies, parameter_name  # noqa: E402

SWEEP = """
name: ema-mini
levers:
  baseline: []
  half_supply: ["world.flow.supply_multiplier=0.5"]
uncertainties:
  world.corruption.deterrence: {range: provenance}
  world.inspection.inspections_per_officer_day: {low: 2, high: 6, integer: true}
  world.flow.heroin_kg_per_year: {values: [60000, 90000]}
design: lhs
n_samples: 4
replications: 2
seed: 11
horizon_days: 12
"""


@pytest.fixture(scope="module")
def sweep_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("ema") / "mini.yaml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def results(sweep_path):
    model = ema_model(sweep_path)
    return model, ema.perform_experiments(model, scenarios=2, policies=lever_policies(model))


def test_the_model_takes_levers_uncertainties_and_replications_from_the_sweep_file(results):
    from sim.provenance import lookup

    model, _ = results
    assert [c.value for c in model.levers["lever"].categories] == ["baseline", "half_supply"]
    deterrence = model.uncertainties[parameter_name("world.corruption.deterrence")]
    assert (deterrence.lower_bound, deterrence.upper_bound) == tuple(lookup("world.corruption.deterrence").range)
    assert deterrence.variable_name == ["world.corruption.deterrence"]
    inspections = model.uncertainties["world__inspection__inspections_per_officer_day"]
    assert isinstance(inspections, ema.IntegerParameter) and (inspections.lower_bound, inspections.upper_bound) == (2, 6)
    heroin = model.uncertainties["world__flow__heroin_kg_per_year"]
    assert [c.value for c in heroin.categories] == [60000, 90000]
    assert [r["seed"] for r in model.replications] == replication_seeds(11, 2)


def test_perform_experiments_gives_the_numbers_of_the_same_runs_in_a_sweep(results):
    model, (experiments, outcomes) = results
    assert len(experiments) == 4 and set(experiments["policy"]) == {"baseline", "half_supply"}
    assert outcomes["kg_entered"].shape == (4, 2) and set(outcomes) == {
        "kg_entered", "kg_seized", "kg_reaching_russia", "interdiction_rate"}
    keys = ["world.corruption.deterrence", "world.inspection.inspections_per_officer_day", "world.flow.heroin_kg_per_year"]
    levers = {"baseline": (), "half_supply": ("world.flow.supply_multiplier=0.5",)}
    seeds = replication_seeds(11, 2)
    exps = [Experiment(run_id=f"{i}/{r}", scenario=levers[row["lever"]], seed=seeds[r],
                       updates={k: row[parameter_name(k)] for k in keys}, inputs={"i": i, "r": r})
            for i, row in experiments.iterrows() for r in range(2)]
    table = run_experiments(exps, engine="serial", horizon_days=12, progress=False)
    assert (table["status"] == "ok").all()
    expected = table["kg_entered"].to_numpy().reshape(4, 2)
    np.testing.assert_allclose(outcomes["kg_entered"], expected)
    # the lever is applied: half the supply, (much) less heroin entering, scenario by scenario
    frame = pd.DataFrame({"scenario": experiments["scenario"], "lever": experiments["lever"],
                          "kg": outcomes["kg_entered"].mean(axis=1)})
    by = frame.pivot(index="scenario", columns="lever", values="kg")
    assert (by["half_supply"] < 0.75 * by["baseline"]).all()


def test_an_aggregate_gives_one_scalar_per_experiment(sweep_path):
    model = ema_model(sweep_path, outcomes=["kg_reaching_russia"], aggregate=np.mean)
    policies = [p for p in lever_policies(model) if p.name == "baseline"]
    _, outcomes = ema.perform_experiments(model, scenarios=1, policies=policies)
    assert list(outcomes) == ["kg_reaching_russia_mean"] and outcomes["kg_reaching_russia_mean"].shape == (1,)


def test_mistakes_are_one_line_errors_before_anything_runs(sweep_path, tmp_path):
    with pytest.raises(ConfigError, match="unknown outcome 'kg_to_mars'"):
        ema_model(sweep_path, outcomes=["kg_entered", "kg_to_mars"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("levers: {}\n")
    with pytest.raises(ConfigError, match="levers: is empty"):
        ema_model(bad)
    bad.write_text("levers: {x: ['regime=customs_onion']}\n")
    with pytest.raises(ConfigError, match="levers.x"):
        ema_model(bad)
