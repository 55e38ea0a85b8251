"""Agencies that adapt (sim/model/adaptation.py): capacity moves where the rule says, each agency's
total is conserved, every post keeps its minimum, `none` changes nothing, and traffickers
respond to where the capacity went."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.adaptation import (AgencyAllocation, intelligence_view, next_effort, pooled_noise, reallocate,
                            remembered_seizures, share_moved)
from sim.cli import main
from sim.config import load_params, with_updates
from sim.model import NorthernRouteModel
from sim.run import simulate
from sim.sweep.worker import base_params

#: A second patrol group, on the Kazakh-Russian border, that the KNB and customs run besides the south's.
NORTH_PATROLS = ("+world.patrols.north={count: 4, agencies: {KNB border service: 1, KZ customs: 1}, "
                 "area: [kz_auyil, kz_uba, kz_ru_green_east, kz_ru_green_west], intercept_prob: 0.05, "
                 "quiet_traffic_per_day: 4, methods: [canine, documents], corruption: 0.35, intelligence_weight: 2.0, "
                 "memory_days: 30}")
KYRGYZ_BORDER = ("kz_korday", "kz_karasu", "kz_merke", "kz_kg_green_chui", "kz_kg_green_talas", "kz_lugovaya_rail")


def _intelligence_points_at(monkeypatch, params, node_ids) -> None:
    """Every month's evidence: a tonne passing each of ``node_ids``, nothing elsewhere, no seizures."""
    tipped = [i for i, n in enumerate(params.network.nodes) if n.id in node_ids]

    def flow_at_tipped_nodes(self, model):
        flow = np.zeros(len(model.node_ids))
        flow[tipped] = 1000.0
        return flow

    monkeypatch.setattr(AgencyAllocation, "_flow_since_mark", flow_at_tipped_nodes)
    monkeypatch.setattr(AgencyAllocation, "_seized_since_mark", lambda self, model: {})


def _run(overrides, seed=1, transit="reference"):
    model = NorthernRouteModel(load_params([*overrides, f"transit={transit}"]), rng=seed, keep_events=False)
    model.run()
    return model


# --- the rules as pure functions ------------------------------------------------------------


def test_reallocation_moves_the_configured_share_toward_the_attracting_post():
    configured = np.array([10.0, 10.0, 20.0])
    after = reallocate(configured.copy(), configured, np.array([0.0, 1.0, 0.0]), share_moved=0.2,
                       min_share=0.5, max_factor=3.0)
    assert after.sum() == pytest.approx(configured.sum(), rel=1e-12)
    assert after[1] == pytest.approx(10.0 + 0.2 * 40.0 - 0.2 * 10.0)      # 0.8 x 10 + 0.2 x 40
    assert after[0] == pytest.approx(8.0) and after[2] == pytest.approx(16.0)
    assert share_moved(configured, after) == pytest.approx(0.15)


def test_reallocation_keeps_each_post_within_its_minimum_and_maximum_and_the_total():
    rng = np.random.default_rng(4)
    for _ in range(200):
        configured = rng.uniform(0.5, 30.0, size=8)
        now = configured * rng.uniform(0.5, 3.0, size=8)
        attraction = rng.exponential(size=8) * (rng.random(8) < 0.4)
        after = reallocate(now, configured, attraction, share_moved=rng.uniform(0, 1), min_share=0.5, max_factor=3.0)
        assert after.sum() == pytest.approx(configured.sum(), rel=1e-12)
        assert np.all(after >= 0.5 * configured - 1e-9) and np.all(after <= 3.0 * configured + 1e-9)


def test_without_evidence_nothing_moves():
    configured = np.array([4.0, 6.0])
    assert np.array_equal(reallocate(configured.copy(), configured, np.zeros(2), 0.2, 0.5, 3.0), configured)


def test_seizure_memory_keeps_its_share_of_the_past():
    memory = remembered_seizures(np.array([10.0, 0.0]), np.array([0.0, 4.0]), keep=0.5)
    assert memory.tolist() == [5.0, 4.0]


def test_the_intelligence_view_knows_own_finds_and_pooled_reports_are_closer_to_the_flow():
    flow, seized = np.full(20_000, 100.0), np.full(20_000, 30.0)
    normals = np.random.default_rng(7).standard_normal(20_000)
    exact = intelligence_view(flow, seized, np.zeros(20_000), normals)
    assert np.allclose(exact, flow)
    alone = intelligence_view(flow, seized, pooled_noise(1.0, np.ones(20_000)), normals)
    pooled = intelligence_view(flow, seized, pooled_noise(1.0, np.full(20_000, 4)), normals)
    assert np.all(alone >= 30.0) and np.all(pooled >= 30.0)             # the finds are never doubted
    assert abs(alone.mean() - 100.0) < 3.0 and abs(pooled.mean() - 100.0) < 1.0   # unbiased
    assert np.abs(pooled - flow).mean() < 0.6 * np.abs(alone - flow).mean()


