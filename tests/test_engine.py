"""The fast engine (sim/engine) runs the reference engine's rules (sim/model/agents.py) to the gram.

Both engines work on one state and draw the same random numbers in the same order, so a
run on one is the run on the other: the same shipments, event log, daily series and
summary, for every mechanism, timeline and adaptation rule. The random streams and the
pieces both engines share (draws, the first encounter to fire, the queue) are tested on
their own.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.config import load_params, with_updates
from sim.engine import FastEngine, kernel
from sim.model import NorthernRouteModel
from sim.model.draws import Streams, first_to_fire, stream_key, uniform
from sim.run import simulate
from test_mass_balance import ALL_POLICIES, _assert_balanced


# --- the random streams -----------------------------------------------------------------

def test_a_stream_is_uniform_and_depends_on_seed_key_and_counter():
    key = stream_key("node", 3)
    draws = np.array([uniform(7, key, i) for i in range(20_000)])
    assert draws.min() >= 0.0 and draws.max() < 1.0
    assert stats.kstest(draws, "uniform").pvalue > 1e-4
    assert abs(np.corrcoef(draws[:-1], draws[1:])[0, 1]) < 0.03          # successive numbers unrelated
    assert len({uniform(7, key, 1), uniform(8, key, 1), uniform(7, stream_key("node", 4), 1),
                uniform(7, stream_key("crew", 3), 1), uniform(7, key, 2)}) == 5


def test_normal_and_beta_draws_have_their_distributions():
    streams = Streams(seed=5)
    normals = np.array([streams.normal(streams.number("test", 0)) for _ in range(20_000)])
    assert stats.kstest(normals, "norm").pvalue > 1e-4
    for a, b in ((0.8, 4.0), (3.0, 1.5), (20.0, 5.0)):                     # shapes below and above one
        betas = np.array([streams.beta(a, b, streams.number("beta", int(a * 10))) for _ in range(8000)])
        assert stats.kstest(betas, "beta", args=(a, b)).pvalue > 1e-4, (a, b)


def test_a_crew_made_anew_draws_what_a_crew_made_at_the_start_draws():
    streams = Streams(seed=1)
    first = [streams.uniform(streams.number("crew:customs", 4)) for _ in range(3)]
    again = [streams.uniform(streams.number("crew:customs", 4, fresh=True)) for _ in range(3)]
    assert again[0] == first[0]
    assert [streams.uniform(streams.number("crew:customs", 4, fresh=True))] == first[:1]


def test_the_first_trial_to_fire_is_drawn_as_sequential_trials_draw_it():
    """One uniform on the intervals of 'i fires first' has the distribution of k separate trials."""
    chances = np.array([0.1, 0.3, 0.05, 0.2, 1.0])
    n = 200_000
    rng = np.random.default_rng(3)
    one_draw = np.bincount([first_to_fire(chances, 0, 4, u) + 1 for u in rng.random(n)], minlength=5)
    trials = rng.random((n, 4)) < chances[:4]
    first = np.where(trials.any(axis=1), trials.argmax(axis=1), -1)
    sequential = np.bincount(first + 1, minlength=5)
    assert stats.chi2_contingency(np.vstack([one_draw, sequential])).pvalue > 1e-4
    expected_none = np.prod(1 - chances[:4])
    assert abs(one_draw[0] / n - expected_none) < 5 * math.sqrt(expected_none * (1 - expected_none) / n)
    assert first_to_fire(chances, 0, 5, 0.999999) == 4             # a certain encounter (protection) always fires
    assert first_to_fire(chances, 2, 4, 0.0) == 2                  # the rest, after one that fired
    assert first_to_fire(chances, 4, 4, 0.0) == -1


def test_queue_pops_in_time_order_and_ties_in_order_of_scheduling():
    Queue = namedtuple("Queue", ["heap_time", "heap_seq", "heap_slot", "progress"])
    queue = Queue(np.zeros(16), np.zeros(16, dtype=np.int64), np.zeros(16, dtype=np.int64), np.zeros(8, dtype=np.int64))
    for slot, when in enumerate([3.5, 1.0, 2.0, 1.0, 0.5, 2.0]):
        kernel.heap_push(queue, when, slot, slot)               # scheduled in slot order
    popped = []
    while queue.progress[kernel.HEAP_SIZE]:
        when = queue.heap_time[0]
        popped.append((when, kernel.heap_pop(queue)))
    assert popped == [(0.5, 4), (1.0, 1), (1.0, 3), (2.0, 2), (2.0, 5), (3.5, 0)]


# --- the same run on both engines ----------------------------------------------------------

def _both(params, seed: int, **kwargs):
    return [simulate(with_updates(params, {"transit": engine}), seed=seed, **kwargs) for engine in ("reference", "fast")]


def _assert_same_run(reference, fast) -> None:
    assert fast.summary == reference.summary
    pd.testing.assert_frame_equal(fast.shipments, reference.shipments)
    pd.testing.assert_frame_equal(fast.daily, reference.daily)
    if reference.events is not None:
        pd.testing.assert_frame_equal(fast.events, reference.events)
    assert fast.edge_flows_kg == reference.edge_flows_kg
    pd.testing.assert_frame_equal(fast.allocation, reference.allocation)


SCENARIOS = {
    "baseline": ([], None),
    "every policy": ([ALL_POLICIES.replace("]", ",anti_corruption_unit,mobile_patrols_south,inl_checkpoints,budget_restored]")],
                     None),
    "customs union, false couriers everywhere": (
        ["regime=customs_union", "world.corruption.false_couriers.posts=[kz_zhibek_zholy,kz_korday,kz_kyzylzhar]",
         "world.corruption.deterrence=0.0", "world.corruption.protection.offer_prob=0.5"], None),
    "controlled deliveries everywhere": (
        ["world.policies.controlled_deliveries.let_run_prob=1.0",
         "world.policies.controlled_deliveries.countries=[TJ,KG,UZ,TM,KZ,RU]"], None),
    "a timeline": ([], [{"day": 12, "policies": ["reinforce_uzbek_border", "green_zone_kyrgyz"]},
                        {"day": 30, "set": {"regime": "single_inspection", "world.flow.supply_multiplier": 1.8}},
                        {"day": 45, "policies_off": ["green_zone_kyrgyz"]}]),
    "agencies following intelligence": (["adaptation=intelligence", "adaptation.share_moved_per_month=0.5"], None),
    "agencies chasing seizures": (["adaptation=recent_seizures"], None),
    "agencies with seizure targets": (["adaptation=seizure_target"], None),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_fast_engine_gives_the_reference_engines_run_to_the_gram(scenario):
    overrides, timeline = SCENARIOS[scenario]
    params = load_params(["horizon_days=70", *overrides], timeline=timeline)
    reference, fast = _both(params, seed=3)
    _assert_same_run(reference, fast)
    assert reference.summary["seizures"] > 0 and reference.summary["bribes"] + reference.summary["protected_passages"] > 0


def test_the_engines_agree_when_every_buffer_grows_many_times_in_a_day():
    """Four times the flow over a month: the queue, the couriers' rows, the books and the rings of
    finds and cases grow while the kernel runs (it stops for room and goes on where it stopped)."""
    params = load_params(["horizon_days=30", "world.flow.supply_multiplier=4", "world.patrols.south.count=12",
                          "world.corruption.catch_prob_per_bribe=1.0"])
    reference, fast = _both(params, seed=8)
    _assert_same_run(reference, fast)


def test_a_run_is_the_same_whatever_tables_it_keeps_when_the_kernel_stops_for_room(tmp_path):
    """Ten times the flow for 60 days: keeping the shipment table or the event log makes the kernel
    stop for room at other moments than a run that keeps neither; the run must not notice."""
    params = load_params(["horizon_days=60", "world.flow.supply_multiplier=10"])
    runs = [simulate(params, seed=0, keep_events=False, keep_shipments=False),
            simulate(params, seed=0, keep_events=False, keep_shipments=True),
            simulate(params, seed=0, keep_events=False, shipments_to=tmp_path / "shipments.parquet"),
            simulate(params, seed=0, keep_events=True, keep_shipments=False, events_to=tmp_path / "events.parquet")]
    assert runs[1].summary["shipments"] > 8192            # more than the table's first rows: it grew
    for other in runs[1:]:
        assert other.summary == runs[0].summary
        pd.testing.assert_frame_equal(other.daily, runs[0].daily)


def test_a_patrols_ring_of_finds_keeps_its_order_when_it_grows():
    model = NorthernRouteModel(load_params(["horizon_days=5"]), rng=1)
    patrol = model.patrols.to_list()[0]
    patrols, width = model.state.patrols, model.state.patrols.find_day.shape[1]
    patrols.first_find[patrol.row], patrols.n_finds[patrol.row] = width - 3, 0
    for k in range(width):                                 # a full ring that wraps round its end
        patrol.note_find(float(k), k % 7)
    before = patrol.recent_finds
    patrol.note_find(99.0, 3)                              # no room left: the ring grows
    assert model.state.patrols.find_day.shape[1] > width
    assert patrol.recent_finds == [*before, (99.0, 3)]


def test_stepping_day_by_day_and_running_through_give_the_same_run():
    params = load_params(["horizon_days=25"])
    stepped, through = (NorthernRouteModel(params, rng=4) for _ in range(2))
    for _ in range(25):
        stepped.step()
    through.run()
    assert stepped.ledger.shipments_frame().equals(through.ledger.shipments_frame())
    assert stepped.datacollector.get_model_vars_dataframe().equals(through.datacollector.get_model_vars_dataframe())


def test_the_transit_key_chooses_the_engine(short_params):
    assert isinstance(NorthernRouteModel(with_updates(short_params, {"transit": "fast"}), rng=1).fast, FastEngine)
    reference = NorthernRouteModel(with_updates(short_params, {"transit": "reference"}), rng=1)
    assert reference.fast is None and reference.arrivals is not None


def test_an_unknown_engine_is_one_line_naming_the_key():
    from sim.params import ConfigError

    with pytest.raises(ConfigError, match="transit") as err:
        load_params(["transit=slow"])
    assert "\n" not in str(err.value)


# --- what both engines keep -------------------------------------------------------------------

def test_mass_balance_to_the_gram_with_every_mechanism_on():
    params = load_params([ALL_POLICIES, "horizon_days=60"])
    model = NorthernRouteModel(params, rng=4)
    model.run()
    _assert_balanced(model, simulate(params, seed=4, keep_events=False).summary)


def test_every_hop_leaves_one_record_in_the_event_log(short_params):
    """Each hop (a load at a node: no route passes a node twice) is logged as passed, protected,
    cleared, bribed or seized; the shipments' hop counts add up to the same number."""
    result = simulate(short_params, seed=5)
    events = result.events
    at_nodes = events[events["event"].isin(["passed", "protected", "inspected_cleared", "bribed", "seized"])]
    hops = len(at_nodes[["shipment_id", "node"]].drop_duplicates())
    assert hops == result.summary["hop_events"] == int(result.shipments["hops"].sum())
    assert (events["event"] == "delivered").sum() == (result.shipments["outcome"] == "delivered").sum()
    flows = sum(result.edge_flows_kg.values())
    assert flows == pytest.approx((result.shipments["kg"] * result.shipments["hops"]).sum(), rel=1e-12)


