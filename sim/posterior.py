"""Parameter uncertainty in comparisons: draws from the calibration's posterior.

The calibration (``python -m calibration run``, docs/calibration.md) leaves a weighted
ABC population in ``calibration/results/posterior.parquet``: one row per particle, one
column per calibrated parameter (dotted keys such as ``world.inspection.inspections_per_officer_day``),
a ``weight`` column, and the particle's figures (``target:*`` columns). The baseline uses
the posterior medians (``scenarios/calibrated/``); a comparison at that point alone says
nothing about how its conclusion depends on what the documents leave uncertain.

This module

- draws N parameter sets from the posterior, with replacement and in proportion to the
  weights (:func:`draw_posterior`); a comparison or a sweep gives the same draws, and the
  same seeds, to every scenario, so that a difference within a draw is the policy's;
- summarises paired differences run in draws x replications (:func:`posterior_statistics`)
  with an interval that combines both sources of variation, and says how much of it is
  due to the parameters (``param_share``) and in what share of the draws the effect has
  the sign of its mean (``draws_same_sign``).

The interval is that of a nested (two-stage) design: with ``m_d`` the mean paired
difference over the R replications of draw d, the effect is ``mean(m_d)`` and its
standard error ``sd(m_d) / sqrt(N)``, t-based with N - 1 degrees of freedom. The variance
of ``m_d`` has two parts, parameters (``var_p``) and seeds (``var_s / R``, estimated from
the spread within draws); ``param_share = var_p / var(m_d)`` is the share of the interval's
squared half-width that the parameters cause. A share near 1 means more replications would
not narrow the interval: only better knowledge of the parameters would.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from sim.pairing import paired_with_baseline
from sim.params import ConfigError
from sim.parquet import read_parquet

#: Where ``python -m calibration run`` writes the posterior (docs/calibration.md).
POSTERIOR_FILE = Path(__file__).resolve().parents[1] / "calibration" / "results" / "posterior.parquet"
#: Columns of the posterior file that are not parameters.
META_COLUMNS = ("particle", "weight", "distance", "generation", "seed")


def load_posterior(path: str | Path | None = None) -> pd.DataFrame:
    """The posterior population (parameters and weights), checked: one clear line if unusable."""
    path = Path(path) if path is not None else POSTERIOR_FILE
    if not path.is_file():
        raise ConfigError(f"config error: posterior file {path}: not found (run `python -m calibration run`, "
                          "or give --posterior-file)")
    try:
        frame = read_parquet(path)
    except (OSError, ValueError) as err:  # pyarrow: ArrowInvalid (a ValueError) for a file that is not Parquet
        raise ConfigError(f"config error: posterior file {path}: cannot read it as Parquet ({type(err).__name__})") from None
    if "weight" not in frame:
        raise ConfigError(f"config error: posterior file {path}: no 'weight' column")
    keys = posterior_keys(frame)
    if not keys:
        raise ConfigError(f"config error: posterior file {path}: no parameter columns (dotted keys such as world.flow.heroin_kg_per_year)")
    weights = frame["weight"].to_numpy(float)
    if len(frame) == 0 or not np.all(np.isfinite(weights)) or (weights < 0).any() or weights.sum() <= 0:
        raise ConfigError(f"config error: posterior file {path}: weights must be finite, non-negative and not all zero")
    bad = [k for k in keys if not np.all(np.isfinite(frame[k].to_numpy(float)))]
    if bad:
        raise ConfigError(f"config error: posterior file {path}: column {bad[0]} has missing or infinite values")
    return frame


def posterior_keys(frame: pd.DataFrame) -> list[str]:
    """The parameter columns of a posterior frame (dotted keys, not ``target:`` figures)."""
    return [c for c in frame.columns if "." in c and not c.startswith("target:") and c not in META_COLUMNS]


def draw_posterior(n: int, *, seed: int = 0, path: str | Path | None = None) -> pd.DataFrame:
    """N parameter sets drawn from the posterior in proportion to the weights (with replacement).

    Returns one row per draw (index ``draw`` 0..N-1): the particle drawn and its
    parameter values. The same ``seed`` gives the same draws, so every scenario of a
    comparison and every lever of a sweep can be given the same worlds.
    """
    check_draw_count(n)
    frame = load_posterior(path)
    weights = frame["weight"].to_numpy(float)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 12]))   # 12: this module's stream (issue 12)
    rows = rng.choice(len(frame), size=n, replace=True, p=weights / weights.sum())
    keys = posterior_keys(frame)
    draws = frame.iloc[rows][keys].reset_index(drop=True)
    draws.insert(0, "particle", frame["particle"].to_numpy()[rows] if "particle" in frame else rows)
    draws.index.name = "draw"
    return draws


def check_draw_count(n: Any) -> None:
    """A number of posterior draws must be a positive integer (one line naming the problem)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"config error: --posterior must be a positive number of draws (got {n!r})")


