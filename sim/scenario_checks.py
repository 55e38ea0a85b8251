"""Checks on a scenario's recipe that the parameter schema cannot see.

:mod:`sim.params` validates the numbers of one composed config. What a user *typed* can
still go wrong before or around that: a config-group option that does not exist, a key
added with ``+`` that no part of the model reads, a policy file whose settings land
under ``policy.`` because it lacks ``# @package _global_``, two chosen policies that set
the same number to different values, a command-line switch that turns a chosen policy
off again, run settings (``report.*``, ``output.*``) out of range. Each is refused here
with one line naming the override or key, so that nothing a user types is silently
ignored. The rules for contradictory choices are documented in docs/policies.md.

:func:`sim.config.compose_config` runs these checks on every composition (the command
line composes every job, ``-m`` ones included, before Hydra starts anything) and calls
:func:`explain_composition_error` when Hydra cannot compose.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

from omegaconf import DictConfig, OmegaConf
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.params import ConfigError, Params, accepts_new_keys, format_validation_error, suggest

#: Top-level keys of a composed config besides the model's parameters.
RUN_SECTIONS = ("output", "report", "briefing", "hydra")
#: Top-level keys of the calendar that are not parameters (``end_date`` sets ``horizon_days``).
CALENDAR_KEYS = ("end_date",)
#: Config groups whose files add settings to the global package (they combine).
COMBINING_GROUPS = ("policy", "shock")


class ReportSettings(BaseModel):
    """``report.*``: the replications behind the summary table's interval.

    Only the engines that need nothing else: the ``dask`` engine needs a scheduler
    address, which ``python -m sim sweep --engine dask`` takes and a single run does not.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    replications: int = Field(ge=0, le=1000)
    engine: Literal["serial", "processes"]


class OutputSettings(BaseModel):
    """``output.*``: which optional files a run writes."""

    model_config = ConfigDict(extra="forbid")
    events: bool
    plots: bool


def check_run_settings(config: Mapping[str, Any]) -> None:
    """Validate ``report`` and ``output`` the way :mod:`sim.params` validates the model."""
    for section, schema in (("report", ReportSettings), ("output", OutputSettings)):
        try:
            schema.model_validate(config.get(section) or {})
        except ValidationError as err:
            text = format_validation_error(err, root=schema)
            raise ConfigError(f"config error: {section}.{text}") from None


def check_top_level_keys(config: Mapping[str, Any], overrides: Iterable[str]) -> None:
    """Every top-level key is a parameter or a run section; say where a stray one came from."""
    known = [*Params.model_fields, *CALENDAR_KEYS, *RUN_SECTIONS]
    overrides = list(overrides)
    for key in config:
        if key in known:
            continue
        typed = next((o for o in overrides if o.lstrip("+~").split("=", 1)[0].split(".")[0] == key), None)
        if key in ("policy", "shock", "preset", "calibrated"):
            raise ConfigError(
                f"config error: {key}: the settings of the chosen {key} file(s) landed under '{key}.' instead of the "
                f"top level; a {key} file must begin with the line '# @package _global_'")
        where = typed if typed else key
        raise ConfigError(f"config error: {where}: unknown key {key!r}{suggest(key, known[:-1])}; "
                          "nothing in the model reads it")


