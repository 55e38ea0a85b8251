"""The live page's model and controls (Mesa SolaraViz conventions), without a browser."""

from __future__ import annotations

from sim.config import load_params
from sim.provenance import lookup
from sim.viz.live import SLIDERS, LiveModel, model_params


def test_each_slider_sets_its_config_key_on_the_model():
    model = LiveModel(deterrence=0.5, loss_tolerance=0.3, patrols_south=10, supply_multiplier=1.2,
                      policy="green_zone_kyrgyz", regime="customs_union", horizon_days=5, rng=3)
    world = model.params.world
    assert (world.corruption.deterrence, world.learning.loss_tolerance, world.patrols["south"].count) == (0.5, 0.3, 10)
    assert world.flow.supply_multiplier == 1.2 and world.policies.green_zone.enabled
    assert model.regime.name == "customs_union" and model.seed == 3


def test_the_sliders_start_at_the_baseline_and_span_the_provenance_ranges():
    base, controls = load_params(), model_params()
    assert controls["regime"]["value"] == base.regime.name
    for name, (key, _label, _step) in SLIDERS.items():
        value = base.model_dump()
        for part in key.split("."):
            value = value[part]
        assert controls[name]["value"] == value
        assert (controls[name]["min"], controls[name]["max"]) == tuple(lookup(key).range)


def test_the_live_model_runs_as_mesa_steps_it():
    model = LiveModel(horizon_days=3, rng=1)
    while model.running:
        model.step()
    assert len(model.datacollector.get_model_vars_dataframe()) == 3
