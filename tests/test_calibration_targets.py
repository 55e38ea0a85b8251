"""The calibration targets file: its facts, and the errors a bad file gets."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from calibration.targets import TARGETS_PATH, known_outputs_for, load_targets
from sim.params import ConfigError


@pytest.fixture(scope="module")
def known(baseline_params):
    return known_outputs_for(baseline_params)


@pytest.fixture(scope="module")
def raw_targets():
    return yaml.safe_load(TARGETS_PATH.read_text())


def write(tmp_path, data):
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def broken(raw_targets, name, **changes):
    data = copy.deepcopy(raw_targets)
    entry = next(t for t in data["targets"] if t["name"] == name)
    for key, value in changes.items():
        if value is None and key != "output":
            entry.pop(key, None)
        else:
            entry[key] = value
    return data


def test_the_project_targets_load_and_cite_the_seed_documents(baseline_params, known):
    targets = load_targets(params=baseline_params, known_outputs=known)
    names = {t.name for t in targets}
    assert {"kz_heroin_seized_q1_2009", "knb_heroin_seized_q1_2009", "mvd_trafficking_attempts_q1_2009",
            "drug_related_crimes_q1_2009", "seizure_size_median", "kz_ru_border_share_of_seizures",
            "foreign_detainees_russia", "land_share_of_route", "northern_route_share_of_afghan_heroin",
            "price_kz_ru_border", "courier_pay_truck_to_moscow", "police_corruption_cases_q1_2009",
            "controlled_deliveries_2008"} <= names
    assert targets["kz_heroin_seized_q1_2009"].value == 238
    assert targets["knb_heroin_seized_q1_2009"].value == 150
    assert targets["seizure_size_median"].value == 17      # median of the nine named seizures
    assert targets["foreign_detainees_russia"].value == pytest.approx(836 / 2304)
    assert len(targets.fit) >= 5 and len(targets.held_out) >= 5
    for t in targets:
        assert ".txt ¶" in t.source and t.sd > 0


def test_per_quarter_outputs_rescale_a_year_of_simulation(baseline_params, known):
    targets = load_targets(params=baseline_params, known_outputs=known)
    runs = pd.DataFrame({"kg_seized_kz_national": [952.0], "horizon_days": [365], "status": ["ok"]})
    assert targets["kz_heroin_seized_q1_2009"].model_values(runs)[0] == pytest.approx(238.0)


def test_a_run_matching_every_fitted_fact_has_distance_zero_and_a_failed_run_is_infinitely_far(
        baseline_params, known):
    targets = load_targets(params=baseline_params, known_outputs=known)
    row = {"horizon_days": 365, "status": "ok"}
    for t in targets.fit:
        value = t.value / t.scale * (365 / {"quarter": 365 / 4, "year": 365}[t.per] if t.per else 1)
        row[t.outputs[0]] = value
    runs = pd.DataFrame([row, {**row, "status": "failed"}])
    d = targets.distances(runs)
    assert d[0] == pytest.approx(0.0, abs=1e-9) and d[1] == float("inf")


@pytest.mark.parametrize("name, changes, message", [
    ("kz_heroin_seized_q1_2009", {"source": None}, "source: missing"),
    ("kz_heroin_seized_q1_2009", {"source": "a newspaper"}, "must name a seed file and paragraph"),
    ("knb_heroin_seized_q1_2009", {"output": "kg_seized_by_knb"}, "unknown model output 'kg_seized_by_knb'"),
    ("knb_heroin_seized_q1_2009", {"output": None}, "a fitted target needs a model output"),
    ("price_russia", {"output": {"param": "world.economics.price_usd_per_kg.mars"}}, "unknown parameter"),
    ("kz_heroin_seized_q1_2009", {"uncertainty": {"sd": -5}}, "sd must be a positive number"),
    ("kz_heroin_seized_q1_2009", {"uncertainty": {"interval": [300, 200]}}, "low < high"),
    ("kz_heroin_seized_q1_2009", {"uncertainty": {"interval": [10, 20]}}, "outside its interval"),
    ("kz_heroin_seized_q1_2009", {"uncertainty": {"sd": 5, "interval": [10, 300]}}, "exactly one of"),
    ("kz_heroin_seized_q1_2009", {"role": "maybe"}, "role: must be one of"),
    ("kz_heroin_seized_q1_2009", {"per": "week"}, "per: must be one of"),
    ("kz_heroin_seized_q1_2009", {"bound": "upper"}, "only be checked on a held_out"),
    ("seizure_size_median", {"statistic": {"quantile": 1.5}}, "strictly between 0 and 1"),
    ("foreign_detainees_russia", {"count": 3000}, "count <= total"),
    ("land_share_of_route", {"reason": None}, "must say why"),
    ("kz_heroin_seized_q1_2009", {"colour": "red"}, "colour: unknown field"),
])
def test_bad_target_files_are_rejected_with_a_message_naming_the_target(
        tmp_path, baseline_params, known, raw_targets, name, changes, message):
    path = write(tmp_path, broken(raw_targets, name, **changes))
    with pytest.raises(ConfigError) as err:
        load_targets(path, params=baseline_params, known_outputs=known)
    assert message in str(err.value)
    assert name in str(err.value)
    assert "\n" not in str(err.value)


def test_duplicate_names_and_empty_files_are_rejected(tmp_path, baseline_params, known, raw_targets):
    data = copy.deepcopy(raw_targets)
    data["targets"].append(copy.deepcopy(data["targets"][0]))
    with pytest.raises(ConfigError, match="duplicate target name"):
        load_targets(write(tmp_path, data), params=baseline_params, known_outputs=known)
    with pytest.raises(ConfigError, match="non-empty list under 'targets'"):
        load_targets(write(tmp_path, {"targets": []}), params=baseline_params, known_outputs=known)
    with pytest.raises(ConfigError, match="no such file"):
        load_targets(tmp_path / "missing.yaml", params=baseline_params, known_outputs=known)
