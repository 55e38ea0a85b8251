"""Where each number comes from: the registry in ``scenarios/provenance.yaml``.

Every number in the composed world and regime configs must match an entry that gives
its source (seed document and paragraph, or another public source) or labels it an
assumption; entries may also give a plausible range, which calibration and
sensitivity analysis use as priors. Keys are dotted paths; ``*`` matches one level.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from sim.config import SCENARIOS_DIR
from sim.params import ConfigError, schema_bounds

REGISTRY_PATH = SCENARIOS_DIR / "provenance.yaml"
CHECKED_SECTIONS = ("world", "regime", "adaptation", "seed", "horizon_days")


@dataclass(frozen=True)
class Entry:
    key: str
    source: str | None
    assumption: str | None
    range: tuple[float, float] | None

    @property
    def citation(self) -> str:
        return self.source if self.source else f"ASSUMPTION: {self.assumption}"

    def matches(self, key: str) -> bool:
        pattern, parts = self.key.split("."), key.split(".")
        return len(pattern) == len(parts) and all(p in ("*", k) for p, k in zip(pattern, parts))

    @property
    def specificity(self) -> int:
        return sum(p != "*" for p in self.key.split("."))


@lru_cache(maxsize=4)
def load_registry(path: Path = REGISTRY_PATH) -> tuple[Entry, ...]:
    """Read and validate the registry: each entry has exactly one of source/assumption."""
    data = yaml.safe_load(Path(path).read_text())
    entries = []
    for i, raw in enumerate(data.get("entries", [])):
        key = raw.get("key")
        if not key:
            raise ConfigError(f"provenance error: entries.{i}: missing key")
        if bool(raw.get("source")) == bool(raw.get("assumption")):
            raise ConfigError(f"provenance error: {key}: give exactly one of 'source' or 'assumption'")
        rng = raw.get("range")
        if rng is not None and (len(rng) != 2 or float(rng[0]) > float(rng[1])):
            raise ConfigError(f"provenance error: {key}: range must be [low, high] with low <= high (got {rng})")
        entries.append(Entry(key, raw.get("source"), raw.get("assumption"),
                             None if rng is None else (float(rng[0]), float(rng[1]))))
    return tuple(entries)


def lookup(key: str, registry: tuple[Entry, ...] | None = None) -> Entry | None:
    """The most specific registry entry for a dotted key, or None."""
    registry = load_registry() if registry is None else registry
    matches = [e for e in registry if e.matches(key)]
    return max(matches, key=lambda e: e.specificity) if matches else None


def numeric_leaves(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    """Every number in a nested config, as (dotted key, value); booleans are not numbers."""
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            yield from numeric_leaves(v, key + ".")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield key, v


def timeline_leaves(config: Mapping[str, Any]) -> Iterator[tuple[str, str, float]]:
    """Every number a timeline's events set: (``timeline.<date>.<key>``, ``<key>``, value).

    An event on a day number is keyed ``timeline.day<N>``; policies switched on by an
    event have their numbers in their own files, with the entries of their keys.
    """
    for event in config.get("timeline") or []:
        when = event.get("date") or f"day{event.get('day')}"
        for key, value in numeric_leaves({k: v for k, v in (event.get("set") or {}).items()}):
            yield f"timeline.{when}.{key}", key, value


def _lookup_dated(dated: str, key: str, registry: tuple[Entry, ...]) -> Entry | None:
    """The entry of a dated number, or else of its key."""
    return lookup(dated, registry) or lookup(key, registry)


def uncited(config: Mapping[str, Any]) -> list[str]:
    """Numbers in the world/regime part of a config (and its timeline) with no provenance entry."""
    registry = load_registry()
    checked = {k: config[k] for k in CHECKED_SECTIONS if k in config}
    missing = [key for key, _ in numeric_leaves(checked) if lookup(key, registry) is None]
    return missing + [dated for dated, key, _ in timeline_leaves(config) if _lookup_dated(dated, key, registry) is None]


def provenance_table(config: Mapping[str, Any]) -> list[tuple[str, float, str, str]]:
    """(key, value, citation, ranges) for every number in the world/regime config.

    ``ranges`` gives the plausible range of the registry (if any) and the admissible
    range of the schema (:func:`sim.params.schema_bounds`): what the sources suggest and
    what the model accepts at all.
    """
    registry = load_registry()
    checked = {k: config[k] for k in CHECKED_SECTIONS if k in config}
    rows = []
    for key, value in numeric_leaves(checked):
        entry = lookup(key, registry)
        citation = entry.citation if entry else "MISSING: no provenance entry"
        plausible = f"plausible [{entry.range[0]:g}, {entry.range[1]:g}]" if entry and entry.range else ""
        rows.append((key, value, citation, " ".join(filter(None, (plausible, admissible_range(key))))))
    for dated, key, value in timeline_leaves(config):
        entry = _lookup_dated(dated, key, registry)
        rows.append((dated, value, entry.citation if entry else "MISSING: no provenance entry", admissible_range(key)))
    return rows


def admissible_range(key: str) -> str:
    """``"admissible [0, 1]"``: the bounds the schema gives the number at ``key``."""
    bounds = schema_bounds(key)
    if bounds is None:
        return ""
    low, high = ("-inf" if bounds[0] is None else f"{bounds[0]:g}"), ("inf" if bounds[1] is None else f"{bounds[1]:g}")
    return f"admissible [{low}, {high}]"