def test_effort_rises_below_the_target_and_falls_above_it_within_bounds():
    assert next_effort(1.0, 0.0, 50.0, 0.05, 0.8, 1.3) == pytest.approx(1.05)
    assert next_effort(1.0, 25.0, 50.0, 0.05, 0.8, 1.3) == pytest.approx(1.025)
    assert next_effort(1.0, 500.0, 50.0, 0.05, 0.8, 1.3) == pytest.approx(0.95)
    assert next_effort(1.29, 0.0, 50.0, 0.05, 0.8, 1.3) == 1.3
    assert next_effort(0.81, 90.0, 10.0, 0.05, 0.8, 1.3) == 0.8


# --- in a run -----------------------------------------------------------------------------------


def test_none_leaves_a_run_identical_to_the_model_without_adaptation_to_the_gram(monkeypatch):
    params = load_params(["horizon_days=70", "adaptation=none"])
    adapted = NorthernRouteModel(params, rng=5, keep_events=False)
    adapted.run()
    table = adapted.allocation.frame(adapted.node_ids)

    def configured_only(self, agency, node, configured):
        return configured

    monkeypatch.setattr(NorthernRouteModel, "adapt_agencies", lambda self: None)
    monkeypatch.setattr(AgencyAllocation, "capacity", configured_only)
    monkeypatch.setattr(AgencyAllocation, "start", lambda self, model: None)
    plain = NorthernRouteModel(params, rng=5, keep_events=False)
    plain.run()
    for total in ("entered_g", "seized_g", "delivered_g", "supplied_g", "bribes_usd", "hop_events"):
        assert getattr(adapted.ledger, total) == getattr(plain.ledger, total), total
    assert adapted.ledger.edge_flow_g == plain.ledger.edge_flow_g
    assert set(table["share"]) == {1.0} and set(table["share_moved"]) == {0.0}


def test_none_ignores_the_numbers_of_the_other_rules_a_sweep_varies():
    params = load_params(["horizon_days=40"])
    varied = with_updates(params, {"adaptation.share_moved_per_month": 0.9, "adaptation.intelligence_noise": 0.1,
                                   "adaptation.min_staff_share": 0.1})
    a, b = (NorthernRouteModel(p, rng=2, keep_events=False) for p in (params, varied))
    a.run()
    b.run()
    assert (a.ledger.seized_g, a.ledger.delivered_g) == (b.ledger.seized_g, b.ledger.delivered_g)


def test_capacity_moves_toward_the_posts_of_last_months_seizures_and_totals_are_conserved():
    model = _run(["horizon_days=32", "adaptation=recent_seizures"], seed=3)
    table = model.allocation.frame(model.node_ids)
    feb = table[table["day"] == 31]
    assert len(feb) and feb["share_moved"].max() > 0
    seized = {(model.node_ids[n], agency): g for (n, agency), g in model.ledger.seized_g_at.items()}
    for agency, posts in feb.groupby("agency"):
        assert posts["capacity"].sum() == pytest.approx(posts["configured_capacity"].sum(), rel=1e-9)
        # a post's pull is its seizures per configured inspection: the share it ends with rises with it
        pull = np.array([seized.get((n, agency), 0) for n in posts["node"]]) / posts["configured_capacity"].to_numpy()
        if pull.max() > 0 and (pull == 0).any():
            by_pull = posts["share"].to_numpy()[np.argsort(pull, kind="stable")]
            assert np.all(np.diff(by_pull) >= -1e-12), agency
            assert posts["share"][pull == 0].max() < 1.0 < posts["share"][pull == pull.max()].min(), agency


@pytest.mark.parametrize("transit", ["reference", "fast"])
def test_intelligence_moves_capacity_each_month_with_either_engine(transit):
    model = _run(["horizon_days=92", "adaptation=intelligence"], seed=4, transit=transit)
    table = model.allocation.frame(model.node_ids)
    assert sorted(set(table["day"])) == [0, 31, 59, 90]
    rules = model.params.adaptation
    for (day, agency), posts in table.groupby(["day", "agency"]):
        assert posts["capacity"].sum() == pytest.approx(posts["configured_capacity"].sum(), rel=1e-9)
        assert (posts["share"] >= rules.min_staff_share - 1e-9).all()
        assert (posts["share"] <= rules.max_capacity_factor + 1e-9).all()
    assert (table[table["day"] > 0]["share_moved"] > 0).all()
    last = table[(table["day"] == 90) & (table["kind"] == "post")].set_index(["agency", "node"])
    index = {node_id: i for i, node_id in enumerate(model.node_ids)}
    for (agency, node_id), row in last.iterrows():        # the posts' crews inspect with the moved capacity
        side = next(s for s in model.posts[index[node_id]].sides if s.agency == agency)
        assert side.capacity == pytest.approx(row["capacity"])   # (both engines read the crews' rows)


