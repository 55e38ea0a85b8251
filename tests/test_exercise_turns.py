"""Playing turns through the sweep engine gives the figures of direct runs; the report attributes decisions."""

from __future__ import annotations

import json

import pytest
import yaml

from exercise_runs import turn_figure
from sim.config import config_file
from sim.exercise.report import decisions, write_report
from sim.exercise.results import entry_table, turn_table
from sim.exercise.state import new_exercise, open_exercise
from sim.exercise.turns import play_turn

PRESET = "quick_turns"


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """Two one-month turns of the repository's exercise (one replication), played with worker processes."""
    folder = tmp_path_factory.mktemp("turns")
    data = yaml.safe_load(config_file("exercise", "southern_border_2009").read_text())
    data.update(months_per_turn=1, turns=2, replications=1)
    (folder / "exercise").mkdir()
    (folder / "exercise" / f"{PRESET}.yaml").write_text(yaml.safe_dump(data))
    state = new_exercise(PRESET, folder / "ex.json", str(folder))
    state.decide({"knb": ["green_zone_kyrgyz"], "mvd": ["anti_corruption_unit"]}, [], "cautious")
    shown = []
    play_turn(state, folder / "runs", engine="processes", workers=2, on_shown=lambda turn: shown.append(turn.results))
    state.decide({"knb": ["green_zone_uzbek"], "mvd": ["anti_corruption_unit"]}, ["supply_surge"], "usual")
    play_turn(state, folder / "runs", engine="processes", workers=2)
    return state, folder, shown


def test_the_run_shown_comes_before_the_replications(played):
    _state, _folder, shown = played
    assert set(shown[0]["runs"]) >= {"shown", "shown-without"}


@pytest.mark.parametrize("k", [1, 2])
def test_each_turns_figures_are_those_of_a_direct_run_with_the_same_seed(played, k):
    state, folder, _ = played
    table = turn_table(state, k).set_index("outcome")
    for key in ("kg_entering_kz", "kg_seized_reported", "kg_reaching_russia", "bribes_usd"):
        for with_choices, column in ((True, "with"), (False, "without")):
            expected = turn_figure(state.preset, state.turns, k, key, with_choices, str(folder))
            assert table.loc[key, column] == pytest.approx(expected, abs=1e-6), (key, column)


def test_the_interval_pairs_the_run_shown_with_the_replication(played):
    state, _folder, _ = played
    row = turn_table(state, 2).set_index("outcome").loc["kg_entering_kz"]
    assert row["runs"] == 2 and row["interval_low"] <= row["interval_high"]
    entry = entry_table(state, 2)
    assert entry["with"].sum() == pytest.approx(turn_table(state, 2).set_index("outcome").loc["kg_entering_kz", "with"])


def test_ground_truth_seizures_are_hidden_until_revealed(played):
    state, _folder, _ = played
    assert "kg_seized_true" not in set(turn_table(state, 1, reveal=False)["outcome"])
    assert "kg_seized_true" in set(turn_table(state, 1, reveal=True)["outcome"])


def test_the_saved_file_reopens_with_the_same_figures(played):
    state, folder, _ = played
    again = open_exercise(folder / "ex.json")
    assert json.loads((folder / "ex.json").read_text())["turns"][1]["injects"] == ["supply_surge"]
    assert turn_table(again, 2).equals(turn_table(state, 2))


def test_the_report_attributes_each_decision_and_says_its_numbers_are_model_output(played, tmp_path):
    state, folder, _ = played
    assert [(k, p) for k, _team, p in decisions(state)] == [(1, "green_zone_kyrgyz"), (1, "anti_corruption_unit"),
                                                          (2, "green_zone_uzbek")]
    paths = write_report(state, tmp_path / "report", folder / "runs", engine="serial", seeds=1)
    md = paths["markdown"].read_text()
    assert md.count("Model output of the Northern Route agent-based model") >= 5
    for section in ("Timeline of decisions and injects", "against the counterfactual", "Costs", "displacement",
                    "What the model attributes to each decision"):
        assert section in md
    assert "green_zone_uzbek" in md and "Supply surge (+43%)" in md
    assert "data:image/png;base64," in paths["html"].read_text()
    assert paths["map1"].stat().st_size > 10_000
