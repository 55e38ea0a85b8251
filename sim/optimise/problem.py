"""An optimisation problem as a config: the decision, the constraints, the objectives.

``scenarios/optimise/<name>.yaml`` (docs/optimisation.md) is read into :class:`Problem`,
checked against the model's network and configs so that a mistake is one line naming the
key (exit code 2) before any run starts. An :class:`Allocation` is one point of the
decision: officers per post, methods per post, patrol units per area, policies bought,
group choices; it becomes the Hydra overrides and dotted-key updates of the runs that
evaluate it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.config import config_names, load_params
from sim.params import ConfigError, Method, Params, format_validation_error

#: Objective name -> (outcome key of the run summary, what it measures, sense, unit scale, unit).
#: Each is the paired difference from the reference run (no addition) in the same draw and seed.
OBJECTIVES = {
    "kept_from_russia": ("kg_reaching_russia", "tonnes kept from Russia", "max", -1000.0, "t"),
    "kept_from_eu": ("kg_reaching_eu", "tonnes kept from the EU", "max", -1000.0, "t"),
    "kg_seized": ("kg_seized_true", "kilos seized (true)", "max", 1.0, "kg"),
    "bribes": ("bribes_usd", "bribes paid (USD)", "min", 1.0, "USD"),
    "cost": (None, "cost (USD a year)", "min", 1.0, "USD"),
}
BASELINES = ("allocation_2009", "uniform", "flows", "seizures", "static")
POST_KINDS = ("border_checkpoint", "internal_checkpoint", "green_crossing")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Officers(_Strict):
    """Officers added at posts, in blocks (``block`` officers), at most ``max_blocks`` a post."""

    posts: tuple[str, ...] = ()
    block: int = Field(default=10, ge=1, le=1000)
    max_blocks: int = Field(default=5, ge=1, le=100)


class Equipment(_Strict):
    """Inspection methods that may be added at posts (each a yes/no per post and method)."""

    posts: tuple[str, ...] = ()
    methods: tuple[Method, ...] = ("scanner", "canine", "endoscope")


class PatrolArea(_Strict):
    """Patrol units over an area: an existing group (no keys) or a new one like ``like`` over ``area``."""

    like: str | None = None
    area: tuple[str, ...] = ()


class Patrols(_Strict):
    areas: dict[str, PatrolArea] = {}
    max_units: int = Field(default=10, ge=1, le=1000)


class Decision(_Strict):
    officers: Officers = Officers()
    equipment: Equipment = Equipment()
    patrols: Patrols = Patrols()
    policies: dict[str, str | None] = {}       # policy config -> the agency whose budget pays (or none)
    groups: dict[str, tuple[str, ...]] = {}    # Hydra config group -> the choices (the first is the scenario's)


class Constraints(_Strict):
    budget_usd_per_year: float = Field(gt=0, le=1e11)
    agency_budgets_usd_per_year: dict[str, float] = {}
    minimum_officers_added: dict[str, int] = {}


class Robustness(_Strict):
    measure: Literal["mean", "percentile", "regret"] = "mean"
    percentile: float = Field(default=10.0, ge=0.0, le=100.0)


class Uncertainty(_Strict):
    posterior_draws: int = Field(default=4, ge=1, le=1000)
    seeds: int = Field(default=2, ge=1, le=1000)


class Search(_Strict):
    population: int = Field(default=12, ge=2, le=10_000)
    generations: int = Field(default=6, ge=1, le=10_000)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)


class Quick(_Strict):
    """What ``--quick`` shrinks to (tests, CI): a short horizon, few candidates and runs."""

    horizon_days: int = Field(default=30, ge=1, le=3650)
    population: int = Field(default=4, ge=2, le=1000)
    generations: int = Field(default=2, ge=1, le=1000)
    posterior_draws: int = Field(default=1, ge=1, le=1000)
    seeds: int = Field(default=1, ge=1, le=1000)


class Problem(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    scenario: tuple[str, ...] = ()             # Hydra overrides every run starts from
    horizon_days: int = Field(default=365, ge=1, le=3650)
    decision: Decision
    constraints: Constraints
    objectives: tuple[str, ...] = Field(min_length=1)
    robustness: Robustness = Robustness()
    uncertainty: Uncertainty = Uncertainty()
    search: Search = Search()
    baselines: tuple[str, ...] = BASELINES
    quick: Quick = Quick()

    def quick_version(self) -> "Problem":
        """The problem as ``--quick`` runs it."""
        q = self.quick
        return self.model_copy(update={
            "horizon_days": min(self.horizon_days, q.horizon_days),
            "uncertainty": Uncertainty(posterior_draws=q.posterior_draws, seeds=q.seeds),
            "search": self.search.model_copy(update={"population": q.population, "generations": q.generations})})


@dataclass(frozen=True)
class Allocation:
    """One point of the decision (officers and patrol units as counts, not blocks)."""

    officers: dict[str, int] = field(default_factory=dict)
    equipment: dict[str, tuple[str, ...]] = field(default_factory=dict)
    patrols: dict[str, int] = field(default_factory=dict)
    policies: tuple[str, ...] = ()
    groups: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:   # a canonical form: zero entries dropped, names sorted
        object.__setattr__(self, "officers", {k: int(v) for k, v in sorted(self.officers.items()) if v})
        object.__setattr__(self, "equipment", {k: tuple(sorted(v)) for k, v in sorted(self.equipment.items()) if v})
        object.__setattr__(self, "patrols", {k: int(v) for k, v in sorted(self.patrols.items()) if v})
        object.__setattr__(self, "policies", tuple(sorted(self.policies)))
        object.__setattr__(self, "groups", dict(sorted(self.groups.items())))

    def to_json(self) -> dict[str, Any]:
        return {"officers": self.officers, "equipment": {k: list(v) for k, v in self.equipment.items()},
                "patrols": self.patrols, "policies": list(self.policies), "groups": self.groups}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Allocation":
        return cls(officers=data.get("officers", {}), equipment={k: tuple(v) for k, v in data.get("equipment", {}).items()},
                   patrols=data.get("patrols", {}), policies=tuple(data.get("policies", ())), groups=data.get("groups", {}))

    @property
    def key(self) -> str:
        """A short stable name (run ids use it): the same allocation always has the same key."""
        text = json.dumps(self.to_json(), sort_keys=True)
        return "a" + hashlib.sha1(text.encode()).hexdigest()[:10]

    def describe(self) -> str:
        """One line for tables: what the allocation buys."""
        parts = [f"{n} officers at {p}" for p, n in self.officers.items()]
        parts += [f"{'+'.join(m)} at {p}" for p, m in self.equipment.items()]
        parts += [f"{n} patrol units in {a}" for a, n in self.patrols.items()]
        parts += [f"policy {p}" for p in self.policies]
        parts += [f"{g}={c}" for g, c in self.groups.items()]
        return "; ".join(parts) or "nothing added"


def load_problem(path: str | Path) -> Problem:
    """Read and check a problem file; one-line ConfigError for anything wrong."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"optimise error: {path}: no such file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"optimise error: {path}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"optimise error: {path}: expected a mapping of settings")
    try:
        problem = Problem.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"optimise error: {format_validation_error(err, Problem)}") from None
    check_problem(problem)
    return problem


