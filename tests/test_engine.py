"""The fast engine (sim/engine): its kernel's pieces, and the model it runs against the reference engine."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.config import load_params, with_updates
from sim.engine import kernel
from sim.engine.transit import FastArrivals
from sim.model import NorthernRouteModel
from sim.run import simulate
from test_mass_balance import ALL_POLICIES, _assert_balanced


@pytest.fixture(scope="module")
def fast_params(short_params):
    return with_updates(short_params, {"transit": "fast"})


# --- the kernel's pieces -------------------------------------------------------------

def test_first_encounter_draws_what_sequential_trials_draw():
    """One uniform on the intervals of 'i fires first' has the distribution of k separate trials."""
    chances = np.array([0.1, 0.3, 0.05, 0.2, 1.0])
    n = 200_000
    rng = np.random.default_rng(3)
    one_draw = np.bincount([kernel.first_encounter(chances, 4, u) + 1 for u in rng.random(n)], minlength=5)
    trials = rng.random((n, 4)) < chances[:4]
    first = np.where(trials.any(axis=1), trials.argmax(axis=1), -1)
    sequential = np.bincount(first + 1, minlength=5)
    table = np.vstack([one_draw, sequential])
    assert stats.chi2_contingency(table).pvalue > 1e-4
    expected_none = np.prod(1 - chances[:4])
    assert abs(one_draw[0] / n - expected_none) < 5 * math.sqrt(expected_none * (1 - expected_none) / n)
    assert kernel.first_encounter(chances, 5, 0.999999) == 4      # a certain encounter (protection) always fires


def test_queue_pops_in_time_order_and_ties_in_order_of_scheduling():
    ht, hs, hslot = np.zeros(16), np.zeros(16, dtype=np.int64), np.zeros(16, dtype=np.int64)
    counters = np.zeros(4, dtype=np.int64)
    for slot, when in enumerate([3.5, 1.0, 2.0, 1.0, 0.5, 2.0]):
        kernel.heap_push(ht, hs, hslot, counters, when, slot)
    popped = []
    while counters[kernel.C_HEAP_SIZE]:
        when = ht[0]
        popped.append((when, kernel.heap_pop(ht, hs, hslot, counters)))
    assert popped == [(0.5, 4), (1.0, 1), (1.0, 3), (2.0, 2), (2.0, 5), (3.5, 0)]


def test_node_streams_are_uniform_and_depend_on_seed_node_and_counter():
    draws = np.array([kernel.uniform(7, 3, i) for i in range(20_000)])
    assert draws.min() >= 0.0 and draws.max() < 1.0
    assert stats.kstest(draws, "uniform").pvalue > 1e-4
    assert kernel.uniform(7, 3, 1) != kernel.uniform(8, 3, 1) != kernel.uniform(7, 4, 1)


# --- the model it runs ----------------------------------------------------------------

def test_the_transit_key_chooses_the_engine(short_params, fast_params):
    assert isinstance(NorthernRouteModel(fast_params, rng=1).arrivals, FastArrivals)
    assert not isinstance(NorthernRouteModel(with_updates(short_params, {"transit": "reference"}), rng=1).arrivals,
                          FastArrivals)


def test_fast_engine_keeps_mass_balance_to_the_gram_with_every_mechanism_on():
    params = load_params([ALL_POLICIES, "horizon_days=60", "transit=fast"])
    model = NorthernRouteModel(params, rng=4)
    model.run()
    _assert_balanced(model, simulate(params, seed=4, keep_events=False).summary)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_every_hop_leaves_one_record_in_the_event_log(short_params, engine):
    """Each hop (a load at a node: no route passes a node twice) is logged as passed, protected,
    cleared, bribed or seized; the shipments' hop counts add up to the same number."""
    result = simulate(with_updates(short_params, {"transit": engine}), seed=5)
    events = result.events
    at_nodes = events[events["event"].isin(["passed", "protected", "inspected_cleared", "bribed", "seized"])]
    hops = len(at_nodes[["shipment_id", "node"]].drop_duplicates())
    assert hops == result.summary["hop_events"] == int(result.shipments["hops"].sum())
    assert (events["event"] == "delivered").sum() == (result.shipments["outcome"] == "delivered").sum()
    flows = sum(result.edge_flows_kg.values())
    assert flows == pytest.approx((result.shipments["kg"] * result.shipments["hops"]).sum(), rel=1e-12)