def explain_composition_error(message: str, overrides: Iterable[str], loader: Any, compose_base) -> str:
    """One line for Hydra's multi-line composition errors, with the nearest valid name.

    A missing option of a config group is named with the options Hydra lists (its search
    path, a user's ``--config-dir`` included) or, failing that, the scenarios' own.
    ``compose_base(group_overrides)`` composes the config with the group choices only, to
    look up which keys exist where the user's key does not.
    """
    first = message.strip().splitlines()[0] if message.strip() else "composition failed"
    missing = re.search(r"Could not (?:find|load) '([^']+)/([^'/]+)'", first)
    if missing:
        group, option = missing.groups()
        listed = re.search(r"Available options in '[^']+':\n((?:\t.*\n?)+)", message)
        options = listed.group(1).split() if listed else [*loader.get_group_options(group),
                                                            *_searchpath_options(overrides, group)]
        typed = next((o.input_line for o in _parse(overrides) if o.key_or_group == group), f"{group}={option}")
        return f"config error: {typed}: no {group} named {option!r}{suggest(option, options)}"
    if first.startswith("Could not override '"):
        key = first.split("'")[1]
        parsed = _parse(overrides)
        typed = next((o.input_line for o in parsed if o.key_or_group == key), key)
        if "No match in the defaults list" in first:
            return (f"config error: {typed}: {key!r} is not chosen in the defaults; "
                    f"add it with +{typed.lstrip('+')}")
        groups = [o.input_line for o in parsed if "." not in o.key_or_group and not o.is_add()
                  and o.key_or_group != key]
        return f"config error: {typed}: {_nearest_key(compose_base(groups), key)}"
    return f"config error: {first}"


def _searchpath_options(overrides: Iterable[str], group: str) -> list[str]:
    """Options of ``group`` in the directories of a ``hydra.searchpath=[file://...]`` override."""
    options = []
    for override in _parse(overrides):
        if override.key_or_group == "hydra.searchpath":
            for entry in _option_values(override):
                if entry.startswith("file://"):
                    options += [p.stem for p in (Path(entry.removeprefix("file://")) / group).glob("*.yaml")]
    return options


def _nearest_key(config: DictConfig, key: str) -> str:
    node: Any = config
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, DictConfig) or part not in node:
            siblings = [str(k) for k in node.keys()] if isinstance(node, DictConfig) else []
            at = ".".join(parts[:depth]) or "the top level"
            hint = f"; add a new entry with +{key}=..." if accepts_new_keys(at) else ""
            return f"unknown key {part!r} at {at}{suggest(part, siblings)}{hint}"
        node = node[part]
    return f"cannot set {key}"


def check_contradictions(loader: Any, overrides: Iterable[str]) -> None:
    """Two chosen policies (or shocks) that set one number differently, or a command-line
    override that switches a chosen policy off, are refused (docs/policies.md)."""
    parsed = _parse(overrides)
    chosen = _chosen_group_files(loader, parsed)
    for group in COMBINING_GROUPS:
        setters: dict[str, tuple[str, Any]] = {}
        for option in chosen.get(group, []):
            settings = dict(_leaves(_load(loader, f"{group}/{option}")))
            for key, value in settings.items():
                if key in setters and setters[key][1] != value:
                    other, before = setters[key]
                    raise ConfigError(
                        f"config error: {group} {other} and {option} both set {key} ({before!r} vs {value!r}); "
                        f"choose one of them")
                setters.setdefault(key, (option, value))
            for override in parsed:
                if override.key_or_group.endswith(".enabled") and override.value() is False \
                        and settings.get(override.key_or_group) is True:
                    raise ConfigError(f"config error: {override.input_line} switches off the {group} {option!r} "
                                      f"chosen in the same command; drop one of the two")


def _chosen_group_files(loader: Any, parsed: list) -> dict[str, list[str]]:
    """The policy and shock options a command chooses, directly or through its preset."""
    chosen: dict[str, list[str]] = {}
    for override in parsed:
        if override.key_or_group in COMBINING_GROUPS and not override.is_delete():
            chosen.setdefault(override.key_or_group, []).extend(_option_values(override))
        if override.key_or_group == "preset" and not override.is_delete():
            for preset in _option_values(override):
                result = loader.repository.load_config(f"preset/{preset}")
                for default in (result.defaults_list or []) if result else []:
                    group = str(getattr(default, "group", "") or "").strip("/")
                    if group in COMBINING_GROUPS:
                        value = default.value
                        chosen.setdefault(group, []).extend(value if isinstance(value, list) else [value])
    return chosen