def test_runs_are_repeatable(short_params):
    a, b = simulate(short_params, seed=11, keep_events=False), simulate(short_params, seed=11, keep_events=False)
    assert a.summary == b.summary
    assert a.shipments.equals(b.shipments)
    assert a.daily.equals(b.daily)


def test_a_policy_that_changes_nothing_changes_nothing_common_random_numbers():
    """US assistance at its FY08 level is the baseline's: the same seed gives the same run."""
    base = load_params(["horizon_days=60"])
    fy08 = load_params(["preset=us_assistance_fy08", "horizon_days=60"])
    assert simulate(base, seed=2, keep_events=False).summary == simulate(fy08, seed=2, keep_events=False).summary


def test_a_post_switched_on_leaves_the_loads_that_never_pass_it_as_they_were():
    """Common random numbers: the INL posts draw from streams of their own, so the loads that never
    meet one keep their fate (until news of seizures there reaches their organisations)."""
    base = load_params(["horizon_days=20"])
    inl = load_params(["horizon_days=20", "+policy=[inl_checkpoints]"])
    a, b = (simulate(p, seed=6).shipments for p in (base, inl))
    first_day = (a["day_dispatched"] < 1) & (b["day_dispatched"] < 1)
    assert a[first_day][["grams", "crossings", "market"]].equals(b[first_day][["grams", "crossings", "market"]])


