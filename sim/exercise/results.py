"""What a played turn measured, as tables and a map: the page and the report read these.

A turn's figure is the cumulative outcome at the end of the turn minus the same run's at
the end of the turn before (the replay repeats the earlier turns exactly). "With" is the
run shown (the exercise's seed, the teams' choices), "without" its counterfactual (same
seed, no team choices); the interval is a 95% t-interval of the paired differences over
the run shown and the replications (:func:`sim.compare.t_interval`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.compare import t_interval
from sim.exercise.preset import ExercisePreset, world_params
from sim.exercise.state import ExerciseState, turn_cost
from sim.exercise.turns import CROSSING_PREFIX, ENTRY_BORDERS, GROUND_TRUTH, TURN_OUTCOMES, run_id

#: Said beside every number the exercise shows (issue 11: every number says it is model output).
PROVENANCE_NOTE = ("Model output of the Northern Route agent-based model (not observed data). Parameters: "
                   "scenarios/ configs, each number's source in scenarios/provenance.yaml "
                   "(`python -m sim provenance`); intervention costs: the exercise preset's catalogue.")


def per_turn(state: ExerciseState, k: int, rid: str) -> dict[str, float] | None:
    """The outcomes of run ``rid`` during turn k (end of k minus end of k-1), or None if it is missing."""
    played = state.played()
    now = played[k - 1].results["runs"].get(rid)
    if now is None:
        return None
    before = played[k - 2].results["runs"].get(rid) if k > 1 else None
    if k > 1 and before is None:
        return None
    previous = before["outcomes"] if before else {}
    return {key: value - previous.get(key, 0.0) for key, value in now["outcomes"].items()}


def replications(state: ExerciseState, k: int) -> list[int]:
    """Replications with both runs of the pair played in turn k (0 is the run shown)."""
    runs = state.played()[k - 1].results["runs"]
    return sorted({r["replication"] for r in runs.values()
                   if run_id(r["replication"], True) in runs and run_id(r["replication"], False) in runs})


def paired(state: ExerciseState, k: int, key: str) -> np.ndarray:
    """Per replication, the turn's figure with the teams' choices minus without."""
    diffs = []
    for r in replications(state, k):
        with_, without = per_turn(state, k, run_id(r, True)), per_turn(state, k, run_id(r, False))
        if with_ is not None and without is not None:
            diffs.append(with_.get(key, 0.0) - without.get(key, 0.0))
    return np.array(diffs, dtype=float)


def turn_table(state: ExerciseState, k: int, reveal: bool | None = None) -> pd.DataFrame:
    """The headline figures of turn k: with, without, difference and its interval.

    Ground-truth seizures are left out until revealed (``reveal``, default the state's flag):
    during play the agencies see only what they report.
    """
    reveal = state.revealed if reveal is None else reveal
    shown, without = per_turn(state, k, run_id(0, True)), per_turn(state, k, run_id(0, False))
    rows = []
    for key, label, unit in TURN_OUTCOMES:
        if key in GROUND_TRUTH and not reveal:
            continue
        diffs = paired(state, k, key)
        mean, low, high = t_interval(diffs)
        rows.append({"outcome": key, "label": label, "unit": unit, "with": shown.get(key, math.nan),
                     "without": without.get(key, math.nan), "difference": shown.get(key, 0.0) - without.get(key, 0.0),
                     "mean_difference": mean, "interval_low": low, "interval_high": high, "runs": len(diffs)})
    return pd.DataFrame(rows)


def entry_table(state: ExerciseState, k: int) -> pd.DataFrame:
    """Heroin entering Kazakhstan during turn k by southern border, with and without: displacement."""
    shown, without = per_turn(state, k, run_id(0, True)), per_turn(state, k, run_id(0, False))
    rows = []
    for border, label in ENTRY_BORDERS.items():
        key = f"kg_entry_{border}"
        mean, low, high = t_interval(paired(state, k, key))
        rows.append({"border": label, "with": shown.get(key, 0.0), "without": without.get(key, 0.0),
                     "difference": shown.get(key, 0.0) - without.get(key, 0.0), "mean_difference": mean,
                     "interval_low": low,
                     "interval_high": high})
    return pd.DataFrame(rows)


def crossing_shifts(with_: dict[str, float], without: dict[str, float], most: int = 5) -> pd.DataFrame:
    """The crossings whose kg changed most between two runs: where traffic was displaced to and from."""
    keys = sorted({k for k in (*with_, *without) if k.startswith(CROSSING_PREFIX)})
    rows = [{"crossing": k.removeprefix(CROSSING_PREFIX), "with": with_.get(k, 0.0), "without": without.get(k, 0.0),
             "difference": with_.get(k, 0.0) - without.get(k, 0.0)} for k in keys]
    frame = pd.DataFrame(rows, columns=["crossing", "with", "without", "difference"])
    if frame.empty:
        return frame
    return frame.reindex(frame["difference"].abs().sort_values(ascending=False).index).head(most)


def spending(state: ExerciseState) -> pd.DataFrame:
    """Per turn and team: what its interventions cost that turn, against its budget."""
    preset = state.preset
    rows = []
    for k, turn in enumerate(state.played(), start=1):
        for team, spec in preset.teams.items():
            bought = turn.purchases.get(team, [])
            rows.append({"turn": k, "team": spec.label, "interventions": ", ".join(bought) or "none",
                         "cost_usd": turn_cost(preset, bought, state.config_dir),
                         "budget_usd": spec.budget_usd_per_turn})
    return pd.DataFrame(rows, columns=["turn", "team", "interventions", "cost_usd", "budget_usd"])


# --- the map -------------------------------------------------------------------------------


def turn_flows(state: ExerciseState, k: int, rid: str = "shown") -> tuple[dict, dict]:
    """kg per link and kg seized per node during turn k in one of the runs shown."""
    played = state.played()
    now = played[k - 1].results["maps"][rid]
    before = played[k - 2].results["maps"][rid] if k > 1 else {"edge_flows": [], "seized": {}}
    flows: dict[tuple[str, str], float] = {}
    for u, v, kg in now["edge_flows"]:
        flows[(u, v)] = flows.get((u, v), 0.0) + kg
    for u, v, kg in before["edge_flows"]:
        flows[(u, v)] = flows.get((u, v), 0.0) - kg
    seized = {n: kg - before["seized"].get(n, 0.0) for n, kg in now["seized"].items()}
    return ({e: max(0.0, kg) for e, kg in flows.items()}, {n: max(0.0, kg) for n, kg in seized.items()})


def draw_turn_map(state: ExerciseState, k: int, path: str | Path, rid: str = "shown"):
    """The route map of turn k: kilos moved over each link and seized at each node that turn."""
    from sim.maps import draw_route_map
    from sim.model.network import build_network
    from sim.model.policies import with_policy_network

    preset: ExercisePreset = state.preset
    params = with_policy_network(world_params(preset, state.config_dir))
    nodes, edges = build_network(params.network, params.world.transport).frames()
    flows, seized = turn_flows(state, k, rid)
    which = "with the teams' choices" if rid == "shown" else "without the teams' choices"
    title = f"{preset.turn_label(k)}: flows and seizures {which} (model output, seed {preset.seed})"
    return draw_route_map(nodes, edges, flows, seized, path, title=title)


def fmt(value: float, unit: str) -> str:
    """A figure as the page and the report print it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    value = round(value, 2) + 0.0                       # no "-0"
    sign = "-" if value < -0.5 else ""
    if unit == "USD":
        return f"{sign}${abs(value):,.0f}"
    if unit == "count":
        return f"{sign}{abs(value):,.0f}"
    return f"{sign}{abs(value):,.0f} kg" if unit == "kg" else f"{value:,.2f}"


def interval_text(row: Any) -> str:
    """The 95% interval of the mean paired difference (and the mean, when the row has it)."""
    if math.isnan(row["interval_low"]):
        return "no interval yet"
    unit = row.get("unit", "kg")
    mean = f"mean {fmt(row['mean_difference'], unit)}, " if "mean_difference" in row else ""
    return f"{mean}[{fmt(row['interval_low'], unit)}, {fmt(row['interval_high'], unit)}]"
