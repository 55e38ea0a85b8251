"""Composing scenario configs with Hydra's compose API (for notebooks, tests, workers).

The command line uses ``@hydra.main`` (see :mod:`sim.cli`); everything else composes the
same files through :func:`load_params`, so there is one set of configs and one validation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.model.network import apply_network_changes
from sim.params import ConfigError, Params, params_from_mapping
from sim.timeline import GroupFiles, json_dates, resolve_timeline

# ``${pid:}`` in scenarios/config.yaml: the default run directory's suffix, unique among
# the runs alive on this machine (see sim.outputs.claim_run_dir for explicit directories).
OmegaConf.register_new_resolver("pid", os.getpid, replace=True)

SCENARIOS_DIR = Path(
    os.environ.get("NORTHERN_ROUTE_SCENARIOS", Path(__file__).resolve().parents[1] / "scenarios")
)


def compose_config(overrides: Iterable[str] = (), config_name: str = "config",
                   config_dir: str | os.PathLike | None = None) -> DictConfig:
    """Compose ``scenarios/<config_name>.yaml`` with Hydra overrides, as the CLI would.

    ``config_dir``: a folder of the user's own configs, searched too (:func:`user_config_dir`).
    Everything a user typed is checked here (:mod:`sim.scenario_checks`): options of
    config groups, keys no part of the model reads, policy files in the wrong package,
    contradictory choices, run settings. Each mistake is one :class:`ConfigError` line.
    """
    from sim import scenario_checks as checks

    overrides = list(overrides)
    checks.check_override_keys(overrides)
    overrides = [*config_dir_overrides(config_dir), *overrides]
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
            checks.check_calendar(data, overrides)
            checks.check_adaptation(data, overrides)
            resolve_config_timeline(cfg, loader, config_name, overrides)
            return cfg
    except (HydraException, OmegaConfBaseException) as err:
        raise ConfigError(f"config error: {_first_line(err)}") from None
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        place = f"{where.name}, line {where.line + 1}" if where else "a YAML file"
        raise ConfigError(f"config error: malformed YAML in {place}: {getattr(err, 'problem', err)}") from None


class HydraGroupFiles(GroupFiles):
    """Policy, shock and regime files found on Hydra's search path (a user's folder included)."""

    def __init__(self, loader: Any):
        self.loader = loader

    def load(self, group: str, name: str) -> dict[str, Any] | None:
        if name not in self.loader.get_group_options(group):
            return None
        result = self.loader.repository.load_config(f"{group}/{name}")
        if result is None or result.config is None:
            return None
        data = OmegaConf.to_container(result.config, resolve=True)
        data.pop("defaults", None)
        return data

    def options(self, group: str) -> list[str]:
        return list(self.loader.get_group_options(group))


def resolve_config_timeline(cfg: DictConfig, loader: Any, config_name: str, overrides: Iterable[str]) -> None:
    """Read the policies and regimes a composed config's timeline names (:func:`sim.timeline.resolve_timeline`).

    Runs where Hydra is live (:func:`compose_config`, the command line's run): a policy of
    the static config switched off goes back to the values of the same recipe composed
    without policies, shocks and preset.
    """
    data = config_to_dict(cfg)
    if not data.get("timeline"):
        return
    static = [o for o in overrides if o.lstrip("+~").split("=", 1)[0].split(".")[0] in
              ("network", "world", "calibrated", "regime", "hydra")]
    resolve_timeline(data, HydraGroupFiles(loader),
                     reference=lambda: config_to_dict(compose(config_name=config_name, overrides=static)))
    cfg.timeline = data["timeline"]


def with_timeline(params: Params, timeline: Iterable[Mapping[str, Any]] | None = None, start_date: Any = None,
                  config_dir: str | os.PathLike | None = None) -> Params:
    """``params`` with a timeline (replacing its own) and/or a start date, resolved and validated.

    ``timeline``: events as mappings (``[{"date": "2009-07-01", "policies": ["reinforce_uzbek_border"]}]``).
    Policy and regime files are read from ``scenarios/`` and ``config_dir``; a policy of
    the static config switched off goes back to the baseline composition's values.
    """
    data = params.model_dump(mode="json")
    if start_date is not None:
        data["start_date"] = json_dates(start_date)
    if timeline is not None:
        if isinstance(timeline, (str, Mapping)):
            raise ConfigError("config error: timeline: must be a list of events ({date: YYYY-MM-DD, policies: [...]})")
        data["timeline"] = [json_dates(dict(e)) if isinstance(e, Mapping) else e for e in timeline]
    folders = [SCENARIOS_DIR, *filter(None, [user_config_dir(config_dir)])]
    resolve_timeline(data, GroupFiles(folders),
                     reference=lambda: load_params(config_dir_overrides(config_dir)).model_dump(mode="json"))
    return params_from_mapping(data)


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
    if isinstance(data.get("network"), dict):
        data["network"] = apply_network_changes(data["network"])   # a scenario's own nodes and links
    return params_from_mapping(data)


def load_params(overrides: Iterable[str] = (), config_name: str = "config",
                config_dir: str | os.PathLike | None = None, *, timeline: Iterable[Mapping[str, Any]] | None = None,
                start_date: Any = None) -> Params:
    """Compose and validate in one call: ``load_params(["seed=3", "regime=customs_union"])``.

    ``config_dir``: a folder of the user's own configs (``load_params(["+policy=[my_post]"],
    config_dir="~/my_scenarios")``). ``timeline``: dated events replacing the scenario's
    own (``[{"date": "2009-07-01", "policies": ["reinforce_uzbek_border"]}]``, see
    :mod:`sim.timeline`); ``start_date``: the calendar date of day 0.
    """
    params = params_from_config(compose_config(overrides, config_name, config_dir))
    if timeline is None and start_date is None:
        return params
    return with_timeline(params, timeline, start_date, config_dir)


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
    for key in updates:
        parts = key.split(".")
        if parts[0] == "timeline" and len(parts) > 2 and parts[2] in ("policies", "policies_off", "resolved"):
            raise ConfigError(f"config error: {key}: an event's policies are read from their files when the scenario "
                              f"is composed; give them with load_params(..., timeline=[...]) or a Hydra override "
                              f"(timeline.{parts[1]}.date, .day and .set can be set here)")
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


# --- a user's own config folder (--config-dir) ---------------------------------------
# A folder outside the repository with the same layout as scenarios/ (policy/, preset/,
# world/, ...). Hydra searches it after scenarios/, so a file there with the name of a
# repository file would be silently shadowed: that is refused, naming both files.


def user_config_dir(config_dir: str | os.PathLike | None) -> Path | None:
    """The user's config folder, checked: it exists and shadows no repository file.

    Returns its absolute path (None for None, or for the repository's own folder).
    """
    if config_dir is None:
        return None
    folder = Path(config_dir).expanduser().resolve()
    if not folder.is_dir():
        raise ConfigError(f"config error: --config-dir {config_dir}: no such folder")
    if folder == SCENARIOS_DIR.resolve():
        return None
    for path in sorted(folder.rglob("*.y*ml")):
        twin = SCENARIOS_DIR / path.relative_to(folder)
        if twin.is_file():
            raise ConfigError(f"config error: {path} has the name of the repository's {twin}, which Hydra would use "
                              f"instead: rename yours (e.g. {path.parent.name}/my_{path.name})")
    return folder


def config_dir_overrides(config_dir: str | os.PathLike | None) -> list[str]:
    """The Hydra override that adds a user's config folder: ``hydra.searchpath=[...]``.

    Sweeps carry it in each experiment's scenario, so a worker anywhere composes the
    same configs.
    """
    folder = user_config_dir(config_dir)
    return [] if folder is None else [f"hydra.searchpath=['file://{folder.as_posix()}']"]


def config_dirs_in(overrides: Iterable[str]) -> list[Path]:
    """The user config folders a list of overrides adds (see :func:`config_dir_overrides`)."""
    prefix = "hydra.searchpath=['file://"
    return [Path(o.removeprefix(prefix).removesuffix("']")) for o in overrides if o.startswith(prefix)]


def config_names(group: str, config_dir: str | os.PathLike | None = None) -> list[str]:
    """Names of a config group's options (``preset``, ``policy`` ...), the user's included."""
    folders = [SCENARIOS_DIR, user_config_dir(config_dir)]
    return sorted({p.stem for folder in folders if folder is not None for p in (folder / group).glob("*.yaml")})


def config_file(group: str, name: str, config_dir: str | os.PathLike | None = None) -> Path | None:
    """The file of one option of a config group, in the repository or the user's folder."""
    for folder in (SCENARIOS_DIR, user_config_dir(config_dir)):
        if folder is not None and (folder / group / f"{name}.yaml").is_file():
            return folder / group / f"{name}.yaml"
    return None


def add_config_dir_option(parser) -> None:
    """The ``--config-dir DIR`` option every command shares (Hydra's own name for it)."""
    parser.add_argument("--config-dir", "-cd", default=None, metavar="DIR",
                        help="a folder of your own configs (same layout as scenarios/: policy/, preset/, world/ ...)")


# --- the model's keyword parameters (Mesa convention) ----------------------------------

#: Config groups: chosen by name (a keyword of the model, or an override ``group=name``).
CONFIG_GROUPS = ("network", "world", "calibrated", "regime", "preset", "policy", "shock")


def scenario_params(params: Params | None = None, *, preset: str | None = None, regime: str | None = None,
                    policies: Iterable[str] = (), horizon_days: int | None = None,
                    supply_multiplier: float | None = None, overrides: dict[str, Any] | None = None,
                    config_dir: str | os.PathLike | None = None, timeline: Iterable[Mapping[str, Any]] | None = None,
                    start_date: Any = None) -> Params:
    """The Params of a scenario described by keywords (what ``NorthernRouteModel(...)`` takes).

    Config groups (``preset``, ``regime``, ``policies``) are composed with Hydra (once per
    process and scenario: :func:`sim.sweep.worker.base_params`); ``horizon_days``,
    ``supply_multiplier`` and ``overrides`` (dotted keys -> values) are set on top with
    :func:`with_updates`, so a misspelt key is an error. A prepared ``params`` takes the
    values but not group choices, which only composing can apply. ``timeline`` and
    ``start_date``: see :func:`with_timeline`.
    """
    from sim.sweep.worker import base_params

    policies = [policies] if isinstance(policies, str) else list(policies)
    choices = [*([f"preset={preset}"] if preset else []), *([f"regime={regime}"] if regime else []),
               *([f"+policy=[{','.join(policies)}]"] if policies else [])]
    if params is not None and (choices or config_dir is not None):
        raise ConfigError("config error: give preset, regime, policies and config_dir without params= "
                          "(a prepared Params is already composed), or compose them into it")
    updates = dict(overrides or {})
    for key in updates:
        if key in CONFIG_GROUPS:
            raise ConfigError(f"config error: overrides: {key!r} is a config group: choose it with the "
                              f"{'policies' if key == 'policy' else key}= keyword")
        if key == "seed":
            raise ConfigError("config error: overrides: 'seed': give the seed as rng= (Mesa's convention)")
    if horizon_days is not None:
        updates["horizon_days"] = horizon_days
    if supply_multiplier is not None:
        updates["world.flow.supply_multiplier"] = supply_multiplier
    if params is None:
        params = base_params((*config_dir_overrides(config_dir), *choices))
    if timeline is not None or start_date is not None:
        params = with_timeline(params, timeline, start_date, config_dir)
    return with_updates(params, updates) if updates else params