def test_the_engine_runs_every_mechanism():
    """Over 60 days: seizures, bribes, protection, controlled deliveries let run and closed, patrols' finds."""
    params = load_params(["horizon_days=60"])
    totals: dict[str, float] = {}
    for seed in range(3):
        model = NorthernRouteModel(params, rng=seed, keep_events=False)
        model.run()
        ledger = model.ledger
        for key, value in {"seizures": ledger.seizures_count, "bribes": ledger.bribes_count,
                           "protected": ledger.protected_passages, "let_run": ledger.controlled_let_run,
                           "controlled_seized": ledger.controlled_seized,
                           "patrol_finds": sum(len(p.recent_finds) for p in model.patrols),
                           "inspections": sum(p.inspections for p in model.posts if p is not None)}.items():
            totals[key] = totals.get(key, 0) + value
    assert all(v > 0 for v in totals.values()), totals


@pytest.mark.parametrize("transit", ["fast", "reference"])
def test_engines_follow_rules_changed_mid_run(transit):
    """Crews that can inspect every vehicle from day 30 (a timeline event: refresh_rules re-derives
    the crews' rows, which both engines read) seize far more in the ten days after it than without."""
    horizon = ["horizon_days=40", f"transit={transit}"]
    event = {"day": 30, "label": "crews inspect everything", "set": {"world.inspection.inspections_per_officer_day": 1000}}
    seized = {}
    for name, timeline in (("without", ()), ("with", [event])):
        daily = simulate(load_params(horizon, timeline=timeline), seed=3, keep_events=False).daily
        seized[name] = daily["kg_seized"].iloc[-1] - daily["kg_seized"].iloc[29]
    assert seized["with"] > 3 * seized["without"] > 0


