"""Command line: ``python -m sim`` runs a scenario; subcommands do the rest.

- ``python -m sim [hydra overrides]``: run the baseline (or any scenario) for one
  horizon, write the run directory, print the summary table. Hydra's ``-m`` multirun
  works for small sweeps: ``python -m sim -m seed=1,2,3 regime=two_sided,customs_union``.
- ``python -m sim provenance [TEXT]``: every number, its value, its source or assumption.
- ``python -m sim presets`` / ``brief NAME`` / ``compare ...``: preset scenarios and the
  comparison of interventions (:mod:`sim.model.policies`, :mod:`sim.compare`).
- ``python -m sim sweep ...``: large sweeps (:mod:`sim.sweep`).
- ``python -m sim optimise CONFIG``: the best use of a budget (:mod:`sim.optimise`).
- ``python -m sim exercise`` / ``live``: the policy exercise and the live model page in the
  browser (:mod:`sim.exercise`, :mod:`sim.viz`).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Callable

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from tqdm import tqdm

from sim.config import SCENARIOS_DIR, config_dir_overrides, config_to_dict, params_from_config, resolve_config_timeline
from sim.outputs import EVENTS_FILE, HEADLINE, SHIPMENTS_FILE, check_writable_dir, claim_run_dir, phase_summary_table, summary_table, write_run
from sim.params import ConfigError
from sim.run import simulate

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "provenance": ("sim.cli", "main_provenance"),
    "presets": ("sim.brief", "main_presets"),
    "brief": ("sim.brief", "main_brief"),
    "compare": ("sim.compare", "main_compare"),
    "sweep": ("sim.sweep.cli", "main"),
    "exercise": ("sim.exercise.cli", "main_exercise"),
    "live": ("sim.viz.live", "main_live"),
    "optimise": ("sim.optimise.cli", "main_optimise"),
}


def main(argv: list[str] | None = None) -> int:
    """Entry point: dispatch a subcommand, or check the arguments and hand them to Hydra.

    Every job a run (or a ``-m`` multirun) would start is composed and validated here
    first, so that a mistake is one line and exit code 2 before Hydra prints anything or
    creates a directory.
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        return _subcommand(argv[0])(argv[1:])
    try:
        check_run_arguments(argv)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    sys.argv = [sys.argv[0], *argv]
    hydra_main()
    return 0


def _run_config_dir() -> str | None:
    """The user's config folder of the current Hydra run (``--config-dir``), if any."""
    if not HydraConfig.initialized():              # called from Python, outside a Hydra run
        return None
    for source in HydraConfig.get().runtime.config_sources:
        if source.provider == "command-line" and source.schema == "file":
            return source.path
    return None


def check_run_arguments(argv: list[str]) -> None:
    """Compose and validate every job the arguments ask for; raise ConfigError if one fails.

    Hydra's informational flags (``--help``, ``--cfg``, ``--info``...) go to Hydra as they
    are. A ``--config-dir`` joins the search path of the check; with ``--config-path`` the
    composed config is checked inside the run instead (:func:`run_scenario`).
    """
    from hydra._internal.utils import get_args_parser

    from sim.config import compose_config
    from sim.scenario_checks import check_override_keys, expand_multirun

    args = get_args_parser().parse_args(argv)
    if args.help or args.hydra_help or args.cfg or args.info or args.shell_completion or args.experimental_rerun \
            or args.config_path:
        return
    check_override_keys(args.overrides)
    _check_output_dir(args.overrides, "hydra.sweep.dir" if args.multirun else "hydra.run.dir")
    config_dir = None if any(o.startswith("hydra.searchpath=") for o in args.overrides) else args.config_dir
    jobs = expand_multirun(args.overrides) if args.multirun else [args.overrides]
    for job in jobs:
        cfg = compose_config(job, config_name=args.config_name or "config", config_dir=config_dir)
        params_from_config(cfg)
        _briefing_files(cfg)


def _check_output_dir(overrides: list[str], key: str) -> None:
    """A directory given for the run's outputs must be one this user can create or write."""
    for override in overrides:
        if override.startswith(f"{key}="):
            check_writable_dir(override.split("=", 1)[1], key)


@hydra.main(config_path=str(SCENARIOS_DIR), config_name="config", version_base="1.3")
def hydra_main(cfg: DictConfig) -> None:
    """Hydra's task function: one run (or one job of a ``-m`` multirun)."""
    for noisy in ("MESA", "distributed", "tornado"):      # Mesa logs every step, Dask every worker, at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        run_scenario(cfg)
    except ConfigError as err:
        print(err, file=sys.stderr)
        sys.exit(2)