def draw_updates(draws: pd.DataFrame) -> list[dict[str, float]]:
    """Each draw as the dotted-key updates of one run (:class:`sim.sweep.Experiment` ``updates``)."""
    keys = [c for c in draws.columns if c != "particle"]
    return [{k: float(row[k]) for k in keys} for _, row in draws.iterrows()]


def check_overrides(overrides: Sequence[str], keys: Sequence[str]) -> None:
    """Refuse an override of a parameter the posterior draws set (it would be silently replaced)."""
    for item in overrides:
        key = item.split("=", 1)[0].lstrip("+~").strip()
        if key in keys:
            raise ConfigError(f"config error: {key}: set by every posterior draw; leave it out of the overrides "
                              "when drawing from the posterior (or run at the calibrated point without it)")


# --- statistics ------------------------------------------------------------------------


def nested_interval(values: pd.DataFrame | np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Mean and interval of draws x replications values, and the share due to the parameters.

    ``values``: rows are draws, columns replications (NaN where a run failed). Returns
    ``mean``, ``low``, ``high`` (t interval over the draw means, N - 1 df), ``param_share``
    (parameters' share of the variance of a draw mean) and ``same_sign`` (share of the draw
    means with the sign of the overall mean). One draw: the t interval over its replications,
    and no share.
    """
    values = np.asarray(values, dtype=float)
    counts = (~np.isnan(values)).sum(axis=1)
    values = values[counts > 0]
    counts = counts[counts > 0]
    nan = {"mean": math.nan, "low": math.nan, "high": math.nan, "param_share": math.nan, "same_sign": math.nan}
    if not len(values):
        return nan
    means = np.nanmean(values, axis=1)
    mean = float(means.mean())
    same_sign = float(np.mean(np.sign(means) == np.sign(mean))) if mean != 0 else math.nan
    if len(means) == 1:
        reps = values[0][~np.isnan(values[0])]
        if len(reps) < 2:
            return {**nan, "mean": mean}
        half = _t_half(reps.std(ddof=1) / math.sqrt(len(reps)), len(reps) - 1, confidence)
        return {**nan, "mean": mean, "low": mean - half, "high": mean + half, "same_sign": same_sign}
    between = float(means.var(ddof=1))
    half = _t_half(math.sqrt(between / len(means)), len(means) - 1, confidence)
    return {"mean": mean, "low": mean - half, "high": mean + half,
            "param_share": _parameter_share(values, counts, between), "same_sign": same_sign}


def _t_half(se: float, df: int, confidence: float) -> float:
    return float(sps.t.ppf(0.5 + confidence / 2, df) * se)


def _parameter_share(values: np.ndarray, counts: np.ndarray, between: float) -> float:
    """Share of the variance of a draw mean due to parameters: (between - within / R) / between."""
    if between <= 0:
        return math.nan
    several = counts >= 2
    if not several.any():
        return math.nan      # one replication per draw: seeds and parameters cannot be told apart
    within = float(np.mean(np.nanvar(values[several], axis=1, ddof=1)))
    r_harmonic = len(counts) / float(np.sum(1.0 / counts))
    return float(min(1.0, max(0.0, (between - within / r_harmonic) / between)))


def posterior_statistics(runs: pd.DataFrame, baseline: str, outcomes: Sequence[str], scenario_col: str = "scenario",
                         draw_col: str = "draw", replication_col: str = "replication",
                         confidence: float = 0.95) -> pd.DataFrame:
    """Per scenario and outcome: level and paired difference from the baseline over draws x replications.

    The columns of :func:`sim.compare.outcome_statistics` (``mean``, ``ci_low``, ``diff``,
    ``diff_ci_low``, ``pct_diff``, ``significant`` ...), the intervals combining parameters
    and seeds, plus ``draws``, ``param_share`` (of the difference's interval) and
    ``draws_same_sign``. Run (d, r) of a scenario is paired with run (d, r) of the
    baseline: same parameters, same seed.
    """
    rows = []
    for scenario, group, base, common in paired_with_baseline(runs, baseline, [draw_col, replication_col], scenario_col):
        for key in outcomes:
            if key not in group:
                continue
            level = nested_interval(group[key].unstack(replication_col), confidence)
            base_mean = nested_interval(base[key].unstack(replication_col))["mean"] if key in base else math.nan
            if key in base and len(common):
                diffs = (group.loc[common, key] - base.loc[common, key]).unstack(replication_col)
                diff = nested_interval(diffs, confidence)
            else:
                diff = nested_interval(np.empty((0, 0)))
            scale = 100 / base_mean if base_mean and not math.isnan(base_mean) else math.nan
            rows.append({
                "scenario": scenario, "outcome": key, "n": int(group[key].notna().sum()),
                "draws": int(group.index.get_level_values(draw_col).nunique()),
                "mean": level["mean"], "ci_low": level["low"], "ci_high": level["high"],
                "diff": diff["mean"], "diff_ci_low": diff["low"], "diff_ci_high": diff["high"],
                "pct_diff": diff["mean"] * scale, "pct_ci_low": diff["low"] * scale, "pct_ci_high": diff["high"] * scale,
                "significant": bool(scenario != baseline and not math.isnan(diff["low"])
                                    and (diff["low"] > 0 or diff["high"] < 0)),
                "param_share": diff["param_share"] if scenario != baseline else level["param_share"],
                "draws_same_sign": diff["same_sign"] if scenario != baseline else math.nan,
            })
    return pd.DataFrame(rows)


def posterior_experiments(scenarios: Mapping[str, Sequence[str]], draws: pd.DataFrame, seeds: Sequence[int]) -> list:
    """The runs of a comparison over posterior draws: scenario x draw x replication.

    ``scenarios`` maps each scenario's name to its Hydra overrides. Run (d, r) gets draw
    d's parameters and seed ``seeds[d * R + r]`` in every scenario (common random numbers
    within a draw; fresh seeds across draws).
    """
    from sim.sweep import Experiment

    updates = draw_updates(draws)
    reps = len(seeds) // len(updates)
    return [Experiment(run_id=f"{name}/d{d:03d}/rep{r:03d}", scenario=tuple(overrides),
                       updates=updates[d], seed=seeds[d * reps + r],
                       inputs={"scenario": name, "draw": d, "particle": int(draws["particle"].iloc[d]), "replication": r})
            for name, overrides in scenarios.items() for d in range(len(updates)) for r in range(reps)]


#: The outcomes of the robustness table (key, label, scale, unit).
ROBUSTNESS_KEYS = (("kg_entering_kz", "entering KZ", 1000, "t"), ("kg_seized_true", "seized (true)", 1000, "t"),
                   ("kg_seized_reported", "seized (reported)", 1000, "t"),
                   ("kg_reaching_russia", "reaching Russia", 1000, "t"), ("kg_reaching_eu", "reaching the EU", 1000, "t"),
                   ("share_entry_kz_kg", "Kyrgyz share of entry", 0.01, "pt"))


def robustness_table(table: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """One row per scenario and headline outcome: effect [interval], parameters' share, draws agreeing.

    ``verdict`` reads: ``robust`` (the combined interval excludes no change and at least
    80% of the draws agree on the sign), ``fragile`` (the interval excludes no change but
    the worlds disagree more often), ``no clear effect`` otherwise.
    """
    by = table.set_index(["scenario", "outcome"])
    rows = []
    for name in names[1:]:
        for key, label, scale, unit in ROBUSTNESS_KEYS:
            if (name, key) not in by.index:
                continue
            r = by.loc[(name, key)]
            agree = r.get("draws_same_sign", math.nan)
            verdict = ("robust" if r["significant"] and not (agree < 0.8) else
                       "fragile" if r["significant"] else "no clear effect")
            rows.append({"scenario": name, "outcome": label, "unit": unit, "effect": r["diff"] / scale,
                         "ci_low": r["diff_ci_low"] / scale, "ci_high": r["diff_ci_high"] / scale,
                         "pct": r["pct_diff"], "param_share": r.get("param_share", math.nan),
                         "draws_same_sign": agree, "verdict": verdict})
    return pd.DataFrame(rows)


def format_robustness(table: pd.DataFrame, names: Sequence[str]) -> str:
    """The robustness table as plain text (what ``compare --posterior`` prints)."""
    frame = robustness_table(table, names)
    if frame.empty:
        return ""
    lines = [f"{'scenario':<34} {'outcome':<22} {'effect [95% interval]':>30} {'param.':>7} {'agree':>6}  verdict"]
    for _, r in frame.iterrows():
        interval = f"{r['effect']:+.3g} [{r['ci_low']:+.3g}, {r['ci_high']:+.3g}] {r['unit']}"
        share = "" if math.isnan(r["param_share"]) else f"{100 * r['param_share']:.0f}%"
        agree = "" if math.isnan(r["draws_same_sign"]) else f"{100 * r['draws_same_sign']:.0f}%"
        lines.append(f"{r['scenario']:<34} {r['outcome']:<22} {interval:>30} {share:>7} {agree:>6}  {r['verdict']}")
    lines.append("(param.: share of the interval due to parameter uncertainty; agree: share of posterior draws in "
                 "which the effect has the sign of its mean)")
    return "\n".join(lines)
