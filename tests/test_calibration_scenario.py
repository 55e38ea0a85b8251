"""The calibrated parameters are what the baseline uses, each with its provenance."""

from __future__ import annotations

import pytest
import yaml

from calibration.calibrate import SCENARIO_PATH, load_calibrated
from calibration.settings import RESULTS_DIR, load_settings
from calibration.targets import get_dotted
from sim.config import load_params
from sim.provenance import lookup


@pytest.fixture(scope="module")
def calibrated():
    return load_calibrated(RESULTS_DIR / "calibrated.yaml")


def _leaves(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_the_baseline_scenario_composes_the_posterior_medians(baseline_params, calibrated):
    data = baseline_params.model_dump(mode="python")
    for key, entry in calibrated["parameters"].items():
        assert get_dotted(data, key) == pytest.approx(entry["value"], rel=1e-6), key


def test_the_calibrated_entry_sets_exactly_the_calibrated_parameters(calibrated):
    text = SCENARIO_PATH.read_text()
    assert text.startswith("# @package _global_")
    entry = dict(_leaves(yaml.safe_load(text)))
    assert set(entry) == set(load_settings("full").names) == set(calibrated["parameters"])
    assert calibrated["calibration"]["mode"] == "full"   # never the quick mode's numbers


def test_each_calibrated_parameter_cites_the_calibration_and_keeps_its_prior_range(calibrated):
    for key, entry in calibrated["parameters"].items():
        registry = lookup(key)
        assert registry is not None and "calibration/report.md" in registry.citation, key
        assert registry.range == pytest.approx(tuple(entry["prior"])), key
        assert entry["prior"][0] <= entry["q05"] <= entry["value"] <= entry["q95"] <= entry["prior"][1], key


def test_the_uncalibrated_world_is_one_override_away(baseline_params, calibrated):
    raw = load_params(["~calibrated"]).model_dump(mode="python")
    world_file = yaml.safe_load((SCENARIO_PATH.parents[1] / "world" / "baseline_2009.yaml").read_text())
    for key in calibrated["parameters"]:
        assert get_dotted(raw, key) == pytest.approx(get_dotted({"world": world_file}, key)), key
    assert any(get_dotted(raw, k) != pytest.approx(v["value"]) for k, v in calibrated["parameters"].items())