def base_params(problem: Problem) -> Params:
    """The scenario every run starts from, composed and validated."""
    return _composed(problem.scenario)


@lru_cache(maxsize=16)
def _composed(scenario: tuple[str, ...]) -> Params:
    try:
        return load_params(list(scenario))
    except ConfigError as err:
        raise ConfigError(f"optimise error: scenario: {str(err).removeprefix('config error: ')}") from None


def check_problem(problem: Problem) -> None:
    """Names in the problem must exist in the model: posts, methods, areas, policies, groups."""
    params = base_params(problem)
    nodes = {n.id: n for n in params.network.nodes}
    dec, con = problem.decision, problem.constraints
    for name in problem.objectives:
        if name not in OBJECTIVES:
            raise ConfigError(f"optimise error: objectives: unknown objective {name!r} (known: {', '.join(OBJECTIVES)})")
    if len(set(problem.objectives)) != len(problem.objectives):
        raise ConfigError("optimise error: objectives: an objective is named twice")
    for name in problem.baselines:
        if name not in BASELINES:
            raise ConfigError(f"optimise error: baselines: unknown baseline {name!r} (known: {', '.join(BASELINES)})")
    for where, posts in (("decision.officers.posts", dec.officers.posts), ("decision.equipment.posts", dec.equipment.posts)):
        for post in posts:
            _check_post(nodes, post, where, problem)
    priced = params.world.deployment.equipment_usd_per_post_year
    for method in dec.equipment.methods:
        if method not in priced:
            raise ConfigError(f"optimise error: decision.equipment.methods: {method!r} has no price "
                              f"(world.deployment.equipment_usd_per_post_year.{method})")
    for name, area in dec.patrols.areas.items():
        _check_area(params, nodes, name, area)
    from sim.optimise.costs import policy_cost

    known_policies = config_names("policy")
    for policy in dec.policies:
        if policy not in known_policies:
            raise ConfigError(f"optimise error: decision.policies: unknown policy {policy!r} (scenarios/policy/)")
        policy_cost(problem.scenario, policy)          # composes it, and refuses a policy the configs do not price
    for group, choices in dec.groups.items():
        known = config_names(group)
        if not known:
            raise ConfigError(f"optimise error: decision.groups.{group}: no such config group in scenarios/")
        for choice in choices:
            if choice not in known:
                raise ConfigError(f"optimise error: decision.groups.{group}: unknown choice {choice!r} "
                                  f"(known: {', '.join(sorted(known))})")
        if len(choices) < 2:
            raise ConfigError(f"optimise error: decision.groups.{group}: give at least two choices")
    for post, n in con.minimum_officers_added.items():
        if post not in dec.officers.posts:
            raise ConfigError(f"optimise error: constraints.minimum_officers_added.{post}: not one of "
                              f"decision.officers.posts")
        if not 0 <= n <= dec.officers.block * dec.officers.max_blocks:
            raise ConfigError(f"optimise error: constraints.minimum_officers_added.{post}: {n} is outside 0.."
                              f"{dec.officers.block * dec.officers.max_blocks} (block x max_blocks)")
    check_affordable(problem)
    if not (dec.officers.posts or dec.equipment.posts or dec.patrols.areas or dec.policies or dec.groups):
        raise ConfigError("optimise error: decision: nothing to decide (give officers, equipment, patrols, policies or groups)")


