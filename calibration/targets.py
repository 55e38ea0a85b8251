"""The calibration targets: facts from the seed documents, as validated data.

``calibration/targets.yaml`` lists each fact with its value and uncertainty, unit,
period, the model output it is compared with and its source. :func:`load_targets` reads
and checks it: a target without a seed-file citation, naming an output the model does
not produce, or with an impossible uncertainty is rejected with a one-line
:class:`~sim.params.ConfigError` that names the target and the field.

:meth:`Target.model_values` turns a table of runs (one row per run, the outcome columns of
:func:`sim.model.outcomes.summarise`) into the figure comparable with the fact, and
:func:`distances` gives the ABC distance: the root mean square of the differences
between simulated and observed figures, each divided by the fact's uncertainty.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from sim.params import ConfigError, Params

TARGETS_PATH = Path(__file__).resolve().parent / "targets.yaml"

ROLES = ("fit", "held_out")
PERIOD_DAYS = {"quarter": 365 / 4, "year": 365.0}
BOUNDS = ("upper", "lower")
TRANSFORMS = ("none", "log")
Z90 = 1.6448536269514722          # a 90% interval is +-1.645 sd of a normal
BOOTSTRAP_SEED = 0                 # resampling seed: the bootstrap sd is a fixed property of the data
#: a seed file and paragraph, e.g. "002_3aa904e3dc1761f0.txt ¶2"
CITATION = re.compile(r"\d{3}_[0-9a-f]{16}\.txt ¶\d+")

FIELDS = {"name", "description", "role", "value", "observations", "statistic", "count", "total", "unit", "period",
          "uncertainty", "transform", "output", "per", "scale", "bound", "source", "note", "reason"}


@dataclass(frozen=True)
class Target:
    """One fact the model is compared with (see the header of targets.yaml for the fields)."""

    name: str
    description: str
    role: str
    value: float                      # the observed figure, natural scale
    sd: float                         # its uncertainty on the comparison scale (log scale if transform=log)
    unit: str
    period: str
    source: str
    outputs: tuple[str, ...] = ()     # outcome keys (summed); empty when param or no output
    param: str | None = None          # a parameter of the run (identity check of an input)
    per: str | None = None
    scale: float = 1.0
    transform: str = "none"
    bound: str | None = None
    interval: tuple[float, float] | None = None   # the 90% interval, natural scale, for display
    note: str = ""
    reason: str = ""

    @property
    def fitted(self) -> bool:
        return self.role == "fit"

    @property
    def has_output(self) -> bool:
        return bool(self.outputs) or self.param is not None

    @property
    def output_label(self) -> str:
        if self.param is not None:
            text = f"param {self.param}"
        elif self.outputs:
            text = " + ".join(self.outputs)
        else:
            return "(none)"
        if self.per:
            text += f" per {self.per}"
        if self.scale != 1.0:
            text += f" x {self.scale:g}"
        return text

    @property
    def observed(self) -> float:
        """The observed figure on the comparison scale."""
        return self.transform_value(self.value)

    def transform_value(self, x):
        """Map natural-scale figures to the comparison scale (log for sizes); 0 -> -inf."""
        if self.transform != "log":
            return x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def model_values(self, runs: pd.DataFrame, base_params: Params | None = None) -> np.ndarray:
        """The model's figure for each run (natural scale): outputs summed, rescaled.

        ``runs`` has one row per run with the outcome columns (and ``horizon_days``); a
        parameter output is read from the run's column if the run set it, else from
        ``base_params``.
        """
        n = len(runs)
        if self.param is not None:
            if self.param in runs.columns:
                raw = pd.to_numeric(runs[self.param], errors="coerce").to_numpy(float)
            elif base_params is not None:
                raw = np.full(n, float(get_dotted(base_params.model_dump(mode="python"), self.param)))
            else:
                raise ConfigError(f"targets error: {self.name}: output: parameter {self.param!r} is not in the runs table")
            return raw * self.scale
        if not self.outputs:
            return np.full(n, np.nan)
        missing = [k for k in self.outputs if k not in runs.columns]
        if missing:
            raise ConfigError(f"targets error: {self.name}: output: the runs table has no column {missing[0]!r}")
        raw = sum(pd.to_numeric(runs[k], errors="coerce").to_numpy(float) for k in self.outputs)
        if self.per is not None:
            horizon = pd.to_numeric(runs["horizon_days"], errors="coerce").to_numpy(float) if "horizon_days" in runs else None
            if horizon is None or np.isnan(horizon).any():
                raise ConfigError(f"targets error: {self.name}: per: the runs table lacks horizon_days to rescale by")
            raw = raw * PERIOD_DAYS[self.per] / horizon
        return raw * self.scale

    def z_scores(self, model_values: np.ndarray) -> np.ndarray:
        """(simulated - observed) / sd on the comparison scale; NaN/inf where undefined."""
        sim = self.transform_value(np.asarray(model_values, float))
        return (sim - self.observed) / self.sd

    def check_bound(self, model_value: float) -> bool | None:
        """For a bound: does the model's figure respect it? None for non-bounds."""
        if self.bound is None or not np.isfinite(model_value):
            return None
        return model_value <= self.value if self.bound == "upper" else model_value >= self.value


