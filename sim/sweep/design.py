"""Sweep designs: levers x uncertainty samples x replications, from a YAML config.

A sweep config (``scenarios/sweep/*.yaml``) keeps apart what policy controls and what
nobody controls, as exploratory modellers do:

- ``levers``: named scenarios, each a list of Hydra overrides (``baseline: []``,
  ``customs_union: ["regime=customs_union"]``);
- ``uncertainties``: dotted parameter keys and what they may be: ``{low, high}``
  (uniform), ``{values: [...]}`` (discrete), or ``{range: provenance}`` (the plausible
  range recorded for that key in ``scenarios/provenance.yaml``);
- ``design``: ``grid`` (every combination; continuous ranges need ``levels``), ``lhs``
  (Latin hypercube, :class:`scipy.stats.qmc.LatinHypercube`) or ``saltelli`` (SALib's
  Sobol sequence for Sobol sensitivity indices); ``n_samples``; ``replications``;
  ``seed``; optional ``horizon_days``, ``summary_by`` (columns to group the summary by)
  and ``details`` (per-run tables to keep: ``daily``, ``shipments``, ``edge_flows``,
  ``seized_by_node``);
- ``posterior``: a number of draws of the calibrated parameters from the calibration's
  posterior (:mod:`sim.posterior`): every uncertainty sample is crossed with the same
  draws, each run labelled with its ``draw`` (grid and lhs designs).

Every lever sees the same samples, and replication ``r`` uses the same seed in every
lever and sample (common random numbers), so differences between levers are the levers'.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.params import ConfigError
from sim.sweep.experiment import Experiment, plain, replication_seeds

DESIGNS = ("grid", "lhs", "saltelli")
TOP_KEYS = ("name", "description", "levers", "uncertainties", "design", "n_samples", "replications",
            "seed", "horizon_days", "second_order", "summary_by", "details", "posterior")
SPEC_KEYS = ("low", "high", "values", "range", "levels", "integer")
#: The levers of a sweep file without `levers`: the baseline alone (its uncertainties vary).
DEFAULT_LEVERS = {"baseline": []}


@dataclass(frozen=True)
class Uncertainty:
    """One uncertain parameter: a dotted key and its admissible values."""

    key: str
    low: float | None = None
    high: float | None = None
    values: tuple[Any, ...] | None = None
    levels: int | None = None
    integer: bool = False

    @property
    def discrete(self) -> bool:
        return self.values is not None

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map points of [0, 1) to values: uniform on [low, high], or one of the values."""
        if self.discrete:
            index = np.minimum((np.asarray(u) * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in index]
        x = self.low + np.asarray(u, dtype=float) * (self.high - self.low)
        return [int(round(v)) for v in x] if self.integer else [float(v) for v in x]

    def grid(self) -> list[Any]:
        if self.discrete:
            return list(self.values)
        points = np.linspace(self.low, self.high, self.levels)
        return sorted({int(round(v)) for v in points}) if self.integer else [float(v) for v in points]


@dataclass(frozen=True)
class Sweep:
    """A validated sweep config."""

    name: str
    levers: dict[str, tuple[str, ...]]
    uncertainties: tuple[Uncertainty, ...] = ()
    design: str = "grid"
    n_samples: int | None = None
    replications: int = 1
    seed: int = 0
    horizon_days: int | None = None
    second_order: bool = True
    summary_by: tuple[str, ...] = ("lever",)
    details: tuple[str, ...] = ()
    posterior: int | None = None
    source: str = field(default="<config>", compare=False)

    def samples(self) -> list[dict[str, Any]]:
        """The uncertainty samples, in a fixed order (the same for every lever).

        With ``posterior``, each sample is crossed with the same posterior draws: sample
        ``s * posterior + d`` is uncertainty sample s with draw d's calibrated parameters.
        """
        samples = self._uncertainty_samples()
        if not self.posterior:
            return samples
        from sim.posterior import draw_posterior, draw_updates

        draws = draw_updates(draw_posterior(self.posterior, seed=self.seed))
        return [{**sample, **draw} for sample in samples for draw in draws]

    def _uncertainty_samples(self) -> list[dict[str, Any]]:
        if not self.uncertainties:
            return [{}]
        keys = [u.key for u in self.uncertainties]
        if self.design == "grid":
            return [dict(zip(keys, combo)) for combo in itertools.product(*(u.grid() for u in self.uncertainties))]
        unit = self.unit_samples()
        columns = [u.from_unit(unit[:, j]) for j, u in enumerate(self.uncertainties)]
        return [dict(zip(keys, (plain(col[i]) for col in columns))) for i in range(len(unit))]

    def unit_samples(self) -> np.ndarray:
        """The LHS or Saltelli points on the unit cube, shape (samples, uncertainties)."""
        d = len(self.uncertainties)
        sample_seed = int(np.random.SeedSequence([int(self.seed), 1]).generate_state(1)[0])
        if self.design == "lhs":
            from scipy.stats import qmc
            return qmc.LatinHypercube(d=d, rng=np.random.default_rng(sample_seed)).random(self.n_samples)
        from SALib.sample import sobol
        return sobol.sample(self.salib_problem(unit=True), self.n_samples,
                            calc_second_order=self.second_order, seed=sample_seed)

    def salib_problem(self, unit: bool = False) -> dict[str, Any]:
        """The SALib problem of this sweep (unit cube when ``unit``; discrete keys by index)."""
        bounds = [[0.0, 1.0] if unit or u.discrete else [u.low, u.high] for u in self.uncertainties]
        return {"num_vars": len(self.uncertainties), "names": [u.key for u in self.uncertainties], "bounds": bounds}

    def quick(self) -> "Sweep":
        """A small version for smoke runs: 30 days, one replication, few samples."""
        from dataclasses import replace
        small = tuple(replace(u, levels=min(u.levels, 2)) if u.levels else u for u in self.uncertainties)
        n = None if self.n_samples is None else (2 if self.design == "saltelli" else min(self.n_samples, 3))
        return replace(self, uncertainties=small, n_samples=n, replications=1,
                       horizon_days=min(self.horizon_days or 30, 30), posterior=min(self.posterior, 2) if self.posterior else None)


def load_sweep(source: str | Path | Mapping[str, Any] | DictConfig | Sweep,
               overrides: Sequence[str] = (), config_dir: str | Path | None = None) -> Sweep:
    """Read and validate a sweep config (a path, a mapping or a DictConfig).

    ``overrides`` are ``key=value`` strings for the top-level settings, e.g.
    ``["replications=5", "design=grid"]`` (as on the command line). ``config_dir``: a
    folder of the user's own configs, which every lever composes with (its Hydra search
    path override leads each lever's overrides, so workers anywhere see the same configs).
    """
    if config_dir is not None:
        from sim.config import config_dir_overrides

        sweep = load_sweep(source, overrides)
        extra = tuple(config_dir_overrides(config_dir))
        return replace(sweep, levers={name: (*extra, *o) for name, o in sweep.levers.items()})
    if isinstance(source, Sweep):
        return source
    label = "<config>"
    try:
        if isinstance(source, (str, Path)):
            label = str(source)
            cfg = _read_yaml(Path(source))
        elif isinstance(source, DictConfig):
            cfg = source
        else:
            cfg = OmegaConf.create(dict(source))
        if overrides:
            for item in overrides:
                if "=" not in item or item.split("=", 1)[0] not in TOP_KEYS or item.startswith(("levers", "uncertainties")):
                    raise ConfigError(f"sweep error: override {item!r}: give key=value for one of "
                                      f"{', '.join(k for k in TOP_KEYS if k not in ('levers', 'uncertainties'))}")
            cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))
        data = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as err:
        raise ConfigError(f"sweep error: {label}: {str(err).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"sweep error: {label}: a sweep config is a mapping")
    if not data:
        raise ConfigError(f"sweep error: {label}: the sweep config is empty; give levers and/or uncertainties "
                          "(see scenarios/sweep/example.yaml)")
    return _parse(data, label)


def _read_yaml(path: Path) -> DictConfig:
    """A sweep file as a DictConfig; a missing, unreadable or malformed file is one clear line."""
    import yaml

    if not path.is_file():
        raise ConfigError(f"sweep error: {path}: " + ("is a directory, not a sweep config" if path.is_dir()
                                                       else "no such sweep config"))
    try:
        cfg = OmegaConf.load(path)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise ConfigError(f"sweep error: {path}{where}: malformed YAML: {getattr(err, 'problem', None) or err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"sweep error: {path}: cannot read it ({getattr(err, 'strerror', None) or err})") from None
    if cfg is None or (isinstance(cfg, DictConfig) and not len(cfg)):  # an empty file or only comments
        return OmegaConf.create({})
    if not isinstance(cfg, DictConfig):
        raise ConfigError(f"sweep error: {path}: a sweep config is a mapping (got a list)")
    return cfg


def _parse(data: dict[str, Any], label: str) -> Sweep:
    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"sweep error: {key}: {problem} (in {label})")

    unknown = [k for k in data if k not in TOP_KEYS]
    if unknown:
        raise fail(unknown[0], f"unknown key (known: {', '.join(TOP_KEYS)})")
    design = data.get("design", "grid")
    if design not in DESIGNS:
        raise fail("design", f"unknown design {design!r} (choose from {', '.join(DESIGNS)})")

    levers_raw = data.get("levers", DEFAULT_LEVERS)
    if not isinstance(levers_raw, dict):
        raise fail("levers", "must map lever names to lists of overrides")
    if not levers_raw:
        raise fail("levers", "is empty: name at least one lever, e.g. `levers: {baseline: []}` "
                             "(leave the key out to sweep only uncertainties of the baseline)")
    if "levers" not in data and not data.get("uncertainties"):
        raise fail("levers", "nothing varies: give levers, uncertainties, or both "
                             "(for replications of the baseline alone, write `levers: {baseline: []}`)")
    levers: dict[str, tuple[str, ...]] = {}
    for name, overrides in levers_raw.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise fail(f"levers.{name}", "lever names are non-empty and contain no '/'")
        overrides = [] if overrides is None else overrides
        if isinstance(overrides, str) or not all(isinstance(o, str) for o in overrides):
            raise fail(f"levers.{name}", "must be a list of override strings, e.g. ['regime=customs_union']")
        for item in overrides:
            problem = _ignored_in_sweeps(item, data.get("horizon_days"))
            if problem:
                raise fail(f"levers.{name}", f"{item!r}: {problem}")
        levers[name] = tuple(overrides)

    uncertainties_raw = data.get("uncertainties") or {}
    if not isinstance(uncertainties_raw, dict):
        raise fail("uncertainties", "must map dotted parameter keys to {low, high}, {values: [...]} or {range: provenance}")
    uncertainties = tuple(_uncertainty(key, spec, design, fail) for key, spec in uncertainties_raw.items())

    n_samples = data.get("n_samples")
    if design in ("lhs", "saltelli") and uncertainties:
        if not _is_int(n_samples) or n_samples < 1:
            raise fail("n_samples", f"the {design} design needs n_samples, a positive integer (got {n_samples!r})")
        if design == "saltelli" and n_samples & (n_samples - 1):
            raise fail("n_samples", f"the saltelli design needs a power of 2 (got {n_samples}; try {1 << n_samples.bit_length()})")
    replications = data.get("replications", 1)
    if not _is_int(replications) or replications < 1:
        raise fail("replications", f"must be a positive integer (got {replications!r})")
    seed = data.get("seed", 0)
    if not _is_int(seed) or seed < 0:
        raise fail("seed", f"must be a non-negative integer (got {seed!r})")
    horizon = data.get("horizon_days")
    if horizon is not None and (not _is_int(horizon) or horizon < 1):
        raise fail("horizon_days", f"must be a positive integer (got {horizon!r})")
    second_order = data.get("second_order", True)
    if not isinstance(second_order, bool):
        raise fail("second_order", f"must be true or false (got {second_order!r})")
    summary_by = data.get("summary_by", ["lever"])
    summary_by = (summary_by,) if isinstance(summary_by, str) else tuple(summary_by or ())
    details = data.get("details") or []
    details = (details,) if isinstance(details, str) else tuple(details)
    from sim.sweep.worker import DETAILS
    for kind in details:
        if kind not in DETAILS:
            raise fail("details", f"unknown detail {kind!r} (choose from {', '.join(DETAILS)})")
    posterior = _posterior_setting(data.get("posterior"), design, levers, uncertainties, fail)
    return Sweep(name=str(data.get("name") or Path(label).stem), levers=levers, uncertainties=uncertainties,
                 design=design, n_samples=n_samples, replications=replications, seed=seed, horizon_days=horizon,
                 second_order=second_order, summary_by=summary_by, details=details, posterior=posterior, source=label)


def _posterior_setting(value: Any, design: str, levers: dict[str, tuple[str, ...]],
                       uncertainties: tuple[Uncertainty, ...], fail) -> int | None:
    """The number of posterior draws of a sweep (None: none), checked against its design and keys."""
    if value is None:
        return None
    if not _is_int(value) or value < 1:
        raise fail("posterior", f"must be a positive number of draws (got {value!r})")
    if design == "saltelli":
        raise fail("posterior", "posterior draws are not part of a Saltelli sample (Sobol indices); use grid or lhs")
    from sim.posterior import check_overrides, load_posterior, posterior_keys

    try:
        keys = set(posterior_keys(load_posterior()))
    except ConfigError as err:
        raise fail("posterior", str(err).removeprefix("config error: ")) from None
    for name, overrides in levers.items():
        try:
            check_overrides(overrides, keys)
        except ConfigError as err:
            raise fail(f"levers.{name}", str(err).removeprefix("config error: ")) from None
    clash = [u.key for u in uncertainties if u.key in keys]
    if clash:
        raise fail(f"uncertainties.{clash[0]}", "is set by every posterior draw; leave it out, or drop `posterior`")
    return value


def _ignored_in_sweeps(override: str, sweep_horizon: Any) -> str | None:
    """Why a lever override would have no effect on a sweep's runs (None if it has one).

    Each sweep run is one simulation with the sweep's seed and no files of its own, so the
    run settings a single ``python -m sim`` run reads (its seed, its extra replications,
    its output files, Hydra's run directory) would be silently ignored: refuse them.
    """
    key = override.split("=", 1)[0].lstrip("+~").strip()
    head = key.split(".", 1)[0]
    if key == "seed":
        return "a sweep sets every run's seed from its own `seed` (replication r gets the same seed in every lever)"
    if key == "horizon_days" and sweep_horizon is not None:
        return "the sweep's `horizon_days` sets every run's horizon; give it there or in each lever, not both"
    if head in ("report", "output", "hydra"):
        return (f"`{head}` settings do not apply to sweep runs (each run is one simulation with no files of its own; "
                "set `replications` in the sweep file)")
    return None


def _uncertainty(key: Any, spec: Any, design: str, fail) -> Uncertainty:
    where = f"uncertainties.{key}"
    if not isinstance(key, str) or not key or key in ("seed", "horizon_days"):
        raise fail(where, "keys are dotted parameter paths such as world.flow.supply_multiplier (not seed/horizon_days)")
    if key.split(".", 1)[0] in ("report", "output", "hydra"):
        raise fail(where, f"`{key.split('.', 1)[0]}` settings do not apply to sweep runs; uncertainties are model parameters")
    if not isinstance(spec, dict):
        raise fail(where, "give {low, high}, {values: [...]} or {range: provenance}")
    unknown = [k for k in spec if k not in SPEC_KEYS]
    if unknown:
        raise fail(f"{where}.{unknown[0]}", f"unknown setting (known: {', '.join(SPEC_KEYS)})")
    kinds = [k for k in ("values", "range") if k in spec] + (["low/high"] if "low" in spec or "high" in spec else [])
    if len(kinds) != 1:
        raise fail(where, "give exactly one of {low, high}, {values: [...]} or {range: provenance}")
    integer = bool(spec.get("integer", False))
    if "values" in spec:
        values = spec["values"]
        if not isinstance(values, list) or not values:
            raise fail(f"{where}.values", "must be a non-empty list")
        return Uncertainty(key, values=tuple(values), integer=integer)
    if "range" in spec:
        if spec["range"] != "provenance":
            raise fail(f"{where}.range", "the only range by name is 'provenance'; give low and high otherwise")
        from sim.provenance import lookup
        entry = lookup(key)
        if entry is None or entry.range is None:
            raise fail(f"{where}.range", "scenarios/provenance.yaml records no plausible range for this key")
        low, high = entry.range
    else:
        low, high = spec.get("low"), spec.get("high")
        for name, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise fail(f"{where}.{name}", f"must be a finite number (got {value!r})")
        if low > high:
            raise fail(where, f"low ({low}) > high ({high})")
    levels = spec.get("levels")
    if design == "grid":
        if not _is_int(levels) or levels < 1:
            raise fail(f"{where}.levels", f"a grid over a range needs levels, the number of evenly spaced values (got {levels!r})")
    elif levels is not None:
        raise fail(f"{where}.levels", f"levels is for the grid design, not {design}")
    return Uncertainty(key, low=float(low), high=float(high), levels=levels, integer=integer)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def build_experiments(sweep_cfg: str | Path | Mapping[str, Any] | DictConfig | Sweep, *, quick: bool = False,
                      validate: bool = True) -> list[Experiment]:
    """The runs of a sweep: every lever x every sample x every replication.

    Run ids are ``<lever>/s<sample>/r<replication>``; ``inputs`` label each run with its
    lever, sample and replication (the sampled values are in the updates columns).
    With ``validate``, each lever is composed once and every uncertain key is set to its
    extreme values, so a misspelt key or an inadmissible range fails here, before any run.
    """
    sweep = load_sweep(sweep_cfg)
    if quick:
        sweep = sweep.quick()
    if validate:
        validate_sweep(sweep)
    samples = sweep.samples()
    seeds = replication_seeds(sweep.seed, sweep.replications)
    s_width, r_width = len(str(len(samples) - 1)), len(str(sweep.replications - 1))
    horizon = {} if sweep.horizon_days is None else {"horizon_days": sweep.horizon_days}
    draw = (lambda s: {"draw": s % sweep.posterior}) if sweep.posterior else (lambda s: {})
    return [
        Experiment(run_id=f"{lever}/s{s:0{s_width}d}/r{r:0{r_width}d}", scenario=overrides,
                   updates={**sample, **horizon}, seed=seeds[r],
                   inputs={"lever": lever, "sample": s, **draw(s), "replication": r})
        for lever, overrides in sweep.levers.items()
        for s, sample in enumerate(samples)
        for r in range(sweep.replications)
    ]


def validate_sweep(sweep: Sweep) -> None:
    """Compose each lever and try each uncertainty's extremes: clear errors before running."""
    from sim.config import load_params, with_updates

    for lever, overrides in sweep.levers.items():
        try:
            base = load_params(list(overrides))
            check_routes(base)
        except ConfigError as err:
            raise ConfigError(f"sweep error: levers.{lever}: {_strip(err)} (in {sweep.source})") from None
        for u in sweep.uncertainties:
            extremes = u.values if u.discrete else (u.from_unit(np.array([0.0]))[0], u.from_unit(np.array([1.0]))[0])
            for value in extremes:
                try:
                    updated = with_updates(base, {u.key: value})
                    if u.key.startswith("network."):
                        check_routes(updated)
                except ConfigError as err:
                    raise ConfigError(f"sweep error: uncertainties.{u.key}: value {value!r} rejected in lever "
                                      f"{lever!r}: {_strip(err)} (in {sweep.source})") from None


def check_routes(params) -> None:
    """Raise ConfigError when some organisation has no route to one of its markets.

    The model finds this only when a run starts; a sweep checks every lever before any
    run, so that a network broken in one lever is one clear error, not every run failing.
    Route menus are cached, so the runs reuse this work (~0.15 s per distinct network).
    """
    from sim.model.network import build_network
    from sim.model.routing import build_route_menus

    build_route_menus(params, build_network(params.network, params.world.transport))


def _strip(err: Exception) -> str:
    text = str(err)
    return text.split(": ", 1)[1] if text.startswith("config error: ") else text


def sobol_indices(table: pd.DataFrame, sweep: Sweep | str | Path | Mapping[str, Any], outcome: str,
                  by: str | None = "lever") -> pd.DataFrame:
    """First-order and total Sobol indices of ``outcome`` for a ``saltelli`` sweep.

    Replications are averaged per sample first (the indices describe the uncertain
    parameters, not the model's own noise). One block of rows per lever (``by``), with
    columns parameter, S1, S1_conf, ST, ST_conf.
    """
    from SALib.analyze import sobol

    sweep = load_sweep(sweep)
    if sweep.design != "saltelli":
        raise ConfigError(f"sweep error: design: Sobol indices need the saltelli design (this sweep is {sweep.design})")
    problem = sweep.salib_problem(unit=True)
    expected = len(sweep.samples())
    ok = table[table["status"] == "ok"]
    frames = []
    for group, part in (ok.groupby(by, sort=False) if by else [(None, ok)]):
        y = part.groupby("sample")[outcome].mean().reindex(range(expected))
        if y.isna().any():
            raise ValueError(f"sobol_indices: {group or 'table'} lacks {int(y.isna().sum())} of {expected} samples "
                             "(failed or missing runs); Sobol estimates need every sample")
        res = sobol.analyze(problem, y.to_numpy(), calc_second_order=sweep.second_order, print_to_console=False)
        frame = pd.DataFrame({"parameter": problem["names"], "S1": res["S1"], "S1_conf": res["S1_conf"],
                              "ST": res["ST"], "ST_conf": res["ST_conf"]})
        if by:
            frame.insert(0, by, group)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
