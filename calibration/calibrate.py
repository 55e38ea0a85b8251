"""The calibration pipeline: ABC-SMC over the uncertain parameters, then the checks.

:func:`run_calibration` reads the targets and settings, runs ABC-SMC
(:mod:`calibration.abc_smc`) with every simulation going through the sweep engine
(:mod:`calibration.runner`), then

- saves the posterior (``posterior.parquet``: each particle's parameters, weight,
  distance and the figures its run gave) and the tolerance history;
- summarises each parameter (weighted median, mean, 5% and 95% quantiles) in
  ``calibrated.yaml``; the median is the calibrated value;
- runs the posterior predictive check: fresh runs at parameters drawn from the posterior
  (``predictive.parquet``) and at the calibrated point itself (``point.parquet``), and
  tabulates every target, fitted and held out, against them (``fit.csv``);
- in full mode, writes the Hydra config entry the baseline scenario uses,
  ``scenarios/calibrated/baseline_2009.yaml``.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import yaml

from calibration.abc_smc import ABCResult, abc_smc, weighted_quantile
from calibration.runner import draw_seeds, run_points
from calibration.settings import RESULTS_DIR, SETTINGS_PATH, Settings, load_settings
from calibration.targets import TARGETS_PATH, TargetSet, base_params, load_targets
from sim.parquet import write_parquet

SCENARIO_PATH = Path(__file__).resolve().parents[1] / "scenarios" / "calibrated" / "baseline_2009.yaml"
QUANTILES = (0.05, 0.5, 0.95)


@dataclass
class CalibrationOutput:
    out_dir: Path
    settings: Settings
    targets: TargetSet
    abc: ABCResult
    summary: pd.DataFrame      # one row per parameter
    fit: pd.DataFrame          # one row per target
    scenario_path: Path | None


def default_out_dir(mode: str) -> Path:
    """Full results are kept (and committed); quick ones go to a scratch sub-folder."""
    return RESULTS_DIR if mode == "full" else RESULTS_DIR / "quick"


def run_calibration(mode: str = "full", *, out_dir: str | Path | None = None, targets_path: str | Path = TARGETS_PATH,
                    settings_path: str | Path = SETTINGS_PATH, write_scenario: bool | None = None,
                    engine: str | None = None, workers: int | None = None, progress: bool = True,
                    log: Callable[[str], None] = print) -> CalibrationOutput:
    """Calibrate, check and save. ``write_scenario`` defaults to True in full mode only."""
    settings = load_settings(mode, settings_path)
    base = base_params(settings.base_overrides)
    targets = load_targets(targets_path, params=base)
    out = Path(out_dir) if out_dir is not None else default_out_dir(mode)
    out.mkdir(parents=True, exist_ok=True)
    abc = settings.abc
    engine = engine or abc.get("engine", "processes")
    workers = workers if workers is not None else abc.get("workers")
    horizon = abc["horizon_days"]
    rng = np.random.default_rng(abc["seed"])
    log(f"calibration ({mode}): {len(settings.parameters)} parameters, {len(targets.fit)} fitted targets, "
        f"{len(targets.held_out)} held out; population {abc['population']}, batch {abc['batch']}, "
        f"{abc['generations']} generations, horizon {horizon} days, engine {engine}")

    result = fit_abc(settings, targets, base, rng, engine=engine, workers=workers, progress=progress, log=log)
    posterior = posterior_frame(result, settings, targets, base)
    write_parquet(posterior, out / "posterior.parquet")
    result.history().to_csv(out / "history.csv", index=False)
    summary = parameter_summary(posterior, settings)

    # posterior predictive: fresh runs at posterior draws, and at the calibrated point
    n_pred = abc["predictive_runs"]
    final = result.final
    draws = rng.choice(len(final.weights), size=n_pred, p=final.weights)
    pred_points = settings.from_unit(final.points[draws])
    log(f"calibration: posterior predictive, {n_pred} runs at posterior draws")
    predictive = run_points(settings, pred_points, draw_seeds(rng, n_pred), tag="predictive", horizon_days=horizon,
                            engine=engine, workers=workers, progress=progress)
    point = np.tile(summary["median"].to_numpy(float), (max(2, n_pred // 4), 1))
    log(f"calibration: {len(point)} runs at the calibrated point (posterior medians)")
    at_point = run_points(settings, point, draw_seeds(rng, len(point)), tag="point", horizon_days=horizon,
                          engine=engine, workers=workers, progress=progress)
    write_parquet(predictive, out / "predictive.parquet")
    write_parquet(at_point, out / "point.parquet")
    fit = fit_table(targets, predictive, at_point, base)
    fit.to_csv(out / "fit.csv", index=False)

    meta = {
        "method": "ABC-SMC (adaptive population Monte Carlo, Lenormand et al. 2013), uniform priors from "
                  "scenarios/provenance.yaml ranges, distance = RMS of (simulated - observed) / uncertainty",
        "mode": mode,
        "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": _git_commit(),
        "horizon_days": horizon,
        "population": abc["population"],
        "batch": abc["batch"],
        "generations_run": len(result.generations) - 1,
        "simulations": result.simulations,
        "final_tolerance": round(final.epsilon, 4),
        "effective_sample_size": round(final.ess, 1),
        "stopped_early": result.stopped_early,
        "predictive_runs": n_pred,
        "point_runs": len(point),
        "engine": engine,
        "fitted_targets": [t.name for t in targets.fit],
        "held_out_targets": [t.name for t in targets.held_out],
    }
    write_calibrated_yaml(out / "calibrated.yaml", summary, meta)
    if write_scenario is None:
        write_scenario = mode == "full"
    scenario_path = None
    if write_scenario:
        scenario_path = write_scenario_entry(summary, meta, SCENARIO_PATH)
        log(f"calibration: wrote {scenario_path}")
    log(f"calibration: results in {out}")
    return CalibrationOutput(out, settings, targets, result, summary, fit, scenario_path)


def fit_abc(settings: Settings, targets: TargetSet, base, rng: np.random.Generator, *, engine: str = "serial",
            workers: int | None = None, progress: bool = False, log: Callable[[str], None] = print) -> ABCResult:
    """ABC-SMC of ``settings.parameters`` to ``targets.fit``, each batch run by the sweep engine."""
    abc = settings.abc

    def simulate(unit_points: np.ndarray, generation: int) -> tuple[np.ndarray, pd.DataFrame]:
        points = settings.from_unit(unit_points)
        table = run_points(settings, points, draw_seeds(rng, len(points)), tag=f"abc-gen{generation}",
                           horizon_days=abc["horizon_days"], engine=engine, workers=workers, progress=progress)
        return targets.distances(table, base), table

    return abc_smc(simulate, len(settings.parameters), population=abc["population"], batch=abc["batch"],
                   generations=abc["generations"], rng=rng, kernel_scale=settings.kernel_scale,
                   min_acceptance=settings.min_acceptance, log=log)


# --- tables ----------------------------------------------------------------------------


def posterior_frame(result: ABCResult, settings: Settings, targets: TargetSet, base) -> pd.DataFrame:
    """The final population: parameter values, weight, distance and each run's target figures."""
    final = result.final
    values = settings.from_unit(final.points)
    frame = pd.DataFrame(values, columns=settings.names)
    frame.insert(0, "particle", range(len(frame)))
    frame["weight"] = final.weights
    frame["distance"] = final.distances
    frame["generation"] = final.index
    frame["seed"] = final.rows["seed"].to_numpy() if "seed" in final.rows else -1
    figures = targets.model_table(final.rows, base)
    return pd.concat([frame, figures.add_prefix("target:").reset_index(drop=True)], axis=1)