@dataclass(frozen=True)
class TargetSet:
    """The validated targets, in file order."""

    targets: tuple[Target, ...]
    path: Path | None = None

    def __iter__(self):
        return iter(self.targets)

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def fit(self) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.fitted)

    @property
    def held_out(self) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if not t.fitted)

    def __getitem__(self, name: str) -> Target:
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(name)

    def model_table(self, runs: pd.DataFrame, base_params: Params | None = None,
                    targets: Iterable[Target] | None = None) -> pd.DataFrame:
        """One column per target with the model's figure for each run (natural scale)."""
        chosen = self.targets if targets is None else tuple(targets)
        return pd.DataFrame({t.name: t.model_values(runs, base_params) for t in chosen if t.has_output},
                            index=runs.index)

    def distances(self, runs: pd.DataFrame, base_params: Params | None = None) -> np.ndarray:
        """ABC distance of each run to the fitted facts (inf where a figure is undefined)."""
        return distances(self.fit, runs, base_params)


def distances(targets: Sequence[Target], runs: pd.DataFrame, base_params: Params | None = None) -> np.ndarray:
    """Root mean square of the uncertainty-normalised differences over ``targets``.

    A run whose figure is undefined for some target (no seizure to take a median of, a
    failed run) is infinitely far: it is never accepted.
    """
    if not targets:
        raise ConfigError("targets error: no fitted targets (role: fit) to compute a distance from")
    z = np.column_stack([t.z_scores(t.model_values(runs, base_params)) for t in targets])
    d = np.sqrt(np.mean(z ** 2, axis=1))
    d[~np.isfinite(d)] = np.inf
    if "status" in runs:
        d[(runs["status"] != "ok").to_numpy()] = np.inf
    return d


# --- reading and validating -----------------------------------------------------------


