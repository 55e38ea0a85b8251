"""Playing a turn: the timeline of turns 1..k, replayed with fixed seeds, with and without the teams.

Turn k is the timeline (issue 10) built from the decisions of turns 1..k, run from the
exercise's start date to the end of turn k. Each turn's decisions become one event on the
turn's first day: the interventions bought that were not in force the turn before are
switched on (``policies``), those dropped have their settings set to what the
interventions still bought make them (``set``, :func:`dropped_settings`), injects and the
traffickers' posture set what they set. The *counterfactual* is the same timeline without the teams' choices (the
injects stay: they are the world's, not the teams'), with the same seeds.

Because a run with and without an event is identical up to the event's date (same seed),
the run to the end of turn k repeats the run to the end of turn k-1 exactly, and a turn's
own figures are the difference of the cumulative outcomes at the ends of turns k and k-1.
Runs go through the sweep engine (:mod:`sim.sweep`): the run shown and its counterfactual
first (seed ``preset.seed``), then ``preset.replications`` pairs with seeds derived from it,
for intervals of the paired differences.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from sim.config import SCENARIOS_DIR, config_dir_overrides
from sim.exercise.preset import ExercisePreset, world_params
from sim.exercise.state import ExerciseState, Turn
from sim.sweep import Experiment, load_details, replication_seeds, run_experiments

#: The headline figures of a turn: (outcome key, label, unit). Cumulative outcomes of the
#: model (:func:`sim.model.outcomes.summarise`), so that a turn's figure is a difference of two.
TURN_OUTCOMES = (
    ("kg_entering_kz", "Heroin entering Kazakhstan", "kg"),
    ("kg_seized_true", "Seized (ground truth)", "kg"),
    ("kg_seized_reported", "Seized as the agencies report it (false couriers included)", "kg"),
    ("seizures", "Seizures (ground truth)", "count"),
    ("seizures_reported", "Seizures as reported", "count"),
    ("kg_reaching_russia", "Reaching Russia", "kg"),
    ("kg_reaching_eu", "Reaching the EU", "kg"),
    ("bribes_usd", "Bribes paid", "USD"),
)
#: Ground-truth figures the agencies do not see: hidden until the facilitator reveals them.
GROUND_TRUTH = ("kg_seized_true", "seizures")
#: Entry into Kazakhstan by southern border (kg): where displacement shows.
ENTRY_BORDERS = {"kz_kg": "Kyrgyz border", "kz_uz": "Uzbek border", "kz_tm": "Turkmen border"}
CROSSING_PREFIX = "kg_crossing_"

Progress = Callable[[int, int], None]


# --- the timeline ------------------------------------------------------------------------


def timeline(preset: ExercisePreset, turns: Sequence[Turn], with_choices: bool = True,
             without: tuple[int, str] | None = None, config_dir: str | None = None) -> list[dict[str, Any]]:
    """The timeline events of these turns (issue 10's schema), one event per turn at most.

    ``with_choices=False``: the counterfactual (injects only). ``without=(k, policy)``: the
    teams' choices except that one decision of turn k (the policy stays off from turn k
    until a later turn buys it again without having had it), for what the model
    attributes to a decision.
    """
    from sim.timeline import _get

    base = world_params(preset, config_dir).model_dump(mode="json")
    events, in_force, posture_keys = [], set(), set()
    for k, turn in enumerate(turns, start=1):
        wanted = set(turn.policies()) if with_choices else set()
        if without is not None and without[0] == k:
            wanted.discard(without[1])
        if without is not None and without[0] < k and without[1] in wanted and without[1] not in in_force:
            wanted.discard(without[1])           # carried over from the decision left out
        on = sorted(wanted - in_force)
        changes = dropped_settings(preset, sorted(wanted), sorted(in_force - wanted), config_dir)
        off: list[str] = []
        in_force = wanted
        for name in turn.injects:
            inject = preset.injects[name]
            on += [p for p in inject.policies if p not in on]
            off += [p for p in inject.policies_off if p not in off]
            changes.update(inject.set)
        if with_choices and turn.posture is not None:
            posture = preset.traffickers.postures[turn.posture]
            restore = posture_keys - set(posture.set)
            changes.update({key: _get(base, key) for key in sorted(restore)})
            changes.update(posture.set)
            posture_keys = set(posture.set)
        event = _event(preset, k, on, off, changes)
        if event:
            events.append(event)
    return events


def dropped_settings(preset: ExercisePreset, wanted: list[str], dropped: list[str],
                     config_dir: str | None = None) -> dict[str, Any]:
    """The values that switch ``dropped`` policies off while ``wanted`` ones stay in force.

    Each setting of a dropped policy takes the value it has in the exercise's world with
    only the wanted policies on (so dropping one green-zone segment keeps the zone of a
    segment still bought); a mapping entry only a policy adds (a segment) is removed
    (:data:`sim.timeline.ABSENT`). Given as the event's ``set``, applied after its policies.
    """
    from sim.config import user_config_dir
    from sim.timeline import ABSENT, GroupFiles, _get, _group_settings, _put

    if not dropped:
        return {}
    files = GroupFiles([SCENARIOS_DIR, *filter(None, [user_config_dir(config_dir)])])
    target = world_params(preset, config_dir).model_dump(mode="json")
    for name in wanted:
        for key, value in _group_settings(files, name, "exercise", "policies").items():
            _put(target, key, value)
    keys = [key for name in dropped for key in _group_settings(files, name, "exercise", "policies_off")]
    return {key: _get(target, key, ABSENT) for key in dict.fromkeys(keys)}


def _event(preset: ExercisePreset, k: int, on: list[str], off: list[str], changes: dict[str, Any]) -> dict[str, Any]:
    if not (on or off or changes):
        return {}
    event: dict[str, Any] = {"date": preset.turn_start(k).isoformat(), "label": f"turn {k}"}
    if on:
        event["policies"] = on
    if off:
        event["policies_off"] = off
    if changes:
        event["set"] = changes
    return event


# --- the runs ------------------------------------------------------------------------------


def run_seeds(preset: ExercisePreset) -> list[int]:
    """The seed of the run shown, then the replications' (common random numbers across turns)."""
    return [preset.seed, *replication_seeds(preset.seed, preset.replications)]


