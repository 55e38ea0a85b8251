"""One optimisation from start to end: reference, baselines, search, front.

:func:`run_study` runs the reference (the scenario with nothing added, keeping its flows),
builds the baselines (:mod:`sim.optimise.baselines`; the static MILP on the reference's
flow map), evaluates them, searches (:mod:`sim.optimise.search`, the baselines enqueued as
its first candidates) and returns a :class:`Study` with everything the report shows. All
runs go into ``out/runs/<stage>``, so a rerun of a killed study resumes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sim.config import with_updates
from sim.optimise.baselines import heuristic_allocations, node_means
from sim.optimise.evaluate import DETAILS, REFERENCE, Evaluator
from sim.optimise.problem import Allocation, Problem, base_params
from sim.optimise.search import pareto_front, run_search
from sim.optimise.static import flow_map, solve_static, predicted_gain
from sim.sweep import load_details


@dataclass
class Study:
    problem: Problem
    evaluator: Evaluator
    baselines: dict[str, Allocation]
    static_options: list                         # the MILP's items and their predicted gains (sim.optimise.static)
    history: list[dict] = field(default_factory=list)
    front: list[dict] = field(default_factory=list)


def run_study(problem: Problem, out: str | Path, *, engine: str = "processes", workers: int | None = None,
              progress: bool = True, say: Callable[[str], None] = print) -> Study:
    out = Path(out)
    params = base_params(problem)
    params = with_updates(params, {"horizon_days": problem.horizon_days})
    evaluator = Evaluator(problem, params, out, engine=engine, workers=workers, progress=progress)
    say(f"reference: the scenario with nothing added, {len(evaluator.experiments(REFERENCE))} runs")
    evaluator.evaluate([REFERENCE], "reference", details=(*DETAILS, "shipments"))
    runs = len(evaluator.runs[REFERENCE.key])
    ref_dir = out / "runs" / "reference"
    edge_flows, seized = load_details(ref_dir, "edge_flows"), load_details(ref_dir, "seized_by_node")
    flows_kg, seized_kg = node_means(edge_flows, seized, runs)
    baselines = heuristic_allocations(problem, params, flows_kg, seized_kg)
    options: list = []
    if "static" in problem.baselines:
        say("static optimum: the interdiction MILP on the reference's flow map")
        flows = flow_map(params, load_details(ref_dir, "shipments"), edge_flows, runs)
        baselines["static"], _, options = solve_static(problem, params, flows)
    say(f"baselines: {', '.join(baselines) or 'none'}")
    evaluator.evaluate(list(baselines.values()), "baselines")
    study = Study(problem, evaluator, baselines, options)
    references = list(baselines.values())
    study.history = run_search(problem, evaluator, starts=references, references=references, say=say)
    senses = [evaluator.sense(o) for o in problem.objectives]
    study.front = pareto_front(study.history, senses)
    (out / "study.json").write_text(json.dumps(summary(study), indent=2))
    return study


def summary(study: Study) -> dict:
    """The study as plain data (``study.json``): baselines, front, every evaluated trial."""
    return {
        "problem": study.problem.model_dump(mode="json"),
        "baselines": {name: a.to_json() for name, a in study.baselines.items()},
        "static_prediction": {name: predicted_gain(study.static_options, a, study.problem)
                              for name, a in study.baselines.items()} if study.static_options else {},
        "front": [{"allocation": h["allocation"].to_json(), "key": h["allocation"].key, "values": h["values"]}
                  for h in study.front],
        "history": [{"generation": h["generation"], "trial": h["trial"], "key": h["allocation"].key,
                     "values": h["values"]} for h in study.history],
    }
