"""Global sensitivity analysis of the main outputs to the uncertain parameters (SALib).

Two methods over the same parameters and prior ranges as the calibration
(``calibration/settings.yaml``, ranges from ``scenarios/provenance.yaml``):

- Morris elementary effects (screening): ``mu_star``, the mean absolute effect of moving
  one parameter across its range, ranks parameters cheaply; ``sigma`` flags interactions
  and non-linearity;
- Sobol indices (Saltelli sampling, first-order ``S1`` and total ``ST``): the share of
  an output's variance due to a parameter alone, and with all its interactions.

Samples come from SALib's samplers; every run goes through the sweep engine. All runs
share one seed (common random numbers), so differences between runs come from the
parameters, not from different random draws. Outputs are the main outcomes of the issue:
kilos seized, kilos delivered to Russia, the interdiction rate and the share of the flow
entering Kazakhstan over the Kyrgyz border (displacement).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from calibration.runner import run_points
from calibration.settings import RESULTS_DIR, SETTINGS_PATH, Settings, load_settings
from sim.parquet import write_parquet

LABELS = {
    "kg_seized": "kg seized",
    "kg_delivered_russia": "kg delivered to Russia",
    "interdiction_rate": "interdiction rate",
    "share_entry_kz_kg": "share entering KZ via Kyrgyz border",
}


@dataclass
class SensitivityOutput:
    morris: pd.DataFrame
    sobol: pd.DataFrame
    figure: Path


def salib_problem(settings: Settings) -> dict:
    return {"num_vars": len(settings.parameters), "names": settings.names,
            "bounds": [[p.low, p.high] for p in settings.parameters]}


def run_sensitivity(mode: str = "full", *, out_dir: str | Path | None = None, settings_path: str | Path = SETTINGS_PATH,
                    engine: str | None = None, workers: int | None = None, progress: bool = True,
                    log: Callable[[str], None] = print) -> SensitivityOutput:
    """Sample (Morris, Saltelli), run every sample once, analyse, save tables and chart."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    settings = load_settings(mode, settings_path)
    cfg = settings.sensitivity
    out = Path(out_dir) if out_dir is not None else (RESULTS_DIR if mode == "full" else RESULTS_DIR / "quick")
    (out / "figures").mkdir(parents=True, exist_ok=True)
    problem = salib_problem(settings)
    levels, seed = int(cfg["morris_levels"]), int(cfg["seed"])
    x_morris = morris_sample.sample(problem, int(cfg["morris_trajectories"]), num_levels=levels, seed=seed)
    x_sobol = sobol_sample.sample(problem, int(cfg["sobol_base_samples"]), calc_second_order=False, seed=seed)
    points = np.vstack([x_morris, x_sobol])
    log(f"sensitivity ({mode}): {len(x_morris)} Morris + {len(x_sobol)} Sobol runs of "
        f"{cfg['horizon_days']} days over {problem['num_vars']} parameters")
    table = run_points(settings, points, [seed] * len(points), tag="sensitivity", horizon_days=int(cfg["horizon_days"]),
                       engine=engine or cfg.get("engine", "processes"), workers=workers if workers is not None else cfg.get("workers"),
                       progress=progress)
    failed = table["status"] != "ok"
    if failed.any():
        raise RuntimeError(f"sensitivity: {int(failed.sum())} runs failed, e.g. {table.loc[failed, 'error'].iloc[0]}")
    table.insert(1, "design", ["morris"] * len(x_morris) + ["sobol"] * len(x_sobol))
    write_parquet(table, out / "sensitivity_runs.parquet")
    y_all = {o: table[o].to_numpy(float) for o in settings.sensitivity_outputs}

    morris_rows, sobol_rows = [], []
    n_m = len(x_morris)
    for output, y in y_all.items():
        m = morris_analyze.analyze(problem, x_morris, y[:n_m], num_levels=levels, seed=seed, print_to_console=False)
        s = sobol_analyze.analyze(problem, y[n_m:], calc_second_order=False, seed=seed, print_to_console=False)
        scale = float(np.max(m["mu_star"])) or 1.0
        for i, name in enumerate(problem["names"]):
            morris_rows.append({"output": output, "parameter": name, "mu_star": float(m["mu_star"][i]),
                                "mu_star_conf": float(m["mu_star_conf"][i]), "mu": float(m["mu"][i]),
                                "sigma": float(m["sigma"][i]), "mu_star_relative": float(m["mu_star"][i]) / scale})
            sobol_rows.append({"output": output, "parameter": name, "S1": float(s["S1"][i]),
                               "S1_conf": float(s["S1_conf"][i]), "ST": float(s["ST"][i]),
                               "ST_conf": float(s["ST_conf"][i])})
    morris = pd.DataFrame(morris_rows)
    sobol = pd.DataFrame(sobol_rows)
    morris.to_csv(out / "sensitivity_morris.csv", index=False)
    sobol.to_csv(out / "sensitivity_sobol.csv", index=False)
    figure = plot_sensitivity(morris, sobol, settings, out / "figures" / "sensitivity.png")
    log(f"sensitivity: tables and {figure} written")
    return SensitivityOutput(morris, sobol, figure)


def plot_sensitivity(morris: pd.DataFrame, sobol: pd.DataFrame, settings: Settings, path: Path) -> Path:
    """One column per output: Morris mu* (relative) above, Sobol S1 and ST below."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(morris["output"]))
    labels = [p.short for p in settings.parameters]
    y = np.arange(len(labels))
    fig, axes = plt.subplots(2, len(outputs), figsize=(3.6 * len(outputs), 7.5), sharey=True, squeeze=False)
    for j, output in enumerate(outputs):
        m = morris[morris["output"] == output].set_index("parameter").loc[settings.names]
        s = sobol[sobol["output"] == output].set_index("parameter").loc[settings.names]
        ax = axes[0, j]
        scale = m["mu_star"].max() or 1.0
        ax.barh(y, m["mu_star"] / scale, xerr=m["mu_star_conf"] / scale, color="#4C72B0", capsize=2)
        ax.set_title(f"{LABELS.get(output, output)}\nMorris mu* (relative)", fontsize=9)
        ax.set_xlim(0, 1.3)
        ax = axes[1, j]
        ax.barh(y - 0.2, s["S1"].clip(lower=0), height=0.4, xerr=s["S1_conf"], color="#55A868", label="S1", capsize=2)
        ax.barh(y + 0.2, s["ST"].clip(lower=0), height=0.4, xerr=s["ST_conf"], color="#C44E52", label="ST", capsize=2)
        ax.set_title("Sobol indices", fontsize=9)
        ax.set_xlim(0, 1.1)
        if j == 0:
            ax.legend(fontsize=8, loc="lower right")
    for ax in axes[:, 0]:
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=8)
    axes[0, 0].invert_yaxis()   # shared y axes: invert once, first parameter on top
    fig.suptitle("Sensitivity of the main outputs to the uncertain parameters (prior ranges)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