def test_caricc_sharing_changes_what_the_agencies_see_and_so_where_capacity_goes():
    shared = _run(["horizon_days=62", "adaptation=intelligence"], seed=6)
    alone = _run(["horizon_days=62", "adaptation=intelligence", "adaptation.caricc_sharing=false"], seed=6)
    a, b = (m.allocation.frame(m.node_ids) for m in (shared, alone))
    first = (a["day"] == 31)
    assert not np.allclose(a[first]["share"].to_numpy(), b[first]["share"].to_numpy())


def test_seizure_target_raises_effort_below_the_target_and_lowers_it_above():
    high = _run(["horizon_days=122", "adaptation=seizure_target",
                 "adaptation.target_kg_per_month={KNB border service: 5000, KZ customs: 5000, MVD police: 5000}"])
    low = _run(["horizon_days=122", "adaptation=seizure_target",
                "adaptation.target_kg_per_month={KNB border service: 0, KZ customs: 0, MVD police: 0}"])
    for model, direction in ((high, 1), (low, -1)):
        table = model.allocation.frame(model.node_ids)
        effort = table.groupby(["agency", "day"])["effort"].first().unstack("day")
        steps = np.diff(effort.to_numpy(), axis=1)
        assert (direction * steps >= 0).all()
        assert (direction * (effort[120] - 1.0) > 0).all()
        assert (table["share"] == 1.0).all()                    # effort, not a move between posts
    assert high.allocation.frame(high.node_ids).query("day == 120")["effort"].to_numpy() == pytest.approx(1.2, abs=0.005)
    as_configured = NorthernRouteModel(load_params(["horizon_days=1"]), rng=1)
    configured = {p.officer.agency: p.stop_prob for p in as_configured.patrols}
    for patrol in high.patrols:                                 # the patrols work harder too
        agency = patrol.officer.agency
        for node, p in patrol.stop_prob.items():
            assert p == pytest.approx(min(1.0, configured[agency][node] * high.allocation.effort[agency]))


def test_an_agency_running_two_patrol_groups_moves_patrols_toward_where_intelligence_points(monkeypatch):
    params = load_params(["horizon_days=92", NORTH_PATROLS, "adaptation=intelligence", "adaptation.intelligence_noise=0",
                          "adaptation.share_moved_per_month=0.5"])
    _intelligence_points_at(monkeypatch, params, ("kz_auyil", "kz_uba"))
    model = NorthernRouteModel(params, rng=3, keep_events=False)
    model.run()
    table = model.allocation.frame(model.node_ids).query("kind == 'patrols'")
    counts = table.pivot_table(index="day", columns=["agency", "node"], values="capacity")
    for agency in ("KNB border service", "KZ customs"):
        assert (counts[agency].sum(axis=1) == 4).all()                       # the agency's patrols kept
        assert counts[(agency, "north")].iloc[-1] > 2 and counts[(agency, "south")].iloc[-1] >= 1   # minimum kept
        running = sum(p.officer.agency == agency and p.group == "north" for p in model.patrols)
        assert running == counts[(agency, "north")].iloc[-1]
    assert "MVD police" not in set(table["agency"])                          # it runs one group only


def test_a_timeline_event_and_adaptation_together_keep_the_mass_balance():
    params = load_params(["horizon_days=75", "adaptation=recent_seizures"],
                         timeline=[{"date": "2009-02-10", "policies": ["reinforce_uzbek_border"]}])
    model = NorthernRouteModel(params, rng=7)
    while model.running:
        model.step()
        if model.day in (31, 45, 60, 75):
            ledger = model.ledger
            on_road = sum(model.loads_on_road().values())
            assert ledger.entered_g == ledger.seized_g + ledger.delivered_g + on_road
            assert ledger.supplied_g == ledger.entered_g + sum(o.stock_g for o in model.organisations)
    table = model.allocation.frame(model.node_ids)
    knb = table[(table["agency"] == "KNB border service") & (table["node"] == "kz_zhibek_zholy")]
    assert knb["configured_capacity"].iloc[-1] > knb["configured_capacity"].iloc[0]   # the event's reinforcement
    for _, posts in table[table["day"] == 59].groupby("agency"):
        assert posts["capacity"].sum() == pytest.approx(posts["configured_capacity"].sum(), rel=1e-9)