def run_scenario(cfg: DictConfig) -> Path:
    """Simulate the composed scenario, write its run directory, print the summary table."""
    hydra_cfg = HydraConfig.get()
    overrides = list(hydra_cfg.overrides.task)
    params = _checked_params(cfg, overrides)
    briefing = _briefing_files(cfg)
    with claim_run_dir(hydra_cfg.runtime.output_dir) as out_dir:
        with tqdm(total=params.horizon_days, unit="day", desc="simulating", leave=False) as bar:
            result = simulate(params, keep_events=bool(cfg.output.events), on_day=lambda _day: bar.update(1),
                              events_to=out_dir / EVENTS_FILE if cfg.output.events else None,   # streamed
                              shipments_to=out_dir / SHIPMENTS_FILE)
        replications = int(cfg.report.replications)
        spread, n_runs = _replicate(overrides, params, replications, str(cfg.report.engine),
                                    result.summary) if replications > 0 else (None, 1)
        write_run(result, out_dir, config_to_dict(cfg), plots=bool(cfg.output.plots), events=bool(cfg.output.events),
                  extra_files=briefing)
    print(summary_table(result.summary, result.seed, spread, n_runs))
    if result.params.timeline:
        print("\n" + phase_summary_table(result))
    print(f"\nRun directory: {out_dir}")
    return out_dir


def _checked_params(cfg: DictConfig, overrides: list[str]):
    """The composed config checked as :func:`sim.config.compose_config` checks it (the
    same checks, here with Hydra's own search path, which may include ``--config-dir``)."""
    from hydra.core.global_hydra import GlobalHydra

    from sim import scenario_checks as checks

    data = config_to_dict(cfg)
    loader = GlobalHydra.instance().config_loader()
    checks.check_top_level_keys(data, overrides)
    checks.check_run_settings(data)
    checks.check_contradictions(loader, overrides)
    checks.check_calendar(data, overrides)
    resolve_config_timeline(cfg, loader, "config", overrides)
    return params_from_config(cfg)


def _replicate(overrides: list[str], params, replications: int, engine: str,
               this_run: dict[str, float]) -> tuple[dict[str, tuple[float, float, float]], int]:
    """Run other seeds of the same scenario through the sweep engine; the median and
    5-95% interval of each headline outcome over those runs and this one, and how many
    runs that is (failed replications are left out)."""
    import pandas as pd

    from sim.sweep import Experiment, run_experiments

    scenario = (*config_dir_overrides(_run_config_dir()),
                *(o for o in overrides if not o.startswith(("seed=", "report.", "output.", "hydra."))))
    experiments = [Experiment(run_id=f"rep{r}", scenario=scenario, seed=params.seed + 1 + r,
                              updates={"horizon_days": params.horizon_days}, inputs={"replication": r})
                   for r in range(replications)]
    _quiet_dask_logs()
    table = run_experiments(experiments, engine=engine, progress=True)
    runs = pd.concat([table[table["status"] == "ok"], pd.DataFrame([this_run])], ignore_index=True)
    spread = {key: (float(runs[key].median()), float(runs[key].quantile(0.05)), float(runs[key].quantile(0.95)))
              for key, _label, _unit in HEADLINE if key in runs}
    return spread, len(runs)


def _quiet_dask_logs() -> None:
    """Dask sets INFO on its own loggers when imported; the terminal is for the summary."""
    import distributed  # noqa: F401  (its import configures the loggers we quiet)

    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("distributed", "tornado")):
            logging.getLogger(name).setLevel(logging.WARNING)


def _briefing_files(cfg: DictConfig) -> dict[str, str]:
    """A preset's briefing goes into its run directory."""
    try:
        from sim.brief import briefing_markdown
    except ImportError:
        return {}
    text = briefing_markdown(cfg)
    return {"briefing.md": text} if text else {}


def _subcommand(name: str) -> Callable[[list[str]], int]:
    import importlib

    module, function = SUBCOMMANDS[name]
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as err:
        reason = str(err)                    # (``err`` is gone once the except block ends)

        def unavailable(_argv: list[str]) -> int:
            print(f"error: '{name}' is not available in this version ({reason})", file=sys.stderr)
            return 2
        return unavailable


def main_provenance(argv: list[str]) -> int:
    """Print every number of the composed baseline config with its source or assumption."""
    import argparse

    from sim.config import add_config_dir_option, compose_config, config_to_dict
    from sim.provenance import provenance_table

    parser = argparse.ArgumentParser(prog="python -m sim provenance",
                                     description="Where every number of a scenario comes from.")
    parser.add_argument("filter", nargs="?", default="", help="show only keys containing this text")
    parser.add_argument("--assumptions", action="store_true", help="show only assumptions")
    parser.add_argument("overrides", nargs="*", default=[], help="Hydra overrides (e.g. regime=customs_union)")
    add_config_dir_option(parser)
    args = parser.parse_args(argv)
    if "=" in args.filter:                      # an override in the filter's place
        args.filter, args.overrides = "", [args.filter, *args.overrides]
    try:
        cfg = compose_config(args.overrides, config_dir=args.config_dir)
        params_from_config(cfg)                 # the numbers shown are numbers a run accepts
        config = config_to_dict(cfg)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    for key, value, citation, rng in provenance_table(config):
        if args.filter not in key or (args.assumptions and not citation.startswith("ASSUMPTION")):
            continue
        print(f"{key} = {value:g}  {rng}\n    {citation}")
    return 0
