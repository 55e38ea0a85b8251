"""The exercise's rules, state and presets, without a browser (docs/exercise.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from sim.config import load_params
from sim.exercise.preset import load_exercise, yearly_cost
from sim.exercise.state import ExerciseState, new_exercise, open_exercise, turn_cost
from sim.exercise.turns import timeline, timeline_scenario, turn_experiments
from sim.model import NorthernRouteModel
from sim.timeline import ABSENT
from sim.params import ConfigError

PRESET = "southern_border_2009"


def test_the_catalogue_prices_an_intervention_from_the_policy_configs():
    world = load_params().world
    preset = load_exercise(PRESET)
    per_segment = world.policies.green_zone.cost_usd_per_year_per_segment
    assert yearly_cost(preset, "green_zone_kyrgyz") == 2 * per_segment      # Chui and Talas
    assert yearly_cost(preset, "anti_corruption_unit") == world.policies.anti_corruption_unit.cost_usd_per_year
    # strengthening a mechanism already paid for in 2009: the preset's own figure, with its source
    assert yearly_cost(preset, "controlled_deliveries") == preset.item("controlled_deliveries").cost_usd_per_year


def test_a_turn_costs_its_share_of_the_yearly_cost():
    preset = load_exercise(PRESET)
    assert turn_cost(preset, ["green_zone_kyrgyz", "green_zone_uzbek"]) == pytest.approx(
        (yearly_cost(preset, "green_zone_kyrgyz") + yearly_cost(preset, "green_zone_uzbek")) * 3 / 12)


def test_over_budget_is_one_message_and_the_turn_is_not_decided():
    state = new_exercise(PRESET)
    with pytest.raises(ConfigError, match=r"^Over budget: KNB Border Service chose \$6,500,000 .* budget is \$6,000,000$"):
        state.decide({"knb": ["reinforce_uzbek_border", "green_zone_uzbek"]})
    assert state.turns == []


def test_a_team_cannot_buy_another_teams_intervention():
    with pytest.raises(ConfigError, match="Customs Control Committee cannot buy 'green_zone_kyrgyz'"):
        new_exercise(PRESET).decide({"customs": ["green_zone_kyrgyz"]})


def _played(state: ExerciseState, purchases, injects=(), posture=None) -> None:
    state.decide(purchases, list(injects), posture)
    state.turns[-1].results = {"runs": {}, "maps": {}}      # as if run: the timeline needs only decisions


def test_each_turn_switches_on_what_was_bought_and_sets_back_what_was_dropped():
    state = new_exercise(PRESET)
    _played(state, {"knb": ["green_zone_kyrgyz"], "mvd": ["anti_corruption_unit"]}, ["supply_surge"])
    _played(state, {"knb": ["mobile_patrols_south"], "mvd": ["anti_corruption_unit"]})
    first, second = timeline(state.preset, state.turns)
    assert first == {"date": "2009-01-01", "label": "turn 1", "policies": ["anti_corruption_unit", "green_zone_kyrgyz"],
                     "set": {"world.flow.supply_multiplier": 1.43}}
    assert second == {"date": "2009-04-01", "label": "turn 2", "policies": ["mobile_patrols_south"],
                      "set": {"world.policies.green_zone.enabled": False,
                              "world.policies.green_zone.segments.kz_kg_chui": ABSENT,
                              "world.policies.green_zone.segments.kz_kg_talas": ABSENT}}


def test_dropping_one_green_zone_segment_keeps_the_zone_of_the_other_in_force():
    state = new_exercise(PRESET)
    _played(state, {"knb": ["green_zone_kyrgyz", "green_zone_uzbek"]})
    _played(state, {"knb": ["green_zone_uzbek"]})
    _played(state, {})
    scenario = timeline_scenario(state.preset, timeline(state.preset, state.turns))
    model = NorthernRouteModel(load_params([*scenario, "horizon_days=200"]), rng=1)
    zones = [phase.params.world.policies.green_zone for phase in model.phases]
    assert [(z.enabled, sorted(z.segments)) for z in zones] == [
        (True, ["kz_kg_chui", "kz_kg_talas", "kz_uz_steppe"]), (True, ["kz_uz_steppe"]), (False, [])]


def test_the_counterfactual_keeps_the_injects_and_drops_every_team_choice():
    state = new_exercise(PRESET)
    _played(state, {"knb": ["green_zone_kyrgyz"]}, ["budget_cut"], "bold")
    _played(state, {"customs": ["dedicated_checkpoints"]})
    assert timeline(state.preset, state.turns, with_choices=False) == [
        {"date": "2009-01-01", "label": "turn 1", "set": {"world.policies.budget.programme_funding": 0.0}}]


def test_a_posture_dropped_restores_the_baseline_values_it_had_changed():
    state = new_exercise(PRESET)
    _played(state, {}, posture="cautious")
    _played(state, {}, posture="usual")
    learning = load_params().world.learning
    assert timeline(state.preset, state.turns)[1]["set"] == {
        "world.learning.loss_tolerance": learning.loss_tolerance,
        "world.learning.small_load_factor": learning.small_load_factor}


def test_attribution_leaves_out_one_decision_and_keeps_the_others():
    state = new_exercise(PRESET)
    _played(state, {"knb": ["green_zone_kyrgyz"], "mvd": ["anti_corruption_unit"]})
    _played(state, {"knb": ["green_zone_kyrgyz"], "mvd": ["anti_corruption_unit"]})
    events = timeline(state.preset, state.turns, without=(1, "green_zone_kyrgyz"))
    assert events == [{"date": "2009-01-01", "label": "turn 1", "policies": ["anti_corruption_unit"]}]


def test_every_run_of_a_turn_is_paired_with_its_counterfactual_on_the_same_seed():
    state = new_exercise(PRESET)
    _played(state, {"knb": ["green_zone_kyrgyz"]})
    runs = turn_experiments(state.preset, state.turns)
    assert len(runs) == 2 * (1 + state.preset.replications)
    for with_, without in zip(runs[::2], runs[1::2]):
        assert with_.seed == without.seed and with_.inputs["with_choices"] and not without.inputs["with_choices"]
        assert with_.updates["horizon_days"] == 90 == without.updates["horizon_days"]    # Jan-Mar 2009
    assert runs[0].seed == state.preset.seed


def test_save_reopen_and_undo_keep_the_exact_decisions(tmp_path):
    state = new_exercise(PRESET, tmp_path / "ex.json")
    _played(state, {"knb": ["green_zone_kyrgyz"]}, ["new_route"], "bold")
    state.turns[-1].results = {"runs": {"shown": {"seed": 1, "outcomes": {"kg_entering_kz": 12.5}}}, "maps": {}}
    _played(state, {"customs": ["dedicated_checkpoints"]})
    state.save()
    again = open_exercise(tmp_path / "ex.json")
    assert [t.purchases for t in again.turns] == [t.purchases for t in state.turns]
    assert again.turns[0].results == state.turns[0].results and again.turns[0].posture == "bold"
    undone = again.undo()
    assert undone.purchases["customs"] == ["dedicated_checkpoints"] and len(again.played()) == 1
    again.save()
    assert len(json.loads((tmp_path / "ex.json").read_text())["turns"]) == 1


def test_undo_with_nothing_played_is_a_clear_error():
    with pytest.raises(ConfigError, match="nothing to undo"):
        new_exercise(PRESET).undo()


def test_a_file_that_is_not_a_saved_exercise_is_refused(tmp_path):
    (tmp_path / "x.json").write_text('{"turns": []}')
    with pytest.raises(ConfigError, match=r"x.json: not a saved exercise"):
        open_exercise(tmp_path / "x.json")


# --- presets written by users ---------------------------------------------------------------


def _user_preset(tmp_path, **changes) -> str:
    data = yaml.safe_load(load_exercise_file().read_text())
    data.update(changes)
    (tmp_path / "exercise").mkdir(exist_ok=True)
    (tmp_path / "exercise" / "my_exercise.yaml").write_text(yaml.safe_dump(data))
    return str(tmp_path)


def load_exercise_file():
    from sim.config import config_file

    return config_file("exercise", PRESET)


def test_a_users_exercise_preset_is_config_only(tmp_path):
    folder = _user_preset(tmp_path, turns=2, title="Two quarters")
    preset = load_exercise("my_exercise", folder)
    assert preset.title == "Two quarters" and preset.turns == 2


@pytest.mark.parametrize("change, message", [
    ({"teams": {"knb": {"label": "K", "budget_usd_per_turn": 1, "catalogue": ["green_zone_kyrgz"]}}},
     r"teams.knb.catalogue.green_zone_kyrgz: no policy 'green_zone_kyrgz' .*did you mean 'green_zone_kyrgyz'"),
    ({"teams": {"knb": {"label": "K", "budget_usd_per_turn": 1, "catalogue": ["controlled_deliveries"]}}},
     r"teams.knb.catalogue.controlled_deliveries: the configs give this policy no yearly cost"),
    ({"injects": {"x": {"label": "X", "source": "ASSUMPTION", "set": {"world.flow.supply_multiplyer": 2}}}},
     r"injects.x.set: world.flow.supply_multiplyer: unknown key"),
    ({"turns": 0}, r"turns: Input should be greater than or equal to 1"),
    ({"teams": {"a": {"label": "A", "budget_usd_per_turn": 1, "catalogue": ["inl_checkpoints"]},
                "b": {"label": "B", "budget_usd_per_turn": 1, "catalogue": ["inl_checkpoints"]}}},
     r"'inl_checkpoints' is already in teams.a.catalogue"),
])
def test_a_mistake_in_an_exercise_preset_is_one_line_naming_the_key(tmp_path, change, message):
    folder = _user_preset(tmp_path, **change)
    with pytest.raises(ConfigError, match=message) as err:
        load_exercise("my_exercise", folder)
    assert "\n" not in str(err.value) and "my_exercise.yaml" in str(err.value)


def test_the_exercise_command_refuses_a_bad_port_and_a_bad_state_file_with_exit_2(tmp_path):
    (tmp_path / "bad.json").write_text("not json")
    for args, said in ((["--port", "70000"], "--port: 70000 is not a port number"),
                       (["--state", str(tmp_path / "bad.json")], "bad.json: not a saved exercise")):
        done = subprocess.run([sys.executable, "-m", "sim", "exercise", *args], capture_output=True, text=True)
        assert done.returncode == 2 and said in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_exercise_command_lists_the_presets():
    done = subprocess.run([sys.executable, "-m", "sim", "exercise", "--list"], capture_output=True, text=True)
    assert done.returncode == 0 and f"{PRESET}: The southern border, 2009" in done.stdout