def test_the_agents_read_what_the_fast_engine_wrote():
    """After a fast run the agents (views of the state) show the day's positions and the books' totals."""
    model = NorthernRouteModel(load_params(["horizon_days=40", "+policy=[mobile_patrols_south]"]), rng=2)
    model.run()
    at = model.patrols_at
    assert sorted(p.row for node in at for p in node) == sorted(p.row for p in model.patrols)
    assert all(p.position == node for node, patrols in enumerate(at) for p in patrols)
    assert sum(org.revenue_usd for org in model.organisations) > 0
    assert sum(p.seized_g for p in model.posts if p is not None) <= model.ledger.seized_g
    assert model.couriers_on_road == len(model.loads_on_road()) == model.datacollector.model_vars["couriers_on_road"][-1]


# --- the tables streamed to Parquet -------------------------------------------------------------

def _same_table(written: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(written.columns) == list(expected.columns) and len(written) == len(expected)
    for column in expected.columns:
        assert written[column].dtype.kind == expected[column].dtype.kind, column
        assert written[column].astype(object).isna().equals(expected[column].astype(object).isna()), column
        assert (written[column].astype(str) == expected[column].astype(str)).all(), column


def test_event_log_streamed_to_parquet_in_batches_is_the_log_kept_in_memory(short_params, tmp_path, monkeypatch):
    """``simulate(events_to=...)`` writes the same rows and columns as the log kept in memory,
    a batch at a time (here batches of 2,000 rows: several row groups), and keeps none of it."""
    import pyarrow.parquet as pq

    import sim.model.ledger
    from sim.parquet import write_table

    monkeypatch.setattr(sim.model.ledger, "EVENT_BATCH_ROWS", 2000)
    kept = simulate(short_params, seed=4)
    streamed = simulate(short_params, seed=4, events_to=tmp_path / "events.parquet")
    assert streamed.events is None and streamed.summary == kept.summary
    assert pq.ParquetFile(tmp_path / "events.parquet").num_row_groups >= len(kept.events) // 2000 >= 2
    write_table(kept.events, tmp_path / "kept.parquet")
    _same_table(streamed.event_log(), pd.read_parquet(tmp_path / "kept.parquet"))


def test_shipments_streamed_to_parquet_are_the_table_kept_in_memory(short_params, tmp_path):
    """``simulate(shipments_to=...)`` writes each load's row once its journey is over (in shipment
    order) and at the end the loads still on the road: the table kept in memory, row for row."""
    from sim.parquet import write_table

    kept = simulate(short_params, seed=9, keep_events=False)
    streamed = simulate(short_params, seed=9, keep_events=False, shipments_to=tmp_path / "shipments.parquet")
    assert streamed.shipments is None and streamed.summary == kept.summary
    write_table(kept.shipments, tmp_path / "kept.parquet")
    _same_table(streamed.shipment_table(), pd.read_parquet(tmp_path / "kept.parquet"))


def test_streamed_shipments_go_to_parquet_a_batch_at_a_time(short_params, tmp_path, monkeypatch):
    """The shipment table streams in row groups of at most ``SHIPMENT_BATCH_ROWS`` rows (here 200), so
    what is converted to Arrow at once stays small, and the file is still the table kept, row for row."""
    import pyarrow.parquet as pq

    import sim.model.ledger
    from sim.parquet import write_table

    monkeypatch.setattr(sim.model.ledger, "SHIPMENT_BATCH_ROWS", 200)
    kept = simulate(short_params, seed=9, keep_events=False)
    simulate(short_params, seed=9, keep_events=False, shipments_to=tmp_path / "shipments.parquet")
    file = pq.ParquetFile(tmp_path / "shipments.parquet")
    groups = [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)]
    assert len(kept.shipments) > 400 and len(groups) >= len(kept.shipments) // 200 and max(groups) <= 200
    write_table(kept.shipments, tmp_path / "kept.parquet")
    _same_table(pd.read_parquet(tmp_path / "shipments.parquet"), pd.read_parquet(tmp_path / "kept.parquet"))
