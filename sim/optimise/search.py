"""The search: Optuna's NSGA-II, asked for a whole generation at once (ask-and-tell).

Each generation's candidates are decoded into allocations, repaired to fit every budget
(:func:`repair`), evaluated together as one sweep (:class:`sim.optimise.evaluate.Evaluator`),
and their robust objective values told back. The sampler is seeded, so the same config and
seed ask for the same candidates: a killed search rerun finds their runs stored.
Generation 0 starts from the baseline allocations (enqueued), then random candidates.
"""

from __future__ import annotations

import logging
import warnings
from typing import Callable, Sequence

import optuna

from sim.optimise.costs import bill, total_cost, violations
from sim.optimise.evaluate import Evaluator
from sim.optimise.problem import Allocation, Problem, methods_at, officer_bounds


def variables(problem: Problem, params) -> dict[str, optuna.distributions.BaseDistribution]:
    """The decision as Optuna distributions: officer blocks, methods, patrol units, policies, group choices."""
    dec = problem.decision
    dist: dict[str, optuna.distributions.BaseDistribution] = {}
    for post in dec.officers.posts:
        low, high = officer_bounds(problem, post)
        dist[f"officers:{post}"] = optuna.distributions.IntDistribution(low, high)
    have = methods_at(params)
    for post in dec.equipment.posts:
        for method in dec.equipment.methods:
            if method not in have[post]:
                dist[f"equipment:{post}:{method}"] = optuna.distributions.IntDistribution(0, 1)
    for area in dec.patrols.areas:
        dist[f"patrols:{area}"] = optuna.distributions.IntDistribution(0, dec.patrols.max_units)
    for policy in dec.policies:
        dist[f"policy:{policy}"] = optuna.distributions.IntDistribution(0, 1)
    for group, choices in dec.groups.items():
        dist[f"group:{group}"] = optuna.distributions.CategoricalDistribution(list(choices))
    return dist


def decode(problem: Problem, values: dict) -> Allocation:
    """Optuna parameter values -> an allocation (officer blocks as officers)."""
    block = problem.decision.officers.block
    officers, equipment, patrols, policies, groups = {}, {}, {}, [], {}
    for name, value in values.items():
        kind, _, rest = name.partition(":")
        if kind == "officers":
            officers[rest] = int(value) * block
        elif kind == "equipment" and value:
            post, method = rest.split(":")
            equipment.setdefault(post, []).append(method)
        elif kind == "patrols":
            patrols[rest] = int(value)
        elif kind == "policy" and value:
            policies.append(rest)
        elif kind == "group":
            groups[rest] = value
    return Allocation(officers, {k: tuple(v) for k, v in equipment.items()}, patrols, tuple(policies), groups)


