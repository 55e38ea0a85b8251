"""One run of a sweep, described as data: what to compose, what to change, which seed.

An :class:`Experiment` says everything a worker needs to reproduce a run anywhere: the
Hydra overrides that choose the scenario (composed once per worker process and cached),
the dotted-key updates applied on top (the fast path, ~1 ms), the seed, and the labels to
copy into the results table. It carries no state of the machine it runs on, so a sweep
gives the same table whatever the engine or number of workers.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from sim.params import ConfigError

#: Columns of the results table that labels (``inputs``) may not reuse.
RESERVED_COLUMNS = ("run_id", "seed", "overrides", "horizon_days", "status", "error", "wall_s", "sim_s")


@dataclass(frozen=True)
class Experiment:
    """One run: scenario overrides x parameter updates x seed, plus labels for the table.

    Attributes:
        run_id: unique and stable within a sweep (resuming matches runs by it).
        scenario: Hydra overrides choosing config groups or values, e.g.
            ``("regime=customs_union",)``; runs sharing them share one composed config.
        updates: dotted keys -> values applied with :func:`sim.config.with_updates`.
        seed: the run's random seed (derive it from the sweep seed, never from worker state).
        inputs: labels copied into the results table (lever name, replication, ...).
    """

    run_id: str
    scenario: tuple[str, ...] = ()
    updates: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    inputs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.run_id, str) or not self.run_id:
            raise ConfigError(f"experiment error: run_id must be a non-empty string (got {self.run_id!r})")
        if isinstance(self.scenario, str):
            raise ConfigError(f"experiment error: {self.run_id}: scenario must be a sequence of overrides, not the string {self.scenario!r}")
        object.__setattr__(self, "scenario", tuple(str(s) for s in self.scenario))
        object.__setattr__(self, "updates", dict(self.updates))
        object.__setattr__(self, "inputs", dict(self.inputs))
        if isinstance(self.seed, (bool, float)) or not isinstance(self.seed, (int, np.integer)):
            raise ConfigError(f"experiment error: {self.run_id}: seed must be an integer (got {self.seed!r})")
        object.__setattr__(self, "seed", int(self.seed))
        if "seed" in self.updates:
            raise ConfigError(f"experiment error: {self.run_id}: give the seed as Experiment.seed, not in updates")
        clash = sorted(set(self.inputs) & set(RESERVED_COLUMNS))
        if clash:
            raise ConfigError(f"experiment error: {self.run_id}: inputs may not use the reserved column name(s) {clash}")

    def to_json(self) -> dict[str, Any]:
        """A plain, canonical description (for the sweep manifest and its hash)."""
        return {
            "run_id": self.run_id,
            "scenario": list(self.scenario),
            "updates": {k: plain(v) for k, v in sorted(self.updates.items())},
            "seed": self.seed,
            "inputs": {k: plain(v) for k, v in sorted(self.inputs.items())},
        }


def plain(value: Any) -> Any:
    """numpy scalars, tuples and the like as plain JSON-able Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    return value


def table_value(value: Any) -> Any:
    """A value as one cell of the results table: scalars as they are, the rest as JSON text."""
    value = plain(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, sort_keys=True)


def check_unique_ids(experiments: Sequence[Experiment]) -> None:
    """Run ids identify runs when resuming: they must be unique."""
    seen: set[str] = set()
    for exp in experiments:
        if not isinstance(exp, Experiment):
            raise ConfigError(f"experiment error: expected Experiment objects, got {type(exp).__name__}")
        if exp.run_id in seen:
            raise ConfigError(f"experiment error: duplicate run_id {exp.run_id!r}")
        seen.add(exp.run_id)


def sweep_hash(experiments: Iterable[Experiment], horizon_days: int | None = None,
               details: Sequence[str] = ()) -> str:
    """A fingerprint of the sweep: the same experiments (in order), horizon and kept
    details give the same hash."""
    digest = hashlib.sha256()
    settings: dict[str, Any] = {"horizon_days": horizon_days}
    if details:
        settings["details"] = sorted(details)
    digest.update(json.dumps(settings).encode())
    for exp in experiments:
        digest.update(b"\n")
        digest.update(json.dumps(exp.to_json(), sort_keys=True, default=repr, allow_nan=True).encode())
    return digest.hexdigest()


def replication_seeds(sweep_seed: int, replications: int) -> list[int]:
    """One seed per replication, derived from the sweep seed (never from worker state).

    Replication ``r`` gets the same seed in every lever and sample: common random numbers,
    so that differences between levers are not drowned by noise.
    """
    children = np.random.SeedSequence(int(sweep_seed)).spawn(int(replications))
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
