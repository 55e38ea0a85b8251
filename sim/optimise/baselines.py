"""The allocations the optimum is compared with, all spending the same budget on officers.

- ``allocation_2009``: more of the same: officer blocks in proportion to each post's 2009
  staff (its own crew);
- ``uniform``: the same number of blocks at every post of the decision;
- ``flows``: in proportion to the kilos that passed each post in the reference runs;
- ``seizures``: chasing last year's seizures: in proportion to the kilos seized at each
  post in the reference runs;
- ``static``: the optimum of the interdiction MILP on the reference's flow map, which
  ignores that traffickers adapt (:mod:`sim.optimise.static`).

The first four place only officers (the one item every post can take); blocks are shared
by largest remainders, never above ``max_blocks`` or below minimum staffing, then the
allocation is repaired to fit per-agency budgets (:func:`sim.optimise.search.repair`).
"""

from __future__ import annotations

from sim.model.model import _allocate
from sim.optimise.costs import bill, officer_year_usd, total_cost
from sim.optimise.problem import Allocation, Problem, officer_bounds
from sim.optimise.search import minimum_allocation, repair
from sim.params import Params

LABELS = {
    "reference": "2009 as it was (nothing added)",
    "allocation_2009": "2009 allocation (officers as staffed in 2009)",
    "uniform": "uniform over the posts",
    "flows": "proportional to the baseline flows",
    "seizures": "chasing last year's seizures",
    "static": "static optimum (MILP, no adaptation)",
}


def proportional(problem: Problem, params: Params, weights: dict[str, float]) -> Allocation:
    """Officer blocks over the decision's posts in proportion to ``weights``, spending the budget."""
    posts = list(problem.decision.officers.posts)
    block = problem.decision.officers.block
    start = minimum_allocation(problem)
    spare = problem.constraints.budget_usd_per_year - total_cost(bill(problem, params, start))
    blocks = {p: officer_bounds(problem, p)[0] for p in posts}
    free = int(spare // (block * officer_year_usd(params.world)))
    w = {p: max(0.0, float(weights.get(p, 0.0))) for p in posts}
    while free > 0:
        open_posts = {p: v for p, v in w.items() if blocks[p] < officer_bounds(problem, p)[1]}
        if not open_posts or sum(open_posts.values()) <= 0:
            open_posts = {p: 1.0 for p in posts if blocks[p] < officer_bounds(problem, p)[1]}
        if not open_posts:
            break
        added = 0
        for p in _allocate(free, open_posts):
            if blocks[p] < officer_bounds(problem, p)[1]:
                blocks[p] += 1
                added += 1
        free -= added
        if added == 0:
            break
    alloc = Allocation(officers={p: b * block for p, b in blocks.items()}, groups=start.groups)
    return repair(problem, params, alloc)


def staff_weights(params: Params, posts) -> dict[str, float]:
    insp = params.world.inspection
    out = {}
    for node in params.network.nodes:
        if node.id in posts:
            profile = node.profile or insp.default_profile_by_kind[node.kind]
            out[node.id] = insp.profiles[profile].staff
    return out


def heuristic_allocations(problem: Problem, params: Params, flows_kg: dict[str, float],
                          seized_kg: dict[str, float]) -> dict[str, Allocation]:
    """The named heuristic baselines the problem asks for (all but ``static``)."""
    posts = problem.decision.officers.posts
    rules = {
        "allocation_2009": lambda: staff_weights(params, posts),
        "uniform": lambda: {p: 1.0 for p in posts},
        "flows": lambda: {p: flows_kg.get(p, 0.0) for p in posts},
        "seizures": lambda: {p: seized_kg.get(p, 0.0) for p in posts},
    }
    if not posts:
        return {}
    return {name: proportional(problem, params, rules[name]()) for name in problem.baselines if name in rules}


def node_means(edge_flows, seized, runs: int) -> tuple[dict[str, float], dict[str, float]]:
    """Mean kilos a run into each node and seized at each node (reference runs' details)."""
    inflow = (edge_flows.groupby("v")["kg"].sum() / runs).to_dict()
    taken = (seized.groupby("node")["kg"].sum() / runs).to_dict() if len(seized) else {}
    return {k: float(v) for k, v in inflow.items()}, {k: float(v) for k, v in taken.items()}

