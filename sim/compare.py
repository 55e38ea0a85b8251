"""Comparing interventions: several scenarios x N replications, side by side.

:func:`compare` runs every scenario (a preset, optionally with extra Hydra overrides)
with the same N seeds through the sweep engine (:func:`sim.sweep.run_experiments`):
common random numbers, so that replication r of a policy faces the same draws as
replication r of the baseline at the start and the differences are not noise. For
every outcome it reports the mean with a t-based 95% interval and the paired
difference from the baseline (per-replication differences, t-based 95% interval), and
writes into one folder:

- ``outcomes.parquet`` / ``outcomes.csv``: one row per scenario and outcome (long);
- ``headline.csv``: the headline outcomes, one row per scenario (wide, readable);
- ``runs.parquet`` / ``runs.csv``: one row per run (inputs, status, every outcome);
- ``diff_from_baseline.png``: the change from the baseline with intervals;
- ``entry_by_border.png``, ``seizures_by_place.png``, ``crossings_change.png``:
  displacement, where seizures happen, flows by crossing against the baseline;
- ``maps/<scenario>.png``: mean flows over the replications on the route map;
- ``brief.md``: a one-page brief for a facilitator to hand out;
- ``comparison.json``: the settings (scenarios, seeds, horizon, engine) to reproduce it;
- with timeline scenarios (docs/timelines.md): ``phases.csv``, the paired differences
  from the baseline in each phase between a scenario's events; ``monthly_diff.csv`` and
  ``monthly_diff_<scenario>.png``, the difference month by month with its interval (the
  month a policy starts to bite). Scenarios without a timeline run on the calendar of
  the timeline scenarios, so that days pair.

Command line: ``python -m sim compare PRESET [PRESET ...] --replications N --workers W
--out DIR [--horizon-days D] [--posterior N]`` (the baseline, ``baseline_2009`` unless ``--baseline``
says otherwise, is added first if not listed). With ``--posterior N`` every scenario runs
N draws of the calibrated parameters x R replications, the same draws and seeds in every
scenario, and the intervals combine both sources (:mod:`sim.posterior`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats as sps

from sim.brief import list_presets, load_briefing
from sim.config import add_config_dir_option
from sim.pairing import paired_with_baseline
from sim.params import ConfigError
from sim.parquet import write_parquet
from sim.posterior import (POSTERIOR_FILE, check_overrides, draw_posterior, format_robustness, posterior_experiments,
                           posterior_statistics)

#: Outcomes of the brief and the headline table: key, label, unit.
HEADLINE = (
    ("kg_entering_kz", "Heroin entering Kazakhstan", "kg"),
    ("kg_seized_true", "Seized, true", "kg"),
    ("kg_seized_reported", "Seized, as reported", "kg"),
    ("kg_reaching_russia", "Reaching Russia", "kg"),
    ("kg_reaching_eu", "Reaching the EU", "kg"),
    ("interdiction_rate", "Interdiction rate (seized / sent)", "share"),
    ("revenue_usd", "Traffickers' revenue", "USD"),
    ("losses_usd", "Traffickers' losses (value seized)", "USD"),
    ("bribes_usd", "Bribes paid", "USD"),
    ("share_entry_kz_kg", "Share entering via the Kyrgyz border", "share"),
    ("share_entry_kz_uz", "Share entering via the Uzbek border", "share"),
    ("share_entry_kz_tm", "Share entering via the Turkmen border", "share"),
    ("policy_cost_usd", "Cost of the policies", "USD"),
)
#: Outcomes drawn as % change from the baseline in ``diff_from_baseline.png``.
CHANGE_PANELS = ("kg_entering_kz", "kg_seized_true", "kg_seized_reported", "kg_reaching_russia", "kg_reaching_eu",
                 "interdiction_rate", "revenue_usd", "bribes_usd")
#: Places seizures happen (stacked in ``seizures_by_place.png``): label -> outcome keys summed.
SEIZURE_PLACES = (
    ("Tajikistan, Kyrgyzstan, Uzbekistan, Turkmenistan", ("kg_seized_transit_countries",)),
    ("Kazakhstan's southern borders", ("kg_seized_border_kz_kg", "kg_seized_border_kz_uz", "kg_seized_border_kz_tm")),
    ("inside Kazakhstan", ("kg_seized_kz_internal",)),
    ("Kazakh-Russian border (both sides)", ("kg_seized_border_kz_ru",)),
    ("inside Russia", ("kg_seized_ru",)),
    ("EU external border", ("kg_seized_eu_border",)),
)
ENTRY_BORDERS = (("share_entry_kz_kg", "Kyrgyz border", "#1f77b4"), ("share_entry_kz_uz", "Uzbek border", "#ff7f0e"),
                 ("share_entry_kz_tm", "Turkmen border", "#2ca02c"))
CAPTION = ("Simulated model output ({n} replications per scenario, common random numbers, horizon {h} days); "
           "not observed data. Parameter sources: scenarios/provenance.yaml")


@dataclass
class Comparison:
    """What :func:`compare` produced (the files are in ``out_dir``)."""

    out_dir: Path
    scenarios: list[str]
    baseline: str
    runs: pd.DataFrame
    outcomes: pd.DataFrame
    headline: pd.DataFrame
    files: list[Path] = field(default_factory=list)


# --- statistics ---------------------------------------------------------------------


def t_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-based interval of the mean; NaN interval for fewer than two values."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def outcome_statistics(runs: pd.DataFrame, baseline: str, outcomes: Sequence[str],
                       scenario_col: str = "scenario", replication_col: str = "replication",
                       confidence: float = 0.95) -> pd.DataFrame:
    """Per scenario and outcome: mean with interval, and the paired difference from baseline.

    Differences pair replication r of a scenario with replication r of the baseline
    (same seed: common random numbers); pairs where either run failed are left out.
    """
    rows = []
    for scenario, group, base, common in paired_with_baseline(runs, baseline, [replication_col], scenario_col):
        for key in outcomes:
            values = group[key].to_numpy(float) if key in group else np.array([])
            mean, low, high = t_interval(values, confidence)
            base_mean = float(base[key].mean()) if key in base and len(base) else math.nan
            if key in group and key in base and len(common):
                diffs = group.loc[common, key].to_numpy(float) - base.loc[common, key].to_numpy(float)
            else:
                diffs = np.array([])
            d_mean, d_low, d_high = t_interval(diffs, confidence)
            pct = 100 * d_mean / base_mean if base_mean and not math.isnan(base_mean) else math.nan
            rows.append({
                "scenario": scenario, "outcome": key, "n": int((~np.isnan(values)).sum()), "mean": mean,
                "ci_low": low, "ci_high": high, "diff": d_mean, "diff_ci_low": d_low, "diff_ci_high": d_high,
                "pct_diff": pct,
                "pct_ci_low": 100 * d_low / base_mean if base_mean else math.nan,
                "pct_ci_high": 100 * d_high / base_mean if base_mean else math.nan,
                "significant": bool(scenario != baseline and not math.isnan(d_low) and (d_low > 0 or d_high < 0)),
            })
    return pd.DataFrame(rows)


def outcome_group(key: str) -> str:
    """Which table section an outcome belongs to (for reading the long table)."""
    if key in {k for k, _, _ in HEADLINE}:
        return "headline"
    for prefix, group in (("kg_seized_reported_border_", "seized by border (reported)"),
                          ("kg_seized_reported_agency_", "seized by agency (reported)"),
                          ("kg_seized_border_", "seized by border (true)"),
                          ("kg_seized_agency_", "seized by agency (true)"),
                          ("kg_seized_kz_agency_", "Kazakh statistics"), ("seizures_kz_", "Kazakh statistics"),
                          ("kg_crossing_", "flow by crossing"), ("kg_via_green_", "flow by crossing"),
                          ("share_exit_", "flow by crossing"), ("share_entry_", "flow by crossing"),
                          ("inspections_border_", "inspections"), ("couriers_arrested_", "couriers arrested"),
                          ("share_kg_", "conveyance")):
        if key.startswith(prefix):
            return group
    return "other"


# --- running -------------------------------------------------------------------------


def compare(scenarios: Sequence[str], *, replications: int = 10, baseline: str = "baseline_2009",
            out_dir: str | Path | None = None, horizon_days: int | None = None, workers: int | None = None,
            engine: str = "processes", seed: int = 0, overrides: Sequence[str] = (), maps: bool = True,
            progress: bool = True, config_dir: str | Path | None = None, posterior: int | None = None,
            posterior_file: str | Path | None = None) -> Comparison:
    """Run the scenarios (presets) x replications and write the comparison folder.

    Args:
        scenarios: preset names (``python -m sim presets``); the baseline is added first
            if missing.
        replications: runs per scenario; replication r uses the same seed everywhere.
        baseline: the preset the others are compared with.
        out_dir: results folder (default ``results/compare/<timestamp>``).
        horizon_days: days simulated in every run (default: the scenarios' own).
        workers, engine: passed to :func:`sim.sweep.run_experiments`.
        seed: the comparison's seed; replication seeds derive from it.
        overrides: Hydra overrides applied to every scenario (e.g. ``world.flow.supply_multiplier=1.2``).
        maps: draw the mean-flow route map of each scenario.
        config_dir: a folder of the user's own configs (presets, policies ...), searched too.
        posterior: number of draws of the calibrated parameters from the posterior
            (``posterior_file``, default ``calibration/results/posterior.parquet``); each
            draw runs ``replications`` times (see :mod:`sim.posterior`). None: the calibrated point.
    """
    from sim.config import config_dir_overrides
    from sim.sweep import Experiment, replication_seeds, run_experiments

    names = _scenario_list(scenarios, baseline, config_dir)
    command_overrides = list(overrides)
    overrides = [*config_dir_overrides(config_dir), *overrides]
    if replications < 1:
        raise ConfigError(f"config error: --replications must be at least 1 (got {replications})")
    scenario_params = {name: _validate_scenario(name, overrides) for name in names}   # a bad --override: one line
    calendar = common_calendar(scenario_params)   # scenarios without a timeline run on the timeline's dates
    draws = _posterior_draws(posterior, seed, posterior_file, command_overrides)
    out = Path(out_dir) if out_dir is not None else Path("results/compare") / dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    _make_folder(out)
    seeds = replication_seeds(seed, replications * (1 if draws is None else len(draws)))
    scenario_overrides = {name: (f"preset={name}", *overrides, *calendar.get(name, ())) for name in names}
    if draws is None:
        experiments = [Experiment(run_id=f"{name}/rep{r:03d}", scenario=scenario_overrides[name],
                                  seed=s, inputs={"scenario": name, "replication": r})
                       for name in names for r, s in enumerate(seeds)]
    else:
        experiments = posterior_experiments(scenario_overrides, draws, seeds)
        draws.to_csv(out / "posterior_draws.csv")
    started = time.perf_counter()
    timed = any(p.timeline for p in scenario_params.values())
    details = (*(("edge_flows", "seized_by_node") if maps else ()), *(("daily",) if timed else ()))
    runs = run_experiments(experiments, engine=engine, workers=workers, results_dir=out / "sweep",
                           progress=progress, horizon_days=horizon_days, details=details)
    wall_s = time.perf_counter() - started
    outcome_keys = [c for c in _outcome_columns(runs) if c in runs]
    table = (outcome_statistics(runs, names[0], outcome_keys) if draws is None
             else posterior_statistics(runs, names[0], outcome_keys))
    table.insert(2, "group", table["outcome"].map(outcome_group))
    titles = {n: load_briefing(n, config_dir).title for n in names}
    table.insert(1, "title", table["scenario"].map(titles))
    headline = _headline_table(table, names)
    horizon = int(runs["horizon_days"].dropna().iloc[0]) if "horizon_days" in runs and len(runs) else horizon_days

    files = [*_write_table(runs, out / "runs"), *_write_table(table, out / "outcomes")]
    headline.to_csv(out / "headline.csv", index=False)
    files.append(out / "headline.csv")
    caption = CAPTION.format(n=replications if draws is None else f"{len(draws)} posterior draws x {replications}", h=horizon)
    files.append(draw_change_from_baseline(table, names, out / "diff_from_baseline.png", caption))
    files.append(draw_entry_by_border(table, names, out / "entry_by_border.png", caption))
    files.append(draw_seizures_by_place(table, names, out / "seizures_by_place.png", caption))
    files.append(draw_crossings_change(table, names, out / "crossings_change.png", caption))
    map_files = draw_mean_flow_maps(runs, names, out, overrides, titles, replications) if maps else {}
    files.extend(map_files.values())
    if timed:
        paired = runs if draws is None else runs.assign(replication=runs["draw"] * replications + runs["replication"])
        files.extend(write_timeline_differences(paired, names, scenario_params, out, caption, horizon))
    settings = {
        "scenarios": names, "baseline": names[0], "replications": replications, "seeds": seeds, "seed": seed,
        "horizon_days": horizon, "engine": engine, "workers": workers, "overrides": command_overrides,
        "config_dir": None if config_dir is None else str(Path(config_dir).resolve()),
        "posterior": posterior, "posterior_file": None if draws is None else str(Path(posterior_file or POSTERIOR_FILE).resolve()),
        "runs": len(runs), "failed": int((runs["status"] != "ok").sum()), "wall_s": round(wall_s, 1),
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "command": "python -m sim compare " + " ".join(names[1:]) + f" --baseline {names[0]} --replications {replications}"
                   + (f" --horizon-days {horizon_days}" if horizon_days else "") + f" --seed {seed}"
                   + (f" --posterior {posterior}" if draws is not None else "")
                   + (f" --posterior-file {Path(posterior_file).resolve()}" if posterior_file is not None else "")
                   + "".join(f" --override {o}" for o in command_overrides)
                   + (f" --config-dir {Path(config_dir).resolve()}" if config_dir is not None else ""),
    }
    (out / "comparison.json").write_text(json.dumps(settings, indent=2))
    files.append(out / "comparison.json")
    (out / "brief.md").write_text(facilitator_brief(table, names, titles, settings, map_files, out))
    files.append(out / "brief.md")
    return Comparison(out_dir=out, scenarios=names, baseline=names[0], runs=runs, outcomes=table,
                      headline=headline, files=files)


def _posterior_draws(posterior: int | None, seed: int, posterior_file: str | Path | None,
                     overrides: Sequence[str]) -> pd.DataFrame | None:
    """The posterior draws of a comparison (None without ``posterior``), checked against the overrides."""
    if posterior is None:
        if posterior_file is not None:
            raise ConfigError("config error: --posterior-file is read only with --posterior N (the number of draws)")
        return None
    draws = draw_posterior(posterior, seed=seed, path=posterior_file)
    check_overrides(overrides, [c for c in draws.columns if c != "particle"])
    return draws


def _validate_scenario(name: str, overrides: Sequence[str]):
    """The scenario's parameters (composing it checks it)."""
    from sim.config import load_params

    return load_params([f"preset={name}", *overrides])


def _make_folder(out: Path) -> None:
    """Create the results folder, or say in one line why it cannot be (a file, read-only)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"config error: --out {out} is a file; give a folder for the comparison's results")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise ConfigError(f"config error: --out {out}: cannot write there ({(err.strerror or str(err)).lower()})") from None


def _scenario_list(scenarios: Sequence[str], baseline: str, config_dir: str | Path | None = None) -> list[str]:
    known = set(list_presets(config_dir))
    names = [baseline, *[s for s in scenarios if s != baseline]]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"config error: unknown preset(s) {', '.join(map(repr, unknown))} "
                          f"(available: {', '.join(sorted(known))})")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError(f"config error: preset(s) listed twice: {', '.join(dup)}")
    return names


def _outcome_columns(runs: pd.DataFrame) -> list[str]:
    try:
        from sim.sweep import outcome_columns

        return list(outcome_columns(runs))
    except ImportError:   # pragma: no cover - older sweep API
        skip = {"run_id", "seed", "overrides", "horizon_days", "status", "error", "wall_s", "sim_s", "scenario", "replication"}
        return [c for c in runs.columns if c not in skip and pd.api.types.is_numeric_dtype(runs[c])]


def _write_table(frame: pd.DataFrame, stem: Path) -> list[Path]:
    write_parquet(frame, stem.with_suffix(".parquet"))
    frame.to_csv(stem.with_suffix(".csv"), index=False)
    return [stem.with_suffix(".parquet"), stem.with_suffix(".csv")]


def _headline_table(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """One row per scenario: each headline outcome as mean, and difference [95% CI]."""
    rows = []
    by = table.set_index(["scenario", "outcome"])
    for name in names:
        row = {"scenario": name}
        for key, label, unit in HEADLINE:
            if (name, key) not in by.index:
                continue
            r = by.loc[(name, key)]
            row[f"{key}"] = r["mean"]
            if name != names[0]:
                row[f"{key}_diff"] = r["diff"]
                row[f"{key}_diff_ci_low"] = r["diff_ci_low"]
                row[f"{key}_diff_ci_high"] = r["diff_ci_high"]
        rows.append(row)
    return pd.DataFrame(rows)


# --- charts ----------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def draw_change_from_baseline(table: pd.DataFrame, names: list[str], path: Path, caption: str) -> Path:
    """% change from the baseline with 95% intervals: one panel per headline outcome."""
    others = names[1:]
    labels = {k: lab for k, lab, _ in HEADLINE}
    panels = [k for k in CHANGE_PANELS if k in set(table["outcome"])]
    cols = 4
    rows_n = max(1, math.ceil(len(panels) / cols))
    height = rows_n * (0.32 * max(1, len(others)) + 1.4) + 0.8
    fig = _figure(17, height)
    axes = fig.subplots(rows_n, cols, squeeze=False, sharey=True)
    by = table.set_index(["scenario", "outcome"])
    y = np.arange(len(others))[::-1]
    for i, ax in enumerate(axes.flat):
        if i >= len(panels):
            ax.set_visible(False)
            continue
        key = panels[i]
        for yi, name in zip(y, others):
            if (name, key) not in by.index:
                continue
            r = by.loc[(name, key)]
            if math.isnan(r["pct_diff"]):
                continue
            colour = "#d62728" if r["significant"] and r["pct_diff"] > 0 else "#1f77b4" if r["significant"] else "#999999"
            low, high = r["pct_ci_low"], r["pct_ci_high"]
            if not (math.isnan(low) or math.isnan(high)):
                ax.plot([low, high], [yi, yi], color=colour, lw=2.2, solid_capstyle="butt")
            ax.plot([r["pct_diff"]], [yi], "o", color=colour, ms=5)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(labels.get(key, key), fontsize=10)
        ax.set_xlabel("% change from baseline", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.set_yticks(y)
        ax.set_yticklabels(others, fontsize=8)
    fig.suptitle(f"Difference from {names[0]} (mean of paired differences, 95% interval; red/blue: clearly up/down, grey: "
                 "not distinguishable from no change)", fontsize=11)
    fig.text(0.01, 0.003, caption, fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.015, 1, 0.97))
    fig.savefig(path)
    return path


def _stacked_barh(ax, y: np.ndarray, segments: list[tuple[str, np.ndarray, str]], percent_labels: bool = False) -> None:
    """Horizontal bars stacked from the left, one (label, values, colour) segment at a time."""
    left = np.zeros(len(y))
    for label, values, colour in segments:
        ax.barh(y, values, left=left, color=colour, label=label)
        if percent_labels:
            for yi, lft, v in zip(y, left, values):
                if v > 0.06:
                    ax.text(lft + v / 2, yi, f"{100 * v:.0f}%", ha="center", va="center", fontsize=7, color="white")
        left += values


def draw_entry_by_border(table: pd.DataFrame, names: list[str], path: Path, caption: str) -> Path:
    """Where the flow enters Kazakhstan, per scenario (displacement between borders)."""
    by = table.set_index(["scenario", "outcome"])["mean"]
    fig = _figure(10, 0.32 * len(names) + 1.8)
    ax = fig.subplots()
    y = np.arange(len(names))[::-1]
    segments = [(label, np.array([by.get((n, key), 0.0) for n in names]), colour) for key, label, colour in ENTRY_BORDERS]
    _stacked_barh(ax, y, segments, percent_labels=True)
    ax.set_yticks(y)
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the heroin entering Kazakhstan (mean over replications)")
    ax.legend(ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=9)
    fig.text(0.01, 0.003, caption, fontsize=6.5, color="#555555")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(path)
    return path


def draw_seizures_by_place(table: pd.DataFrame, names: list[str], path: Path, caption: str) -> Path:
    """Where heroin is seized (true), per scenario; the reported total as a marker."""
    by = table.set_index(["scenario", "outcome"])["mean"]
    fig = _figure(11, 0.32 * len(names) + 2.0)
    ax = fig.subplots()
    y = np.arange(len(names))[::-1]
    colours = ("#8c564b", "#1f77b4", "#17becf", "#ff7f0e", "#d62728", "#9467bd")
    segments = [(label, np.array([sum(by.get((n, k), 0.0) for k in keys) for n in names]) / 1000, colour)
                for (label, keys), colour in zip(SEIZURE_PLACES, colours)]
    _stacked_barh(ax, y, segments)
    reported = np.array([by.get((n, "kg_seized_reported"), np.nan) for n in names]) / 1000
    ax.plot(reported, y, "k|", ms=14, mew=2, label="total as reported (false couriers included)")
    ax.set_yticks(y)
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel("tonnes seized (mean over replications)")
    ax.legend(ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.text(0.01, 0.003, caption, fontsize=6.5, color="#555555")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(path)
    return path


def draw_crossings_change(table: pd.DataFrame, names: list[str], path: Path, caption: str) -> Path:
    """Change in tonnes over each Kazakh border crossing against the baseline (heat map)."""
    crossings = sorted({o.removeprefix("kg_crossing_") for o in table["outcome"]
                        if o.startswith("kg_crossing_kz_")}, key=_crossing_order)
    others = names[1:]
    by = table.set_index(["scenario", "outcome"])
    diff = np.array([[by["diff"].get((n, f"kg_crossing_{c}"), np.nan) / 1000 for c in crossings] for n in others])
    sig = np.array([[bool(by["significant"].get((n, f"kg_crossing_{c}"), False)) for c in crossings] for n in others])
    fig = _figure(max(9, 0.55 * len(crossings) + 3), 0.38 * max(1, len(others)) + 3.2)
    ax = fig.subplots()
    finite = np.abs(diff[np.isfinite(diff)])
    limit = float(np.percentile(finite, 98)) if finite.size and finite.max() > 0 else 1.0   # a few outliers saturate
    image = ax.imshow(np.nan_to_num(diff), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    for i in range(len(others)):
        for j in range(len(crossings)):
            if np.isfinite(diff[i, j]) and abs(diff[i, j]) >= 0.05 * limit:
                ax.text(j, i, f"{diff[i, j]:+.1f}{'' if sig[i, j] else '?'}", ha="center", va="center", fontsize=6.5,
                        color="white" if abs(diff[i, j]) > 0.6 * limit else "black")
    south = sum(_crossing_order(c)[0] == 0 for c in crossings)
    if 0 < south < len(crossings):
        ax.axvline(south - 0.5, color="black", lw=1.2)
    ax.set_xticks(range(len(crossings)))
    ax.set_xticklabels([c.removeprefix("kz_") for c in crossings], rotation=60, ha="right", fontsize=7.5)
    ax.set_yticks(range(len(others)))
    ax.set_yticklabels(others, fontsize=8)
    fig.colorbar(image, ax=ax, label="change, tonnes per run", shrink=0.8)
    ax.set_title(f"Flow over Kazakhstan's border crossings, change from {names[0]}: left of the line the southern "
                 f"crossings (entry),\nright of it the crossings into Russia (mean of paired differences; '?': the 95% "
                 f"interval includes no change)", fontsize=10)
    fig.text(0.01, 0.003, caption, fontsize=6.5, color="#555555")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(path)
    return path


def _crossing_order(node_id: str) -> tuple[int, str]:
    southern = ("kz_korday", "kz_karasu", "kz_merke", "kz_lugovaya", "kz_kg_green", "kz_zhibek", "kz_saryagash",
                "kz_uz_green", "kz_temirbaba")
    return (0 if node_id.startswith(southern) else 1, node_id)


def draw_mean_flow_maps(runs: pd.DataFrame, names: list[str], out: Path, overrides: Sequence[str],
                        titles: dict[str, str], replications: int) -> dict[str, Path]:
    """Each scenario's mean flows and seizures over its replications on the route map."""
    from sim.config import load_params
    from sim.maps import draw_route_map
    from sim.model.network import build_network
    from sim.model.policies import with_policy_network
    from sim.sweep import load_details

    try:
        flows = load_details(out / "sweep", "edge_flows")
        seized = load_details(out / "sweep", "seized_by_node")
    except FileNotFoundError:
        return {}
    scenario_of = runs.set_index("run_id")["scenario"]
    ok_runs = runs[runs["status"] == "ok"].groupby("scenario")["run_id"].count()
    flows["scenario"] = flows["run_id"].map(scenario_of)
    seized["scenario"] = seized["run_id"].map(scenario_of)
    (out / "maps").mkdir(exist_ok=True)
    paths = {}
    for name in names:
        n_ok = int(ok_runs.get(name, 0))
        if not n_ok:
            continue
        params = with_policy_network(load_params([f"preset={name}", *overrides]))
        nodes, edges = build_network(params.network, params.world.transport).frames()
        mean_flow = (flows[flows["scenario"] == name].groupby(["u", "v"])["kg"].sum() / n_ok).to_dict()
        mean_seized = (seized[seized["scenario"] == name].groupby("node")["kg"].sum() / n_ok).to_dict()
        path = out / "maps" / f"{name}.png"
        fig = draw_route_map(nodes, edges, mean_flow, mean_seized, path,
                             title=f"{titles[name]}: mean flows and seizures over {n_ok} runs")
        fig.clear()
        paths[name] = path
    return paths


# --- the facilitator's brief -------------------------------------------------------------


BRIEF_COLUMNS = (("kg_entering_kz", "Entering KZ, t"), ("kg_seized_true", "Seized (true), t"),
                 ("kg_seized_reported", "Seized (reported), t"), ("kg_reaching_russia", "Reaching Russia, t"),
                 ("kg_reaching_eu", "Reaching EU, t"), ("bribes_usd", "Bribes, $M"),
                 ("revenue_usd", "Traffickers' revenue, $M"), ("policy_cost_usd", "Policy cost, $M"))


# --- timelines: differences per phase and month ------------------------------------------

#: Outcomes of the per-phase and monthly differences (sim.model.outcomes.period_outcomes), and their labels.
PERIOD_PANELS = (("kg_entering_kz", "Entering Kazakhstan, kg"), ("kg_seized", "Seized, kg"),
                 ("kg_reaching_russia", "Reaching Russia, kg"), ("share_entry_kz_kg", "Share entering via the Kyrgyz border"),
                 ("share_entry_kz_uz", "Share entering via the Uzbek border"))


def has_timeline(preset: str, config_dir: str | Path | None = None) -> bool:
    """Whether a preset's file has a timeline (read without composing)."""
    import yaml

    from sim.brief import preset_path

    data = yaml.safe_load(preset_path(preset, config_dir).read_text()) or {}
    return bool(data.get("timeline"))


def common_calendar(scenario_params: dict) -> dict[str, tuple[str, ...]]:
    """Overrides giving every scenario without a timeline the calendar of those with one.

    Paired differences by phase and month pair the same days; timeline scenarios must
    share one calendar (start date and horizon), which the others then take.
    """
    calendars = {(p.start_date, p.horizon_days) for p in scenario_params.values() if p.timeline}
    if len(calendars) > 1:
        shown = ", ".join(f"{n} ({p.start_date} to {p.end_date})" for n, p in scenario_params.items() if p.timeline)
        raise ConfigError(f"config error: compare: timeline scenarios on different calendars: {shown}; give them one "
                          f"with --override start_date=YYYY-MM-DD --override end_date=YYYY-MM-DD")
    if not calendars:
        return {}
    start, horizon = calendars.pop()
    timed = next(p for p in scenario_params.values() if p.timeline)
    return {name: (f"start_date={start.isoformat()}", f"end_date={timed.end_date.isoformat()}")
            for name, p in scenario_params.items()
            if not p.timeline and (p.start_date, p.horizon_days) != (start, horizon)}


def period_differences(daily: pd.DataFrame, runs: pd.DataFrame, baseline: str, name: str,
                       periods: list[tuple[int, int]]) -> pd.DataFrame:
    """Paired differences (scenario minus baseline, same replication) of the period
    outcomes: one row per period and outcome, with the t-based 95% interval."""
    from sim.model.outcomes import PERIOD_OUTCOMES, period_outcomes

    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    per_run = {run_id: frame for run_id, frame in daily.groupby("run_id", sort=False)}

    def outcomes_of(scenario: str) -> dict[int, pd.DataFrame]:
        rows = ok[ok["scenario"] == scenario]
        return {int(r): period_outcomes(per_run[i], periods) for i, r in zip(rows["run_id"], rows["replication"])
                if i in per_run}

    mine, base = outcomes_of(name), outcomes_of(baseline)
    common = sorted(set(mine) & set(base))
    rows = []
    for k, (first, end) in enumerate(periods):
        for key in PERIOD_OUTCOMES:
            values = np.array([mine[r].loc[k, key] for r in common])
            diffs = values - np.array([base[r].loc[k, key] for r in common])
            d_mean, d_low, d_high = t_interval(diffs)
            rows.append({"scenario": name, "period": k, "start_day": first, "end_day": end, "outcome": key,
                         "n": len(common), "mean": float(np.nanmean(values)) if len(values) else math.nan,
                         "baseline_mean": float(np.nanmean([base[r].loc[k, key] for r in common])) if common else math.nan,
                         "diff": d_mean, "diff_ci_low": d_low, "diff_ci_high": d_high,
                         "clear": bool(not math.isnan(d_low) and (d_low > 0 or d_high < 0))})
    return pd.DataFrame(rows)


def write_timeline_differences(runs: pd.DataFrame, names: list[str], scenario_params: dict, out: Path,
                               caption: str, horizon: int) -> list[Path]:
    """phases.csv, monthly_diff.csv and a monthly-difference chart per scenario with a timeline
    (``horizon``: the days the runs simulated)."""
    from sim.sweep import load_details
    from sim.timeline import date_of, event_marks, month_bounds, phase_bounds

    daily = load_details(out / "sweep", "daily")
    baseline, phase_rows, month_rows, files = names[0], [], [], []
    for name in names[1:]:
        params = scenario_params[name].model_copy(update={"horizon_days": horizon})
        bounds = phase_bounds(params) if params.timeline else [(0, params.horizon_days, "whole run")]
        table = period_differences(daily, runs, baseline, name, [(a, b) for a, b, _ in bounds])
        table.insert(2, "label", table["period"].map(lambda k: bounds[k][2]))
        phase_rows.append(table)
        months = month_bounds(params.start_date, params.horizon_days)
        monthly = period_differences(daily, runs, baseline, name, [(a, b) for a, b, _ in months])
        monthly.insert(2, "month", monthly["period"].map(lambda k: months[k][2]))
        month_rows.append(monthly)
        if params.timeline:
            files.append(draw_monthly_difference(monthly, name, baseline, event_marks(params), params.start_date,
                                                 out / f"monthly_diff_{name}.png", caption))
    for frame, stem in ((phase_rows, "phases"), (month_rows, "monthly_diff")):
        table = pd.concat(frame, ignore_index=True) if frame else pd.DataFrame()
        if len(table):
            start = {n: scenario_params[n].start_date for n in names}
            table.insert(3, "start_date", [date_of(start[n], d).isoformat() for n, d in zip(table["scenario"], table["start_day"])])
            table.insert(4, "end_date", [date_of(start[n], d - 1).isoformat() for n, d in zip(table["scenario"], table["end_day"])])
        table.to_csv(out / f"{stem}.csv", index=False)
        files.append(out / f"{stem}.csv")
    return files


def draw_monthly_difference(monthly: pd.DataFrame, name: str, baseline: str, events, start_date, path: Path,
                            caption: str) -> Path:
    """Month by month, the paired difference from the baseline with its 95% interval, events marked."""
    from sim.timeline import date_of

    fig = _figure(12, 2.2 * len(PERIOD_PANELS) + 1)
    axes = fig.subplots(len(PERIOD_PANELS), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (key, label) in zip(axes, PERIOD_PANELS):
        rows = monthly[monthly["outcome"] == key]
        x = np.arange(len(rows))
        ax.fill_between(x, rows["diff_ci_low"], rows["diff_ci_high"], color="#1f77b4", alpha=0.25, step="mid",
                        label="95% interval")
        ax.plot(x, rows["diff"], "o-", color="#1f77b4", ms=3.5, lw=1.2, label="mean paired difference")
        clear = rows["clear"].to_numpy(bool)
        ax.plot(x[clear], rows["diff"].to_numpy()[clear], "o", color="#d62728", ms=5, label="interval excludes 0")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
        months = list(rows["month"])
        for day, event in events:
            month = date_of(start_date, day).strftime("%Y-%m")
            if month in months:
                xe = months.index(month) - 0.5
                ax.axvline(xe, color="#2ca02c", ls="--", lw=1.2)
                if ax is axes[0]:
                    ax.annotate(event, (xe, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3),
                                textcoords="offset points", rotation=90, va="top", fontsize=7, color="#2ca02c")
    axes[0].legend(loc="lower left", fontsize=7, frameon=False)
    axes[-1].set_xticks(np.arange(len(months)))
    axes[-1].set_xticklabels(months, rotation=90, fontsize=7)
    fig.suptitle(f"{name} minus {baseline}, month by month (paired replications)", fontsize=11)
    fig.text(0.01, 0.003, caption, fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.015, 1, 0.97))
    fig.savefig(path)
    return path


def facilitator_brief(table: pd.DataFrame, names: list[str], titles: dict[str, str], settings: dict,
                      map_files: dict[str, Path], out: Path) -> str:
    """A one-page Markdown brief: what was compared, the headline table, what stands out."""
    by = table.set_index(["scenario", "outcome"])
    base = names[0]
    lines = [
        "# Comparing interventions on the Northern Route",
        "",
        f"{len(names) - 1} scenarios against **{titles[base]}** (`{base}`); {_runs_per_scenario(settings)} "
        f"each, {settings['horizon_days']} simulated days, the same seeds in every scenario (common random numbers). "
        f"Figures are model output, not observations; every parameter's source or assumption is in "
        f"`scenarios/provenance.yaml`.",
        "",
        "## Headline: baseline level, then the change (95% interval) per scenario",
        "",
    ]
    header = "| Scenario | " + " | ".join(label for _, label in BRIEF_COLUMNS) + " |"
    lines += [header, "|" + "---|" * (len(BRIEF_COLUMNS) + 1)]
    for name in names:
        cells = []
        for key, label in BRIEF_COLUMNS:
            scale = 1e6 if "$M" in label else 1000
            if (name, key) not in by.index:
                cells.append("")
                continue
            r = by.loc[(name, key)]
            if name == base:
                cells.append(f"**{_num(r['mean'] / scale)}**")
            else:
                mark = "" if r["significant"] else " ~"
                cells.append(f"{_num(r['diff'] / scale, sign=True)}{mark}" if not math.isnan(r["diff"]) else "")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += ["", "Changes marked ~ cannot be told apart from no change at 95% with these replications.", ""]
    lines += ["## What stands out", ""]
    for name in names[1:]:
        lines.append(f"- **{titles[name]}** (`{name}`): {_standout(by, name)}")
    lines += ["", "## Charts", "",
              "- `diff_from_baseline.png`: % change from the baseline with 95% intervals",
              "- `entry_by_border.png`: where the heroin enters Kazakhstan (displacement)",
              "- `seizures_by_place.png`: where it is seized; reported vs true totals",
              "- `crossings_change.png`: tonnes over each Kazakh border crossing, change from the baseline"]
    if map_files:
        lines.append("- `maps/<scenario>.png`: mean flows and seizures on the route map (compare with "
                     f"`maps/{base}.png`)")
    lines += ["", "![Change from the baseline](diff_from_baseline.png)", "",
              "## Reproduce", "", f"`{settings['command']}`", ""]
    return "\n".join(lines)


def _runs_per_scenario(settings: dict) -> str:
    """'10 replications', or '20 posterior draws x 5 replications' (intervals then combine both)."""
    if settings.get("posterior"):
        return (f"{settings['posterior']} draws of the calibrated parameters x {settings['replications']} replications "
                "(intervals combine parameter and seed variation)")
    return f"{settings['replications']} replications"


def _num(x: float, sign: bool = False) -> str:
    """A number for a table cell, with as many decimals as its size calls for."""
    decimals = 0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2
    return f"{x:{'+' if sign else ''},.{decimals}f}"


STANDOUT_KEYS = (("kg_entering_kz", "heroin entering Kazakhstan"), ("kg_seized_true", "kg seized"),
                 ("kg_seized_reported", "kg seized as reported"), ("kg_reaching_russia", "kg reaching Russia"),
                 ("kg_reaching_eu", "kg reaching the EU"), ("bribes", "bribes taken"), ("bribes_usd", "bribes paid ($)"),
                 ("share_entry_kz_kg", "the Kyrgyz border's share of entries"),
                 ("share_entry_kz_uz", "the Uzbek border's share of entries"),
                 ("share_entry_kz_tm", "the Turkmen border's share of entries"),
                 ("revenue_usd", "traffickers' revenue"), ("organisation_days_disrupted", "days organisations are disrupted"))


def _standout(by: pd.DataFrame, name: str) -> str:
    """The clear changes of a scenario, largest first (up to four), in words."""
    found = []
    for key, words in STANDOUT_KEYS:
        if (name, key) not in by.index:
            continue
        r = by.loc[(name, key)]
        if not r["significant"]:
            continue
        if key == "kg_seized_reported" and (name, "kg_seized_true") in by.index and \
                abs(r["pct_diff"] - by.loc[(name, "kg_seized_true")]["pct_diff"]) < 1:
            continue   # reported moves with true: say it once
        if key.startswith("share_"):
            found.append((abs(r["diff"]) * 100, f"{words} {r['diff'] * 100:+.1f} points"))
        elif not math.isnan(r["pct_diff"]):
            pct = f"{r['pct_diff']:+.0f}" if abs(r["pct_diff"]) >= 10 else f"{r['pct_diff']:+.1f}"
            found.append((abs(r["pct_diff"]), f"{words} {pct}%"))
        else:
            found.append((math.inf, f"{words} {r['diff']:+,.0f}"))
    found.sort(key=lambda t: -t[0])
    texts = [text for _, text in found[:4]]
    moved = _largest_crossing_change(by, name)
    if moved:
        texts.append(moved)
    if not texts:
        return "no change that the replications can tell apart from noise."
    return "; ".join(texts) + "."


def _largest_crossing_change(by: pd.DataFrame, name: str, min_kg: float = 1000.0) -> str | None:
    """The border crossing whose flow changed most (clearly, and by at least a tonne)."""
    rows = by.loc[name] if name in by.index.get_level_values(0) else None
    if rows is None:
        return None
    rows = rows[rows.index.str.startswith("kg_crossing_") & rows["significant"] & (rows["diff"].abs() >= min_kg)]
    if rows.empty:
        return None
    key = rows["diff"].abs().idxmax()
    return f"largest shift at a border crossing: {key.removeprefix('kg_crossing_')} {rows.loc[key, 'diff'] / 1000:+.1f} t"


# --- command line ----------------------------------------------------------------------


def main_compare(argv: list[str]) -> int:
    """``python -m sim compare PRESET ... --replications N --workers W --out DIR``."""
    parser = argparse.ArgumentParser(
        prog="python -m sim compare",
        description="Run preset scenarios side by side (N replications each, common random numbers) and write "
                    "tables, charts and a one-page brief comparing them with the baseline.")
    parser.add_argument("presets", nargs="*", help="preset names (python -m sim presets); --all for every preset")
    parser.add_argument("--all", action="store_true", help="compare every preset")
    parser.add_argument("--baseline", default="baseline_2009", help="the preset compared against (default: %(default)s)")
    parser.add_argument("--replications", "-n", type=int, default=10, help="runs per scenario (default: %(default)s)")
    parser.add_argument("--workers", "-w", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--engine", default="processes", choices=("serial", "processes", "dask"),
                        help="how runs are executed (default: %(default)s)")
    parser.add_argument("--out", default=None, help="results folder (default: results/compare/<timestamp>)")
    parser.add_argument("--horizon-days", type=int, default=None, help="days per run (default: the scenarios' own)")
    parser.add_argument("--seed", type=int, default=0, help="the comparison's seed (default: %(default)s)")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="Hydra override applied to every scenario (repeatable)")
    parser.add_argument("--posterior", type=int, default=None, metavar="N",
                        help="run N draws of the calibrated parameters from the posterior, each --replications times")
    parser.add_argument("--posterior-file", default=None, metavar="FILE",
                        help="the posterior (default: calibration/results/posterior.parquet)")
    parser.add_argument("--no-maps", action="store_true", help="skip the route maps")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_dir_option(parser)
    args = parser.parse_args(argv)
    from sim.sweep import SweepInterrupted, sigterm_as_interrupt

    try:
        presets = list_presets(args.config_dir) if args.all else args.presets
        if args.all:                    # each timeline preset has its own calendar: compare it on its own
            dated = [p for p in presets if has_timeline(p, args.config_dir)]
            presets = [p for p in presets if p not in dated]
            if dated:
                print(f"--all leaves out the timeline presets ({', '.join(dated)}): each runs on its own calendar; "
                      f"compare each alone (python -m sim compare {dated[0]})", file=sys.stderr)
        if not presets:
            parser.error("name at least one preset (or --all)")
        with sigterm_as_interrupt():  # SIGTERM stops the runs as Ctrl-C does
            result = compare(presets, replications=args.replications, baseline=args.baseline, out_dir=args.out,
                             horizon_days=args.horizon_days, workers=args.workers, engine=args.engine, seed=args.seed,
                             overrides=args.override, maps=not args.no_maps, progress=not args.quiet,
                             config_dir=args.config_dir, posterior=args.posterior,
                             posterior_file=args.posterior_file)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    except SweepInterrupted as stop:  # Ctrl-C or SIGTERM: the finished runs are in <out>/sweep
        folder = Path(stop.results_dir).parent
        again = "rerun the same command" if args.out else f"rerun the same command with --out {folder}"
        print(f"interrupted: {stop.kept} runs kept, {again} to resume ({stop.kept} of {stop.total} in {folder})",
              file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt as stop:  # before the runs (composing) or after them (tables, charts)
        print("interrupted; the runs that finished are kept: rerun the same command (with --out) to resume",
              file=sys.stderr)
        return 128 + int(getattr(stop, "signum", 2))
    failed = int((result.runs["status"] != "ok").sum())
    print(format_headline(result.outcomes, result.scenarios))
    if args.posterior is not None:
        print("\n" + format_robustness(result.outcomes, result.scenarios))
    if failed:
        print(f"\nwarning: {failed} run(s) failed; see {result.out_dir / 'runs.csv'} (status, error)", file=sys.stderr)
    print(f"\nResults: {result.out_dir}  (brief.md, headline.csv, outcomes.csv, charts)")
    return 0 if not failed else 1


def format_headline(table: pd.DataFrame, names: list[str]) -> str:
    """The headline outcomes as a plain-text table: baseline level, change [95% CI]."""
    by = table.set_index(["scenario", "outcome"])
    keys = [("kg_entering_kz", "enter KZ t", 1000), ("kg_seized_true", "seized t", 1000),
            ("kg_seized_reported", "reported t", 1000), ("kg_reaching_russia", "to RU t", 1000),
            ("kg_reaching_eu", "to EU t", 1000), ("interdiction_rate", "interd. %", 0.01),
            ("bribes_usd", "bribes $M", 1e6), ("share_entry_kz_kg", "KG entry %", 0.01)]
    width = max(len(n) for n in names)
    head = f"{'scenario':<{width}}  " + "  ".join(f"{label:>24s}" for _, label, _ in keys)
    lines = [head, "-" * len(head)]
    for name in names:
        cells = []
        for key, _, scale in keys:
            if (name, key) not in by.index:
                cells.append(f"{'':>24s}")
                continue
            r = by.loc[(name, key)]
            if name == names[0]:
                cells.append(f"{r['mean'] / scale:>24.3g}")
            else:
                text = f"{r['diff'] / scale:+.3g} [{r['diff_ci_low'] / scale:+.3g},{r['diff_ci_high'] / scale:+.3g}]"
                cells.append(f"{text:>24s}")
        lines.append(f"{name:<{width}}  " + "  ".join(cells))
    lines.append(f"(first row: {names[0]} level; others: paired difference from it [95% CI])")
    return "\n".join(lines)
