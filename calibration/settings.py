"""Calibration settings: the uncertain parameters with their priors, and run sizes.

``calibration/settings.yaml`` names the parameters; each prior is uniform over the
parameter's plausible ``range`` in ``scenarios/provenance.yaml`` (the one registry of
where numbers come from), unless the settings give a ``range`` of their own with a
``why``. ``full`` and ``quick`` sizes are read from the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

from sim.params import ConfigError, Params

SETTINGS_PATH = Path(__file__).resolve().parent / "settings.yaml"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
MODES = ("full", "quick")


@dataclass(frozen=True)
class Parameter:
    """One uncertain parameter: its dotted key, uniform prior bounds and where they come from."""

    key: str
    low: float
    high: float
    basis: str            # "scenarios/provenance.yaml" or the settings' own reason
    integer: bool = False
    label: str = ""

    @property
    def short(self) -> str:
        """A readable label: the settings' label, or the last two parts of the key."""
        return self.label or ".".join(self.key.split(".")[-2:])

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        x = self.low + np.asarray(u, float) * (self.high - self.low)
        return np.round(x) if self.integer else x

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, float) - self.low) / (self.high - self.low)

    def value(self, x: float) -> float | int:
        return int(round(x)) if self.integer else float(x)


@dataclass(frozen=True)
class Settings:
    """Everything one calibration or sensitivity run needs (for one mode)."""

    mode: str
    parameters: tuple[Parameter, ...]
    base_overrides: tuple[str, ...]
    abc: Mapping[str, Any]
    kernel_scale: float
    min_acceptance: float
    sensitivity: Mapping[str, Any]
    sensitivity_outputs: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [p.key for p in self.parameters]

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Points of the unit cube -> parameter values (columns in parameter order)."""
        u = np.atleast_2d(u)
        return np.column_stack([p.from_unit(u[:, i]) for i, p in enumerate(self.parameters)])

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        return np.column_stack([p.to_unit(x[:, i]) for i, p in enumerate(self.parameters)])

    def updates(self, x: np.ndarray) -> dict[str, float | int]:
        """One point as the dotted-key updates of a run."""
        return {p.key: p.value(v) for p, v in zip(self.parameters, np.asarray(x, float))}


def load_settings(mode: str = "full", path: str | Path = SETTINGS_PATH, params: Params | None = None) -> Settings:
    """Read the settings for ``mode`` ("full" or "quick") and resolve each prior."""
    if mode not in MODES:
        raise ConfigError(f"calibration settings error: mode: must be one of {', '.join(MODES)} (got {mode!r})")
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"calibration settings error: {path}: no such file") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"calibration settings error: {path}: expected a mapping")
    for section in ("parameters", "abc", "sensitivity"):
        if section not in data:
            raise ConfigError(f"calibration settings error: {section}: missing section")
    overrides = tuple(str(o) for o in data.get("base_overrides") or ())
    if params is None:
        from calibration.targets import base_params
        params = base_params(overrides)
    param_data = params.model_dump(mode="python")
    parameters = tuple(_parameter(raw, i, param_data) for i, raw in enumerate(data["parameters"]))
    if not parameters:
        raise ConfigError("calibration settings error: parameters: name at least one parameter")
    keys = [p.key for p in parameters]
    if len(set(keys)) != len(keys):
        raise ConfigError("calibration settings error: parameters: a key is listed twice")
    abc, sens = data["abc"], data["sensitivity"]
    for section, block in (("abc", abc), ("sensitivity", sens)):
        if mode not in block:
            raise ConfigError(f"calibration settings error: {section}.{mode}: missing")
    abc_mode = dict(abc[mode])
    for key in ("population", "batch", "generations", "horizon_days", "predictive_runs", "seed"):
        if not isinstance(abc_mode.get(key), int) or abc_mode[key] < (0 if key == "generations" else 1):
            raise ConfigError(f"calibration settings error: abc.{mode}.{key}: must be a positive integer (got {abc_mode.get(key)!r})")
    if abc_mode["batch"] < abc_mode["population"]:
        raise ConfigError(f"calibration settings error: abc.{mode}.batch: must be at least the population ({abc_mode['population']})")
    return Settings(
        mode=mode, parameters=parameters, base_overrides=overrides, abc=abc_mode,
        kernel_scale=float(abc.get("kernel_scale", 2.0)), min_acceptance=float(abc.get("min_acceptance", 0.0)),
        sensitivity=dict(sens[mode]), sensitivity_outputs=tuple(sens.get("outputs") or ()),
    )


def _parameter(raw: Any, index: int, param_data: Mapping[str, Any]) -> Parameter:
    from sim.provenance import lookup
    from calibration.targets import get_dotted

    if not isinstance(raw, Mapping) or not isinstance(raw.get("key"), str):
        raise ConfigError(f"calibration settings error: parameters.{index}: expected {{key: dotted.key}}")
    key = raw["key"]
    try:
        current = get_dotted(param_data, key)
    except KeyError:
        raise ConfigError(f"calibration settings error: parameters.{index}.key: unknown parameter {key!r}") from None
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise ConfigError(f"calibration settings error: parameters.{index}.key: {key!r} is not a number")
    if raw.get("range") is not None:
        low, high = raw["range"]
        if not raw.get("why"):
            raise ConfigError(f"calibration settings error: {key}.range: a prior range of its own needs a 'why'")
        basis = f"calibration/settings.yaml: {raw['why']}"
    else:
        entry = lookup(key)
        if entry is None or entry.range is None:
            raise ConfigError(f"calibration settings error: {key}: scenarios/provenance.yaml gives no range to take the prior from")
        (low, high), basis = entry.range, f"scenarios/provenance.yaml ({entry.key})"
    if not float(low) < float(high):
        raise ConfigError(f"calibration settings error: {key}: prior range must have low < high (got [{low}, {high}])")
    return Parameter(key=key, low=float(low), high=float(high), basis=basis, integer=bool(raw.get("integer", False)),
                     label=str(raw.get("label") or ""))
