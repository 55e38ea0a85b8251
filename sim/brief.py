"""Preset scenarios and their briefings, for policy exercises.

A preset is ``scenarios/preset/<name>.yaml``: a defaults list that reads as the recipe
(which policies, regime and shocks) and a ``briefing:`` block (title, what the scenario
represents, its sources, what to look at in the results). Run one with
``python -m sim preset=<name>``; list them with ``python -m sim presets``; print one's
briefing with ``python -m sim brief <name>``. A preset run's directory holds its briefing
(``briefing.md``, from :func:`briefing_markdown`).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from sim.config import SCENARIOS_DIR, add_config_dir_option, config_file, config_names
from sim.params import ConfigError

SHOCKS_DIR = SCENARIOS_DIR / "shock"
BRIEFING_FIELDS = ("title", "represents", "sources", "look_at")


@dataclass(frozen=True)
class Briefing:
    """What a facilitator hands out about one scenario."""

    name: str | None
    title: str
    represents: str
    sources: tuple[str, ...]
    look_at: tuple[str, ...]
    recipe: tuple[str, ...]

    def markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        if self.name:
            lines += [f"Preset `{self.name}`: run it with `python -m sim preset={self.name}`.", ""]
        lines += ["## What it represents", "", self.represents.strip(), ""]
        if self.recipe:
            lines += ["## Recipe", "", *[f"- {item}" for item in self.recipe], ""]
        lines += ["## Sources", "", *[f"- {s}" for s in self.sources], ""]
        lines += ["## What to look at", "", *[f"- {s}" for s in self.look_at], ""]
        return "\n".join(lines)


def list_presets(config_dir: str | None = None) -> list[str]:
    """Names of the preset scenarios (with those of a user's config folder), sorted."""
    return config_names("preset", config_dir)


def list_policies(config_dir: str | None = None) -> list[str]:
    """Names of the policy configs (``+policy=[...]``), sorted."""
    return config_names("policy", config_dir)


def preset_path(name: str, config_dir: str | None = None) -> Path:
    path = config_file("preset", name, config_dir)
    if path is None:
        raise ConfigError(f"config error: unknown preset {name!r} (available: {', '.join(list_presets(config_dir))})")
    return path


def load_briefing(name: str, config_dir: str | None = None) -> Briefing:
    """A preset's briefing, read from its file (no Hydra composition needed)."""
    data = yaml.safe_load(preset_path(name, config_dir).read_text()) or {}
    return _briefing_from(data.get("briefing"), name, _recipe_from_defaults(data.get("defaults") or []),
                          where=f"preset/{name}.yaml")


def briefing(name: str, config_dir: str | None = None) -> str:
    """A preset's briefing as Markdown text (what ``python -m sim brief NAME`` prints)."""
    return load_briefing(name, config_dir).markdown()


def briefing_markdown(cfg_or_name: Any) -> str | None:
    """The briefing for a run directory: from a preset name or a composed config.

    A composed config (DictConfig or dict) without a ``briefing`` block (not a preset
    run) gives None. With one, the recipe is read from the composed config itself
    (policies in force, regime, supply), so command-line changes show.
    """
    if isinstance(cfg_or_name, str):
        return briefing(cfg_or_name)
    data = _plain(cfg_or_name)
    if not isinstance(data, Mapping) or not data.get("briefing"):
        return None
    return _briefing_from(data["briefing"], _preset_choice(), _recipe_from_config(data), where="briefing").markdown()


def _briefing_from(block: Any, name: str | None, recipe: tuple[str, ...], where: str) -> Briefing:
    if not isinstance(block, Mapping):
        raise ConfigError(f"config error: {where}: missing 'briefing' block")
    missing = [f for f in BRIEFING_FIELDS if not block.get(f)]
    if missing:
        raise ConfigError(f"config error: {where}: briefing lacks {', '.join(missing)}")
    return Briefing(name=name, title=str(block["title"]), represents=str(block["represents"]),
                    sources=tuple(str(s) for s in _as_list(block["sources"])),
                    look_at=tuple(str(s) for s in _as_list(block["look_at"])), recipe=recipe)


def _recipe_from_defaults(defaults: list) -> tuple[str, ...]:
    """Readable lines from a preset's defaults list."""
    items = []
    for entry in defaults:
        if not isinstance(entry, Mapping):
            continue
        for key, value in entry.items():
            group = str(key).removeprefix("override ").strip("/")
            values = ", ".join(_as_list(value))
            items.append(f"{group}: {values}")
    return tuple(items) or ("the 2009 baseline, unchanged",)


def _recipe_from_config(data: Mapping) -> tuple[str, ...]:
    world, regime = data.get("world", {}), data.get("regime", {})
    policies = []
    for name, spec in (world.get("policies") or {}).items():
        if isinstance(spec, Mapping) and spec.get("enabled"):
            segments = [seg for seg, on in (spec.get("segments") or {}).items() if on]
            policies.append(f"{name} ({', '.join(segments)})" if segments else name)
    for node_id, post in ((world.get("policies") or {}).get("posts") or {}).items():
        if isinstance(post, Mapping) and post.get("enabled"):
            policies.append(f"post at {node_id} ({post.get('agency')})")
    items = [f"policies in force: {', '.join(policies) if policies else 'none'}",
             f"Kazakh-Russian border regime: {regime.get('name', '?')}",
             f"supply multiplier: {world.get('flow', {}).get('supply_multiplier', 1.0):g}"]
    south = (world.get("patrols") or {}).get("south")
    if isinstance(south, Mapping):
        items.append(f"mobile patrols in the south: {south.get('count')}")
    return tuple(items)


def _preset_choice() -> str | None:
    try:
        from hydra.core.hydra_config import HydraConfig

        return HydraConfig.get().runtime.choices.get("preset")
    except Exception:   # not inside a Hydra run: no name to give
        return None


def _plain(cfg: Any) -> Any:
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(cfg, DictConfig):
            return OmegaConf.to_container(cfg, resolve=False)
    except ImportError:
        pass
    return cfg


def _as_list(value: Any) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


# --- command line -------------------------------------------------------------------


def main_presets(argv: list[str]) -> int:
    """``python -m sim presets``: the preset scenarios, one a line, with their titles."""
    parser = argparse.ArgumentParser(prog="python -m sim presets",
                                     description="List the preset scenarios (run one with: python -m sim preset=NAME).")
    parser.add_argument("--names", action="store_true", help="print names only")
    parser.add_argument("--policies", action="store_true", help="list the policy configs (+policy=[...]) instead")
    add_config_dir_option(parser)
    args = parser.parse_args(argv)
    try:
        names = list_policies(args.config_dir) if args.policies else list_presets(args.config_dir)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    if args.policies or args.names:
        print("\n".join(names))
        return 0
    width = max(len(n) for n in names)
    for name in names:
        try:
            title = load_briefing(name, args.config_dir).title
        except ConfigError as err:
            title = f"(no briefing: {err})"
        print(f"{name:<{width}}  {title}")
    print("\nRun one: python -m sim preset=NAME    Its briefing: python -m sim brief NAME"
          "\nCompare: python -m sim compare NAME NAME ... --replications 10")
    return 0


def main_brief(argv: list[str]) -> int:
    """``python -m sim brief NAME``: print a preset's briefing (Markdown)."""
    parser = argparse.ArgumentParser(prog="python -m sim brief", description="Print a preset scenario's briefing.")
    parser.add_argument("name", help="preset name (python -m sim presets lists them)")
    add_config_dir_option(parser)
    args = parser.parse_args(argv)
    try:
        print(briefing(args.name, args.config_dir))
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    return 0