def load_targets(path: str | Path = TARGETS_PATH, *, known_outputs: Iterable[str] | None = None,
                 params: Params | None = None) -> TargetSet:
    """Read and validate a targets file.

    Args:
        path: the YAML file (``targets: [...]``).
        known_outputs: the outcome keys the model produces; default: those of the base
            scenario (:func:`known_outputs`).
        params: parameters a ``{param: ...}`` output is checked against (default: base).
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"targets error: {path}: no such file") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"targets error: {path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("targets"), list) or not data["targets"]:
        raise ConfigError(f"targets error: {path}: expected a non-empty list under 'targets'")
    if params is None:
        params = base_params()
    known = set(known_outputs) if known_outputs is not None else set(known_outputs_for(params))
    param_data = params.model_dump(mode="python")
    targets, seen = [], set()
    for i, raw in enumerate(data["targets"]):
        target = parse_target(raw, i, known, param_data)
        if target.name in seen:
            raise ConfigError(f"targets error: {target.name}: duplicate target name")
        seen.add(target.name)
        targets.append(target)
    if not any(t.fitted for t in targets):
        raise ConfigError(f"targets error: {path}: no target has role 'fit'")
    return TargetSet(tuple(targets), path)


def parse_target(raw: Any, index: int, known: set[str], param_data: Mapping[str, Any]) -> Target:
    """Validate one entry of the targets list into a :class:`Target`."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"targets error: targets.{index}: expected a mapping, got {type(raw).__name__}")
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
        raise ConfigError(f"targets error: targets.{index}.name: a lower-case identifier is required (got {name!r})")

    def fail(field: str, problem: str) -> ConfigError:
        return ConfigError(f"targets error: {name}: {field}: {problem}")

    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise fail(unknown[0], "unknown field")
    for field in ("description", "unit", "period"):
        if not isinstance(raw.get(field), (str, int)) or not str(raw[field]).strip():
            raise fail(field, "required (a non-empty text)")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise fail("source", "missing: every target must cite its seed file and paragraph")
    if not CITATION.search(source):
        raise fail("source", f"must name a seed file and paragraph, like '002_3aa904e3dc1761f0.txt ¶2' (got {source!r})")
    role = raw.get("role")
    if role not in ROLES:
        raise fail("role", f"must be one of {', '.join(ROLES)} (got {role!r})")
    transform = raw.get("transform", "none")
    if transform not in TRANSFORMS:
        raise fail("transform", f"must be one of {', '.join(TRANSFORMS)} (got {transform!r})")

    value, observations = _observed_value(raw, fail)
    if transform == "log" and value <= 0:
        raise fail("value", f"must be positive for transform: log (got {value:g})")
    sd, interval = _uncertainty(raw, value, observations, transform, fail)

    outputs, param = _outputs(raw, role, known, param_data, fail)
    per = raw.get("per")
    if per is not None and per not in PERIOD_DAYS:
        raise fail("per", f"must be one of {', '.join(PERIOD_DAYS)} (got {per!r})")
    if per is not None and param is not None:
        raise fail("per", "a parameter output cannot be rescaled by period")
    scale = raw.get("scale", 1.0)
    if not _is_number(scale) or not math.isfinite(scale) or scale <= 0:
        raise fail("scale", f"must be a positive number (got {scale!r})")
    bound = raw.get("bound")
    if bound is not None:
        if bound not in BOUNDS:
            raise fail("bound", f"must be one of {', '.join(BOUNDS)} (got {bound!r})")
        if role == "fit":
            raise fail("bound", "a bound can only be checked on a held_out target, not fitted")
    reason = raw.get("reason") or ""
    if not (outputs or param) and not reason.strip():
        raise fail("reason", "a target without output must say why the model has none")
    return Target(
        name=name, description=raw["description"].strip(), role=role, value=float(value), sd=float(sd),
        unit=str(raw["unit"]), period=str(raw["period"]), source=source.strip(), outputs=outputs, param=param,
        per=per, scale=float(scale), transform=transform, bound=bound, interval=interval,
        note=(raw.get("note") or "").strip(), reason=reason.strip(),
    )


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _observed_value(raw: Mapping[str, Any], fail) -> tuple[float, np.ndarray | None]:
    """The observed figure: a value, a statistic of observations, or count/total."""
    given = [k for k in ("value", "observations", "count") if k in raw]
    if len(given) != 1:
        raise fail("value", "give exactly one of value, observations (+ statistic) or count (+ total)")
    if "value" in raw:
        value = raw["value"]
        if not _is_number(value) or not math.isfinite(value):
            raise fail("value", f"must be a finite number (got {value!r})")
        return float(value), None
    if "count" in raw:
        count, total = raw.get("count"), raw.get("total")
        if not _is_number(count) or not _is_number(total) or total <= 0 or not 0 <= count <= total:
            raise fail("count", f"needs 0 <= count <= total and total > 0 (got {count!r} of {total!r})")
        return count / total, None
    obs = raw["observations"]
    if not isinstance(obs, list) or len(obs) < 2 or not all(_is_number(x) and math.isfinite(x) for x in obs):
        raise fail("observations", "must be a list of at least two finite numbers")
    obs = np.asarray(obs, float)
    stat = raw.get("statistic")
    if not isinstance(stat, Mapping) or set(stat) != {"quantile"}:
        raise fail("statistic", "observations need statistic: {quantile: q}")
    q = stat["quantile"]
    if not _is_number(q) or not 0 < q < 1:
        raise fail("statistic", f"quantile must lie strictly between 0 and 1 (got {q!r})")
    if raw.get("transform") == "log" and (obs <= 0).any():
        raise fail("observations", "must be positive for transform: log")
    return float(np.quantile(obs, q)), obs