def turn_experiments(preset: ExercisePreset, turns: Sequence[Turn], seeds: Sequence[int] | None = None,
                     config_dir: str | None = None) -> list[Experiment]:
    """The paired runs of the last of ``turns``: per seed, with the teams' choices and without."""
    k = len(turns)
    seeds = run_seeds(preset) if seeds is None else list(seeds)
    scenarios = {with_choices: timeline_scenario(preset, timeline(preset, turns, with_choices, config_dir=config_dir),
                                                 config_dir)
                 for with_choices in (True, False)}
    return [Experiment(run_id=run_id(r, with_choices), scenario=scenarios[with_choices], seed=seed,
                       updates={"horizon_days": preset.turn_end_day(k)},
                       inputs={"replication": r, "with_choices": with_choices})
            for r, seed in enumerate(seeds) for with_choices in (True, False)]


def timeline_scenario(preset: ExercisePreset, events: list[dict[str, Any]], config_dir: str | None = None
                      ) -> tuple[str, ...]:
    """The Hydra overrides of a run of the exercise's world with ``events`` on its calendar.

    The timeline goes to the sweep engine as an override (its policies are read from their
    files when a worker composes the scenario, :func:`sim.config.load_params`).
    """
    overrides = [*config_dir_overrides(config_dir), *preset.scenario, f"start_date={preset.start_date.isoformat()}"]
    if events:
        overrides.append(f"timeline={hydra_value(events)}")
    return tuple(overrides)