def check_affordable(problem: Problem) -> None:
    """Minimum staffing must fit the budgets, or no allocation can be evaluated."""
    from sim.optimise.costs import bill, violations
    from sim.optimise.search import minimum_allocation

    over = violations(problem, bill(problem, base_params(problem), minimum_allocation(problem)))
    if over:
        name, usd = next(iter(over.items()))
        where = "budget_usd_per_year" if name == "total" else f"agency_budgets_usd_per_year.{name}"
        raise ConfigError(f"optimise error: constraints.{where}: minimum staffing alone exceeds it by ${usd:,.0f}")


def _check_post(nodes, post: str, where: str, problem: Problem) -> None:
    if post not in nodes:
        raise ConfigError(f"optimise error: {where}: unknown node {post!r}")
    node = nodes[post]
    if node.kind not in POST_KINDS:
        raise ConfigError(f"optimise error: {where}: {post!r} is a {node.kind}, not a post")
    if not node.active:
        raise ConfigError(f"optimise error: {where}: post {post!r} is not in service in the scenario "
                          f"(add its policy to scenario)")


def _check_area(params: Params, nodes, name: str, area: PatrolArea) -> None:
    where = f"optimise error: decision.patrols.areas.{name}"
    groups = params.world.patrols
    if area.like is None:
        if name not in groups:
            raise ConfigError(f"{where}: no patrol group {name!r} in the scenario (known: {', '.join(groups)}); "
                              f"a new area needs 'like' and 'area'")
        if area.area:
            raise ConfigError(f"{where}.area: an existing group keeps its area (name a new area with 'like')")
        return
    if name in groups:
        raise ConfigError(f"{where}: {name!r} is already a patrol group; give the new area another name")
    if area.like not in groups:
        raise ConfigError(f"{where}.like: no patrol group {area.like!r} (known: {', '.join(groups)})")
    if not area.area:
        raise ConfigError(f"{where}.area: a new area needs its nodes")
    for node_id in area.area:
        if node_id not in nodes:
            raise ConfigError(f"{where}.area: unknown node {node_id!r}")


def methods_at(params: Params) -> dict[str, tuple[str, ...]]:
    """Node id -> the inspection methods its own crew has in the scenario (none where no post)."""
    insp = params.world.inspection
    out = {}
    for node in params.network.nodes:
        profile = node.profile or insp.default_profile_by_kind.get(node.kind)
        out[node.id] = insp.profiles[profile].methods if profile else ()
    return out


def officer_bounds(problem: Problem, post: str) -> tuple[int, int]:
    """(lowest, highest) number of blocks at a post: minimum staffing and max_blocks."""
    off = problem.decision.officers
    low = math.ceil(problem.constraints.minimum_officers_added.get(post, 0) / off.block)
    return low, off.max_blocks


def new_patrol_groups(problem: Problem, params: Params) -> dict[str, dict[str, Any]]:
    """The specs of new patrol areas: a copy of the group they are like, over their own nodes, no units yet."""
    groups = {}
    for name, area in problem.decision.patrols.areas.items():
        if area.like is not None:
            spec = params.world.patrols[area.like].model_dump(mode="json")
            groups[name] = {**spec, "area": list(area.area), "count": 0}
    return groups


def scenario_overrides(problem: Problem, alloc: Allocation) -> tuple[str, ...]:
    """The Hydra overrides of an allocation's runs: the problem's scenario, group choices, policies."""
    overrides = [*problem.scenario, *(f"{g}={c}" for g, c in alloc.groups.items())]
    if alloc.policies:
        overrides.append(f"+policy=[{','.join(alloc.policies)}]")
    return tuple(overrides)


def allocation_updates(problem: Problem, params: Params, alloc: Allocation) -> dict[str, Any]:
    """The dotted-key updates of an allocation's runs (officers, equipment, patrol units)."""
    updates: dict[str, Any] = {}
    if alloc.officers:
        updates["world.deployment.officers_added"] = dict(alloc.officers)
    if alloc.equipment:
        updates["world.deployment.equipment_added"] = {k: list(v) for k, v in alloc.equipment.items()}
    new = new_patrol_groups(problem, params)
    if alloc.patrols:
        patrols = {g: s.model_dump(mode="json") for g, s in params.world.patrols.items()}
        for area, units in alloc.patrols.items():
            spec = patrols.get(area) or new[area]
            patrols[area] = {**spec, "count": spec["count"] + units}
        updates["world.patrols"] = patrols
    return updates
