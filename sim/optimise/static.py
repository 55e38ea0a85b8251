"""The static optimum: an interdiction MILP on the baseline's fixed flow map.

What a planner without an agent model would do (Morton, Pan & Saeger 2007 place sensors
against a smuggler's fixed paths): take the flows of the reference runs as given, kilos by
post, conveyance and destination (:func:`flow_map`), value each item the budget can buy by
the extra kilos it would stop on those flows if nobody rerouted (:func:`item_gains`), and
choose the items with ``scipy.optimize.milp`` under the same budgets and minimum staffing.

The chance that a post stops a passing load is read from the model itself, built with the
reference rules and then with each item in force (:func:`catch_probabilities`): every side
on duty inspects (``p_inspect``), finds (``p_detect``) and keeps the load unless its officer
takes the courier's bribe (mean corruptibility x (1 - deterrence) x temptation of the
usual offer); watchers and patrols likewise. Gains are first-order: items do not interact
(a scanner is valued at the post's 2009 inspection rate, not with the officers added
beside it) and, above all, traffickers do not adapt. The agent model then shows what the
plan is worth when they do (the price of adaptation, :mod:`sim.optimise.report`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from sim.model import NorthernRouteModel
from sim.optimise.costs import bill
from sim.optimise.problem import (OBJECTIVES, Allocation, Problem, allocation_updates, methods_at, officer_bounds,
                                  scenario_overrides)
from sim.params import CONVEYANCES, Params
from sim.config import load_params, with_updates

EU_COUNTRIES = ("LT", "LV", "EE", "EU")
CLASSES = ("russia", "eu", "other")     # where a load is bound: Russia, the EU (through Russia), elsewhere


def market_class(country: str) -> str:
    return "eu" if country in EU_COUNTRIES else "russia" if country == "RU" else "other"


def flow_map(params: Params, shipments: pd.DataFrame, edge_flows: pd.DataFrame, runs: int) -> np.ndarray:
    """Mean kilos a run through each node, by conveyance and destination: array [node, conveyance, class].

    A node's kilos are what its incoming links carried (the runs' edge flows); they are split
    by conveyance and destination as the loads that crossed it were (its shipments), or for a
    node that is no crossing (internal checkpoints), as the loads that entered Kazakhstan.
    """
    nodes = params.network.nodes
    index = {n.id: i for i, n in enumerate(nodes)}
    country = {n.id: n.country for n in nodes}
    inflow = np.zeros(len(nodes))
    for v, kg in edge_flows.groupby("v")["kg"].sum().items():
        inflow[index[v]] = kg / runs
    mix = np.zeros((len(nodes), len(CONVEYANCES), len(CLASSES)))
    entering = np.zeros((len(CONVEYANCES), len(CLASSES)))
    conv = {c: k for k, c in enumerate(CONVEYANCES)}
    for crossings, conveyance, market, kg in shipments[["crossings", "conveyance", "market", "kg"]].itertuples(index=False):
        c, k = conv[conveyance], CLASSES.index(market_class(country[market]))
        passed = [x for x in str(crossings).split(">") if x in index]
        for node in passed:
            mix[index[node], c, k] += kg
        if any(country[x] == "KZ" for x in passed):
            entering[c, k] += kg
    flows = np.zeros_like(mix)
    for i in range(len(nodes)):
        shares = mix[i] if mix[i].sum() > 0 else entering
        if shares.sum() > 0:
            flows[i] = inflow[i] * shares / shares.sum()
    return flows


def objective_weights(params: Params, name: str) -> np.ndarray:
    """[node, class] weights: which stopped kilos count for the objective (in its unit)."""
    nodes = params.network.nodes
    w = np.zeros((len(nodes), len(CLASSES)))
    key = name if name in ("kept_from_russia", "kept_from_eu", "kg_seized") else "kept_from_russia"
    scale = abs(OBJECTIVES[key][3])
    for i, n in enumerate(nodes):
        if key == "kg_seized":
            w[i, :] = 1.0
        elif key == "kept_from_russia" and n.country not in ("RU", *EU_COUNTRIES):
            w[i, CLASSES.index("russia")] = w[i, CLASSES.index("eu")] = 1.0
        elif key == "kept_from_eu" and n.country not in EU_COUNTRIES:
            w[i, CLASSES.index("eu")] = 1.0
    return w / scale


def catch_probabilities(model: NorthernRouteModel) -> np.ndarray:
    """[node, conveyance]: chance a passing load is stopped there, with the rules in force (no adaptation)."""
    world = model.world
    deterrence = model.settings.deterrence
    offer = world.corruption.bribe_wage_months * world.corruption.officer_wage_usd_per_month
    temptation = 1.0 - math.exp(-offer / world.corruption.bribe_scale_usd)
    miss = np.ones((len(model.node_ids), len(CONVEYANCES)))
    for i, post in enumerate(model.posts):
        if post is None:
            continue
        on_duty = [1.0 - _stop(side, deterrence, temptation) for side in post.sides]
        alternate = len(post.sides) > 1 and not post.both_sides_inspect     # the sides take turns
        miss[i] = np.mean(on_duty, axis=0) if alternate else np.prod(on_duty, axis=0)
        for watch in post.surveillance:
            miss[i] *= 1.0 - _spot(watch, deterrence, temptation)
    for patrol in model.patrols:
        keep = _keep([patrol.officer], deterrence, temptation)
        for node, stop in patrol.stop_prob.items():
            at = 1.0 / len(patrol.area)
            for c in range(len(CONVEYANCES)):
                miss[node, c] *= 1.0 - at * stop * patrol.p_detect[c] * keep
    return 1.0 - miss


def _stop(side, deterrence: float, temptation: float) -> np.ndarray:
    """[conveyance]: chance one side's crew inspects, finds and keeps a passing load."""
    keep = _keep(side.officers, deterrence, temptation)
    return np.array(side.p_inspect) * np.array(side.p_detect) * keep