def hydra_value(value: Any) -> str:
    """A value in Hydra's override grammar (strings quoted, dotted keys as they are)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{hydra_value(v)}" for key, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return "null"
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def run_id(replication: int, with_choices: bool) -> str:
    name = "shown" if replication == 0 else f"rep{replication}"
    return name if with_choices else f"{name}-without"


def play_turn(state: ExerciseState, workdir: str | Path, *, engine: str = "processes", workers: int | None = None,
              on_progress: Progress | None = None, on_shown: Callable[[Turn], None] | None = None) -> Turn:
    """Run the last turn of ``state`` (decided, not yet played), store its results, save the state.

    The run shown and its counterfactual come first (``on_shown`` is called with their
    results), then the replications. Results are kept under ``workdir`` by the sweep engine,
    in a folder named by the timeline and seeds: replaying the same decisions (after an
    undo) reuses the runs already done.
    """
    preset, turn = state.preset, state.turns[-1]
    experiments = turn_experiments(preset, state.turns, config_dir=state.config_dir)
    folder = Path(workdir) / f"turn{len(state.turns)}-{fingerprint(experiments)}"
    done = 0

    def run(batch: list[Experiment], name: str) -> pd.DataFrame:
        nonlocal done
        table = run_experiments(batch, engine=engine, workers=workers, results_dir=folder / name, progress=False,
                                details=("edge_flows", "seized_by_node"))
        done += len(batch)
        if on_progress is not None:
            on_progress(done, len(experiments))
        return table

    shown = run(experiments[:2], "shown")
    turn.results = results_from(shown, folder / "shown")
    if on_shown is not None:
        on_shown(turn)
    if len(experiments) > 2:
        reps = run(experiments[2:], "replications")
        turn.results["runs"].update(results_from(reps, folder / "replications")["runs"])
    if state.path is not None:
        state.save()
    return turn


def fingerprint(experiments: Sequence[Experiment]) -> str:
    text = json.dumps([e.to_json() for e in experiments], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def results_from(table: pd.DataFrame, folder: Path) -> dict[str, Any]:
    """What a turn keeps of its runs: per run its cumulative outcomes; per shown run its map."""
    failed = table[table["status"] != "ok"]
    if len(failed):
        raise RuntimeError(f"run {failed['run_id'].iloc[0]} failed: {failed['error'].iloc[0]}")
    runs, maps = {}, {}
    for _, row in table.iterrows():
        runs[row["run_id"]] = {"seed": int(row["seed"]), "with_choices": bool(row["with_choices"]),
                               "replication": int(row["replication"]), "outcomes": kept_outcomes(row)}
    if {"shown", "shown-without"} <= set(runs):
        maps = {rid: map_of(folder, rid) for rid in ("shown", "shown-without")}
    return {"runs": runs, "maps": maps}


def kept_outcomes(row: pd.Series) -> dict[str, float]:
    """The cumulative outcomes a turn keeps: the headline ones, entry by border, every crossing."""
    keys = [k for k, _, _ in TURN_OUTCOMES] + ["policy_cost_usd"]
    keys += [k for k in row.index if str(k).startswith(CROSSING_PREFIX)]
    out = {k: float(row[k]) for k in keys if k in row and pd.notna(row[k])}
    for border in ENTRY_BORDERS:
        share = row.get(f"share_entry_{border}")
        out[f"kg_entry_{border}"] = float(row["kg_entering_kz"] * share) if pd.notna(share) else 0.0
    return out


def map_of(folder: Path, rid: str) -> dict[str, Any]:
    """Cumulative kg per link and kg seized per node of one run (for the turn's map)."""
    flows = load_details(folder, "edge_flows")
    seized = load_details(folder, "seized_by_node")
    flows, seized = flows[flows["run_id"] == rid], seized[seized["run_id"] == rid]
    return {"edge_flows": [[r.u, r.v, float(r.kg)] for r in flows.itertuples()],
            "seized": {str(r.node): float(r.kg) for r in seized.itertuples()}}