def test_a_timeline_event_switches_the_rule_on_from_its_date():
    params = load_params(["horizon_days=92"], timeline=[{"date": "2009-02-15", "set": {"adaptation.rule": "intelligence"}}])
    model = NorthernRouteModel(params, rng=1, keep_events=False)
    model.run()
    table = model.allocation.frame(model.node_ids)
    by_day = table.groupby("day").agg(rule=("rule", "first"), moved=("share_moved", "max"))
    assert by_day.loc[31].tolist() == ["none", 0.0]               # 1 February: still 2009 practice
    assert by_day.loc[59, "rule"] == "intelligence" and by_day.loc[59, "moved"] > 0
    later = load_params(["adaptation.caricc_sharing=false", "horizon_days=92",       # a setting for the rule to come
                         'timeline=[{date: "2009-02-15", set: {adaptation.rule: intelligence}}]'])
    assert later.adaptation.caricc_sharing is False


def test_traffickers_move_away_from_the_border_where_capacity_concentrates(monkeypatch):
    """Intelligence pointing at the Kyrgyz border: the KNB's and customs' capacity goes there;
    over the year the organisations send less of the heroin across it than with `none`."""
    common = ["horizon_days=365", "transit=fast", "world.inspection.inspections_per_officer_day=10"]
    base = load_params(common)
    tipped = load_params([*common, "adaptation=intelligence", "adaptation.agencies=[KNB border service,KZ customs]",
                          "adaptation.intelligence_noise=0", "adaptation.share_moved_per_month=1.0",
                          "adaptation.min_staff_share=0", "adaptation.max_capacity_factor=20"])
    _intelligence_points_at(monkeypatch, base, KYRGYZ_BORDER)
    shifts = []
    for seed in range(4):
        none, adapted = simulate(base, seed, keep_events=False), simulate(tipped, seed, keep_events=False)
        table = adapted.allocation[adapted.allocation["day"] == adapted.allocation["day"].max()]
        at_border = table[table["node"].isin(KYRGYZ_BORDER)]
        assert at_border["capacity"].sum() > 3.0 * at_border["configured_capacity"].sum()
        shifts.append(adapted.summary["share_entry_kz_kg"] - none.summary["share_entry_kz_kg"])
    assert sum(shift < 0 for shift in shifts) >= 3 and np.mean(shifts) < -0.01, shifts


# --- configuration ---------------------------------------------------------------------------


def test_each_rule_is_a_config_group_option_and_a_sweep_lever():
    for rule in ("recent_seizures", "intelligence", "seizure_target"):
        assert load_params([f"adaptation={rule}"]).adaptation.rule == rule
    assert base_params(("adaptation=recent_seizures",)).adaptation.rule == "recent_seizures"   # a sweep lever
    assert load_params([]).adaptation.rule == "none"
    assert load_params(["adaptation=intelligence"]).adaptation.caricc_sharing is True


@pytest.mark.parametrize("args, message", [
    (["adaptation=smart"], "adaptation=smart: no adaptation named 'smart' (known: intelligence, none"),
    (["adaptation.rule=smart"], "adaptation.rule: Input should be 'none', 'recent_seizures'"),
    (["adaptation=intelligence", "adaptation.share_moved_per_month=1.5"],
     "adaptation.share_moved_per_month: Input should be less than or equal to 1"),
    (["adaptation=recent_seizures", "adaptation.agencies=[KNB]"], "adaptation.agencies: unknown agency 'KNB'"),
    (["adaptation=recent_seizures", "adaptation.countries=[XX]"], "adaptation.countries: no node in country 'XX'"),
    (["adaptation=seizure_target", "adaptation.min_effort=1.2"], "min_effort (1.2) must be at most 1"),
    (["adaptation.caricc_sharing=false"], "adaptation.caricc_sharing=false: the adaptation rule 'none' does not read "
                                          "adaptation.caricc_sharing; choose a rule that does: adaptation=intelligence"),
    (["adaptation=seizure_target", "adaptation.share_moved_per_month=0.3"],
     "choose a rule that does: adaptation=recent_seizures or adaptation=intelligence"),
    (["adaptation=seizure_target", "adaptation.agencies=[KNB border service,TJ border forces]"],
     "target_kg_per_month: no target for agency 'TJ border forces'"),
])
def test_a_bad_adaptation_setting_is_one_line_exit_2_and_no_run_directory(tmp_path, capsys, args, message):
    run_dir = tmp_path / "run"
    code = main([*args, "horizon_days=5", f"hydra.run.dir={run_dir}"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert not run_dir.exists()