def test_fast_engine_runs_are_repeatable(fast_params):
    a, b = simulate(fast_params, seed=11, keep_events=False), simulate(fast_params, seed=11, keep_events=False)
    assert a.summary == b.summary
    assert a.shipments.equals(b.shipments)
    assert a.daily.equals(b.daily)


def test_fast_engine_keeps_common_random_numbers_for_a_policy_that_changes_nothing(fast_params):
    """US assistance at its FY08 level is the baseline's: the same seed gives the same run."""
    fy08 = load_params(["preset=us_assistance_fy08", "horizon_days=60", "transit=fast"])
    a, b = simulate(fast_params, seed=2, keep_events=False), simulate(fy08, seed=2, keep_events=False)
    assert a.summary == b.summary


def test_fast_engine_runs_every_mechanism(fast_params):
    """Over 60 days: seizures, bribes, protection, controlled deliveries let run and closed, patrols' finds."""
    totals: dict[str, float] = {}
    for seed in range(3):
        model = NorthernRouteModel(fast_params, rng=seed, keep_events=False)
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
    the fast engine's arrays) seize far more in the ten days after it than without the event."""
    horizon = ["horizon_days=40", f"transit={transit}"]
    event = {"day": 30, "label": "crews inspect everything", "set": {"world.inspection.inspections_per_officer_day": 1000}}
    seized = {}
    for name, timeline in (("without", ()), ("with", [event])):
        daily = simulate(load_params(horizon, timeline=timeline), seed=3, keep_events=False).daily
        seized[name] = daily["kg_seized"].iloc[-1] - daily["kg_seized"].iloc[29]
    assert seized["with"] > 3 * seized["without"] > 0


def test_fast_and_reference_engines_give_the_same_outcome_distributions(short_params):
    """Quick version of scripts/engine_equivalence.py: 12 seeds x 60 days per engine.

    Mann-Whitney at 1%: with 12 seeds a shift of about 1.2 SD would be detected with 80%
    power; the full check (30 seeds x a year, every headline outcome) is the script's.
    """
    outcomes = ("kg_seized", "seizures", "kg_delivered", "bribes", "share_entry_kz_kg", "shipments")
    samples = {engine: {k: [] for k in outcomes} for engine in ("fast", "reference")}
    for engine in samples:
        params = with_updates(short_params, {"transit": engine})
        for seed in range(100, 112):
            summary = simulate(params, seed=seed, keep_events=False).summary
            for key in outcomes:
                samples[engine][key].append(summary[key])
    for key in outcomes:
        p = stats.mannwhitneyu(samples["fast"][key], samples["reference"][key]).pvalue
        assert p > 0.01, (key, np.mean(samples["fast"][key]), np.mean(samples["reference"][key]))


def _assert_kernel_sees_the_rules(model, loads_today: int = 5) -> None:
    """Every encounter chance the fast engine's arrays give at every node is the one the rules
    (``Courier.meet``/``pass_post``) would use there today: which nodes have a post, its
    watchers, its sides, each side's inspection chance by conveyance, who is protected, and
    the patrols standing there."""
    arrivals, day = model.arrivals, float(model.day)
    arrivals._sync_patrols()
    for node, post in enumerate(model.posts):
        assert arrivals.has_post[node] == (post is not None), model.node_ids[node]
        for c in range(len(model.world.conveyances)):
            patrol_chances = [arrivals.patrol_stop[arrivals.patrols_at[node, k], node]
                              * arrivals.patrol_detect[arrivals.patrols_at[node, k], c]
                              for k in range(arrivals.n_patrols_at[node])]
            assert patrol_chances == pytest.approx([p.stop_prob[node] * p.p_detect[c] for p in model.patrols_at[node]])
        if post is None:
            continue
        assert arrivals.n_watch[node] == len(post.surveillance)
        for w, watcher in enumerate(post.surveillance):
            assert list(arrivals.watch_p[node, w]) == pytest.approx(watcher.p_inspect)
        assert (arrivals.n_sides[node], arrivals.both_sides[node]) == (len(post.sides), post.both_sides_inspect)
        for s, side in enumerate(post.sides):
            for c in range(len(model.world.conveyances)):
                kernel_chance = kernel.crew_chance(
                    node, s, c, day, loads_today, arrivals.cap, arrivals.staff, arrivals.licit, arrivals.target,
                    arrivals.p_fixed, arrivals.busy, arrivals.n_busy)
                assert kernel_chance == pytest.approx(side.inspection_chance(c, day, loads_today)), \
                    (model.node_ids[node], side.agency, c)
            for org in model.organisations:
                assert arrivals.protected[node, s, arrivals.org_index[org.unique_id]] == (org.unique_id in side.protectors)


