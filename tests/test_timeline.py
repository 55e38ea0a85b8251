"""Timelines: events that change the rules mid-run (sim.timeline, NorthernRouteModel.refresh_rules).

The invariants of issue 10: a run with an event is the run without it, to the gram, up to
the event's date; an event on the start date is the same policy in the static config;
mass balance holds across events; the same scenario and seed give the same outputs; an
event that changes nothing changes nothing (common random numbers).
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim.config import load_params, with_updates
from sim.model import NorthernRouteModel
from sim.run import simulate
from tests.test_mass_balance import _assert_balanced

#: Policies whose rules refresh_rules must re-derive: network (dedicated, INL), watchers
#: (green zone, UAVs), budgets, deterrence, let-run rule, supply, the border regime.
#: what a shipment is given when it leaves (its outcome may depend on rules in force later)
DISPATCH_COLUMNS = ("organisation", "org_type", "conveyance", "origin", "market", "grams", "nationality", "crossings",
                    "day_dispatched")
MANY = ["dedicated_checkpoints", "inl_checkpoints", "green_zone_kyrgyz", "uav_surveillance", "anti_corruption_unit",
        "budget_restored", "controlled_deliveries"]


def _run(params, seed=4):
    return simulate(params, seed=seed, keep_events=False)


def test_runs_with_and_without_an_event_agree_to_the_gram_until_its_date():
    event = {"day": 25, "label": "everything", "policies": [*MANY, "mobile_patrols_south"],
             "set": {"regime": "customs_union", "world.flow.supply_multiplier": 1.5}}
    without = _run(load_params(["horizon_days=50"]))
    with_event = _run(load_params(["horizon_days=50"], timeline=[event]))
    before = with_event.daily["day"] <= 25               # daily row d holds the state after day d-1
    pd.testing.assert_frame_equal(without.daily[before], with_event.daily[before])
    a, b = (r.shipments[r.shipments["day_dispatched"] < 25].reset_index(drop=True) for r in (without, with_event))
    assert len(a) > 100
    dispatch = ["shipment_id", "organisation", "conveyance", "market", "grams", "day_dispatched"]
    pd.testing.assert_frame_equal(a[dispatch], b[dispatch])
    after = ~before
    assert (with_event.daily[after]["kg_entered"].to_numpy() > without.daily[after]["kg_entered"].to_numpy()).all()


def test_an_event_on_the_start_date_is_the_same_policy_in_the_static_config():
    static = _run(load_params(["horizon_days=40", "+policy=[mobile_patrols_south,dedicated_checkpoints]"]))
    dated = _run(load_params(["horizon_days=40"], timeline=[
        {"date": "2009-01-01", "policies": ["mobile_patrols_south", "dedicated_checkpoints"]}]))
    assert dated.summary == static.summary
    pd.testing.assert_frame_equal(dated.shipments, static.shipments)


def test_rules_refreshed_before_the_first_day_equal_the_same_rules_set_up_statically():
    """refresh_rules re-derives everything the rules decide: switching them on in a built
    model gives the run a model built with them gives."""
    horizon = ["horizon_days=40"]
    static = load_params([*horizon, f"+policy=[{','.join(MANY)}]", "regime=customs_union",
                          "world.flow.supply_multiplier=1.3"])
    model = NorthernRouteModel(load_params(horizon), rng=9, keep_events=False)
    model.use_rules(static)
    model.run()
    reference = NorthernRouteModel(static, rng=9, keep_events=False)
    reference.run()
    for field in ("entered_g", "seized_g", "delivered_g", "bribes_count", "seizures_count", "controlled_let_run"):
        assert getattr(model.ledger, field) == getattr(reference.ledger, field), field
    assert model.ledger.seized_g > 0


def test_an_event_that_changes_nothing_changes_nothing():
    base = load_params(["horizon_days=45"])
    noop = load_params(["horizon_days=45"], timeline=[
        {"day": 15, "label": "no change", "set": {"world.flow.supply_multiplier": 1.0,
                                                   "world.policies.controlled_deliveries.let_run_prob": 0.2}},
        {"day": 30, "policies": ["budget_restored"]}, {"day": 31, "policies_off": ["budget_restored"]}])
    a, b = _run(base), _run(noop)
    before = [ships[ships["day_dispatched"] < 30][list(DISPATCH_COLUMNS)].reset_index(drop=True)
              for ships in (a.shipments, b.shipments)]
    pd.testing.assert_frame_equal(*before)                  # the same loads sent up to the first real change
    pd.testing.assert_frame_equal(a.daily.iloc[:30], b.daily.iloc[:30])
    c, d = _run(base, seed=8), _run(load_params(["horizon_days=45"], timeline=[{"day": 15, "set": {
        "world.flow.supply_multiplier": 1.0}}]), seed=8)
    pd.testing.assert_frame_equal(c.shipments, d.shipments)
    assert c.summary == d.summary


def test_every_gram_is_accounted_for_across_events():
    params = load_params(["horizon_days=60"], timeline=[
        {"day": 10, "policies": [*MANY, "mobile_patrols_south"], "set": {"world.flow.supply_multiplier": 1.6}},
        {"day": 25, "policies_off": ["inl_checkpoints", "mobile_patrols_south", "dedicated_checkpoints"],
         "set": {"world.policies.controlled_deliveries.disruption_days": 40}},
        {"day": 40, "set": {"world.flow.supply_multiplier": 0.3, "regime": "customs_union"}}])
    for seed in (1, 2):
        model = NorthernRouteModel(params, rng=seed)
        while model.running:
            model.step()
            if model.day in (10, 25, 40, 60):
                _assert_balanced(model)


def test_the_same_timeline_and_seed_give_identical_outputs():
    params = load_params(["horizon_days=40"], timeline=[{"day": 12, "policies": ["reinforce_uzbek_border"]},
                                                        {"day": 20, "set": {"regime": "single_inspection"}}])
    a, b = simulate(params, seed=21), simulate(params, seed=21)
    assert a.summary == b.summary
    pd.testing.assert_frame_equal(a.shipments, b.shipments)
    pd.testing.assert_frame_equal(a.events, b.events)


def test_the_world_goes_on_from_its_state_at_an_event():
    """Beliefs, stock, couriers on the road and crews survive an event; new rules apply."""
    params = load_params(["horizon_days=30"], timeline=[{"day": 20, "policies": ["reinforce_uzbek_border",
                                                                                  "inl_checkpoints"]}])
    model = NorthernRouteModel(params, rng=2)
    for _ in range(20):
        model.step()
    uz = next(i for i, n in enumerate(model.network.nodes) if n.border == "kz_uz" and n.kind == "border_checkpoint")
    crew = model.posts[uz].sides[0]
    officers, staff = list(crew.officers), crew.staff
    org = model.organisations.to_list()[0]
    beliefs, stock = org.beliefs.losses.copy(), org.stock_g
    on_road = model.couriers_on_road
    inl = [i for i, n in enumerate(model.network.nodes) if n.id.startswith("kz_inl_")]
    assert all(model.posts[i] is None for i in inl)
    model.apply_events()
    assert crew.staff == pytest.approx(staff * 5.0 / 1.5)           # from the baseline's 1.5x to the policy's 5x
    assert crew.officers[:len(officers)] == officers and len(crew.officers) > len(officers)
    assert (org.beliefs.losses == beliefs).all() and org.stock_g == stock and model.couriers_on_road == on_road
    assert all(model.posts[i] is not None for i in inl)


def test_switching_a_static_policy_off_restores_the_baseline_values():
    params = load_params(["horizon_days=60", "+policy=[budget_restored]"],
                         timeline=[{"date": "2009-02-01", "policies_off": ["budget_restored"]}])
    model = NorthernRouteModel(params, rng=1)
    budget = [p.params.world.policies.budget for p in model.phases]
    baseline = load_params().world.policies.budget
    assert budget[0].programme_funding == 1.0 and budget[1] == baseline


def test_a_timeline_from_the_command_line_is_the_timeline_from_python():
    typed = load_params(["horizon_days=60", "timeline=[{date:2009-01-20,label:Uzbek border,"
                                            "policies:[reinforce_uzbek_border],set:{world.flow.supply_multiplier:1.2}}]"])
    given = load_params(["horizon_days=60"], timeline=[{"date": "2009-01-20", "label": "Uzbek border",
                                                        "policies": ["reinforce_uzbek_border"],
                                                        "set": {"world.flow.supply_multiplier": 1.2}}])
    assert typed == given
    assert typed.timeline[0].resolved["world.policies.border_reinforcement.staff_factor"] == 5.0


def test_a_lever_can_move_an_event():
    params = load_params(["horizon_days=60"], timeline=[{"date": "2009-01-20", "policies": ["reinforce_uzbek_border"]}])
    moved = with_updates(params, {"timeline.0.date": "2009-02-10"})
    assert [p.start_day for p in NorthernRouteModel(moved, rng=1).phases] == [0, 40]
    bigger = with_updates(params, {"timeline.0.set": {"world.flow.supply_multiplier": 2.0}})
    assert NorthernRouteModel(bigger, rng=1).phases[1].params.world.flow.supply_multiplier == 2.0


TIMELINE_PRESETS = ("timeline_2008_2011", "uzbek_reinforcement_mid_2009", "surge_2021_ban_2022")


@pytest.mark.parametrize("preset", TIMELINE_PRESETS)
def test_every_dated_number_of_a_timeline_preset_has_its_own_source(preset):
    from sim.config import compose_config, config_to_dict
    from sim.provenance import lookup, timeline_leaves, uncited

    config = config_to_dict(compose_config([f"preset={preset}"]))
    assert uncited(config) == []
    for dated, _key, _value in timeline_leaves(config):
        assert lookup(dated) is not None and lookup(dated).key.startswith("timeline."), dated


def test_the_timeline_presets_cover_their_years_with_their_events():
    spans = {name: load_params([f"preset={name}"]) for name in TIMELINE_PRESETS}
    assert [(p.start_date.isoformat(), p.end_date.isoformat()) for p in spans.values()] == [
        ("2008-01-01", "2011-12-31"), ("2009-01-01", "2010-06-30"), ("2021-01-01", "2023-12-31")]
    cu = NorthernRouteModel(spans["timeline_2008_2011"], rng=0).phases
    assert cu[0].params.world.policies.budget.programme_funding == 1.0
    assert cu[-1].params.regime.name == "customs_union" and cu[-2].params.regime.name == "two_sided"
    assert [round(p.params.world.flow.supply_multiplier, 3) for p in cu] == [1.116, 1.116, 1.0, 0.522, 0.522, 0.841, 0.841]


def test_compare_gives_paired_differences_per_phase_and_month(tmp_path):
    """Zero, exactly, before the event (common random numbers); the chart and tables written."""
    from sim.compare import compare

    folder = tmp_path / "configs" / "preset"
    folder.mkdir(parents=True)
    (folder / "my_mid_reinforcement.yaml").write_text(
        "# @package _global_\n"
        "timeline:\n  - {day: 35, label: Uzbek border reinforced, policies: [reinforce_uzbek_border]}\n"
        "briefing:\n  title: test\n  represents: test\n  sources: [test]\n  look_at: [test]\n")
    result = compare(["my_mid_reinforcement"], replications=2, engine="serial", horizon_days=70, maps=False,
                     progress=False, config_dir=tmp_path / "configs", out_dir=tmp_path / "out")
    phases = pd.read_csv(result.out_dir / "phases.csv")
    before, after = phases[phases["period"] == 0], phases[phases["period"] == 1]
    assert list(before["end_date"].unique()) == ["2009-02-04"] and (before["n"] == 2).all()
    assert (before["diff"] == 0).all() and not before["clear"].any()
    assert after.set_index("outcome").loc["kg_seized", "diff"] != 0
    monthly = pd.read_csv(result.out_dir / "monthly_diff.csv")
    assert list(monthly["month"].unique()) == ["2009-01", "2009-02", "2009-03"]
    assert (monthly[monthly["month"] == "2009-01"]["diff"] == 0).all()
    assert (result.out_dir / "monthly_diff_my_mid_reinforcement.png").stat().st_size > 10_000


def test_a_policy_costs_only_the_days_it_is_in_force():
    from sim.model.outcomes import summarise
    from sim.model.policies import policy_cost_usd_per_year

    model = NorthernRouteModel(horizon_days=20, timeline=[{"day": 15, "policies": ["green_zone_kyrgyz"]}], rng=1)
    model.run()
    before, after = (policy_cost_usd_per_year(p.params.world) for p in model.phases)
    assert after > before
    assert summarise(model)["policy_cost_usd"] == pytest.approx((before * 15 + after * 5) / 365)


def test_the_readme_timeline_examples_compose(tmp_path):
    """README "Scenarios that unfold in time": the YAML preset and the command line."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Scenarios that unfold in time")[1].split("\n## ")[0]
    yaml_text = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    preset = tmp_path / "preset"
    preset.mkdir()
    (preset / "my_timeline.yaml").write_text(yaml_text)
    from_yaml = load_params(["preset=my_timeline"], config_dir=tmp_path)
    assert [e.date.isoformat() for e in from_yaml.timeline] == ["2009-07-01", "2010-01-01"]
    assert from_yaml.end_date.isoformat() == "2010-06-30"
    command = re.search(r"python -m sim (end_date=\S+) \\\n\s+'(timeline=.*?)'\n", section)
    typed = load_params([command.group(1), command.group(2)])
    assert typed.horizon_days == 365 and [e.label for e in typed.timeline] == ["Uzbek border", ""]
    assert typed.timeline[1].resolved["regime.name"] == "customs_union"