def parameter_summary(posterior: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Weighted posterior median, mean, 5%/95% quantiles of each parameter, with its prior."""
    w = posterior["weight"].to_numpy(float)
    best = posterior.loc[posterior["distance"].idxmin()]
    rows = []
    for p in settings.parameters:
        x = posterior[p.key].to_numpy(float)
        q05, q50, q95 = weighted_quantile(x, w, QUANTILES)
        rows.append({"key": p.key, "median": p.value(q50), "mean": float(w @ x / w.sum()), "q05": float(q05),
                     "q95": float(q95), "best_particle": float(best[p.key]), "prior_low": p.low,
                     "prior_high": p.high, "prior_basis": p.basis,
                     "shrinkage": 1 - (q95 - q05) / (0.9 * (p.high - p.low))})
    return pd.DataFrame(rows)


def fit_table(targets: TargetSet, predictive: pd.DataFrame, at_point: pd.DataFrame, base) -> pd.DataFrame:
    """Each target against the posterior predictive (median, 90% interval) and the calibrated point."""
    ok_pred = predictive[predictive["status"] == "ok"]
    ok_point = at_point[at_point["status"] == "ok"]
    rows = []
    for t in targets:
        row: dict[str, Any] = {
            "target": t.name, "role": t.role, "observed": t.value, "unit": t.unit,
            "obs_low": t.interval[0] if t.interval else np.nan, "obs_high": t.interval[1] if t.interval else np.nan,
            "output": t.output_label, "bound": t.bound or "", "source": t.source,
        }
        if t.has_output:
            sims = t.model_values(ok_pred, base)
            point = t.model_values(ok_point, base)
            finite = sims[np.isfinite(sims)]
            lo, med, hi = np.quantile(finite, QUANTILES) if len(finite) else (np.nan,) * 3
            row.update(pred_q05=lo, pred_median=med, pred_q95=hi,
                       point_median=float(np.nanmedian(point)) if np.isfinite(point).any() else np.nan,
                       observed_in_pred90=bool(lo <= t.value <= hi) if len(finite) else False,
                       z_median=float(t.z_scores(np.array([med]))[0]) if len(finite) else np.nan)
            if t.bound:
                held = [t.check_bound(v) for v in finite]
                row["bound_respected_share"] = float(np.mean(held)) if held else np.nan
        else:
            row.update(pred_q05=np.nan, pred_median=np.nan, pred_q95=np.nan, point_median=np.nan,
                       observed_in_pred90=None, z_median=np.nan, note=t.reason)
        rows.append(row)
    return pd.DataFrame(rows)


# --- writing the calibrated set -------------------------------------------------------------


def write_calibrated_yaml(path: Path, summary: pd.DataFrame, meta: dict[str, Any]) -> Path:
    params = {}
    for r in summary.itertuples():
        params[r.key] = {
            "value": _num(r.median), "mean": _num(r.mean), "q05": _num(r.q05), "q95": _num(r.q95),
            "best_particle": _num(r.best_particle), "prior": [_num(r.prior_low), _num(r.prior_high)],
            "prior_basis": r.prior_basis,
        }
    body = {"calibration": meta, "parameters": params}
    header = ("# The calibrated parameters of the 2009 baseline: ABC-SMC posterior summaries.\n"
              "# `value` is the weighted posterior median (what the baseline uses, through\n"
              "# scenarios/calibrated/baseline_2009.yaml); q05/q95 bound the 90% credible interval.\n"
              "# Written by `python -m calibration run`; see calibration/report.md. Do not edit by hand.\n")
    path.write_text(header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110))
    return path


def write_scenario_entry(summary: pd.DataFrame, meta: dict[str, Any], path: Path = SCENARIO_PATH) -> Path:
    """The Hydra config entry the baseline composes: each calibrated key at its posterior median."""
    tree: dict[str, Any] = {}
    for r in summary.itertuples():
        node = tree
        parts = r.key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _num(r.median)
    header = (
        "# @package _global_\n"
        "# The calibrated parameters of the 2009 baseline (posterior medians of the ABC-SMC\n"
        f"# calibration, {meta['created']}, {meta['simulations']} simulations; see calibration/report.md\n"
        "# and calibration/results/calibrated.yaml for the posterior). Composed after `world` in\n"
        "# scenarios/config.yaml; drop it with the override `~calibrated` to run the uncalibrated\n"
        "# world. Generated by `python -m calibration run`: do not edit by hand.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(tree, sort_keys=False))
    return path


def load_calibrated(path: str | Path = RESULTS_DIR / "calibrated.yaml") -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text())


def _num(x: Any) -> float | int:
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    return float(f"{x:.6g}")


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent, timeout=5).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