def encode(problem: Problem, dist: dict, alloc: Allocation) -> dict:
    """An allocation as Optuna parameter values (to enqueue a baseline)."""
    block = problem.decision.officers.block
    values = {}
    for name, d in dist.items():
        kind, _, rest = name.partition(":")
        if kind == "officers":
            values[name] = min(d.high, max(d.low, alloc.officers.get(rest, 0) // block))
        elif kind == "equipment":
            post, method = rest.split(":")
            values[name] = int(method in alloc.equipment.get(post, ()))
        elif kind == "patrols":
            values[name] = min(d.high, alloc.patrols.get(rest, 0))
        elif kind == "policy":
            values[name] = int(rest in alloc.policies)
        elif kind == "group":
            values[name] = alloc.groups.get(rest, d.choices[0])
    return values


def repair(problem: Problem, params, alloc: Allocation) -> Allocation:
    """The allocation cut back until it fits every budget, never below minimum staffing.

    While a budget is exceeded, one unit (an officer block, a method, a patrol unit, a
    policy) is taken from the item that spends most of the exceeded budget(s); ties go to
    the first in a fixed order, so the repair is deterministic.
    """
    block = problem.decision.officers.block
    while True:
        items = bill(problem, params, alloc)
        over = violations(problem, items)
        if not over:
            return alloc
        units = _units(problem, alloc, block)
        if not units:
            raise ValueError("no allocation at minimum staffing fits the budgets")
        scored, current = [], total_cost(items)
        for i, (label, smaller) in enumerate(units):
            spent = current - total_cost(bill(problem, params, smaller))
            pays = {it.agency for it in items if label in it.what}
            relevant = "total" in over or bool(pays & set(over))
            if relevant and spent > 0:
                scored.append((-spent, i, smaller))
        if not scored:
            raise ValueError(f"budgets {sorted(over)} cannot be met by cutting the allocation")
        alloc = min(scored, key=lambda s: (s[0], s[1]))[2]


def _units(problem: Problem, alloc: Allocation, block: int) -> list[tuple[str, Allocation]]:
    """Each unit that may be removed: (a label matching its bill line, the allocation without it)."""
    out = []
    for post, n in alloc.officers.items():
        low = officer_bounds(problem, post)[0] * block
        if n - block >= low:
            out.append((f"officers at {post}", _replace(alloc, officers={**alloc.officers, post: n - block})))
    for post, methods in alloc.equipment.items():
        for m in methods:
            out.append((f"{m} at {post}", _replace(alloc, equipment={**alloc.equipment, post: tuple(x for x in methods if x != m)})))
    for area, n in alloc.patrols.items():
        out.append((f"patrol units in {area}", _replace(alloc, patrols={**alloc.patrols, area: n - 1})))
    for p in alloc.policies:
        out.append((f"policy {p}", _replace(alloc, policies=tuple(x for x in alloc.policies if x != p))))
    return out


def _replace(alloc: Allocation, **changes) -> Allocation:
    data = {"officers": alloc.officers, "equipment": alloc.equipment, "patrols": alloc.patrols,
            "policies": alloc.policies, "groups": alloc.groups, **changes}
    return Allocation(**data)


def minimum_allocation(problem: Problem) -> Allocation:
    """The cheapest allocation the constraints allow: minimum staffing, nothing else."""
    block = problem.decision.officers.block
    return Allocation(officers={p: officer_bounds(problem, p)[0] * block for p in problem.decision.officers.posts},
                      groups={g: c[0] for g, c in problem.decision.groups.items()})


def run_search(problem: Problem, evaluator: Evaluator, starts: Sequence[Allocation] = (),
               references: Sequence[Allocation] = (), say: Callable[[str], None] = print) -> list[dict]:
    """NSGA-II over the decision; returns every evaluated trial (generation, allocation, values)."""
    optuna.logging.set_verbosity(logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    params, s = evaluator.params, problem.search
    dist = variables(problem, params)
    sampler = optuna.samplers.NSGAIISampler(population_size=s.population, seed=s.seed)
    study = optuna.create_study(directions=[_direction(evaluator.sense(o)) for o in problem.objectives], sampler=sampler)
    for alloc in list(starts)[: s.population]:
        study.enqueue_trial(encode(problem, dist, alloc), skip_if_exists=True)
    history = []
    for gen in range(s.generations):
        trials = [study.ask(dist) for _ in range(s.population)]
        allocs = [repair(problem, params, decode(problem, t.params)) for t in trials]
        say(f"generation {gen + 1}/{s.generations}: {len({a.key for a in allocs})} distinct allocations")
        evaluator.evaluate(allocs, f"gen-{gen:03d}")
        for trial, alloc in zip(trials, allocs):
            values = [evaluator.robust_value(alloc, o, references) for o in problem.objectives]
            study.tell(trial, values)
            history.append({"generation": gen, "trial": trial.number, "allocation": alloc, "values": values})
    return history


def _direction(sense: str) -> str:
    return "maximize" if sense == "max" else "minimize"


def pareto_front(history: list[dict], senses: Sequence[str]) -> list[dict]:
    """The non-dominated evaluated allocations (one entry per distinct allocation)."""
    unique = {h["allocation"].key: h for h in history}
    entries = list(unique.values())
    signed = [[v if s == "max" else -v for v, s in zip(h["values"], senses)] for h in entries]
    front = []
    for i, a in enumerate(signed):
        dominated = any(all(x >= y for x, y in zip(b, a)) and any(x > y for x, y in zip(b, a))
                        for j, b in enumerate(signed) if j != i)
        if not dominated:
            front.append(entries[i])
    return sorted(front, key=lambda h: [-v if s == "max" else v for v, s in zip(h["values"], senses)])