def _load(loader: Any, path: str) -> dict[str, Any]:
    result = loader.repository.load_config(path)
    if result is None or result.config is None:
        return {}
    data = OmegaConf.to_container(result.config, resolve=False)
    data.pop("defaults", None)
    return data


def _leaves(data: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _option_values(override: Any) -> list[str]:
    if override.is_sweep_override():
        return [str(v) for v in override.sweep_string_iterator()]
    value = override.value()
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v is not None]


def _parse(overrides: Iterable[str]) -> list:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser, parsed = OverridesParser.create(), []
    for override in overrides:
        try:
            parsed.extend(parser.parse_overrides([override]))
            if not parsed[-1].key_or_group:
                raise ConfigError(f"config error: {override}: an override needs a key (key=value)")
        except HydraException as err:
            raise ConfigError(f"config error: {override}: cannot parse ({str(err).strip().splitlines()[0]})") from None
    return parsed


def check_calendar(config: Mapping[str, Any], overrides: Iterable[str]) -> None:
    """An ``end_date`` sets the horizon: a ``horizon_days`` typed beside it is refused
    rather than one of the two silently winning (docs/timelines.md)."""
    if config.get("end_date") is None:
        return
    typed = next((o for o in overrides if o.lstrip("+").split("=", 1)[0] == "horizon_days"), None)
    if typed is not None:
        raise ConfigError(f"config error: {typed}: the scenario's end_date ({config['end_date']}) sets the horizon; "
                          f"give end_date=YYYY-MM-DD instead, or end_date=null with {typed}")


def check_adaptation(config: Mapping[str, Any], overrides: Iterable[str]) -> None:
    """A setting of ``adaptation`` typed for a rule that does not read it (``adaptation.caricc_sharing=false``
    without ``adaptation=intelligence``) is refused, unless an event of the timeline changes the rule."""
    from sim.model.adaptation import READS

    rule = (config.get("adaptation") or {}).get("rule")
    events = config.get("timeline") or []
    if rule not in READS or any("adaptation.rule" in (e.get("set") or {}) for e in events if isinstance(e, Mapping)):
        return
    for override in overrides:
        parts = override.lstrip("+~").split("=", 1)[0].split(".")
        if parts[0] == "adaptation" and len(parts) > 1 and parts[1] != "rule" and parts[1] not in READS[rule]:
            readers = [name for name, keys in READS.items() if parts[1] in keys]
            raise ConfigError(f"config error: {override}: the adaptation rule {rule!r} does not read "
                              f"adaptation.{parts[1]}; choose a rule that does: "
                              + " or ".join(f"adaptation={name}" for name in readers))


def expand_multirun(overrides: Iterable[str]) -> list[list[str]]:
    """The override list of every job a ``-m`` multirun would launch."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    batches = BasicSweeper.split_arguments(_parse(overrides), None)
    return [job for batch in batches for job in batch]


def check_override_keys(overrides: Iterable[str]) -> None:
    """Each key is given once (Hydra would let the last win silently), and
    ``regime.name=X``, which would relabel the regime and keep its rules, is refused."""
    seen: dict[str, str] = {}
    for override in _parse(overrides):
        key = override.key_or_group
        if key in seen:
            raise ConfigError(f"config error: {key}: given twice ({seen[key]} and {override.input_line}); "
                              "give it once (for a sweep over values use -m and commas: key=a,b)")
        seen[key] = override.input_line
        if not override.is_delete() and not override.is_sweep_override() and override.value() == {}:
            raise ConfigError(f"config error: {override.input_line}: an empty mapping changes nothing (Hydra merges "
                              f"it into {key}); remove a setting with ~{key}.NAME, or choose another file")
        if key == "regime.name":
            names = _option_values(override)
            raise ConfigError(f"config error: {override.input_line}: regime.name is the label of the chosen regime "
                              f"file and changes no rule; choose the regime with regime={names[0] if names else 'NAME'}")
