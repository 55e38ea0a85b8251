"""Composing scenario configs with Hydra's compose API (for notebooks, tests, workers).

The command line uses ``@hydra.main`` (see :mod:`sim.cli`); everything else composes the
same files through :func:`load_params`, so there is one set of configs and one validation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.params import ConfigError, Params, params_from_mapping

# ``${pid:}`` in scenarios/config.yaml: the default run directory's suffix, unique among
# the runs alive on this machine (see sim.outputs.claim_run_dir for explicit directories).
OmegaConf.register_new_resolver("pid", os.getpid, replace=True)

SCENARIOS_DIR = Path(
    os.environ.get("NORTHERN_ROUTE_SCENARIOS", Path(__file__).resolve().parents[1] / "scenarios")
)


def compose_config(overrides: Iterable[str] = (), config_name: str = "config") -> DictConfig:
    """Compose ``scenarios/<config_name>.yaml`` with Hydra overrides, as the CLI would.

    Everything a user typed is checked here (:mod:`sim.scenario_checks`): options of
    config groups, keys no part of the model reads, policy files in the wrong package,
    contradictory choices, run settings. Each mistake is one :class:`ConfigError` line.
    """
    from sim import scenario_checks as checks

    overrides = list(overrides)
    checks.check_override_keys(overrides)
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(SCENARIOS_DIR), version_base="1.3"):
            loader = GlobalHydra.instance().config_loader()
            try:
                cfg = compose(config_name=config_name, overrides=overrides)
            except (HydraException, OmegaConfBaseException) as err:
                raise ConfigError(checks.explain_composition_error(
                    str(err), overrides, loader, lambda groups: _compose_or_empty(config_name, groups))) from None
            data = config_to_dict(cfg)
            checks.check_top_level_keys(data, overrides)
            checks.check_run_settings(data)
            checks.check_contradictions(loader, overrides)
            return cfg
    except (HydraException, OmegaConfBaseException) as err:
        raise ConfigError(f"config error: {_first_line(err)}") from None
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        place = f"{where.name}, line {where.line + 1}" if where else "a YAML file"
        raise ConfigError(f"config error: malformed YAML in {place}: {getattr(err, 'problem', err)}") from None


def _compose_or_empty(config_name: str, overrides: list[str]) -> DictConfig:
    try:
        return compose(config_name=config_name, overrides=overrides)
    except (HydraException, OmegaConfBaseException):
        return OmegaConf.create({})


def config_to_dict(cfg: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """A plain, resolved dict of a composed config (the ``hydra`` node dropped)."""
    if isinstance(cfg, dict):
        return cfg
    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("hydra", None)
    return data


def params_from_config(cfg: DictConfig | dict[str, Any]) -> Params:
    """Validate a composed config into :class:`~sim.params.Params`."""
    try:
        data = config_to_dict(cfg)
    except OmegaConfBaseException as err:
        raise ConfigError(f"config error: {_first_line(err)}") from None
    return params_from_mapping(data)


def load_params(overrides: Iterable[str] = (), config_name: str = "config") -> Params:
    """Compose and validate in one call: ``load_params(["seed=3", "regime=customs_union"])``."""
    return params_from_config(compose_config(overrides, config_name))


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def with_updates(params: Params, updates: dict[str, Any]) -> Params:
    """A copy of ``params`` with dotted keys set, validated: the fast path for sweeps.

    ``with_updates(p, {"world.flow.supply_multiplier": 1.43, "seed": 7})``. Keys must
    already exist (a misspelt key is an error, not a silent new setting); composing a
    Hydra config per run would cost far more than the run itself.
    """
    if "regime.name" in updates:
        raise ConfigError(f"config error: regime.name: the label of the chosen regime changes no rule; compose the "
                          f"regime instead: load_params(['regime={updates['regime.name']}']) or "
                          f"Experiment(scenario=('regime={updates['regime.name']}',))")
    data = params.model_dump(mode="json")
    for key, value in updates.items():
        set_dotted(data, key, value)
    return params_from_mapping(data)


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``data["a"]["b"]["c"] = value`` for key ``"a.b.c"``; the key must exist."""
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, dict):
            if part not in node:
                raise ConfigError(f"config error: {key}: unknown key {part!r} (at {'.'.join(parts[:depth]) or 'top level'})")
            if last:
                node[part] = value
            else:
                node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        else:
            raise ConfigError(f"config error: {key}: cannot set {part!r} inside a {type(node).__name__}")
