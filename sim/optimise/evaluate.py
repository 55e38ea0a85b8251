"""Candidates -> runs over posterior draws x seeds -> robust objective values.

Every allocation runs in the same worlds: the same N posterior draws
(:func:`sim.posterior.draw_posterior`) and R seeds per draw (common random numbers), and
so does the reference (the scenario with nothing added). An objective is the paired
difference from the reference in each draw and seed (tonnes kept from Russia: the
reference's tonnes reaching Russia minus the candidate's), and its robust value is, as
the problem says, the mean over draws x seeds, a low percentile over the draws (a high one
for what is minimised), or the worst regret over the draws against the best baseline
allocation in that draw.

Runs go through :func:`sim.sweep.run_experiments`, one results folder per stage
(``runs/reference``, ``runs/baselines``, ``runs/gen-000`` ...): a killed optimisation
rerun with the same config and seed asks for the same runs and finds those finished.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from sim.optimise.costs import bill, total_cost
from sim.optimise.problem import OBJECTIVES, Allocation, Problem, allocation_updates, new_patrol_groups, scenario_overrides
from sim.params import Params
from sim.posterior import draw_posterior, draw_updates, nested_interval
from sim.sweep import Experiment, replication_seeds, run_experiments

REFERENCE = Allocation()
#: Outcomes kept per run beside the objectives (displacement, exits).
EXTRA_OUTCOMES = ("share_entry_kz_kg", "share_entry_kz_uz", "share_entry_kz_tm", "kg_reaching_russia", "kg_reaching_eu",
                  "kg_seized_true", "bribes_usd", "kg_entering_kz")
DETAILS = ("edge_flows", "seized_by_node")


class Evaluator:
    """Runs allocations in the problem's worlds and keeps their per-run outcomes."""

    def __init__(self, problem: Problem, params: Params, out: Path, *, engine: str = "processes",
                 workers: int | None = None, progress: bool = True):
        self.problem, self.params, self.out = problem, params, Path(out)
        self.engine, self.workers, self.progress = engine, workers, progress
        unc = problem.uncertainty
        self.draws = draw_posterior(unc.posterior_draws, seed=problem.search.seed)
        self.draw_updates = draw_updates(self.draws)
        self.seeds = replication_seeds(problem.search.seed, unc.posterior_draws * unc.seeds)
        self.runs: dict[str, pd.DataFrame] = {}        # allocation key -> its runs (draw, replication, outcomes)
        self.allocations: dict[str, Allocation] = {}

    # --- running ----------------------------------------------------------------------

    def experiments(self, alloc: Allocation) -> list[Experiment]:
        """The runs of one allocation: draw d, replication r, seed ``seeds[d * R + r]`` for every allocation."""
        reps = self.problem.uncertainty.seeds
        own = allocation_updates(self.problem, self.params, alloc)
        copies = {name: spec for name, spec in new_patrol_groups(self.problem, self.params).items()
                  if alloc.patrols.get(name)}
        overrides = scenario_overrides(self.problem, alloc)
        exps = []
        for d, drawn in enumerate(self.draw_updates):
            updates = {**own, **drawn, **_copied_draw_values(drawn, copies, self.problem)}
            for r in range(reps):
                exps.append(Experiment(run_id=f"{alloc.key}/d{d:03d}/r{r:03d}", scenario=overrides, updates=updates,
                                       seed=self.seeds[d * reps + r],
                                       inputs={"candidate": alloc.key, "draw": d, "replication": r}))
        return exps

    def evaluate(self, allocations: Sequence[Allocation], stage: str, details: Sequence[str] = DETAILS) -> None:
        """Run the allocations not yet run (resumable in ``runs/<stage>``) and keep their outcomes.

        ``details``: per-run tables kept beside the results (:data:`sim.sweep.worker.DETAILS`).
        """
        todo: dict[str, Allocation] = {}
        for alloc in allocations:
            if alloc.key not in self.runs:
                todo.setdefault(alloc.key, alloc)
        if not todo:
            return
        exps = [e for alloc in todo.values() for e in self.experiments(alloc)]
        table = run_experiments(exps, engine=self.engine, workers=self.workers, results_dir=self.out / "runs" / stage,
                                progress=self.progress, horizon_days=self.problem.horizon_days, details=tuple(details))
        failed = table[table["status"] != "ok"]
        if len(failed):
            raise RuntimeError(f"{len(failed)} run(s) failed in stage {stage}, e.g. {failed['run_id'].iloc[0]}: "
                               f"{failed['error'].iloc[0]}")
        for key, alloc in todo.items():
            self.runs[key] = table[table["candidate"] == key].reset_index(drop=True)
            self.allocations[key] = alloc

    # --- objective values -----------------------------------------------------------------

    def differences(self, alloc: Allocation, name: str) -> np.ndarray:
        """Draws x seeds matrix of the objective's paired difference from the reference (in its unit)."""
        key, _label, _sense, scale, _unit = OBJECTIVES[name]
        if key is None:                       # cost: the same in every world
            return np.full((len(self.draw_updates), self.problem.uncertainty.seeds), self.cost(alloc))
        return (self.matrix(alloc, key) - self.matrix(REFERENCE, key)) / scale

    def matrix(self, alloc: Allocation, outcome: str) -> np.ndarray:
        runs = self.runs[alloc.key]
        return runs.pivot(index="draw", columns="replication", values=outcome).sort_index().to_numpy(float)

    def cost(self, alloc: Allocation) -> float:
        return total_cost(bill(self.problem, self.params, alloc))

    def robust_value(self, alloc: Allocation, name: str, references: Sequence[Allocation] = ()) -> float:
        """The objective's value under the problem's robustness measure (see the module docstring)."""
        values = self.differences(alloc, name)
        sense = OBJECTIVES[name][2]
        measure = self.problem.robustness
        if OBJECTIVES[name][0] is None or measure.measure == "mean":
            return float(values.mean())
        draw_means = values.mean(axis=1)
        if measure.measure == "percentile":
            q = measure.percentile if sense == "max" else 100 - measure.percentile
            return float(np.percentile(draw_means, q))
        refs = [r for r in references if r.key in self.runs] or [REFERENCE]
        ref_means = np.array([self.differences(r, name).mean(axis=1) for r in refs])
        best = ref_means.max(axis=0) if sense == "max" else ref_means.min(axis=0)
        regret = best - draw_means if sense == "max" else draw_means - best
        return float(regret.max())

    def sense(self, name: str) -> str:
        """'max' or 'min': regret is always minimised."""
        if OBJECTIVES[name][0] is not None and self.problem.robustness.measure == "regret":
            return "min"
        return OBJECTIVES[name][2]

    def interval(self, alloc: Allocation, name: str) -> dict[str, float]:
        """Mean and 95% interval (draws x seeds, nested) of the objective's paired difference."""
        return nested_interval(self.differences(alloc, name))

    def share_beating(self, alloc: Allocation, other: Allocation, name: str) -> float:
        """Share of the posterior draws in which ``alloc`` does better than ``other`` on the objective."""
        a = self.differences(alloc, name).mean(axis=1)
        b = self.differences(other, name).mean(axis=1)
        better = a > b if OBJECTIVES[name][2] == "max" else a < b
        return float(better.mean())

    def mean_outcome(self, alloc: Allocation, outcome: str) -> float:
        return float(self.runs[alloc.key][outcome].mean())


def _copied_draw_values(drawn: dict[str, Any], copies: dict[str, dict], problem: Problem) -> dict[str, Any]:
    """A new patrol area copies its group's spec: it takes that group's drawn values too."""
    out = {}
    for name in copies:
        like = problem.decision.patrols.areas[name].like
        prefix = f"world.patrols.{like}."
        out.update({f"world.patrols.{name}.{k[len(prefix):]}": v for k, v in drawn.items() if k.startswith(prefix)})
    return out
