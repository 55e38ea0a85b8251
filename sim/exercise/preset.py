"""Exercise presets: what the facilitator picks, as config only (``scenarios/exercise/``).

A preset names the world the exercise starts from (Hydra overrides, e.g. a regime), the
calendar (start date, number of turns, months per turn), the seeds, and per team its
budget per turn and its catalogue of interventions (policies of ``scenarios/policy/``).
An intervention's yearly cost is the policy configs' own (the change of
:func:`sim.model.policies.policy_cost_usd_per_year` it makes to the preset's world); where the
configs price nothing for it (a policy that strengthens a mechanism already in force), the
preset gives ``cost_usd_per_year`` with its ``cost_source``. Injects (a supply surge, a
budget cut...) and the traffickers' postures are timeline changes (``set`` of dotted keys,
``policies``, ``policies_off``), each with its source.

A mistake in a preset is one :class:`~sim.params.ConfigError` line naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.config import SCENARIOS_DIR, config_file, load_params
from sim.params import ConfigError, format_validation_error
from sim.model.policies import policy_cost_usd_per_year

EXERCISE_GROUP = "exercise"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Change(_Strict):
    """What an inject or a posture changes when it is played: a timeline event's body."""

    label: str
    description: str = ""
    source: str = Field(min_length=1)         # seed file and paragraph, or "ASSUMPTION: ..."
    policies: tuple[str, ...] = ()
    policies_off: tuple[str, ...] = ()
    set: dict[str, Any] = Field(default_factory=dict)


class Item(_Strict):
    """One intervention a team may buy: a policy config, with its cost when the configs have none."""

    policy: str
    cost_usd_per_year: float | None = Field(default=None, gt=0.0, le=1e10)
    cost_source: str | None = None

    @model_validator(mode="after")
    def _cost_has_source(self) -> "Item":
        if (self.cost_usd_per_year is None) != (self.cost_source is None):
            raise ValueError("give cost_usd_per_year and cost_source together")
        return self


class Team(_Strict):
    label: str
    budget_usd_per_turn: float = Field(ge=0.0, le=1e10)
    catalogue: tuple[Item, ...] = Field(min_length=1)

    @field_validator("catalogue", mode="before")
    @classmethod
    def _names_as_items(cls, value: Any) -> Any:
        """A bare policy name is an item priced by the configs."""
        return [{"policy": v} if isinstance(v, str) else v for v in value] if isinstance(value, list) else value


class Traffickers(_Strict):
    """The optional team that plays the organisations: one posture per turn, from this list."""

    label: str = "Traffickers"
    postures: dict[str, Change] = Field(min_length=1)
    default: str

    @model_validator(mode="after")
    def _default_is_a_posture(self) -> "Traffickers":
        if self.default not in self.postures:
            raise ValueError(f"default: {self.default!r} is not one of the postures {sorted(self.postures)}")
        return self