def _spot(watch, deterrence: float, temptation: float) -> np.ndarray:
    """[conveyance]: chance watchers spot (and so find) and keep a passing load."""
    return np.array(watch.p_spot) * _keep(watch.officers, deterrence, temptation)


def _keep(officers, deterrence: float, temptation: float) -> float:
    mean = float(np.mean([o.corruptibility for o in officers])) if officers else 0.0
    return 1.0 - mean * (1.0 - deterrence) * temptation


@dataclass(frozen=True)
class Option:
    """One thing the MILP may buy: its allocation, predicted gain and bill."""

    name: str
    alloc: Allocation
    gain: float
    low: int            # 1 when minimum staffing forces it


def item_gains(problem: Problem, params: Params, flows: np.ndarray, objective: str) -> list[Option]:
    """Each item's predicted gain on the fixed flows (officer blocks one by one, in order)."""
    weights = objective_weights(params, objective)
    value = lambda catch: float(np.einsum("nc,nck,nk->", catch, flows, weights))   # noqa: E731
    model = NorthernRouteModel(params, rng=params.seed)
    base = value(catch_probabilities(model))
    dec, block = problem.decision, problem.decision.officers.block

    def gain_of(alloc: Allocation) -> float:
        if alloc.policies or alloc.groups:
            p = load_params(list(scenario_overrides(problem, alloc)))
            p = p.model_copy(update={"horizon_days": params.horizon_days})
        else:
            p = params
        p = with_updates(p, allocation_updates(problem, params, alloc)) if (alloc.officers or alloc.equipment or alloc.patrols) else p
        model.use_rules(p)
        g = value(catch_probabilities(model)) - base
        model.use_rules(params)
        return g

    options = []
    for post in dec.officers.posts:
        low, high = officer_bounds(problem, post)
        previous = 0.0
        for k in range(1, high + 1):
            total = gain_of(Allocation(officers={post: k * block}))
            options.append(Option(f"officers:{post}:{k}", Allocation(officers={post: block}), total - previous, int(k <= low)))
            previous = total
    have = methods_at(params)
    for post in dec.equipment.posts:
        for method in dec.equipment.methods:
            if method not in have[post]:
                alloc = Allocation(equipment={post: (method,)})
                options.append(Option(f"equipment:{post}:{method}", alloc, gain_of(alloc), 0))
    for area in dec.patrols.areas:
        one = gain_of(Allocation(patrols={area: 1}))
        options += [Option(f"patrols:{area}:{k}", Allocation(patrols={area: 1}), one, 0)
                    for k in range(1, dec.patrols.max_units + 1)]
    for policy in dec.policies:
        alloc = Allocation(policies=(policy,))
        options.append(Option(f"policy:{policy}", alloc, gain_of(alloc), 0))
    return options