@pytest.mark.parametrize("preset", ["inl_checkpoints", "dedicated_checkpoints", "controlled_deliveries"])
def test_fast_engine_sees_the_posts_of_the_policy_network_as_the_rules_do(preset):
    """The three presets whose seizure effects differed between the engines on the comparison's
    seeds (issue 13): the INL posts and the dedicated checkpoints (added or re-profiled by
    ``with_policy_network``) are posts to the kernel with the rules' chances, at setup and after
    45 days of seizures tying officers up, bribes buying protection and loads let run."""
    model = NorthernRouteModel(load_params([f"preset={preset}", "horizon_days=45", "transit=fast"]), rng=2,
                               keep_events=False)
    dedicated = model.world.policies.dedicated_checkpoints
    changed = {"inl_checkpoints": [n for n in model.node_ids if n.startswith("kz_inl_")],
               "dedicated_checkpoints": [*dedicated.cargo_only, *dedicated.passengers_only]}.get(preset, [])
    assert all(model.posts[model.node_ids.index(n)] is not None for n in changed)
    seen = {"protection": False, "officers tied up": False}
    _assert_kernel_sees_the_rules(model)
    while model.running:
        model.step()
        if model.day % 15 == 0:
            _assert_kernel_sees_the_rules(model)
            sides = [side for post in model.posts if post is not None for side in post.sides]
            seen["protection"] |= any(side.protectors for side in sides)
            seen["officers tied up"] |= any(side.busy_until for side in sides)
    assert all(seen.values()), seen


def test_an_unknown_engine_is_one_line_naming_the_key():
    from sim.params import ConfigError

    with pytest.raises(ConfigError, match="transit") as err:
        load_params(["transit=slow"])
    assert "\n" not in str(err.value)


# --- the event log streamed to Parquet -----------------------------------------------------

def test_event_log_streamed_to_parquet_in_batches_is_the_log_kept_in_memory(short_params, tmp_path, monkeypatch):
    """``simulate(events_to=...)`` writes the same rows and columns as the log kept in memory,
    a batch at a time (here batches of 2,000 rows: several row groups), and keeps none of it."""
    import pyarrow.parquet as pq

    import sim.model.ledger

    monkeypatch.setattr(sim.model.ledger, "EVENT_BATCH_ROWS", 2000)
    kept = simulate(short_params, seed=4)
    streamed = simulate(short_params, seed=4, events_to=tmp_path / "events.parquet")
    assert streamed.events is None and streamed.summary == kept.summary
    assert pq.ParquetFile(tmp_path / "events.parquet").num_row_groups >= len(kept.events) // 2000
    kept.events.to_parquet(tmp_path / "kept.parquet", index=False)
    written, expected = streamed.event_log(), pd.read_parquet(tmp_path / "kept.parquet")
    assert list(written.columns) == list(expected.columns) and len(written) == len(expected) > 2000
    for column in expected.columns:
        assert written[column].dtype.kind == expected[column].dtype.kind, column
        assert written[column].astype(object).isna().equals(expected[column].astype(object).isna()), column
        assert (written[column].astype(str) == expected[column].astype(str)).all(), column