def test_sweep_levers_and_updates_can_move_an_event():
    """A lever (Hydra overrides) moves an event; an update (with_updates) moves one too."""
    from sim.sweep import Experiment, run_experiments

    preset = "preset=uzbek_reinforcement_mid_2009"
    experiments = [Experiment(run_id="july", scenario=(preset,), seed=3),
                   Experiment(run_id="march", scenario=(preset, "timeline.0.date=2009-03-01"), seed=3),
                   Experiment(run_id="march-by-update", scenario=(preset,), updates={"timeline.0.date": "2009-03-01"}, seed=3)]
    table = run_experiments(experiments, engine="serial", horizon_days=200, progress=False).set_index("run_id")
    assert (table["status"] == "ok").all()
    assert table.loc["march", "kg_seized"] == table.loc["march-by-update", "kg_seized"]
    assert table.loc["march", "kg_seized"] != table.loc["july", "kg_seized"]


def test_switching_off_one_of_two_overlapping_policies_leaves_the_other_in_force():
    params = load_params(["horizon_days=60"], timeline=[
        {"day": 5, "policies": ["green_zone_kyrgyz", "green_zone_uzbek"]}, {"day": 20, "policies_off": ["green_zone_uzbek"]}])
    kyrgyz_alone = load_params(["horizon_days=60", "+policy=[green_zone_kyrgyz]"])
    last = NorthernRouteModel(params, rng=1).phases[-1].params
    assert last.world == kyrgyz_alone.world and last.regime == kyrgyz_alone.regime