def _uncertainty(raw, value: float, observations, transform: str, fail) -> tuple[float, tuple[float, float] | None]:
    """The sd on the comparison scale, and a 90% interval on the natural scale."""
    unc = raw.get("uncertainty")
    if not isinstance(unc, Mapping):
        raise fail("uncertainty", "required: one of sd, interval, bootstrap or binomial")
    kinds = [k for k in ("sd", "interval", "bootstrap", "binomial") if k in unc]
    extra_keys = sorted(set(unc) - {"sd", "interval", "bootstrap", "binomial", "extra_sd"})
    if extra_keys:
        raise fail("uncertainty", f"unknown field {extra_keys[0]!r}")
    if len(kinds) != 1:
        raise fail("uncertainty", "give exactly one of sd, interval, bootstrap or binomial")
    kind = kinds[0]
    tv = (lambda x: math.log(x)) if transform == "log" else (lambda x: x)
    if kind == "sd":
        sd = unc["sd"]
        if not _is_number(sd) or not math.isfinite(sd) or sd <= 0:
            raise fail("uncertainty", f"sd must be a positive number (got {sd!r})")
        sd = float(sd)
    elif kind == "interval":
        iv = unc["interval"]
        if (not isinstance(iv, list) or len(iv) != 2 or not all(_is_number(x) for x in iv)
                or not iv[0] < iv[1]):
            raise fail("uncertainty", f"interval must be [low, high] with low < high (got {iv!r})")
        if not iv[0] <= value <= iv[1]:
            raise fail("uncertainty", f"the value {value:g} lies outside its interval {iv}")
        if transform == "log" and iv[0] <= 0:
            raise fail("uncertainty", "interval must be positive for transform: log")
        sd = (tv(iv[1]) - tv(iv[0])) / (2 * Z90)
    elif kind == "bootstrap":
        n = unc["bootstrap"]
        if observations is None:
            raise fail("uncertainty", "bootstrap needs observations")
        if not isinstance(n, int) or isinstance(n, bool) or n < 100:
            raise fail("uncertainty", f"bootstrap must be a number of resamples >= 100 (got {n!r})")
        sd = bootstrap_sd(observations, raw["statistic"]["quantile"], n, log=transform == "log")
        if not sd > 0:
            raise fail("uncertainty", "the bootstrap sd of the observations is 0: give an extra_sd")
    else:
        if unc["binomial"] is not True or "total" not in raw:
            raise fail("uncertainty", "binomial: true needs count and total")
        if transform == "log":
            raise fail("uncertainty", "binomial uncertainty is on the share scale, not log")
        sd = math.sqrt(max(value * (1 - value), 0.25 / raw["total"]) / raw["total"])
    extra = unc.get("extra_sd", 0.0)
    if not _is_number(extra) or not math.isfinite(extra) or extra < 0:
        raise fail("uncertainty", f"extra_sd must be a non-negative number (got {extra!r})")
    sd = math.sqrt(sd ** 2 + float(extra) ** 2)
    if not sd > 0:
        raise fail("uncertainty", "the uncertainty must be positive")
    if kind == "interval":
        interval = (float(unc["interval"][0]), float(unc["interval"][1]))
    elif transform == "log":
        interval = (math.exp(math.log(value) - Z90 * sd), math.exp(math.log(value) + Z90 * sd))
    else:
        interval = (value - Z90 * sd, value + Z90 * sd)
    return sd, interval


def bootstrap_sd(observations: np.ndarray, quantile: float, resamples: int, log: bool) -> float:
    """Standard deviation of a sample quantile over bootstrap resamples (log scale if ``log``)."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    x = np.log(observations) if log else np.asarray(observations, float)
    draws = rng.choice(x, size=(resamples, len(x)), replace=True)
    return float(np.std(np.quantile(draws, quantile, axis=1), ddof=1))


def _outputs(raw, role: str, known: set[str], param_data: Mapping[str, Any], fail) -> tuple[tuple[str, ...], str | None]:
    if "output" not in raw:
        raise fail("output", "required: an outcome key, a list of keys, {param: key} or null (held_out only)")
    out = raw["output"]
    if out is None:
        if role == "fit":
            raise fail("output", "a fitted target needs a model output")
        return (), None
    if isinstance(out, Mapping):
        if set(out) != {"param"} or not isinstance(out["param"], str):
            raise fail("output", f"a mapping output must be {{param: dotted.key}} (got {dict(out)!r})")
        try:
            value = get_dotted(param_data, out["param"])
        except KeyError:
            raise fail("output", f"unknown parameter {out['param']!r}") from None
        if not _is_number(value):
            raise fail("output", f"parameter {out['param']!r} is not a number")
        return (), out["param"]
    keys = [out] if isinstance(out, str) else out
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise fail("output", f"must be an outcome key or a list of keys (got {out!r})")
    for key in keys:
        if key not in known:
            close = sorted(k for k in known if key.split("_")[0] in k)[:3]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise fail("output", f"unknown model output {key!r}: not a key of sim.model.outcomes.summarise{hint}")
    return tuple(keys), None


def get_dotted(data: Mapping[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


# --- what the model can be compared on --------------------------------------------------


@lru_cache(maxsize=2)
def base_params(overrides: tuple[str, ...] = ()) -> Params:
    """The composed base scenario (cached: composing costs ~0.3 s)."""
    from sim.config import load_params

    return load_params(list(overrides))


def known_outputs_for(params: Params) -> tuple[str, ...]:
    """The outcome keys :func:`sim.model.outcomes.summarise` gives for a model of ``params``.

    The model is built but not run: keys that exist only once something happened (say,
    ``kg_seized_agency_<slug>`` after that agency's first seizure) are not included, so
    targets must use the keys that are always present.
    """
    return _known_outputs(params.model_dump_json())


@lru_cache(maxsize=4)
def _known_outputs(params_json: str) -> tuple[str, ...]:
    from sim.model import NorthernRouteModel
    from sim.model.outcomes import summarise

    params = Params.model_validate_json(params_json)
    model = NorthernRouteModel(params, keep_events=False)
    return tuple(summarise(model))
