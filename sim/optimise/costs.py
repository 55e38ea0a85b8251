"""What an allocation costs a year, item by item, from the configs (never from code).

- an officer-year: ``world.corruption.officer_wage_usd_per_month`` x 12 x
  ``world.deployment.officer_cost_factor``;
- a method at a post: ``world.deployment.equipment_usd_per_post_year.<method>``;
- a patrol unit: ``world.deployment.patrol_unit_usd_per_year``;
- a policy: what its config adds to :func:`sim.model.policies.policy_cost_usd_per_year` over the
  scenario. A mechanism already in force and paid for in the scenario (the UAVs, the
  reinforced Uzbek border) is priced by its units: the UAV fleet's cost per base, the
  reinforcement's cost per unit of added staff factor (an assumption: cost in proportion
  to the units bought).

Each item is booked to an agency (the post's, the patrol group's by its weights, the one
the problem names for a policy), so that per-agency budgets can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sim.config import load_params
from sim.params import ConfigError, Params, World
from sim.model.policies import policy_cost_usd_per_year
from sim.optimise.problem import Allocation, Problem, new_patrol_groups

#: Mechanisms whose yearly cost scales with the units in force: name -> units of a config.
UNIT_SCALED = {
    "uav_surveillance": lambda m: len(m.bases),
    "border_reinforcement": lambda m: max(0.0, m.staff_factor - 1.0),
}


@dataclass(frozen=True)
class Item:
    """One line of an allocation's bill."""

    what: str
    agency: str | None
    usd_per_year: float


def officer_year_usd(world: World) -> float:
    return world.corruption.officer_wage_usd_per_month * 12 * world.deployment.officer_cost_factor


def post_agency(params: Params, post: str) -> str:
    node = next(n for n in params.network.nodes if n.id == post)
    return node.agency or params.world.inspection.default_agency_by_kind.get(node.kind, "police")


def priced_policy_cost(world: World, reference: World) -> float:
    """Yearly cost of the policies in force, unit-scaled mechanisms priced by their units."""
    cost = policy_cost_usd_per_year(world)
    for name, units in UNIT_SCALED.items():
        mech, ref = getattr(world.policies, name), getattr(reference.policies, name)
        if mech.enabled and ref.enabled and units(ref) > 0:
            cost += mech.cost_usd_per_year * (units(mech) / units(ref) - 1.0)
    return cost


@lru_cache(maxsize=64)
def policy_cost(scenario: tuple[str, ...], policy: str) -> float:
    """What one policy adds to the scenario's yearly cost (ConfigError if it adds nothing)."""
    base = load_params(list(scenario)).world
    world = load_params([*scenario, f"+policy=[{policy}]"]).world
    extra = priced_policy_cost(world, base) - priced_policy_cost(base, base)
    if extra <= 0:
        raise ConfigError(f"optimise error: decision.policies.{policy}: costs nothing over the scenario in the "
                          f"configs (its mechanism is already paid for there); the optimiser cannot price it")
    return extra


def bill(problem: Problem, params: Params, alloc: Allocation) -> list[Item]:
    """Every item an allocation buys with its yearly cost and paying agency."""
    world = params.world
    items = [Item(f"{n} officers at {post}", post_agency(params, post), n * officer_year_usd(world))
             for post, n in alloc.officers.items()]
    prices = world.deployment.equipment_usd_per_post_year
    items += [Item(f"{method} at {post}", post_agency(params, post), prices[method])
              for post, methods in alloc.equipment.items() for method in methods]
    specs = {**{g: s.model_dump() for g, s in world.patrols.items()}, **new_patrol_groups(problem, params)}
    for area, units in alloc.patrols.items():
        weights = specs[area]["agencies"]
        total = sum(weights.values())
        for agency, w in weights.items():
            items.append(Item(f"{units} patrol units in {area} ({agency})", agency,
                              units * world.deployment.patrol_unit_usd_per_year * w / total))
    items += [Item(f"policy {p}", problem.decision.policies.get(p), policy_cost(problem.scenario, p))
              for p in alloc.policies]
    return items


def total_cost(items: list[Item]) -> float:
    return float(sum(i.usd_per_year for i in items))


def agency_spending(items: list[Item]) -> dict[str, float]:
    spent: dict[str, float] = {}
    for item in items:
        if item.agency is not None:
            spent[item.agency] = spent.get(item.agency, 0.0) + item.usd_per_year
    return spent


def violations(problem: Problem, items: list[Item]) -> dict[str, float]:
    """Budget -> USD over it (empty when the allocation fits every budget)."""
    con = problem.constraints
    over = {}
    if total_cost(items) > con.budget_usd_per_year + 1e-6:
        over["total"] = total_cost(items) - con.budget_usd_per_year
    spent = agency_spending(items)
    for agency, budget in con.agency_budgets_usd_per_year.items():
        if spent.get(agency, 0.0) > budget + 1e-6:
            over[agency] = spent[agency] - budget
    return over
