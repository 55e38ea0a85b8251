"""The model works with Mesa's own tools, used the way Mesa's documentation uses them."""

from __future__ import annotations

import warnings

import mesa
import pandas as pd
import pytest

from sim.model import NorthernRouteModel
from sim.params import ConfigError

REPORTERS = {"kg_entered", "kg_seized", "kg_delivered", "kg_in_transit", "shipments", "seizures", "bribes_usd",
             "bribes", "couriers_on_road", "kg_entering_kz_kg", "kg_entering_kz_uz", "kg_entering_kz_tm", "kg_reaching_russia"}


@pytest.fixture(scope="module")
def batch():
    """2 regimes x 2 supply levels x 3 iterations, in 2 processes, as in Mesa's tutorial."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # Mesa 3.5 prefers rng=[None] * 3 to iterations=3
        return mesa.batch_run(NorthernRouteModel,
                              parameters={"regime": ["two_sided", "customs_union"], "supply_multiplier": [0.5, 1.0],
                                          "horizon_days": 12},
                              iterations=3, number_processes=2, max_steps=12, display_progress=False)


def test_batch_run_gives_one_row_per_parameter_combination_and_iteration(batch):
    assert len(batch) == 2 * 2 * 3
    combos = sorted((row["regime"], row["supply_multiplier"], row["iteration"]) for row in batch)
    assert combos == sorted((r, s, i) for r in ("two_sided", "customs_union") for s in (0.5, 1.0) for i in range(3))
    assert {row["Step"] for row in batch} == {12}


def test_batch_run_rows_hold_only_the_named_parameters_and_the_outcomes(batch):
    for row in batch:
        assert set(row) == {"RunId", "iteration", "Step", "regime", "supply_multiplier", "horizon_days", "rng"} | REPORTERS
        assert row["rng"] is None


def test_batch_run_iterations_are_distinct_runs(batch):
    frame = pd.DataFrame(batch)
    for _, runs in frame.groupby(["regime", "supply_multiplier"]):
        assert runs["kg_entered"].nunique() == 3     # fresh seeds: three different runs, not one run three times


def test_batch_run_supply_multiplier_scales_the_heroin_sent(batch):
    frame = pd.DataFrame(batch)
    mean = frame.groupby("supply_multiplier")["kg_entered"].mean()
    assert 0.35 < mean[0.5] / mean[1.0] < 0.65


def test_batch_run_results_export_to_parquet(batch, tmp_path):
    frame = pd.DataFrame(batch)
    frame.to_parquet(tmp_path / "batch.parquet")
    back = pd.read_parquet(tmp_path / "batch.parquet")
    assert list(back.columns) == list(frame.columns)
    assert back["kg_entered"].tolist() == frame["kg_entered"].tolist()


def test_no_rng_draws_a_fresh_seed_that_repeats_the_run():
    first, second = NorthernRouteModel(horizon_days=8), NorthernRouteModel(horizon_days=8)
    assert first.seed != second.seed
    assert first.params.seed == first.seed
    again = NorthernRouteModel(horizon_days=8, rng=first.seed)
    first.run()
    again.run()
    assert (again.ledger.entered_g, again.ledger.seized_g, again.ledger.bribes_usd) == \
        (first.ledger.entered_g, first.ledger.seized_g, first.ledger.bribes_usd)


def test_keywords_choose_the_scenario(short_params):
    model = NorthernRouteModel(regime="customs_union", supply_multiplier=1.3, horizon_days=9, rng=1,
                               policies=["green_zone_kyrgyz"], overrides={"world.corruption.deterrence": 0.4})
    assert model.regime.name == "customs_union" and model.regime.sides_inspecting == 1
    assert model.world.flow.supply_multiplier == 1.3 and model.horizon_days == 9
    assert model.world.policies.green_zone.enabled
    assert model.world.corruption.deterrence == 0.4
    prepared = NorthernRouteModel(short_params, horizon_days=7, rng=1)
    assert prepared.horizon_days == 7 and prepared.world == short_params.world


@pytest.mark.parametrize("kwargs, message", [
    ({"overrides": {"world.flow.suply_multiplier": 2}}, "world.flow.suply_multiplier: unknown key 'suply_multiplier'"),
    ({"overrides": {"regime": "customs_union"}}, "'regime' is a config group: choose it with the regime= keyword"),
    ({"overrides": {"seed": 3}}, "give the seed as rng="),
])
def test_misspelt_or_misplaced_keywords_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        NorthernRouteModel(**kwargs)


def test_group_choices_with_a_prepared_params_are_refused(short_params):
    with pytest.raises(ConfigError, match="without params="):
        NorthernRouteModel(short_params, regime="customs_union")
