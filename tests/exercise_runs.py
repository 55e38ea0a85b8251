"""Direct Python runs of an exercise's turns, to check what the app and the turn runner show.

Independent of the sweep engine and of the stored results: each figure is recomputed by
:func:`sim.run.simulate` on parameters composed with :func:`sim.config.load_params` from
the timeline of the decisions, with the exercise's seed.
"""

from __future__ import annotations

from sim.config import load_params, with_updates
from sim.exercise.preset import load_exercise
from sim.exercise.results import fmt
from sim.exercise.state import Turn
from sim.exercise.turns import timeline
from sim.run import simulate


def cumulative(preset, turns: list[Turn], k: int, with_choices: bool, config_dir=None, seed=None) -> dict[str, float]:
    """The summary at the end of turn k of a direct run of turns 1..k."""
    if k == 0:
        return {}
    events = timeline(preset, turns[:k], with_choices, config_dir=config_dir)
    params = load_params(list(preset.scenario), config_dir=config_dir, timeline=events, start_date=preset.start_date)
    params = with_updates(params, {"horizon_days": preset.turn_end_day(k)})
    return simulate(params, seed=preset.seed if seed is None else seed, keep_events=False).summary


def turn_figure(preset, turns, k, key, with_choices, config_dir=None, seed=None) -> float:
    """A turn's own figure: the direct run to the end of turn k minus the one to the end of k-1."""
    now = cumulative(preset, turns, k, with_choices, config_dir, seed)
    before = cumulative(preset, turns, k - 1, with_choices, config_dir, seed)
    return now[key] - before.get(key, 0.0)


def direct_turn_figures(preset_name: str, config_dir: str | None, saved_turns: list[dict], k: int,
                        outcomes=("kg_entering_kz", "kg_reaching_russia", "kg_seized_reported")) -> dict:
    """{(outcome, "with"/"without"): the figure as the page prints it} of turn k."""
    preset = load_exercise(preset_name, config_dir)
    turns = [Turn(**t) for t in saved_turns]
    out = {}
    for with_choices, column in ((True, "with"), (False, "without")):
        now = cumulative(preset, turns, k, with_choices, config_dir)
        before = cumulative(preset, turns, k - 1, with_choices, config_dir)
        for key in outcomes:
            out[(key, column)] = fmt(now[key] - before.get(key, 0.0), "kg")
    return out