def solve_static(problem: Problem, params: Params, flows: np.ndarray) -> tuple[Allocation, float, list[Option]]:
    """The MILP's allocation, its predicted gain (in the first objective's unit) and the options."""
    objective = problem.objectives[0]
    options = item_gains(problem, params, flows, objective)
    n = len(options)
    costs = [bill(problem, params, o.alloc) for o in options]
    rows, lows, highs = [[sum(i.usd_per_year for i in c) for c in costs]], [0.0], [problem.constraints.budget_usd_per_year]
    for agency, budget in problem.constraints.agency_budgets_usd_per_year.items():
        rows.append([sum(i.usd_per_year for i in c if i.agency == agency) for c in costs])
        lows.append(0.0)
        highs.append(budget)
    for a in range(n):      # block k at a post, or unit k of an area, only after block k - 1
        prefix = options[a].name.rsplit(":", 1)[0]
        if options[a].name.startswith(("officers:", "patrols:")) and a > 0 and options[a - 1].name.rsplit(":", 1)[0] == prefix:
            row = [0.0] * n
            row[a], row[a - 1] = 1.0, -1.0
            rows.append(row)
            lows.append(-np.inf)
            highs.append(0.0)
    result = milp(c=-np.array([o.gain for o in options]), integrality=np.ones(n),
                  bounds=Bounds([o.low for o in options], np.ones(n)),
                  constraints=LinearConstraint(np.array(rows), lows, highs))
    if not result.success:
        raise ValueError(f"the static MILP found no allocation: {result.message}")
    chosen = [o for o, x in zip(options, result.x) if x > 0.5]
    return combine([o.alloc for o in chosen], problem), float(sum(o.gain for o in chosen)), options


def combine(parts: list[Allocation], problem: Problem) -> Allocation:
    """The sum of single-item allocations."""
    officers: dict[str, int] = {}
    equipment: dict[str, list[str]] = {}
    patrols: dict[str, int] = {}
    policies: list[str] = []
    for a in parts:
        for k, v in a.officers.items():
            officers[k] = officers.get(k, 0) + v
        for k, v in a.equipment.items():
            equipment.setdefault(k, []).extend(v)
        for k, v in a.patrols.items():
            patrols[k] = patrols.get(k, 0) + v
        policies += a.policies
    groups = {g: c[0] for g, c in problem.decision.groups.items()}
    return Allocation(officers, {k: tuple(v) for k, v in equipment.items()}, patrols, tuple(policies), groups)


def predicted_gain(options: list[Option], alloc: Allocation, problem: Problem) -> float:
    """What the static model predicts for an allocation (the sum of its items' gains)."""
    block = problem.decision.officers.block
    total = 0.0
    for o in options:
        kind, _, rest = o.name.partition(":")
        if kind == "officers":
            post, k = rest.rsplit(":", 1)
            total += o.gain if alloc.officers.get(post, 0) >= int(k) * block else 0.0
        elif kind == "patrols":
            area, k = rest.rsplit(":", 1)
            total += o.gain if alloc.patrols.get(area, 0) >= int(k) else 0.0
        elif kind == "equipment":
            post, method = rest.split(":")
            total += o.gain if method in alloc.equipment.get(post, ()) else 0.0
        elif kind == "policy":
            total += o.gain if rest in alloc.policies else 0.0
    return total