class ExercisePreset(_Strict):
    """An exercise as the facilitator picks it (see docs/exercise.md for every key)."""

    name: str = ""
    title: str
    briefing: str
    scenario: tuple[str, ...] = ()             # Hydra overrides choosing the starting world
    start_date: dt.date
    turns: int = Field(ge=1, le=40)
    months_per_turn: int = Field(ge=1, le=12)
    seed: int = Field(ge=0, le=2**31 - 1)
    replications: int = Field(ge=0, le=64)
    teams: dict[str, Team] = Field(min_length=1)
    injects: dict[str, Change] = Field(default_factory=dict)
    traffickers: Traffickers | None = None

    @model_validator(mode="after")
    def _each_policy_once(self) -> "ExercisePreset":
        owner: dict[str, str] = {}
        for team, spec in self.teams.items():
            for item in spec.catalogue:
                if item.policy in owner:
                    raise ValueError(f"teams.{team}.catalogue: {item.policy!r} is already in "
                                     f"teams.{owner[item.policy]}.catalogue (one team buys each intervention)")
                owner[item.policy] = team
        return self

    # --- the calendar -------------------------------------------------------------

    def turn_start(self, turn: int) -> dt.date:
        """First day of turn ``turn`` (1-based); ``turn_start(turns + 1)`` is the end of the exercise."""
        return add_months(self.start_date, (turn - 1) * self.months_per_turn)

    def turn_end_day(self, turn: int) -> int:
        """Days from the start date to the end of turn ``turn``: the horizon of its replay."""
        return (self.turn_start(turn + 1) - self.start_date).days

    def turn_start_day(self, turn: int) -> int:
        return (self.turn_start(turn) - self.start_date).days

    def turn_label(self, turn: int) -> str:
        last = self.turn_start(turn + 1) - dt.timedelta(days=1)
        return f"Turn {turn}: {self.turn_start(turn):%d %b %Y} - {last:%d %b %Y}"

    # --- the catalogue ------------------------------------------------------------

    def team_of(self, policy: str) -> str:
        for team, spec in self.teams.items():
            if any(item.policy == policy for item in spec.catalogue):
                return team
        raise KeyError(policy)

    def item(self, policy: str) -> Item:
        return next(i for i in self.teams[self.team_of(policy)].catalogue if i.policy == policy)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` later (the last day of a shorter month)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --- loading -----------------------------------------------------------------------


def exercise_names(config_dir: str | Path | None = None) -> list[str]:
    """The exercise presets available (``scenarios/exercise/*.yaml``, the user's folder too)."""
    from sim.config import config_names

    return config_names(EXERCISE_GROUP, config_dir)


def load_exercise(name: str, config_dir: str | Path | None = None) -> ExercisePreset:
    """Read and check one exercise preset; every policy, inject and cost is checked here."""
    path = config_file(EXERCISE_GROUP, name, config_dir)
    if path is None:
        known = ", ".join(exercise_names(config_dir)) or "none"
        raise ConfigError(f"exercise error: no exercise preset {name!r} (known: {known})")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"exercise error: {path}: malformed YAML: {getattr(err, 'problem', err)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"exercise error: {path}: expected a mapping of keys")
    try:
        preset = ExercisePreset.model_validate({**data, "name": name})
    except ValidationError as err:
        raise ConfigError(f"exercise error: {path}: {format_validation_error(err, ExercisePreset)}") from None
    _check_against_configs(preset, path, config_dir)
    return preset


def _check_against_configs(preset: ExercisePreset, path: Path, config_dir) -> None:
    """Every policy exists, every priced item has a cost, every change composes into a valid world."""
    for team, spec in preset.teams.items():
        for item in spec.catalogue:
            where = f"teams.{team}.catalogue.{item.policy}"
            _check_policy(item.policy, where, path, config_dir)
            if item.cost_usd_per_year is None and yearly_cost(preset, item.policy, config_dir) <= 0:
                raise ConfigError(f"exercise error: {path}: {where}: the configs give this policy no yearly cost "
                                  f"(it strengthens a mechanism already paid for): give cost_usd_per_year and "
                                  f"cost_source")
    changes = {f"injects.{k}": c for k, c in preset.injects.items()}
    if preset.traffickers is not None:
        changes.update({f"traffickers.postures.{k}": c for k, c in preset.traffickers.postures.items()})
    for where, change in changes.items():
        for policy in (*change.policies, *change.policies_off):
            _check_policy(policy, where, path, config_dir)
        try:
            with_set(world_params(preset, config_dir), change.set)
        except ConfigError as err:
            raise ConfigError(f"exercise error: {path}: {where}.set: {str(err).removeprefix('config error: ')}") from None


def _check_policy(policy: str, where: str, path: Path, config_dir) -> None:
    if config_file("policy", policy, config_dir) is None:
        from sim.config import config_names
        from sim.params import suggest

        hint = suggest(policy, config_names("policy", config_dir))
        raise ConfigError(f"exercise error: {path}: {where}: no policy {policy!r} in scenarios/policy/{hint}")


def with_set(params, changes: dict[str, Any]):
    from sim.config import with_updates

    return with_updates(params, changes) if changes else params


@functools.lru_cache(maxsize=64)
def _world_params(scenario: tuple[str, ...], config_dir: str | None):
    return load_params(list(scenario), config_dir=config_dir)


def world_params(preset: ExercisePreset, config_dir=None):
    """The validated parameters of the world the exercise starts from."""
    return _world_params(preset.scenario, None if config_dir is None else str(config_dir))


@functools.lru_cache(maxsize=256)
def _policy_yearly_cost(scenario: tuple[str, ...], policy: str, config_dir: str | None) -> float:
    base = policy_cost_usd_per_year(_world_params(scenario, config_dir).world)
    changed = _world_params((*scenario, f"+policy=[{policy}]"), config_dir)
    return policy_cost_usd_per_year(changed.world) - base


def yearly_cost(preset: ExercisePreset, policy: str, config_dir=None) -> float:
    """What one intervention costs a year: the preset's figure if it gives one, else the configs'."""
    item = preset.item(policy)
    if item.cost_usd_per_year is not None:
        return item.cost_usd_per_year
    return _policy_yearly_cost(preset.scenario, policy, None if config_dir is None else str(config_dir))


def cost_source(preset: ExercisePreset, policy: str) -> str:
    """Where an intervention's cost comes from (for the catalogue and the report)."""
    item = preset.item(policy)
    if item.cost_source is not None:
        return item.cost_source
    return "the policy configs (world.policies.*.cost_usd_per_year, scenarios/provenance.yaml)"


def exercise_dir() -> Path:
    return SCENARIOS_DIR / EXERCISE_GROUP
